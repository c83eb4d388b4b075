/**
 * The logger: pino, JSON lines or one human line per event. Messages are constant; facts go in
 * fields (spec, container, action, reason, durationMs, err). Secret values are never passed to
 * it; the redaction below is a second line of defence for env-shaped fields.
 */
import { createRequire } from "node:module";
import { isatty } from "node:tty";
import pino, { type DestinationStream, type Logger } from "pino";
import type PinoPretty from "pino-pretty";

const require = createRequire(import.meta.url);

import type { LogFormat, LogLevel } from "./log-levels.js";

export { type LogFormat, LOG_LEVELS, type LogLevel } from "./log-levels.js";

export interface LogOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** File descriptor to write to: 1 (stdout, the default) or 2 (stderr). */
  readonly fd?: 1 | 2;
  /**
   * What `auto` means: `tty` pretty on a terminal and JSON otherwise (the controller, whose logs
   * a collector reads); `pretty` always (one-shot commands, whose stderr a person reads).
   */
  readonly auto?: "tty" | "pretty";
  /** Pretty lines start with the time (the controller); one-shot commands leave it out. */
  readonly time?: boolean;
  /** Where NO_COLOR and FORCE_COLOR are read (default: the process's environment). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Whether to colour: FORCE_COLOR set to anything but 0/false forces colour, as in Node itself
 * (FORCE_COLOR=0 turns it off); else NO_COLOR set and not empty turns it off (no-color.org); else
 * colour on a terminal only.
 */
export function useColor(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !/^(0|false)$/i.test(force.trim());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return isTTY;
}

/** Characters a terminal may act on beyond the C0 controls JSON escapes (C1, bidi, separators). */
const UNSAFE_RE = /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;
const BARE_RE = /^[\x21-\x7e]+$/;

function escaped(text: string): string {
  return text.replace(UNSAFE_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** One field's value on a human line: bare when plain, else quoted JSON; an error by its message. */
function fieldValue(value: unknown): string {
  if (value !== null && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") {
    value = (value as { message: string }).message;
  }
  if (typeof value === "string") {
    return BARE_RE.test(value) && !value.includes('"') && !value.includes("=") ? value : escaped(JSON.stringify(value));
  }
  return escaped(JSON.stringify(value) ?? String(value));
}

const NOT_FIELDS = new Set(["level", "time", "pid", "hostname"]);

/** An event as one human line: `spec cannot be applied spec=web err="secret …"`. */
export function humanLine(event: Readonly<Record<string, unknown>>, messageKey = "msg"): string {
  const message = event[messageKey];
  const parts = [typeof message === "string" ? escaped(message) : ""];
  for (const [key, value] of Object.entries(event)) {
    if (key === messageKey || NOT_FIELDS.has(key) || value === undefined) continue;
    parts.push(`${key}=${fieldValue(value)}`);
  }
  return parts.filter((p) => p !== "").join(" ");
}

/**
 * pino-pretty, loaded when the first line is written (it costs about 30 ms of start-up): a
 * one-shot command that logs nothing never loads it.
 */
function prettyOnFirstLine(options: PinoPretty.PrettyOptions): DestinationStream {
  let stream: DestinationStream | undefined;
  return {
    write(line: string): void {
      stream ??= (require("pino-pretty") as typeof PinoPretty)(options);
      stream.write(line);
    },
  };
}

export function createLogger(options: LogOptions): Logger {
  const fd = options.fd ?? 1;
  const tty = isatty(fd);
  const usePretty = options.format === "pretty" || (options.format === "auto" && (options.auto === "pretty" || tty));
  const base = {
    level: options.level,
    base: undefined,
    redact: { paths: ["secretValues", "*.secretValues", "Env", "*.Env", "body.Env"], censor: "[redacted]" },
  };
  if (usePretty) {
    const time = options.time ?? true;
    return pino(
      base,
      prettyOnFirstLine({
        destination: fd,
        sync: true,
        colorize: useColor(options.env ?? process.env, tty),
        // One line per event: the fields follow the message (humanLine), nothing below it.
        hideObject: true,
        messageFormat: (event, messageKey) => humanLine(event, messageKey),
        translateTime: time ? "SYS:HH:MM:ss.l" : false,
        ignore: time ? "pid,hostname" : "pid,hostname,time",
      }),
    );
  }
  return pino(base, pino.destination({ fd, sync: true }));
}

/** A logger that writes nothing (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
