/**
 * The .env format as Compose reads it (compose-go's dotenv): `[export ]KEY=VALUE` lines, `#`
 * comments. A single-quoted value is literal: no escapes and no interpolation, so `'pa$word'`
 * stays `pa$word` and `'x$$y'` stays `x$$y`. A double-quoted value has its escapes (`\n`, `\"`)
 * and, as an unquoted one, its variables replaced (`$$` is a literal `$`). Quoted values may span
 * lines; an unquoted one ends at ` #`.
 */
import { interpolate, type Variables } from "./interpolate.js";
import type { Position } from "./tree.js";

export interface DotenvLine {
  readonly key: string;
  readonly value: string;
  readonly quote: "'" | '"' | null;
  /** The line the key is written on (1-based). */
  readonly line: number;
}

const LINE = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*/;
const ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t" };

/** The assignments of a .env text, each with its quoting and line. Lines that are not one are skipped. */
export function parseDotenvLines(text: string): DotenvLine[] {
  const out: DotenvLine[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = lines[i] ?? "";
    const m = LINE.exec(start);
    if (!m) continue;
    const key = m[1] ?? "";
    const line = i + 1;
    let rest = start.slice(m[0].length);
    const quote = rest[0] === "'" || rest[0] === '"' ? rest[0] : null;
    if (quote === null) {
      out.push({ key, value: rest.replace(/\s+#.*$/, "").trim(), quote, line });
      continue;
    }
    // A quoted value ends at its closing quote, on this line or a later one.
    rest = rest.slice(1);
    let end = closing(rest, quote);
    while (end === -1 && i + 1 < lines.length) {
      rest += `\n${lines[++i] ?? ""}`;
      end = closing(rest, quote);
    }
    const body = end === -1 ? rest : rest.slice(0, end);
    const value = quote === "'" ? body : body.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
    out.push({ key, value, quote, line });
  }
  return out;
}

/** The index of the quote closing a value, or -1. In double quotes a backslash escapes it. */
function closing(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

export interface EnvFile {
  readonly values: Record<string, string>;
  /** Variables used without a default and not set, each at the line of its first use. */
  readonly unset: readonly (Position & { readonly name: string })[];
}

/**
 * A .env text → its variables, interpolated as Compose does: from the environment first, then
 * the file's earlier lines. `file` names the file in the positions of unset variables.
 */
export function readDotenv(text: string, file: string, env: Variables): EnvFile {
  const values: Record<string, string> = {};
  const unset: (Position & { name: string })[] = [];
  for (const { key, value, quote, line } of parseDotenvLines(text)) {
    if (quote === "'") {
      values[key] = value;
      continue;
    }
    const missing: string[] = [];
    const r = interpolate(value, { ...values, ...env }, missing);
    values[key] = "value" in r ? r.value : value;
    for (const name of missing) unset.push({ name, line, column: 1, file });
  }
  return { values, unset };
}
