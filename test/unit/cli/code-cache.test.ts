/**
 * The CLI bundle's code cache (src/cli/code-cache.ts): a CommonJS file run as Node's loader runs
 * one, its compiled code kept per command under the user's cache folder, and never used for other
 * content, another Node, or when damaged.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cacheName, cacheRoot, runBundle } from "../../../src/cli/code-cache.js";
import { tempDir } from "../../support/tmp.js";

/** A bundle-like CommonJS file in a folder of its own; returns its path. */
function bundleFile(text: string): string {
  const file = path.join(tempDir(), "main.cjs");
  writeFileSync(file, text);
  return file;
}

const MODULE = `"use strict";
const { sep } = require("node:path");
function answer() { return 40 + 2; }
module.exports.answer = answer;
exports.where = { file: __filename, dir: __dirname, sep, self: this === exports };
`;

/** The cache files under `root`, relative to it. */
function cacheFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

describe("runBundle", () => {
  it("runs a CommonJS file as Node's loader would: exports, require, __filename, __dirname, this", () => {
    const file = bundleFile(MODULE);
    const { exports, compiled } = runBundle(file, "status", null);
    expect(compiled).toBe("uncached");
    expect((exports.answer as () => number)()).toBe(42);
    expect(exports.where).toEqual({ file, dir: path.dirname(file), sep: "/", self: true });
  });

  it("compiles from source once, saves per command, and compiles from the cache after that", () => {
    const file = bundleFile(MODULE);
    const root = path.join(tempDir(), "berth");
    const first = runBundle(file, "status", root);
    expect(first.compiled).toBe("source");
    (first.exports.answer as () => number)();
    first.save();
    const files = cacheFiles(root);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^[0-9a-f]{32}-node${process.versions.node}-${process.arch}/status\\.v8$`));

    const second = runBundle(file, "status", root);
    expect(second.compiled).toBe("cached");
    expect((second.exports.answer as () => number)()).toBe(42);
    second.save();
    expect(cacheFiles(root)).toEqual(files);
    // Another command has a cache of its own; a name that is not a command word shares "other".
    runBundle(file, "validate", root).save();
    runBundle(file, "--version", root).save();
    expect(
      cacheFiles(root)
        .map((f) => path.basename(f))
        .sort(),
    ).toEqual(["other.v8", "status.v8", "validate.v8"]);
  });

  it("gives a command under --target swarm (the flag, else BERTH_TARGET) a cache of its own", () => {
    const argv = (...args: string[]) => ["node", "berth", ...args];
    expect(cacheName(argv("apply", "-f", "specs"), {})).toBe("apply");
    expect(cacheName(argv("apply", "--target", "swarm"), {})).toBe("applyswarm");
    expect(cacheName(argv("plan", "--target=swarm"), {})).toBe("planswarm");
    expect(cacheName(argv("status"), { BERTH_TARGET: "swarm" })).toBe("statusswarm");
    expect(cacheName(argv("status", "--target", "engine"), { BERTH_TARGET: "swarm" })).toBe("status");
    // After `--`, words are the command's own (berth exec NAME -- CMD).
    expect(cacheName(argv("exec", "web", "--", "echo", "--target", "swarm"), {})).toBe("exec");
    expect(cacheName(argv("--version"), {})).toBe("--version");
  });

  it("never runs a cache made from other content of the same length (V8 checks only the length)", () => {
    const root = path.join(tempDir(), "berth");
    const one = bundleFile(MODULE);
    const before = runBundle(one, "status", root);
    expect((before.exports.answer as () => number)()).toBe(42);
    before.save();
    // The same length, another answer, at the same path: as an upgrade in place would leave it.
    writeFileSync(one, MODULE.replace("40 + 2", "40 + 3"));
    const after = runBundle(one, "status", root);
    expect(after.compiled).toBe("source");
    expect((after.exports.answer as () => number)()).toBe(43);
  });

  it("compiles a damaged or truncated cache from source and writes it again", () => {
    const file = bundleFile(MODULE);
    const root = path.join(tempDir(), "berth");
    runBundle(file, "plan", root).save();
    const [cache] = cacheFiles(root);
    if (cache === undefined) throw new Error("no cache written");
    const good = readFileSync(path.join(root, cache));
    // V8's own header intact (digest, then 64 bytes), its data overwritten: V8 alone accepts this.
    const header = 32 + 64;
    for (const bad of [
      Buffer.concat([good.subarray(0, header), Buffer.alloc(good.length - header, 7)]),
      good.subarray(0, good.length - 1),
      Buffer.alloc(0),
    ]) {
      writeFileSync(path.join(root, cache), bad);
      const damaged = runBundle(file, "plan", root);
      expect(damaged.compiled).toBe("source");
      expect((damaged.exports.answer as () => number)()).toBe(42);
      damaged.save();
      expect(runBundle(file, "plan", root).compiled).toBe("cached");
    }
  });

  it("runs uncached where the cache cannot be written, and saving then does nothing", () => {
    const file = bundleFile(MODULE);
    const notAFolder = path.join(tempDir(), "file");
    writeFileSync(notAFolder, "");
    const bundle = runBundle(file, "status", path.join(notAFolder, "berth"));
    expect(bundle.compiled).toBe("source");
    expect(() => {
      bundle.save();
    }).not.toThrow();
    expect(runBundle(file, "status", path.join(notAFolder, "berth")).compiled).toBe("source");
  });

  it("removes other bundles' caches no command has saved into for a day, and keeps a recent one", () => {
    const file = bundleFile(MODULE);
    const root = path.join(tempDir(), "berth");
    const old = path.join(root, "old-version");
    const recent = path.join(root, "other-install");
    for (const dir of [old, recent]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, "status.v8"), "x");
    }
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    runBundle(file, "status", root).save();
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(cacheFiles(root)).toHaveLength(2);
  });

  it("keeps two other builds' caches at most, the most recent, however young", () => {
    const file = bundleFile(MODULE);
    const root = path.join(tempDir(), "berth");
    const builds = ["build-1", "build-2", "build-3", "build-4"];
    builds.forEach((build, i) => {
      const dir = path.join(root, build);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, "status.v8"), "x");
      const minutesAgo = new Date(Date.now() - (builds.length - i) * 60_000);
      utimesSync(dir, minutesAgo, minutesAgo);
    });
    runBundle(file, "status", root).save();
    expect(readdirSync(root).filter((d) => d.startsWith("build-"))).toEqual(["build-3", "build-4"]);
    expect(cacheFiles(root)).toHaveLength(3);
  });
});

describe("cacheRoot", () => {
  it.each([
    [{ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }, "/x/cache/berth"],
    [{ HOME: "/home/u" }, "/home/u/.cache/berth"],
    // A relative XDG_CACHE_HOME is invalid (XDG Base Directory spec): ignored.
    [{ XDG_CACHE_HOME: "cache", HOME: "/home/u" }, "/home/u/.cache/berth"],
    [{ HOME: "relative" }, null],
    [{}, null],
    // Node's own switch for its compile cache.
    [{ HOME: "/home/u", NODE_DISABLE_COMPILE_CACHE: "1" }, null],
    [{ HOME: "/home/u", NODE_DISABLE_COMPILE_CACHE: "" }, "/home/u/.cache/berth"],
  ])("%j → %s", (env, root) => {
    expect(cacheRoot(env)).toBe(root);
  });
});
