/**
 * The filesystem watch on a real directory: every kind of change a user, an editor, git-sync or a
 * Kubernetes ConfigMap makes is reported, and the watch costs an inotify watch per directory, not
 * per file.
 */
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/util/clock.js";
import { type SpecWatcher, watchSpecDirs } from "../../../src/host/watcher.js";
import { pollUntil } from "../../support/poll.js";
import { tempDir } from "../../support/tmp.js";

const log = pino({ level: "silent" });
let watcher: SpecWatcher | undefined;
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
});

/** Starts a watch on `dir` and returns how many changes it reported so far. */
async function watching(dir: string): Promise<() => number> {
  let changes = 0;
  watcher = watchSpecDirs([dir], () => changes++, { debounceMs: 10, clock: systemClock, log });
  await watcher.ready;
  return () => changes;
}

/** Makes `change` and expects the watch to report it. */
async function seen(count: () => number, change: () => void): Promise<void> {
  const before = count();
  change();
  expect(await pollUntil(() => count() > before, 5_000, 10)).toBe(true);
}

/** Rewrites `file` until the watch reports a write (its folder's watch is set up asynchronously). */
async function seenOnceWatched(count: () => number, file: string): Promise<void> {
  let n = 0;
  const before = count();
  const written = (): boolean => {
    writeFileSync(file, `v${n++}\n`);
    return count() > before + 1;
  };
  expect(await pollUntil(written, 5_000, 100)).toBe(true);
}

/** The inotify watches this process holds (Linux: /proc/self/fdinfo of each inotify instance). */
function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== "anon_inode:inotify") continue;
      n += readFileSync(`/proc/self/fdinfo/${fd}`, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("inotify wd:")).length;
    } catch {
      // the fd closed meanwhile
    }
  }
  return n;
}

describe("the spec directory watch", () => {
  it("reports files added, edited in place, saved atomically and removed", async () => {
    const dir = tempDir("berth-watch-");
    const count = await watching(dir);
    const file = path.join(dir, "a.yaml");
    await seen(count, () => writeFileSync(file, "one\n"));
    await seen(count, () => appendFileSync(file, "two\n"));
    await seen(count, () => {
      writeFileSync(path.join(dir, ".a.yaml.swp"), "three\n");
      renameSync(path.join(dir, ".a.yaml.swp"), file);
    });
    await seen(count, () => rmSync(file));
  });

  it("reports changes in a folder made after the watch started", async () => {
    const dir = tempDir("berth-watch-");
    const count = await watching(dir);
    await seen(count, () => mkdirSync(path.join(dir, "team")));
    // The new folder's own watch is set up asynchronously: write until a write is seen.
    await seenOnceWatched(count, path.join(dir, "team", "b.yaml"));
  });

  it("follows a ConfigMap-style swap of the ..data symlink", async () => {
    const dir = tempDir("berth-watch-");
    mkdirSync(path.join(dir, "..v1"));
    writeFileSync(path.join(dir, "..v1", "c.yaml"), "v1\n");
    symlinkSync("..v1", path.join(dir, "..data"));
    symlinkSync("..data/c.yaml", path.join(dir, "c.yaml"));
    const count = await watching(dir);
    await seen(count, () => {
      mkdirSync(path.join(dir, "..v2"));
      writeFileSync(path.join(dir, "..v2", "c.yaml"), "v2\n");
      symlinkSync("..v2", path.join(dir, "..data_tmp"));
      renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
    });
  });

  it("follows a git-sync-style swap of the spec directory's own symlink", async () => {
    const root = tempDir("berth-watch-");
    mkdirSync(path.join(root, "rev1"));
    mkdirSync(path.join(root, "rev2"));
    symlinkSync("rev1", path.join(root, "specs"));
    const count = await watching(path.join(root, "specs"));
    await seen(count, () => {
      symlinkSync("rev2", path.join(root, "specs.tmp"));
      renameSync(path.join(root, "specs.tmp"), path.join(root, "specs"));
    });
    // And the new target is watched: a change in it is seen.
    await seenOnceWatched(count, path.join(root, "rev2", "d.yaml"));
  });

  it("sees an edit of a linked spec whose target lives outside the spec directory", async () => {
    const outside = tempDir("berth-watch-target-");
    const dir = tempDir("berth-watch-");
    writeFileSync(path.join(outside, "e.yaml"), "v1\n");
    symlinkSync(path.join(outside, "e.yaml"), path.join(dir, "e.yaml"));
    const count = await watching(dir);
    await seen(count, () => appendFileSync(path.join(outside, "e.yaml"), "v2\n"));
  });

  it("holds an inotify watch per directory, not per file", async () => {
    const dir = tempDir("berth-watch-");
    mkdirSync(path.join(dir, "sub"));
    for (let i = 0; i < 200; i++) writeFileSync(path.join(dir, i % 2 ? "sub" : ".", `s${i}.yaml`), "x\n");
    const before = inotifyWatches();
    const count = await watching(dir);
    // The folder, its subfolder and the parent (for a swap of the folder itself).
    expect(inotifyWatches() - before).toBeLessThanOrEqual(3);
    await seen(count, () => appendFileSync(path.join(dir, "sub", "s1.yaml"), "y\n"));
  });
});
