/**
 * `berth exec NAME -- CMD…` and `berth logs NAME [-f]`: for operators on the host, straight to
 * Docker. NAME is a container name, an ID or a spec name; only this controller's containers
 * (--id) are reachable.
 */
import type { RawOptions } from "../../config.js";
import { findManaged } from "../../ops/containers.js";
import { labelKeys } from "../../core/labels.js";
import type { ObservedContainer } from "../../core/observed.js";
import { isParseError, parseDurationMs, sinceSeconds } from "../../core/units.js";
import { DockerAdapter } from "../../docker/adapter.js";
import type { ContainerIO } from "../../docker/port.js";
import { BerthError } from "../../core/errors.js";
import { EXIT, type CliIO } from "../io.js";
import { setup } from "../setup.js";

/** The CLI keeps more output than the HTTP API: it is the operator's own terminal. */
const CLI_OUTPUT_LIMIT = 64 * 1024 * 1024;

async function target(raw: RawOptions, name: string): Promise<{ container: ObservedContainer; io: ContainerIO }> {
  const { config } = setup(raw, { level: "error", fd: 2 });
  const port = new DockerAdapter({ callTimeoutMs: config.dockerTimeoutMs });
  const container = await findManaged(port, labelKeys(config.labelPrefix), config.controllerId, name);
  if (!container) {
    throw new BerthError("BERTH_USAGE", `no container ${name} managed by berth --id ${config.controllerId}`);
  }
  return { container, io: port.containerIO() };
}

export interface ExecOptions extends RawOptions {
  readonly workdir?: string;
  readonly env?: readonly string[];
  readonly user?: string;
  readonly timeout?: string;
}

export async function execCommand(name: string, cmd: readonly string[], raw: ExecOptions, io: CliIO): Promise<number> {
  const timeout = parseDurationMs(raw.timeout ?? "1h");
  if (isParseError(timeout)) throw new BerthError("BERTH_USAGE", `--timeout: ${timeout.error}`);
  for (const e of raw.env ?? [])
    if (!e.includes("=")) throw new BerthError("BERTH_USAGE", `--env: ${JSON.stringify(e)} is not KEY=VALUE`);
  const { container, io: docker } = await target(raw, name);
  if (container.state !== "running") {
    io.err(`berth: container ${container.name} is ${container.state}, not running\n`);
    return EXIT.failed;
  }
  const result = await docker.exec(container.id, {
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
      `berth: timed out after ${raw.timeout ?? "1h"}${result.killed ? "; killed" : "; could not kill it (see the README)"}\n`,
    );
    return 124;
  }
  return result.exitCode ?? EXIT.failed;
}

export interface LogsOptions extends RawOptions {
  readonly follow?: boolean;
  readonly tail?: string;
  readonly since?: string;
  readonly timestamps?: boolean;
}

export async function logsCommand(name: string, raw: LogsOptions, io: CliIO, stop?: Promise<void>): Promise<number> {
  const tail = raw.tail === undefined || raw.tail === "all" ? null : Number(raw.tail);
  if (tail !== null && !(Number.isInteger(tail) && tail >= 0))
    throw new BerthError("BERTH_USAGE", `--tail: ${JSON.stringify(raw.tail)} is not a number of lines or all`);
  const since = raw.since === undefined ? null : sinceSeconds(raw.since, Date.now());
  if (raw.since !== undefined && since === null)
    throw new BerthError(
      "BERTH_USAGE",
      `--since: ${JSON.stringify(raw.since)} is not a duration (10m) or an RFC 3339 time`,
    );
  const { container, io: docker } = await target(raw, name);
  let failure: Error | undefined;
  const ended = new Promise<void>((resolve) => {
    void docker
      .logs(
        container.id,
        { follow: raw.follow ?? false, tail, since },
        {
          onLine: (line) => {
            const text = `${raw.timestamps && line.time ? `${line.time} ` : ""}${line.line}\n`;
            if (line.stream === "stderr") io.err(text);
            else io.out(text);
          },
          onEnd: (err) => {
            failure = err;
            resolve();
          },
        },
      )
      .then((handle) =>
        stop?.then(() => {
          handle.close();
        }),
      )
      .catch((err: unknown) => {
        failure = err as Error;
        resolve();
      });
  });
  await ended;
  if (failure) throw failure;
  return EXIT.ok;
}
