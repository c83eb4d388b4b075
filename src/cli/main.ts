/**
 * The berth command line. Every command lives in commands/<name>.ts, which declares its own
 * options and does its work; this module loads only the command being run (each command's
 * modules cost start-up time), all of them for help. Every command returns its exit code; flags
 * beat BERTH_* environment variables beat defaults (commander's Option.env).
 */
import { Command, CommanderError } from "commander";
import { BerthError } from "../core/errors.js";
import { isEngineError } from "../docker/errors.js";
import { type CliIO, type CommandContext, EXIT, processIO } from "./io.js";
import { VERSION } from "./version.js";

export { VERSION } from "./version.js";

type CommandModule = { register(program: Command, ctx: CommandContext): void };

/** The commands, in the order help lists them. */
export const COMMANDS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  validate: () => import("./commands/validate.js"),
  run: () => import("./commands/run.js"),
  apply: () => import("./commands/apply.js"),
  plan: () => import("./commands/plan.js"),
  status: () => import("./commands/status.js"),
  get: () => import("./commands/get.js"),
  events: () => import("./commands/events.js"),
  exec: () => import("./commands/exec.js"),
  logs: () => import("./commands/logs.js"),
  claim: () => import("./commands/claim.js"),
  release: () => import("./commands/release.js"),
  reap: () => import("./commands/reap.js"),
  restart: () => import("./commands/restart.js"),
  rollout: () => import("./commands/rollout.js"),
  schema: () => import("./commands/schema.js"),
  completion: () => import("./commands/completion.js"),
  import: () => import("./commands/import.js"),
};

/** Commands that need every command loaded: completion describes them all. */
const NEEDS_ALL = new Set(["completion"]);

/**
 * The program with the commands `names` (default: all). `berth run …` needs only run's module;
 * `berth --help` and an unknown command need them all.
 */
export async function buildProgram(
  io: CliIO,
  setExit: (code: number) => void,
  names: readonly string[] = Object.keys(COMMANDS),
): Promise<Command> {
  const program = new Command("berth")
    .description("Keep a Docker host's containers where a folder of YAML says they should be.")
    .version(VERSION)
    // A usage error is the error and one hint, not the whole help.
    .showHelpAfterError(usageHint(undefined))
    .configureOutput({
      writeOut: (s) => {
        io.out(s);
      },
      writeErr: (s) => {
        io.err(s);
      },
    })
    .exitOverride()
    .addHelpText(
      "after",
      "\nExamples:\n  $ berth validate specs/\n  $ berth plan -f specs/\n  $ berth apply -f specs/ && berth status\n\n" +
        "Every command: berth <command> --help. Completion: source <(berth completion bash).\n",
    );
  program.hook("preAction", (_program, command) => {
    falseFromEnv(command);
  });
  const modules = await Promise.all(names.map((name) => (COMMANDS[name] as () => Promise<CommandModule>)()));
  for (const module of modules) module.register(program, { io, setExit });
  for (const command of program.commands) {
    command.showHelpAfterError(usageHint(command.name()));
  }
  return program;
}

/**
 * Commander turns a boolean flag on when its variable is set at all; BERTH_FORCE_PRUNE=false must
 * mean false. A variable holding false, 0, no, off or nothing turns the flag off.
 */
function falseFromEnv(command: Command): void {
  for (const option of command.options) {
    const key = option.attributeName();
    if (option.required || option.optional || option.envVar === undefined) continue;
    if (command.getOptionValueSource(key) !== "env") continue;
    const value = process.env[option.envVar] ?? "";
    if (/^(false|0|no|off|)$/i.test(value.trim())) command.setOptionValueWithSource(key, undefined, "env");
  }
}

/** The hint after a usage error: where that command's help is. */
export function usageHint(command: string | undefined): string {
  return command !== undefined && command in COMMANDS
    ? `run 'berth ${command} --help' for its options and examples`
    : "run 'berth --help' for the commands";
}

/** The command argv names, when it names one; else all of them (help, --version, a typo). */
function commandsFor(argv: readonly string[]): readonly string[] {
  const first = argv[2];
  if (first === "--version" || first === "-V") return [];
  return first !== undefined && first in COMMANDS && !NEEDS_ALL.has(first) ? [first] : Object.keys(COMMANDS);
}

export async function main(
  argv: readonly string[],
  given: CliIO = processIO,
  cacheDir: string | null = null,
): Promise<number> {
  const io: CliIO = cacheDir === null ? given : { ...given, cacheDir };
  let code: number = EXIT.ok;
  try {
    const program = await buildProgram(
      io,
      (c) => {
        code = c;
      },
      commandsFor(argv),
    );
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return err.exitCode;
    }
    if (isEngineError(err)) {
      // Only now: the modules that read the socket's facts and word the message.
      const [{ engineMessage }, { engineContext }] = await Promise.all([
        import("../docker/engine-message.js"),
        import("../docker/engine-context.js"),
      ]);
      io.err(`berth: ${engineMessage(err, engineContext(io.env))}\n`);
    } else if (err instanceof BerthError) {
      io.err(`berth: ${err.message}\n`);
      // A bad flag value found after parsing ("--resync: …"): the one hint line commander's usage
      // errors have. Other usage errors (the id's lock is taken, no such container) are not about flags.
      if (err.code === "BERTH_USAGE" && err.message.startsWith("--")) io.err(`${usageHint(argv[2])}\n`);
    } else {
      io.err(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return EXIT.failed;
  }
  return code;
}
