/** `berth reap [--dry-run]`: remove expired containers now, ours and (with --reap-label) others'. */
import { type Command, Option } from "commander";
import { createInspector } from "../../app.js";
import type { RawOptions } from "../../config.js";
import { reapExpired } from "../../ops/reap.js";
import type { WriteFence } from "../../docker/fenced.js";
import { withHostLockAlone, withLease } from "../ha.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import {
  addCommonOptions,
  addExamples,
  addHaOptions,
  addOutputOption,
  type OutputFormat,
  GROUPS,
  reapLabelOption,
  stateDirOption,
} from "../options.js";
import { formatData, isData } from "../output.js";
import { setup, verdictsFor } from "../setup.js";

type ReapOptions = RawOptions & { dryRun?: boolean; output?: OutputFormat };

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("reap")
    .description("Remove expired containers now: berth's own, and with --reap-label other tools' too.");
  addOutputOption(addCommonOptions(command, { positional: true }))
    .addOption(new Option("--dry-run", "only say what would be removed").env("BERTH_REAP_DRY_RUN"))
    .addOption(reapLabelOption())
    .addOption(stateDirOption().helpGroup(GROUPS.reconcile));
  addHaOptions(command, { oneShot: true });
  addExamples(command, [
    { command: "berth reap --dry-run", what: "what has expired, removing nothing" },
    {
      command: "berth reap --reap-label com.example.expires",
      what: "also other tools' containers labelled with a past time",
    },
  ]).action(async (_paths: string[], opts: ReapOptions) => {
    setExit(await reap(opts, io));
  });
}

async function reap(raw: ReapOptions, io: CliIO): Promise<number> {
  const { config, log } = setup(raw, { level: "warn", fd: 2 });
  const dryRun = raw.dryRun ?? false;
  const reapWith = (fence: WriteFence | null) =>
    reapExpired(
      createInspector(config, {
        log,
        readSecrets: false,
        ...verdictsFor(io, config.specDirs),
        ...(fence ? { fence } : {}),
      }),
      Date.now(),
      dryRun,
    );
  // A dry run writes nothing: no lock, no lease. Otherwise reap writes as apply does (cli/ha.ts).
  const reaped = dryRun
    ? await reapWith(null)
    : config.ha
      ? await withLease(config, config.ha, log, "reap", reapWith)
      : await withHostLockAlone(config, "reap", () => reapWith(null));
  if (isData(raw.output)) {
    io.out(formatData(raw.output, { dryRun, containers: reaped }));
    return reaped.some((r) => r.error !== null) ? EXIT.failed : EXIT.ok;
  }
  const verb = dryRun ? "would remove" : "removed";
  let done = 0;
  for (const r of reaped) {
    if (r.error !== null) {
      io.err(`remove  ${r.container}: ${r.why}: ${r.error}\n`);
      continue;
    }
    done++;
    io.out(`${verb} ${r.container}: ${r.why}\n`);
  }
  io.out(`${done} expired container${done === 1 ? "" : "s"} ${dryRun ? "found" : "removed"}\n`);
  return done < reaped.length ? EXIT.failed : EXIT.ok;
}
