/**
 * The logger: pino, JSON lines by default, pretty on a terminal. Messages are constant; facts go
 * in fields (spec, container, action, reason, durationMs, err). Secret values are never passed
 * to it; the redaction below is a second line of defence for env-shaped fields.
 */
import { isatty } from "node:tty";
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import type { LogFormat, LogLevel } from "./log-levels.js";

export { type LogFormat, LOG_LEVELS, type LogLevel } from "./log-levels.js";

export interface LogOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** File descriptor to write to: 1 (stdout, the default) or 2 (stderr). */
  readonly fd?: 1 | 2;
}

export function createLogger(options: LogOptions): Logger {
  const fd = options.fd ?? 1;
  const usePretty = options.format === "pretty" || (options.format === "auto" && isatty(fd));
  const base = {
    level: options.level,
    base: undefined,
    redact: { paths: ["secretValues", "*.secretValues", "Env", "*.Env", "body.Env"], censor: "[redacted]" },
  };
  if (usePretty) {
    const options = {
      destination: fd,
      sync: true,
      colorize: isatty(fd),
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    };
    // Made at the first line: in the bundle (scripts/bundle.mjs) pino-pretty loads when first
    // called, and a one-shot command at level error mostly writes no line at all.
    let stream: ReturnType<typeof pretty> | undefined;
    return pino(base, {
      write: (line: string) => (stream ??= pretty(options)).write(line),
    });
  }
  return pino(base, pino.destination({ fd, sync: true }));
}

/** A logger that writes nothing (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
