/**
 * `berth logs NAME [-f]`: the logs of one of berth's containers, for operators on the host
 * (under --target swarm, of one of its services: cli/swarm-logs.ts);
 * `berth logs --build SPEC`: the output of the spec's last image build (host/build-logs.ts).
 */
import { type Command, Option } from "commander";
import type { RawOptions } from "../../config.js";
import { BerthError } from "../../core/errors.js";
import { sinceSeconds } from "../../core/units.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import {
  addControllerOptions,
  addDockerOptions,
  addExamples,
  addLogOptions,
  addTargetOption,
  claimsDirOption,
  stateDirOption,
} from "../options.js";
import { BuildLogs } from "../../host/build-logs.js";
import { setup } from "../setup.js";
import type { LogLine } from "../../docker/port.js";
import { readLogs } from "../read-logs.js";
import { swarmLogs } from "../swarm-logs.js";
import { target } from "../target.js";

interface LogsOptions extends RawOptions {
  readonly follow?: boolean;
  readonly tail?: string;
  readonly since?: string;
  readonly timestamps?: boolean;
  readonly build?: boolean;
}

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

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("logs")
    .description("Print the logs of one of berth's containers (under --target swarm: of one of its services).")
    .argument(
      "<name>",
      "a container name, ID, or spec name (with --build: a spec name; under --target swarm: a service)",
    )
    .addOption(
      new Option("-f, --follow", "keep printing new lines until the container stops or Ctrl-C").env(
        "BERTH_LOGS_FOLLOW",
      ),
    )
    .addOption(
      new Option("--tail <n>", "lines from the end to start with, or all").env("BERTH_LOGS_TAIL").default("all"),
    )
    .addOption(
      new Option("--since <when>", "only lines after this: a duration ago (10m) or an RFC 3339 time").env(
        "BERTH_LOGS_SINCE",
      ),
    )
    .addOption(new Option("-t, --timestamps", "show each line's time").env("BERTH_LOGS_TIMESTAMPS"))
    .addOption(
      new Option("--build", "print the output of the spec's last image build (docs/images.md, Builds)").env(
        "BERTH_LOGS_BUILD",
      ),
    )
    .addOption(stateDirOption())
    .addOption(claimsDirOption());
  addControllerOptions(command);
  addDockerOptions(command, { network: false });
  addTargetOption(command);
  addLogOptions(command);
  addExamples(command, [
    { command: "berth logs -f --since 10m web-2", what: "one container's last ten minutes, then follow" },
    { command: "berth logs --build web", what: "the output of web's last image build" },
    {
      command: "berth logs --target swarm --tail 20 web",
      what: "every task of the service web, prefixed web.1@node-a |",
    },
  ]).action(async (name: string, opts: LogsOptions) => {
    // -f ends at Ctrl-C, or when the reader of its output has gone (`berth logs -f web | head -1`).
    const stop = (): Promise<void> => (io.outClosed ? Promise.race([interrupted(), io.outClosed]) : interrupted());
    setExit(opts.build ? await buildLog(name, opts, io) : await logs(name, opts, io, stop()));
  });
}

async function buildLog(spec: string, raw: LogsOptions, io: CliIO): Promise<number> {
  const { config } = setup(raw, { level: "error", fd: 2 });
  if (config.target === "swarm")
    throw BerthError.usage(
      "--build: builds are --target engine's; under --target swarm the image comes from a registry",
    );
  const text = await new BuildLogs(config.stateDir, config.controllerId).read(spec);
  if (text === null) {
    throw BerthError.usage(
      `no build log for ${spec} (berth --id ${config.controllerId} keeps each spec's last build in its --state-dir, under builds/${config.controllerId}/)`,
    );
  }
  io.out(text);
  return EXIT.ok;
}

async function logs(name: string, raw: LogsOptions, io: CliIO, stop: Promise<void>): Promise<number> {
  const tail = raw.tail === undefined || raw.tail === "all" ? null : Number(raw.tail);
  if (tail !== null && !(Number.isInteger(tail) && tail >= 0))
    throw BerthError.usage(`--tail: ${JSON.stringify(raw.tail)} is not a number of lines or all`);
  const since = raw.since === undefined ? null : sinceSeconds(raw.since, Date.now());
  if (raw.since !== undefined && since === null)
    throw BerthError.usage(`--since: ${JSON.stringify(raw.since)} is not a duration (10m) or an RFC 3339 time`);
  const print = (prefix: string, line: LogLine): void => {
    const text = `${prefix}${raw.timestamps && line.time ? `${line.time} ` : ""}${line.line}\n`;
    if (line.stream === "stderr") io.err(text);
    else io.out(text);
  };
  const given = setup(raw, { level: "error", fd: 2 });
  const { config } = given;
  if (config.target === "swarm") {
    await swarmLogs(
      config,
      name,
      { follow: raw.follow ?? false, tail, since },
      (p, l) => {
        print(`${p} | `, l);
      },
      stop,
    );
    return EXIT.ok;
  }
  const { container, containers } = await target(given, name);
  await readLogs(
    (handlers) => containers.logs(container, { follow: raw.follow ?? false, tail, since }, handlers),
    (line) => {
      print("", line);
    },
    stop,
  ).catch((err: unknown) => {
    // A spec's logging.driver that hands the output elsewhere (none, syslog, gelf, …).
    if (err instanceof Error && /does not support reading/.test(err.message))
      throw new BerthError(
        "BERTH_DOCKER",
        `${name}'s log driver keeps no logs the engine can read back (spec.logging.driver): berth logs reads json-file, local and journald`,
        { cause: err },
      );
    throw err;
  });
  return EXIT.ok;
}
