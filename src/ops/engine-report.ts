/** Says which engine berth talks to, and warns when its version has a defect berth can meet. */
import type { Logger } from "pino";
import { engineDefects } from "../core/engine.js";
import type { DockerPort, EngineInfo } from "../docker/port.js";

/** One try: when Docker is not answering, the controller says so already. */
export async function reportEngine(docker: DockerPort, log: Logger): Promise<EngineInfo | null> {
  let engine: EngineInfo;
  try {
    engine = await docker.engine();
  } catch {
    return null;
  }
  log.info({ version: engine.version, api: engine.apiVersion }, "docker engine");
  for (const defect of engineDefects(engine.version)) {
    log.warn(
      { version: engine.version, issue: defect.issue, fixedIn: defect.fixedIn, effect: defect.effect },
      "docker engine version has a known defect; upgrade it",
    );
  }
  return engine;
}
