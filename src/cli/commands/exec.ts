/**
 * `berth exec NAME -- CMD…`: a command in one of berth's containers, for operators on the host;
 * with -i and -t, interactively on this terminal, as `docker exec -it` (cli/terminal.ts).
 */
import { type Command, Option } from "commander";
import type { RawOptions } from "../../config.js";
import { BerthError } from "../../core/errors.js";
import { isParseError, parseTimerMs } from "../../core/units.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import {
  addControllerOptions,
  addDockerOptions,
  addExamples,
  addLogOptions,
  collect,
  claimsDirOption,
  policyProfileOption,
} from "../options.js";
import { setup } from "../setup.js";
import { target } from "../target.js";
import { attachTerminal, localSize } from "../terminal.js";

/** The CLI keeps more output than the HTTP API: it is the operator's own terminal. */
const CLI_OUTPUT_LIMIT = 64 * 1024 * 1024;

/** The exit code of a command that timed out, as timeout(1) has it. */
export const TIMED_OUT = 124;

interface ExecOptions extends RawOptions {
  readonly workdir?: string;
  readonly env?: readonly string[];
  readonly user?: string;
  readonly timeout?: string;
  readonly interactive?: boolean;
  readonly tty?: boolean;
}

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("exec")
    .description("Run a command in one of berth's containers; exits with the command's exit code (124: timed out).")
    .usage("[options] NAME -- COMMAND [ARGS...]")
    .argument("<name>", "a container name, ID, or spec name")
    .argument("<command...>", "the command and its arguments")
    .addOption(new Option("-w, --workdir <dir>", "working directory inside the container").env("BERTH_EXEC_WORKDIR"))
    .addOption(
      new Option("-e, --env <KEY=VALUE>", "an environment variable (repeatable)")
        .env("BERTH_EXEC_ENV")
        .argParser(collect),
    )
    .addOption(new Option("-u, --user <user>", "user to run as (name, UID or UID:GID)").env("BERTH_EXEC_USER"))
    .addOption(
      new Option("-i, --interactive", "send this terminal's standard input to the command").env(
        "BERTH_EXEC_INTERACTIVE",
      ),
    )
    .addOption(
      new Option("-t, --tty", "give the command a pseudo-terminal (raw mode here, resized with this one)").env(
        "BERTH_EXEC_TTY",
      ),
    )
    .addOption(
      new Option(
        "--timeout <duration>",
        "kill the command after this long (not with -i or -t: a session lasts as long as its command)",
      )
        .env("BERTH_EXEC_TIMEOUT")
        .default("1h"),
    )
    // Only the profile: under restricted an exec may not run as root.
    .addOption(policyProfileOption())
    .addOption(claimsDirOption());
  addControllerOptions(command);
  addDockerOptions(command, { network: false });
  addLogOptions(command);
  addExamples(command, [
    { command: "berth exec web -- cat /etc/hostname", what: "a command in web's lowest running replica" },
    { command: "berth exec -u 1000 -w /srv web-1 -- ls -l", what: "as a user, in a folder, in one container" },
    { command: "berth exec -it web -- sh", what: "an interactive shell; exits with the shell's exit code" },
  ]).action(async (name: string, cmd: string[], opts: ExecOptions) => {
    setExit(await exec(name, cmd, opts, io));
  });
}

async function exec(name: string, cmd: readonly string[], raw: ExecOptions, io: CliIO): Promise<number> {
  const timeout = parseTimerMs(raw.timeout ?? "1h");
  if (isParseError(timeout)) throw BerthError.usage(`--timeout: ${timeout.error}`);
  for (const e of raw.env ?? [])
    if (!e.includes("=")) throw BerthError.usage(`--env: ${JSON.stringify(e)} is not KEY=VALUE`);
  const { container, containers } = await target(setup(raw, { level: "error", fd: 2 }), name);
  if (container.state !== "running") {
    io.err(`berth: container ${container.name} is ${container.state}, not running\n`);
    return EXIT.failed;
  }
  if (raw.interactive === true || raw.tty === true) {
    // As docker exec -it: no timeout (the session lasts as long as the command), output as it comes.
    const flags = { interactive: raw.interactive === true, tty: raw.tty === true };
    const size = localSize();
    const exitCode = await attachTerminal(
      (handlers) =>
        containers.terminal(
          container,
          {
            cmd,
            tty: flags.tty,
            stdin: flags.interactive,
            ...(size !== undefined ? { size } : {}),
            ...(raw.workdir !== undefined ? { workdir: raw.workdir } : {}),
            ...(raw.env !== undefined ? { env: raw.env } : {}),
            ...(raw.user !== undefined ? { user: raw.user } : {}),
          },
          handlers,
        ),
      flags,
    );
    return exitCode ?? EXIT.failed;
  }
  const result = await containers.exec(container, {
    cmd,
    ...(raw.workdir !== undefined ? { workdir: raw.workdir } : {}),
    ...(raw.env !== undefined ? { env: raw.env } : {}),
    ...(raw.user !== undefined ? { user: raw.user } : {}),
    timeoutMs: timeout,
    maxOutputBytes: CLI_OUTPUT_LIMIT,
  });
  io.out(result.stdout);
  io.err(result.stderr);
  if (result.truncated) io.err(`berth: output cut at ${CLI_OUTPUT_LIMIT} bytes\n`);
  if (result.timedOut) {
    io.err(
      `berth: timed out after ${raw.timeout ?? "1h"}${result.killed ? "; killed" : "; could not kill it (see docs/cli.md)"}\n`,
    );
    return TIMED_OUT;
  }
  return result.exitCode ?? EXIT.failed;
}
