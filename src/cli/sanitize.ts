/**
 * Text for the terminal. What `berth status` and `berth get` print comes from spec files, the
 * engine and, for live status, whatever answered on --server: an escape sequence in any of it
 * could rewrite the screen, hide a line or set the window title. So every string is cleaned
 * before it is printed: escape sequences are removed whole, tabs and line breaks become spaces,
 * and the other C0 and C1 control characters, DEL and the bidirectional overrides are dropped.
 */

/* eslint-disable no-control-regex -- matching control characters is the point */
/** CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-character escapes, and the one-byte C1 CSI. */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?|\x9b[0-?]*[ -/]*[@-~]?/g;
const BREAKS = /[\t\n\r\v\f]/g;
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

/** `text` with nothing a terminal would act on. */
export function printable(text: string): string {
  return text.replace(ESCAPES, "").replace(BREAKS, " ").replace(CONTROLS, "");
}

/** A copy of `value` with every string in it, keys included, made printable. */
export function printableDeep<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === "string") return printable(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), clean(v)]));
  }
  return value;
}
