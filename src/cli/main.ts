/**
 * The berth command line. Every command returns its exit code; flags beat BERTH_* environment
 * variables beat defaults (commander's Option.env).
 */
import { Command, CommanderError, Option } from "commander";
import type { RawOptions } from "../config.js";
import { BerthError } from "../core/errors.js";
import { DockerError } from "../docker/errors.js";
import { EXIT, type CliIO, processIO } from "./io.js";
import { addCommonOptions, addPolicyOptions, addReconcileOptions, collect, labelPrefixOption } from "./options.js";
import type { RunOptions } from "./commands/run.js";
import type { ExecOptions, LogsOptions } from "./commands/exec-logs.js";
import { DEFAULT_SERVER } from "./live.js";
import type { StatusOptions } from "./commands/status.js";
import type { ValidateOptions } from "./commands/validate.js";

const VERSION = "0.1.0";

/** Resolves at the first SIGINT or SIGTERM (for `berth logs -f`). */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}

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
      setExit(
        await (
          await import("./commands/validate.js")
        ).validateCommand(paths, { ...opts, dockerHost: io.env.DOCKER_HOST }, io),
      );
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
    .addOption(
      new Option("--compat <api>", "also serve another tool's API: docker-spawner (see the README)")
        .env("BERTH_COMPAT")
        .choices(["docker-spawner", "off"]),
    )
    .addOption(
      new Option("--spawn-image <image>", "the image of agents spawned through --compat docker-spawner").env(
        "BERTH_SPAWN_IMAGE",
      ),
    )
    .addOption(
      new Option("--spawn-user <uid:gid>", "the user of spawned agents when the request gives none")
        .env("BERTH_SPAWN_USER")
        .default("1000:1000"),
    )
    .addOption(
      new Option("--spawn-timeout <duration>", "how long /spawn and /stop wait for the agent to run or go")
        .env("BERTH_SPAWN_TIMEOUT")
        .default("2m"),
    )
    .action(async (opts: RunOptions) => {
      setExit(await (await import("./commands/run.js")).runCommand(opts, io));
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
      setExit(await (await import("./commands/apply.js")).applyCommand(opts, io));
    });

  addCommonOptions(
    program
      .command("plan")
      .description("Show what a reconcile would change. Exit 0: nothing to do; 2: changes pending; 1: an error."),
  )
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (opts: RawOptions & { format?: string }) => {
      setExit(await (await import("./commands/plan.js")).planCommand(opts, io));
    });

  const serverOption = () =>
    new Option("--server <url>", "a running controller to ask for live status first, or off")
      .env("BERTH_SERVER")
      .default(DEFAULT_SERVER);

  addCommonOptions(
    program
      .command("status")
      .description("Show every spec's phase and containers (live from a running controller when one answers)."),
  )
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"))
    .addOption(serverOption())
    .action(async (opts: StatusOptions) => {
      setExit(await (await import("./commands/status.js")).statusCommand(opts, io));
    });

  addCommonOptions(
    program.command("get").description("Show one spec in detail: phase, containers, last action, errors."),
  )
    .argument("<name>", "the spec's name")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addOption(serverOption())
    .action(async (name: string, opts: StatusOptions) => {
      setExit(await (await import("./commands/status.js")).getCommand(name, opts, io));
    });

  addCommonOptions(
    program
      .command("exec")
      .description("Run a command in one of berth's containers; exits with the command's exit code (124: timed out).")
      .usage("[options] NAME -- COMMAND [ARGS...]"),
  )
    .argument("<name>", "a container name, ID, or spec name")
    .argument("<command...>", "the command and its arguments")
    .addOption(new Option("-w, --workdir <dir>", "working directory inside the container"))
    .addOption(new Option("-e, --env <KEY=VALUE>", "an environment variable (repeatable)").argParser(collect))
    .addOption(new Option("-u, --user <user>", "user to run as (name, UID or UID:GID)"))
    .addOption(new Option("--timeout <duration>", "kill the command after this long").default("1h"))
    .action(async (name: string, command: string[], opts: ExecOptions) => {
      setExit(await (await import("./commands/exec-logs.js")).execCommand(name, command, opts, io));
    });

  addCommonOptions(program.command("logs").description("Print the logs of one of berth's containers."))
    .argument("<name>", "a container name, ID, or spec name")
    .addOption(new Option("-f, --follow", "keep printing new lines until the container stops or Ctrl-C"))
    .addOption(new Option("--tail <n>", "lines from the end to start with, or all").default("all"))
    .addOption(new Option("--since <when>", "only lines after this: a duration ago (10m) or an RFC 3339 time"))
    .addOption(new Option("-t, --timestamps", "show each line's time"))
    .action(async (name: string, opts: LogsOptions) => {
      setExit(await (await import("./commands/exec-logs.js")).logsCommand(name, opts, io, interrupted()));
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
      setExit(await (await import("./commands/reap.js")).reapCommand(opts, io));
    });

  program
    .command("schema")
    .description("Print the JSON Schema of spec documents (for editors and CI).")
    .action(async () => {
      io.out((await import("../manifest/schema.js")).schemaSource());
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
