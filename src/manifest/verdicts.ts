/**
 * The verdicts on valid spec files, kept between short commands. Parsing YAML is most of what
 * `berth plan` and `berth status` spend on their own work: a cold process takes about a
 * millisecond a file (the yaml package's code runs unoptimised once per process), 40 files 40–50
 * ms of a 240 ms command (docs/benchmarks.md). A file whose bytes, name and parse options were
 * judged valid before by this very build of berth is judged valid again without parsing.
 *
 * What makes it safe:
 * - the key is a SHA-256 over the file's bytes, its name as shown, and every parse option that
 *   decides a verdict (label prefix, limits, the whole policy, the target); the store lives in the
 *   folder of the bundle's own digest (cli/code-cache.ts), so another build never reads it;
 * - only verdicts that depend on nothing but those: a file with a problem is parsed every time
 *   (its messages need positions), and so is a file whose checks looked at the host (a bind
 *   mount's symbolic links, a secret file: any call of the policy context);
 * - only results that JSON gives back exactly (checked before storing);
 * - the store is the user's own cache folder, as the code cache is: who can write there can
 *   already change the code berth runs.
 * `berth run` keeps no store: its own loader remembers files between passes.
 */
import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { PolicyContext } from "../core/policy/policy.js";
import { sha256Hex } from "../core/sha256.js";
import { writeAtomically } from "../util/atomic-file.js";
import type { FileParseResult, ParseOptions } from "./parse.js";

/** Verdicts by key; the loader asks before parsing and offers what it parsed. */
export interface VerdictStore {
  get(key: string): FileParseResult | undefined;
  put(key: string, result: FileParseResult): void;
  /** Keeps what this process used (called after each load); never throws. */
  save(): void;
}

/** What decides a verdict besides the file: every parse option but the policy context. */
export function optionsFingerprint(options: ParseOptions): string {
  return JSON.stringify([options.labelPrefix, options.limits, options.policy, options.target ?? "engine"]);
}

export function verdictKey(fingerprint: string, file: string, digest: string): string {
  return sha256Hex(JSON.stringify([fingerprint, file, digest]));
}

/**
 * The policy context wrapped to notice its use: a verdict reached with a look at the host
 * (symbolic links, hard links, other containers) may change without the file changing.
 */
export function watchedContext(context: PolicyContext): { context: PolicyContext; consulted: () => boolean } {
  let used = false;
  const watched = new Proxy(context, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]): unknown => {
        used = true;
        return Reflect.apply(value, target, args);
      };
    },
  });
  return { context: watched, consulted: () => used };
}

/** Whether a parse result may be kept: valid, reached without the host, and exact through JSON. */
export function storable(result: FileParseResult, consultedHost: boolean): boolean {
  if (consultedHost || result.issues.length > 0) return false;
  return isDeepStrictEqual(JSON.parse(JSON.stringify(result)), result);
}

const FORMAT = 1;
/** Stores kept in one folder (one per set of spec folders used): the least recently written go. */
const MOST_STORES = 32;

/**
 * One JSON file per set of spec folders, read on first use and rewritten (renamed into place)
 * after a load that parsed a file or no longer uses one.
 */
export class VerdictFile implements VerdictStore {
  private entries: Map<string, FileParseResult> | null = null;
  private readonly used = new Map<string, FileParseResult>();
  private changed = false;

  constructor(private readonly file: string) {}

  /** The store for these spec folders in a cache folder. */
  static in(folder: string, roots: readonly string[]): VerdictFile {
    const name = sha256Hex(JSON.stringify(roots.map((r) => path.resolve(r)))).slice(0, 24);
    return new VerdictFile(path.join(folder, `verdicts-${name}.json`));
  }

  get(key: string): FileParseResult | undefined {
    const found = this.read().get(key);
    if (found !== undefined) this.used.set(key, found);
    return found;
  }

  put(key: string, result: FileParseResult): void {
    this.used.set(key, result);
    this.changed = true;
  }

  save(): void {
    const held = this.read();
    if (!this.changed && held.size === this.used.size) return;
    try {
      const folder = path.dirname(this.file);
      writeAtomically(folder, this.file, JSON.stringify({ format: FORMAT, entries: Object.fromEntries(this.used) }));
      this.entries = new Map(this.used);
      this.changed = false;
      removeOldest(folder);
    } catch {
      // A cache is an optimisation: the next command parses again.
    }
  }

  private read(): Map<string, FileParseResult> {
    if (this.entries !== null) return this.entries;
    this.entries = new Map();
    try {
      const held = JSON.parse(readFileSync(this.file, "utf8")) as { format?: unknown; entries?: unknown };
      if (held.format === FORMAT && typeof held.entries === "object" && held.entries !== null) {
        this.entries = new Map(Object.entries(held.entries as Record<string, FileParseResult>));
      }
    } catch {
      // None yet, unreadable or damaged: everything is parsed and the file written again.
    }
    return this.entries;
  }
}

function removeOldest(folder: string): void {
  const stores = readdirSync(folder)
    .filter((n) => n.startsWith("verdicts-") && n.endsWith(".json"))
    .map((n) => ({ file: path.join(folder, n), mtimeMs: statSync(path.join(folder, n)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { file } of stores.slice(MOST_STORES)) rmSync(file, { force: true });
}
