/** `berth run`: the controller, until SIGTERM or SIGINT. */
import { createApp } from "../app.js";
import type { RawOptions } from "../config.js";
import { EXIT, type CliIO } from "./io.js";
import { setup } from "./setup.js";

export type Signals = (handler: (signal: string) => void) => () => void;

export const processSignals: Signals = (handler) => {
  const on = (signal: NodeJS.Signals): void => {
    handler(signal);
  };
  process.on("SIGTERM", on);
  process.on("SIGINT", on);
  return () => {
    process.off("SIGTERM", on);
    process.off("SIGINT", on);
  };
};

export async function runCommand(raw: RawOptions, _io: CliIO, signals: Signals = processSignals): Promise<number> {
  const { config, log } = setup(raw, { level: "info", fd: 1 });
  const app = createApp(config, { log, watch: true });
  let received = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const unsubscribe = signals((signal) => {
    received++;
    if (received === 1) {
      log.info({ signal }, "signal received; draining");
      stop();
    } else {
      log.warn({ signal }, "second signal; exiting without waiting");
      process.exit(EXIT.failed);
    }
  });
  log.info(
    { id: config.controllerId, specs: config.specDirs, concurrency: config.concurrency, resync: config.resync.text },
    "berth run",
  );
  await Promise.race([app.controller.start(), stopped]);
  await stopped;
  await app.controller.stop();
  unsubscribe();
  return EXIT.ok;
}
