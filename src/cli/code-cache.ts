/**
 * Runs the CLI's bundle with V8's code cache, kept in the user's cache folder. A short command
 * spends about a third of its CPU compiling the bundle; with the code V8 compiled last time
 * (for this command, of this very bundle, on this Node) it reads it instead: `berth status`
 * 0.73× the CPU (docs/benchmarks.md). Node 22.1 does this for any module
 * (`module.enableCompileCache`); Node 20, which berth supports, only for a script compiled with
 * `vm.Script`, so the bundle is one CommonJS file and this module runs it as Node's own loader
 * would (the same five wrapper arguments). A script's import() needs an experimental option of
 * Node's: the bundle has none (scripts/bundle.mjs checks).
 *
 * What makes it safe to use: V8 checks a cache against the source's length, not its content, so
 * the cache's path carries a SHA-256 of the bundle (npm gives every installed file the same
 * mtime: no stat-based key would do), and the Node version and architecture. V8 does not check
 * the cache's own bytes either (a test fed it a damaged one and it said nothing), so each file
 * starts with a SHA-256 of the rest. A cache that fails either check, or that V8 refuses (other V8
 * flags), is compiled from source and written again. Writes are a temporary file renamed into
 * place, so concurrent commands never read half a file. The folder is the user's own
 * ($XDG_CACHE_HOME/berth, else ~/.cache/berth), never a shared temporary folder, whose files
 * another user could plant. Without a home, or one that cannot be written (the image's user),
 * the bundle runs uncached; NODE_DISABLE_COMPILE_CACHE=1 (Node's own switch) turns it off.
 *
 * bin/berth.js imports this module before anything else, so it imports only Node's built-ins
 * (and util/atomic-file.ts, which does too).
 */
import { isAscii } from "node:buffer";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Script } from "node:vm";
import { writeAtomically } from "../util/atomic-file.js";

/**
 * The cache a command line runs with: its command word, and under `--target swarm` (the flag, or
 * BERTH_TARGET where no flag says) a cache of its own, since the swarm path is other code: a cache
 * trained by one target's run makes the other's compile more (docs/benchmarks.md).
 */
export function cacheName(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const command = argv[2] ?? "";
  let target = env.BERTH_TARGET ?? "engine";
  for (let i = 3; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") break;
    if (arg === "--target") target = argv[i + 1] ?? target;
    else if (arg.startsWith("--target=")) target = arg.slice("--target=".length);
  }
  return target === "swarm" ? `${command}swarm` : command;
}

/** Where the caches live, or null when they are off or there is no home to keep them in. */
export function cacheRoot(env: NodeJS.ProcessEnv): string | null {
  if (env.NODE_DISABLE_COMPILE_CACHE !== undefined && env.NODE_DISABLE_COMPILE_CACHE !== "") return null;
  if (env.XDG_CACHE_HOME !== undefined && path.isAbsolute(env.XDG_CACHE_HOME)) {
    return path.join(env.XDG_CACHE_HOME, "berth");
  }
  if (env.HOME !== undefined && path.isAbsolute(env.HOME)) return path.join(env.HOME, ".cache", "berth");
  return null;
}

export interface LoadedBundle {
  /** The bundle's `module.exports`. */
  readonly exports: Record<string, unknown>;
  /** How its code was compiled: from the cache, from source (no cache yet, or V8 refused it), or uncached. */
  readonly compiled: "cached" | "source" | "uncached";
  /**
   * This bundle's cache folder (the code caches, and what else is valid for exactly this build:
   * the verdicts on spec files, manifest/verdicts.ts), or null when caches are off.
   */
  readonly folder: string | null;
  /** Writes the code V8 has compiled so far (call it once the command is done), unless the cache was used. */
  save(): void;
}

/**
 * Runs the CommonJS bundle `file` with the code cache `name` (one per command: each compiles
 * different parts of the bundle) under `root` (null: no cache).
 */
export function runBundle(file: string, name: string, root: string | null): LoadedBundle {
  const bytes = readFileSync(file);
  // esbuild writes ASCII: read as Latin-1, a copy where UTF-8 would decode (a third of the read).
  const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  const folder = root === null ? null : path.join(root, cacheKey(bytes));
  const cacheFile = folder === null ? null : path.join(folder, `${/^[a-z]+$/.test(name) ? name : "other"}.v8`);
  const cachedData = cacheFile === null ? undefined : readChecked(cacheFile);
  // One line, as Node's loader wraps a module: the bundle's line numbers stay its own.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as Record<string, unknown> };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return {
    exports: module.exports,
    folder,
    compiled: cacheFile === null ? "uncached" : used ? "cached" : "source",
    save() {
      if (folder === null || cacheFile === null || used) return;
      try {
        const data = script.createCachedData();
        writeAtomically(folder, cacheFile, Buffer.concat([sha256(data), data]));
        removeStaleKeys(path.dirname(folder), path.basename(folder), Date.now());
      } catch {
        // A cache is an optimisation: a folder that cannot be written costs the next command its compile.
      }
    },
  };
}

/** The bundle's content, the Node that compiled it and the machine: what a cache is valid for. */
function cacheKey(bytes: Buffer): string {
  return `${sha256(bytes).toString("hex").slice(0, 32)}-node${process.versions.node}-${process.arch}`;
}

const sha256 = (bytes: Buffer): Buffer => createHash("sha256").update(bytes).digest();
const DIGEST_BYTES = 32;

/** The V8 data of a cache file whose digest matches, else undefined (none, unreadable, damaged). */
function readChecked(file: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  const data = bytes.subarray(DIGEST_BYTES);
  return bytes.length > DIGEST_BYTES && sha256(data).equals(bytes.subarray(0, DIGEST_BYTES)) ? data : undefined;
}

/** A day: two versions of berth in turns (a global one and a project's) keep their caches. */
const STALE_MS = 24 * 60 * 60 * 1000;
/** Other builds' caches kept however recent (a developer rebuilds many times a day). */
const OTHERS_KEPT = 2;

/**
 * An upgrade leaves the last version's caches behind: a save removes those no command has saved
 * into for a day, and all but the OTHERS_KEPT most recent of the rest.
 */
function removeStaleKeys(root: string, keep: string, now: number): void {
  const others = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== keep)
    .map((e) => ({ folder: path.join(root, e.name), mtimeMs: statSync(path.join(root, e.name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  others.forEach(({ folder, mtimeMs }, i) => {
    if (i >= OTHERS_KEPT || now - mtimeMs > STALE_MS) rmSync(folder, { recursive: true, force: true });
  });
}
