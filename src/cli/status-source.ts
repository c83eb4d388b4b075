/**
 * Where `berth status` and `berth get` read from: the running controller when one with the same
 * --id answers at --server (its status is the freshest: retries, last actions); else a look at
 * Docker and the spec files, as a pass would take it.
 */
import { type Command, Option } from "commander";
import { createInspector } from "../app.js";
import type { RawOptions } from "../config.js";
import type { StatusReport } from "../core/status.js";
import type { CliIO } from "./io.js";
import { DEFAULT_SERVER, liveFrom, liveStatus } from "./live.js";
import { GROUPS, type OutputFormat } from "./options.js";
import { isData } from "./output.js";
import { printable, printableDeep } from "./sanitize.js";
import { setup, verdictsFor } from "./setup.js";

export interface StatusOptions extends RawOptions {
  readonly output?: OutputFormat;
  readonly server?: string;
}

export function addServerOption(command: Command): Command {
  return command.addOption(
    new Option("--server <url>", "a running controller to ask for live status first, or off")
      .env("BERTH_SERVER")
      .default(DEFAULT_SERVER)
      .helpGroup(GROUPS.controller),
  );
}

/**
 * The status to print, every string in it cleaned for the terminal (sanitize.ts). `closer`: specs
 * whose every container berth's own pass inspects (restarts, last exit: `berth get`).
 */
export async function statusReport(
  raw: StatusOptions,
  io: CliIO,
  closer: ReadonlySet<string> = new Set(),
): Promise<StatusReport> {
  const { config, log } = setup(raw, { level: "error", fd: 2 });
  const live = await liveStatus(raw.server ?? DEFAULT_SERVER, config.controllerId);
  if (live) {
    if (!isData(raw.output)) io.err(printable(liveFrom(live)) + "\n");
    return printableDeep(live.report);
  }
  return printableDeep(
    (
      await createInspector(config, { log, ...verdictsFor(io, config.specDirs) }).reconciler.pass({
        reload: true,
        closer,
      })
    ).report,
  );
}
