/**
 * The berth command line. Every command returns its exit code; flags beat BERTH_* environment
 * variables beat defaults (commander's Option.env).
 */
import { Command, CommanderError, Option } from "commander";
import type { RawOptions } from "../config.js";
import { BerthError } from "../core/errors.js";
import { DockerError } from "../docker/errors.js";
import { schemaSource } from "../spec/schema.js";
import { applyCommand } from "./apply.js";
import { EXIT, type CliIO, processIO } from "./io.js";
import { addCommonOptions, addPolicyOptions, addReconcileOptions, labelPrefixOption } from "./options.js";
import { planCommand } from "./plan.js";
import { reapCommand } from "./reap.js";
import { type RunOptions, runCommand } from "./run.js";
import { statusCommand } from "./status.js";
import { validateCommand, type ValidateOptions } from "./validate.js";

const VERSION = "0.1.0";

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("berth")
    .description("Keep a Docker host's containers where a folder of YAML says they should be.")
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => {
        io.out(s);
      },
      writeErr: (s) => {
        io.err(s);
      },
    })
    .exitOverride();

  addPolicyOptions(
    program
      .command("validate")
      .description(
        "Check spec files (schema, units, names, admission policy) without touching Docker. Exit 0 when all are valid, 1 otherwise.",
      ),
  )
    .argument("[paths...]", "spec files or directories", ["./specs"])
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addOption(labelPrefixOption())
    .addHelpText(
      "after",
      "\nEach error is one line: FILE:LINE:COLUMN: FIELD: MESSAGE, then a summary line.\nExample: berth validate specs/ && git commit",
    )
    .action(async (paths: string[], opts: ValidateOptions) => {
      setExit(await validateCommand(paths, { ...opts, dockerHost: io.env.DOCKER_HOST }, io));
    });

  addReconcileOptions(
    addCommonOptions(
      program
        .command("run")
        .description(
          "Run the controller: watch the spec directories and keep the containers converged until SIGTERM/SIGINT.",
        ),
    ),
  )
    .addOption(
      new Option(
        "--resync <interval>",
        "periodic full resync: a duration dividing a minute or hour (30s, 5m) or a cron expression",
      )
        .env("BERTH_RESYNC")
        .default("30s"),
    )
    .addOption(
      new Option("--drain-timeout <duration>", "on shutdown, how long to let in-flight operations finish")
        .env("BERTH_DRAIN_TIMEOUT")
        .default("30s"),
    )
    .addOption(
      new Option("--listen <host:port>", "where the HTTP API listens, or off")
        .env("BERTH_LISTEN")
        .default("127.0.0.1:7435"),
    )
    .addOption(
      new Option("--runtime-specs <dir>", "the spec directory the HTTP API writes to (also watched)").env(
        "BERTH_RUNTIME_SPECS",
      ),
    )
    .addOption(
      new Option(
        "--api-token-file <path>",
        "file holding the bearer token of the write endpoints (or set BERTH_API_TOKEN)",
      ).env("BERTH_API_TOKEN_FILE"),
    )
    .action(async (opts: RunOptions) => {
      setExit(await runCommand(opts, io));
    });

  addReconcileOptions(
    addCommonOptions(
      program
        .command("apply")
        .description("Converge once, showing each operation, then exit: 0 when converged, 1 when any spec failed."),
    ),
  )
    .addOption(new Option("--timeout <duration>", "give up after this long").env("BERTH_APPLY_TIMEOUT").default("5m"))
    .action(async (opts: RawOptions & { timeout?: string }) => {
      setExit(await applyCommand(opts, io));
    });

  addCommonOptions(
    program
      .command("plan")
      .description("Show what a reconcile would change. Exit 0: nothing to do; 2: changes pending; 1: an error."),
  )
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (opts: RawOptions & { format?: string }) => {
      setExit(await planCommand(opts, io));
    });

  addCommonOptions(program.command("status").description("Show every spec's phase and containers."))
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"))
    .action(async (opts: RawOptions & { output?: string }) => {
      setExit(await statusCommand(opts, io));
    });

  addCommonOptions(
    program
      .command("reap")
      .description("Remove expired containers now: berth's own, and with --reap-label other tools' too."),
  )
    .addOption(new Option("--dry-run", "only say what would be removed"))
    .addOption(
      new Option(
        "--reap-label <key>",
        "also reap any container whose label KEY holds a past RFC 3339 time (repeatable)",
      )
        .env("BERTH_REAP_LABELS")
        .argParser((value: string, previous: string[] | undefined) => [
          ...(previous ?? []),
          ...value.split(",").filter(Boolean),
        ]),
    )
    .action(async (opts: RawOptions & { dryRun?: boolean }) => {
      setExit(await reapCommand(opts, io));
    });

  program
    .command("schema")
    .description("Print the JSON Schema of spec documents (for editors and CI).")
    .action(() => {
      io.out(schemaSource());
      setExit(EXIT.ok);
    });

  return program;
}

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return err.exitCode;
    }
    if (err instanceof BerthError) {
      io.err(`berth: ${err.message}\n`);
    } else if (err instanceof DockerError && (err.kind === "unavailable" || err.kind === "timeout")) {
      io.err(
        `berth: ${err.message}. Is the Docker engine running? (DOCKER_HOST=${io.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"}; ` +
          "on Debian/Ubuntu as root, bash scripts/ensure-docker.sh starts one)\n",
      );
    } else {
      io.err(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return EXIT.failed;
  }
  return code;
}
