/**
 * The logger: pino, JSON lines by default, pretty on a terminal. Messages are constant; facts go
 * in fields (spec, container, action, reason, durationMs, err). Secret values are never passed
 * to it; the redaction below is a second line of defence for env-shaped fields.
 */
import { isatty } from "node:tty";
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type LogFormat = "json" | "pretty" | "auto";
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
    return pino(
      base,
      pretty({
        destination: fd,
        sync: true,
        colorize: isatty(fd),
        translateTime: "SYS:HH:MM:ss.l",
        ignore: "pid,hostname",
      }),
    );
  }
  return pino(base, pino.destination({ fd, sync: true }));
}

/** A logger that writes nothing (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
