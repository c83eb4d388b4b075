/** `berth status`: every spec's phase and containers, from Docker and the spec files. */
import { createApp } from "../app.js";
import type { RawOptions } from "../config.js";
import { EXIT, type CliIO } from "./io.js";
import { setup } from "./setup.js";
import { renderStatus } from "./status-view.js";

export async function statusCommand(raw: RawOptions & { output?: string }, io: CliIO): Promise<number> {
  const { config, log } = setup(raw, { level: "error", fd: 2 });
  const app = createApp(config, { log });
  const result = await app.reconciler.pass({ reload: true, execute: false });
  if (raw.output === "json") io.out(`${JSON.stringify(result.report, null, 2)}\n`);
  else io.out(renderStatus(result.report, Date.now()));
  return EXIT.ok;
}
