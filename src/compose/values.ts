/** Compose's value formats → berth's: byte sizes, durations, shell-split commands, key=value lists. */
import { formatDurationMs } from "../core/units.js";
import { plain, type Tree } from "./tree.js";

export type Result<T> = { readonly ok: T } | { readonly error: string };

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * A Compose byte size (Docker's RAMInBytes: `512m`, `1g`, `1.5GB`, `2048` — powers of 1024,
 * any case, optional `b`) → a berth quantity: `512Mi`, `1536Mi`, or plain bytes.
 */
export function composeBytes(value: unknown): Result<string | number> {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?\s*$/i.exec(String(value));
  if (!m) return { error: `${JSON.stringify(value)} is not a size (e.g. 512m, 1g, 2048)` };
  const bytes = Math.round(Number(m[1]) * (UNITS[(m[2] ?? "").toLowerCase()] ?? 1));
  for (const [suffix, size] of [
    ["Ti", 1024 ** 4],
    ["Gi", 1024 ** 3],
    ["Mi", 1024 ** 2],
    ["Ki", 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return { ok: `${bytes / size}${suffix}` };
  }
  return { ok: bytes };
}

const GO_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
};

/** A Go duration (`1m30s`, `1.5s`, `100ms`, `2us`) → a berth duration (`1m30s`, `1500ms`). */
export function composeDuration(value: unknown): Result<string> {
  const text = String(value);
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) {
    return { error: `${JSON.stringify(value)} is not a duration (e.g. 10s, 1m30s, 500ms)` };
  }
  let ms = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    ms += Number(part[1]) * (GO_UNITS_MS[part[2] ?? "s"] ?? 1);
  }
  return { ok: formatDurationMs(Math.round(ms)) };
}

/**
 * A command string → its words, as Compose splits it (quotes and backslashes, no shell
 * expansion): `sh -c "echo hi"` → ["sh", "-c", "echo hi"]. Small enough to write here: the npm
 * shell parsers also read operators and variables, which Compose does not.
 */
export function shellSplit(text: string): Result<string[]> {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      // Inside double quotes a backslash escapes the next character; inside single quotes nothing does.
      let end = i + 1;
      while (end < text.length && text[end] !== c) end += c === '"' && text[end] === "\\" ? 2 : 1;
      if (end >= text.length) return { error: `unterminated ${c} quote in ${JSON.stringify(text)}` };
      let inner = text.slice(i + 1, end);
      if (c === '"') inner = inner.replace(/\\(["\\$`])/g, "$1");
      word = (word ?? "") + inner;
      i = end;
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + (text[++i] as string);
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== null) words.push(word);
  return { ok: words };
}

/** A string or a list of strings → the list (a string is shell-split). */
export function commandList(tree: Tree): Result<string[]> {
  if (tree.kind === "scalar") return tree.value === null ? { ok: [] } : shellSplit(String(tree.value));
  if (tree.kind === "seq") return { ok: tree.items.map((i) => scalarText(i)) };
  return { error: "expected a string or a list of strings" };
}

/** A scalar as text (numbers and booleans as YAML wrote them); collections as JSON. */
export function scalarText(tree: Tree): string {
  if (tree.kind === "scalar") return tree.value === null ? "" : String(tree.value);
  return JSON.stringify(plain(tree));
}

/** A scalar as the file writes it: a number's own digits (`0o1777`, not 1023), else as scalarText. */
export function sourceText(tree: Tree): string {
  return tree.kind === "scalar" && tree.source !== undefined ? tree.source : scalarText(tree);
}

/**
 * Compose's "mapping or list" (environment, labels, sysctls): `{A: 1}` or `["A=1", "B"]`.
 * A key without a value (`B`, or `B:` with null) maps to null. Each comes with its position (a
 * mapping's: its key's).
 */
export function keyValues(tree: Tree): Result<[string, string | null, Tree][]> {
  if (tree.kind === "map") {
    return {
      ok: [...tree.entries].map(([k, e]) => [
        k,
        e.value.kind === "scalar" && e.value.value === null ? null : scalarText(e.value),
        { ...e.value, line: e.line, column: e.column, ...(e.mergedFrom ? { mergedFrom: e.mergedFrom } : {}) },
      ]),
    };
  }
  if (tree.kind === "seq") {
    return {
      ok: tree.items.map((item) => {
        const text = scalarText(item);
        const eq = text.indexOf("=");
        return eq === -1 ? [text, null, item] : [text.slice(0, eq), text.slice(eq + 1), item];
      }),
    };
  }
  return { error: "expected a mapping or a list of KEY=VALUE strings" };
}
