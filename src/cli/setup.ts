/** Turning a command's options into configuration and a logger. */
import { buildConfig, type Config, type RawOptions } from "../config.js";
import { dockerConfigPath } from "../host/registry-auth.js";
import { createLogger, type LogLevel } from "../util/log.js";
import type { Logger } from "pino";
import type { CliIO } from "./io.js";
import { VerdictFile, type VerdictStore } from "../manifest/verdicts.js";

export interface Setup {
  readonly config: Config;
  readonly log: Logger;
}

/**
 * One-shot commands log warnings and errors to stderr (their stdout is their output), as human
 * lines unless --log-format json; the controller logs at info to stdout, JSON unless on a
 * terminal or --log-format pretty.
 */
export function setup(raw: RawOptions, defaults: { level: LogLevel; fd: 1 | 2 }): Setup {
  const config = buildConfig({
    ...raw,
    logLevel: raw.logLevel ?? defaults.level,
    dockerHost: raw.dockerHost ?? process.env.DOCKER_HOST,
    // Every command judges secretEnv against the token file the controller reads, for one verdict.
    apiTokenFile: raw.apiTokenFile ?? process.env.BERTH_API_TOKEN_FILE,
    registryAuthFile: raw.registryAuthFile ?? process.env.BERTH_REGISTRY_AUTH_FILE,
    dockerConfig: raw.dockerConfig ?? dockerConfigPath(process.env),
  });
  const oneShot = defaults.fd === 2;
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    fd: defaults.fd,
    auto: oneShot ? "pretty" : "tty",
    time: !oneShot,
    env: process.env,
  });
  return { config, log };
}

/** The verdicts a short command keeps on the files of these spec folders, when it has a cache folder. */
export function verdictsFor(io: CliIO, specDirs: readonly string[]): { verdicts?: VerdictStore } {
  return io.cacheDir === undefined ? {} : { verdicts: VerdictFile.in(io.cacheDir, specDirs) };
}
