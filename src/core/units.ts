/**
 * Kubernetes-style quantities and durations, converted to the canonical units berth works in:
 * bytes, nano-CPUs and milliseconds. Each parser returns a number, or a string saying what is wrong.
 */

const BYTE_SUFFIXES: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

const BYTES_RE = /^([0-9]+(?:\.[0-9]+)?)(k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/;

export type Parsed = number | { readonly error: string };

export function isParseError(value: Parsed): value is { readonly error: string } {
  return typeof value !== "number";
}

/** "512Mi" → 536870912. Fractions round up to a whole byte. */
export function parseBytes(value: string | number): Parsed {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : { error: `${value} is not a whole number of bytes` };
  }
  const m = BYTES_RE.exec(value);
  if (!m) return { error: `${JSON.stringify(value)} is not a quantity (e.g. 512Mi, 1Gi)` };
  const bytes = Math.ceil(Number(m[1]) * (BYTE_SUFFIXES[m[2] ?? ""] ?? 1));
  if (!Number.isSafeInteger(bytes)) return { error: `${JSON.stringify(value)} is too large` };
  return bytes;
}

const NANO = 1e9;

/** "250m" → 250000000; "1.5" or 1.5 → 1500000000. */
export function parseNanoCpus(value: string | number): Parsed {
  let nano: number;
  if (typeof value === "number") {
    nano = Math.round(value * NANO);
  } else if (/^[0-9]+m$/.test(value)) {
    nano = Number(value.slice(0, -1)) * 1e6;
  } else if (/^[0-9]+(\.[0-9]{1,9})?$/.test(value)) {
    nano = Math.round(Number(value) * NANO);
  } else {
    return { error: `${JSON.stringify(value)} is not a CPU quantity (e.g. 0.5, "2", "250m")` };
  }
  if (!Number.isSafeInteger(nano)) return { error: `${JSON.stringify(value)} is too large` };
  if (nano <= 0) return { error: `${JSON.stringify(value)} must be more than 0 CPUs` };
  return nano;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
const DURATION_RE = /^([0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+$/;
const DURATION_PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/** "1m30s" → 90000; "500ms" → 500. Rounded to whole milliseconds. */
export function parseDurationMs(value: string): Parsed {
  if (!DURATION_RE.test(value)) {
    return { error: `${JSON.stringify(value)} is not a duration (e.g. 500ms, 10s, 1m30s)` };
  }
  let ms = 0;
  for (const part of value.matchAll(DURATION_PART_RE)) {
    ms += Number(part[1]) * (DURATION_UNITS_MS[part[2] ?? "ms"] ?? 1);
  }
  ms = Math.round(ms);
  if (!Number.isSafeInteger(ms)) return { error: `${JSON.stringify(value)} is too long` };
  return ms;
}

/** The longest wait a Node timer holds (2^31 − 1 ms, about 596h): a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration berth waits out itself (a command's --timeout and the like): at most MAX_TIMER_MS. */
export function parseTimerMs(value: string): Parsed {
  const ms = parseDurationMs(value);
  if (isParseError(ms) || ms <= MAX_TIMER_MS) return ms;
  return { error: `${JSON.stringify(value)} is longer than the longest wait berth can time, 596h (about 24 days)` };
}

/** Renders milliseconds the way a person writes them: 90000 → "1m30s". */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ["h", 3600e3],
    ["m", 60e3],
    ["s", 1e3],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join("");
}

/**
 * How long something took, as a line of output says it: 6098 → "6.1s", 840 → "0.8s". A tenth of a
 * second is as close as a poll can tell; formatDurationMs's "6s98ms" reads as 6.98 seconds.
 */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

const RFC3339_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|([+-])([0-9]{2}):([0-9]{2}))$/;

export const NEVER = "never";

/**
 * "2026-01-26T00:00:00Z" → epoch milliseconds; "never" → null. Rejects impossible dates
 * (February 30th, hour 24) that Date.parse would quietly roll over.
 */
export function parseExpiresAt(value: string): number | null | { readonly error: string } {
  if (value === NEVER) return null;
  const m = RFC3339_RE.exec(value);
  const bad = {
    error: `${JSON.stringify(value)} is not an RFC 3339 time or never (e.g. 2026-01-26T00:00:00Z)`,
  };
  if (!m) return bad;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const frac = m[7] ? Number(`0${m[7]}`) : 0;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(utc);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    return { error: `${JSON.stringify(value)} is not a real date and time` };
  }
  let offsetMin = 0;
  if (m[8] !== "Z") {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return { error: `${JSON.stringify(value)} has an impossible UTC offset` };
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return utc - offsetMin * 60e3 + Math.floor(frac * 1000);
}

/** Epoch milliseconds → RFC 3339 in UTC, without fractional seconds when there are none. */
export function formatTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/**
 * Bytes the way a spec writes them: 67108864 → "64Mi", 512000000 → "512M", 1000 → "1k"; the
 * shortest exact form (binary on a tie), else the plain number. parseBytes reads it back.
 */
export function formatQuantity(bytes: number): string {
  let best = String(bytes);
  if (bytes === 0) return best;
  for (const suffix of ["Pi", "Ti", "Gi", "Mi", "Ki", "P", "T", "G", "M", "k"]) {
    const size = BYTE_SUFFIXES[suffix] ?? 1;
    const text = `${bytes / size}${suffix}`;
    if (bytes % size === 0 && text.length < best.length) best = text;
  }
  return best;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** 1536 → "1.5 KiB"; 2147483648 → "2 GiB". */
export function formatBytes(bytes: number): string {
  const unit = (n: number, name: string): string => `${(bytes / n).toFixed(1).replace(/\.0$/, "")} ${name}`;
  if (bytes >= GiB) return unit(GiB, "GiB");
  if (bytes >= MiB) return unit(MiB, "MiB");
  if (bytes >= KiB) return unit(KiB, "KiB");
  return `${bytes} bytes`;
}

/** "10m" (ago) or an RFC 3339 time → seconds since the epoch; null when neither. */
export function sinceSeconds(text: string, now: number): number | null {
  const ago = parseDurationMs(text);
  if (!isParseError(ago)) return Math.floor((now - ago) / 1000);
  const at = parseExpiresAt(text);
  return typeof at === "number" ? Math.floor(at / 1000) : null;
}
