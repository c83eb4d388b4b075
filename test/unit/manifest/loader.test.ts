/** The filesystem edge of the spec language, on real temporary folders (the files it opens are watched). */
import { execFileSync } from "node:child_process";
import type * as Fs from "node:fs";
import { mkdirSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formatIssue } from "../../../src/core/errors.js";
import { isIgnoredName, isSpecFileName, SpecLoader, validateLoad } from "../../../src/manifest/loader.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";
import { loadChecked } from "../../support/load.js";

/**
 * What the loader does on the filesystem, seen from here: which files it opens (reads), and a stat
 * that can be frozen for a file, as a coarse file clock would leave it after a quick rewrite.
 */
const fsSeen = vi.hoisted(() => ({ opened: [] as string[], frozen: new Map<string, Fs.Stats>() }));

vi.mock("node:fs", async (importOriginal) => {
  const actual = await importOriginal<typeof Fs>();
  const statSync = ((file: string, ...rest: []) =>
    fsSeen.frozen.get(file) ?? actual.statSync(file, ...rest)) as typeof actual.statSync;
  const openSync: typeof actual.openSync = (file, ...rest) => {
    fsSeen.opened.push(String(file));
    return actual.openSync(file, ...rest);
  };
  return { ...actual, statSync, openSync };
});

afterEach(() => {
  fsSeen.frozen.clear();
});

/** Loads, and says which files the load opened. */
async function loadReading(loader: SpecLoader) {
  fsSeen.opened.length = 0;
  const result = await loadChecked(loader);
  return { result, read: [...fsSeen.opened].sort() };
}

let ages = 0;
/** Sets a file's modification time an hour or more back (a different time at each call). */
function age(file: string): void {
  const t = (Date.now() - 3_600_000 - ++ages * 1000) / 1000;
  utimesSync(file, t, t);
}

function write(dir: string, rel: string, text: string): string {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const names = (r: Awaited<ReturnType<typeof loadChecked>>): string[] => r.specs.map((s) => s.spec.name).sort();

describe("spec file names", () => {
  it.each([
    ["web.yaml", true],
    ["web.yml", true],
    ["WEB.YAML", true],
    [".web.yaml", false],
    ["web.yaml~", false],
    ["web.yaml.bak", false],
    ["web.yaml.tmp", false],
    ["web.yaml.orig", false],
    ["web.json", false],
    ["notes.txt", false],
  ] as const)("%s is a spec file: %s", (name, expected) => {
    expect(isSpecFileName(name)).toBe(expected);
  });
  it.each([".git", "..data", ".swp", "x~"])("ignores %s", (name) => {
    expect(isIgnoredName(name)).toBe(true);
  });
});

describe("SpecLoader", () => {
  it("finds spec files recursively, skipping hidden folders and editor leftovers", async () => {
    const dir = tempDir();
    write(dir, "a.yaml", specText("a"));
    write(dir, "nested/deeper/b.yml", specText("b"));
    write(dir, ".git/c.yaml", specText("c"));
    write(dir, ".hidden.yaml", specText("d"));
    write(dir, "e.yaml~", specText("e"));
    write(dir, "f.yaml.bak", specText("f"));
    write(dir, "README.md", "# not a spec");
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.issues).toEqual([]);
    expect(names(result)).toEqual(["a", "b"]);
    expect(result.specs.map((s) => s.source).sort()).toEqual(["a.yaml", path.join("nested", "deeper", "b.yml")]);
    expect(result.directories).toEqual([{ dir, readable: true, fileCount: 2 }]);
  });

  it("reads several documents from one file", async () => {
    const dir = tempDir();
    write(dir, "multi.yaml", `${specText("one")}---\n${specText("two")}---\n`);
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.issues).toEqual([]);
    expect(names(result)).toEqual(["one", "two"]);
  });

  it("follows a ConfigMap-style layout: files linked into a ..data folder that is itself a link", async () => {
    const dir = tempDir();
    write(dir, "..2026_11_23/web.yaml", specText("web"));
    symlinkSync("..2026_11_23", path.join(dir, "..data"));
    symlinkSync("..data/web.yaml", path.join(dir, "web.yaml"));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.issues).toEqual([]);
    expect(result.specs.map((s) => [s.spec.name, s.source])).toEqual([["web", "web.yaml"]]);
  });

  it("survives a folder symlink loop and reports a dangling link named like a spec", async () => {
    const dir = tempDir();
    write(dir, "sub/a.yaml", specText("a"));
    symlinkSync("..", path.join(dir, "sub", "loop"));
    symlinkSync("/nonexistent/nowhere.yaml", path.join(dir, "gone.yaml"));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(names(result)).toEqual(["a"]);
    expect(result.issues.map(formatIssue)).toEqual([
      `${path.join(dir, "gone.yaml")}:1:1: cannot follow this symbolic link: does not exist`,
    ]);
  });

  it("refuses a FIFO without blocking on it", async () => {
    const dir = tempDir();
    write(dir, "a.yaml", specText("a"));
    execFileSync("mkfifo", [path.join(dir, "pipe.yaml")]);
    const result = await loadChecked(new SpecLoader([dir]));
    expect(names(result)).toEqual(["a"]);
    expect(result.issues.map((i) => [i.code, i.message])).toEqual([
      ["BERTH_NOT_A_FILE", "is a FIFO, not a regular file; not read"],
    ]);
  });

  it("refuses a 10 MB file by its size, without parsing it", async () => {
    const dir = tempDir();
    const big = path.join(dir, "big.yaml");
    writeFileSync(big, "");
    truncateSync(big, 10 * 1024 * 1024);
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.issues.map(formatIssue)).toEqual([`${big}:1:1: is 10 MiB, above the 1 MiB limit for a spec file`]);
  });

  it("reports two documents with one name in two files, naming both places, and applies neither", async () => {
    const dir = tempDir();
    const a = write(dir, "a.yaml", specText("web"));
    const b = write(dir, "b/b.yaml", `# another team's file\n${specText("web")}`);
    write(dir, "c.yaml", specText("other"));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(names(result)).toEqual(["other"]);
    expect(result.issues.map(formatIssue)).toEqual([
      `${a}:4:9: metadata.name: "web" is also defined at ${b}:5:9; names must be unique across all spec files (neither is applied)`,
      `${b}:5:9: metadata.name: "web" is also defined at ${a}:4:9; names must be unique across all spec files (neither is applied)`,
    ]);
  });

  it("reads a file reached twice once: a folder and a file in it, a folder by two names, a link to it", async () => {
    const dir = tempDir();
    const web = write(dir, "web.yaml", specText("web"));
    write(dir, "c.yaml", specText("other"));
    symlinkSync(web, path.join(dir, "web-link.yaml"));
    const result = await loadChecked(new SpecLoader([dir, web, `${dir}/./`, path.join(dir, "web-link.yaml")]));
    expect(result.issues.map(formatIssue)).toEqual([]);
    expect(names(result)).toEqual(["other", "web"]);
    // The first path to it in the order read ("web-link.yaml" sorts before "web.yaml").
    expect(result.files.map((f) => f.path)).toEqual([path.join(dir, "c.yaml"), path.join(dir, "web-link.yaml")]);
  });

  it("refuses a valid spec whose name a broken file declares too: neither is applied", async () => {
    const dir = tempDir();
    const a = write(dir, "a.yaml", specText("web"));
    const b = write(dir, "b.yaml", specText("web", { extra: ["hostPort: 80"] }));
    const result = validateLoad(await new SpecLoader([dir]).load(), "baseline");
    expect(result.specs.map((x) => x.spec.name)).toEqual([]);
    expect(result.issues.map(formatIssue)).toContain(
      `${a}:4:9: metadata.name: "web" is also defined in ${b}, which has errors; names must be unique across all spec files (neither is applied)`,
    );
  });

  it("reports a replica name that collides with another spec's name", async () => {
    const dir = tempDir();
    const pool = write(dir, "pool.yaml", specText("pool", { replicas: 2 }));
    const other = write(dir, "other.yaml", specText("pool-1"));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(names(result)).toEqual([]);
    expect(result.issues.map(formatIssue)).toEqual([
      `${other}:4:9: metadata.name: "pool-1" is also defined at ${pool}:4:9; names must be unique across all spec files (neither is applied)`,
      `${pool}:4:9: metadata.name: container name "pool-1" is also produced at ${other}:4:9; names must be unique across all spec files (neither is applied)`,
    ]);
  });

  it("keeps a valid file's specs when another file is broken, and reports the broken one", async () => {
    const dir = tempDir();
    write(dir, "good.yaml", specText("good"));
    const bad = write(dir, "bad.yaml", specText("bad", { extra: ["replicas: many"] }));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(names(result)).toEqual(["good"]);
    expect(result.files.find((f) => f.path === bad)?.result.names).toEqual(["bad"]);
    expect(result.issues.map((i) => i.path)).toEqual(["spec.replicas"]);
  });

  it("re-parses only the files whose content changed, and reads only those whose stamp changed", async () => {
    const dir = tempDir();
    const a = write(dir, "a.yaml", specText("a"));
    const b = write(dir, "b.yaml", specText("b"));
    // Modified well before they are read: their stamps can be trusted.
    age(a);
    age(b);
    const loader = new SpecLoader([dir]);
    const first = await loadReading(loader);
    expect([first.result.stats, first.read]).toEqual([{ parsed: 2, reused: 0 }, [a, b]]);
    // Unchanged files are known from their stamps alone: not opened.
    const second = await loadReading(loader);
    expect([second.result.stats, second.read]).toEqual([{ parsed: 0, reused: 2 }, []]);
    expect(names(second.result)).toEqual(["a", "b"]);

    write(dir, "b.yaml", specText("b", { replicas: 2 }));
    age(b);
    const third = await loadReading(loader);
    expect([third.result.stats, third.read]).toEqual([{ parsed: 1, reused: 1 }, [b]]);
    expect(third.result.specs.find((s) => s.spec.name === "b")?.spec.replicas).toBe(2);

    // Rewriting identical content is noticed (the stamp changed): read again, but not parsed again.
    write(dir, "a.yaml", specText("a"));
    age(a);
    const fourth = await loadReading(loader);
    expect([fourth.result.stats, fourth.read]).toEqual([{ parsed: 0, reused: 2 }, [a]]);
    expect(fourth.result.specs.find((s) => s.spec.name === "a")?.spec.replicas).toBe(1);
    const fifth = await loadReading(loader);
    expect([fifth.result.stats, fifth.read]).toEqual([{ parsed: 0, reused: 2 }, []]);
  });

  it("reads a racily clean file again: a rewrite its stamp cannot show is noticed when the file is recent", async () => {
    const dir = tempDir();
    const env = (v: string) => specText("web", { extra: [`env: { V: '${v}' }`] });
    const envOf = (r: Awaited<ReturnType<typeof loadChecked>>) => r.specs.map((s) => s.spec.env);
    const recent = write(dir, "web.yaml", env("1"));
    const loader = new SpecLoader([dir]);
    expect(envOf((await loadReading(loader)).result)).toEqual([{ V: "1" }]);

    // Rewritten with the same size within one tick of the file clock: the stat shows the old stamp.
    fsSeen.frozen.set(recent, statSync(recent));
    write(dir, "web.yaml", env("2"));
    // The file was modified less than 2 s before it was last read, so its stamp is not trusted.
    const again = await loadReading(loader);
    expect(again.read).toEqual([recent]);
    expect(again.result.stats).toEqual({ parsed: 1, reused: 0 });
    expect(envOf(again.result)).toEqual([{ V: "2" }]);

    // The same frozen stamp on a file modified long before it was read is trusted: the frozen stat
    // indeed hides the rewrite, which only the racy rule above saw.
    fsSeen.frozen.clear();
    age(recent);
    expect((await loadReading(loader)).read).toEqual([recent]);
    fsSeen.frozen.set(recent, statSync(recent));
    write(dir, "web.yaml", env("3"));
    const trusted = await loadReading(loader);
    expect([trusted.read, envOf(trusted.result)]).toEqual([[], [{ V: "2" }]]);
  });

  it("returns many files in the order it found them, however their reads finish", async () => {
    const dir = tempDir();
    // Sizes vary so that reads made side by side finish out of order.
    const sources = Array.from({ length: 60 }, (_, i) => `f${String(i).padStart(2, "0")}.yaml`);
    sources.forEach((source, i) =>
      write(dir, source, specText(`s${i}`, { extra: Array.from({ length: (i * 37) % 50 }, (_, j) => `# ${j}`) })),
    );
    const loader = new SpecLoader([dir]);
    const first = await loadChecked(loader);
    expect(first.files.map((f) => f.source)).toEqual(sources);
    expect(first.specs.map((s) => s.spec.name)).toEqual(sources.map((_, i) => `s${i}`));
    const again = await loadChecked(loader);
    expect(again.stats).toEqual({ parsed: 0, reused: 60 });
    expect(again.files.map((f) => f.source)).toEqual(sources);
  });

  it("forgets a removed file", async () => {
    const dir = tempDir();
    write(dir, "a.yaml", specText("a"));
    const b = write(dir, "b.yaml", specText("b"));
    const loader = new SpecLoader([dir]);
    expect(names(await loadChecked(loader))).toEqual(["a", "b"]);
    rmSync(b);
    expect(names(await loadChecked(loader))).toEqual(["a"]);
  });

  it("says when a spec directory is missing, and marks it unreadable", async () => {
    const dir = path.join(tempDir(), "nope");
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.directories).toEqual([{ dir, readable: false, fileCount: 0 }]);
    expect(result.issues.map(formatIssue)).toEqual([`${dir}: cannot read the spec path: does not exist`]);
  });

  it("loads a single file given directly, whatever its name", async () => {
    const dir = tempDir();
    const file = write(dir, "spec.txt", specText("direct"));
    const result = await loadChecked(new SpecLoader([file]));
    expect(result.issues).toEqual([]);
    expect(result.specs.map((s) => [s.spec.name, s.source])).toEqual([["direct", "spec.txt"]]);
  });
});
