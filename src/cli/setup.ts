/** Turning a command's options into configuration and a logger. */
import { buildConfig, type Config, type RawOptions } from "../config.js";
import { BerthError } from "../core/errors.js";
import { secretFileAllowed } from "../core/policy/policy.js";
import { hostPolicyContext } from "../host/host-paths.js";
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
  // A bad flag, said at start: not a failure of every pull, retried with backoff. Only when the
  // command takes the flag (the env fallback above is for the secretEnv verdict); the host checks
  // the file again at each read (host/registry-auth.ts).
  if (raw.registryAuthFile !== undefined && config.registryAuth.file !== null) {
    const refusal = secretFileAllowed(config.registryAuth.file, config.policy, hostPolicyContext);
    if (refusal !== null) throw BerthError.usage(`--registry-auth-file: ${refusal}`);
  }
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
