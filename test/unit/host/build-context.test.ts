/**
 * Build contexts on disk: which files are sent (.dockerignore, with the Dockerfile and
 * .dockerignore always kept), what changes the image tag and what does not, symbolic links, and
 * that the tar holds exactly what was hashed.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NormalizedBuild } from "../../../src/core/build.js";
import { BuildContexts, specRootOf } from "../../../src/host/build-context.js";
import { tarEntries } from "../../support/tar.js";

let root: string;
const build: NormalizedBuild = { context: "app", dockerfile: "Dockerfile", args: {}, target: null };

function write(rel: string, content: string): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** The image of web's context as a fresh berth sees it (no digests kept from before). */
const image = (b: NormalizedBuild = build): Promise<string> =>
  new BuildContexts().image("web", b, path.join(root, "web.yaml"), "web.yaml");

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "berth-build-"));
  write("web.yaml", "# the spec\n");
  write("app/Dockerfile", "FROM berth-test/busybox\nCOPY . /app\n");
  write("app/main.sh", "echo one\n");
  write("app/.dockerignore", "*.log\nnode_modules\nDockerfile\n!keep.log\n");
  write("app/debug.log", "noise\n");
  write("app/keep.log", "kept\n");
  write("app/node_modules/x/index.js", "x\n");
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("build contexts", () => {
  it("tags berth.local/<spec>:<12 hex>, the same for the same files", async () => {
    const first = await image();
    expect(first).toMatch(/^berth\.local\/web:[0-9a-f]{12}$/);
    expect(await image()).toBe(first);
  });

  it.each([
    ["a file in the context", () => write("app/main.sh", "echo two\n"), true],
    ["a new file in the context", () => write("app/lib/util.sh", "u\n"), true],
    ["a file's mode", () => chmodSync(path.join(root, "app/main.sh"), 0o755), true],
    ["the Dockerfile, though .dockerignore lists it", () => write("app/Dockerfile", "FROM berth-test/busybox\n"), true],
    ["a file brought back by !keep.log", () => write("app/keep.log", "changed\n"), true],
    ["an ignored file", () => write("app/debug.log", "more noise\n"), false],
    ["a file in an ignored folder", () => write("app/node_modules/x/index.js", "y\n"), false],
    ["a file outside the context", () => write("README.md", "docs\n"), false],
    ["the spec file itself", () => write("web.yaml", "# edited\n"), false],
  ])("%s", async (_what, change, rebuilds) => {
    const before = await image();
    change();
    expect((await image()) !== before).toBe(rebuilds);
  });

  it("sends what it hashed: ignored files left out, the Dockerfile and .dockerignore kept, owner root", async () => {
    const contexts = new BuildContexts();
    const tag = await contexts.image("web", build, path.join(root, "web.yaml"), "web.yaml");
    const entries = await tarEntries(await contexts.pack("web", tag));
    expect(entries.map((e) => `${e.type} ${e.name}`).sort()).toEqual([
      "file .dockerignore",
      "file Dockerfile",
      "file keep.log",
      "file main.sh",
    ]);
    expect(entries.find((e) => e.name === "main.sh")?.content).toBe("echo one\n");
  });

  it("refuses to send files that changed since they were hashed (the build fails, the next pass hashes again)", async () => {
    const contexts = new BuildContexts();
    const tag = await contexts.image("web", build, path.join(root, "web.yaml"), "web.yaml");
    write("app/main.sh", "echo changed\n");
    await expect(tarEntries(await contexts.pack("web", tag))).rejects.toThrow(/changed while it was sent/);
  });

  it("keeps a symbolic link as a link, and refuses a context that leads out of the spec root through one", async () => {
    symlinkSync("/etc/passwd", path.join(root, "app/passwd"));
    const contexts = new BuildContexts();
    const tag = await contexts.image("web", build, path.join(root, "web.yaml"), "web.yaml");
    const link = (await tarEntries(await contexts.pack("web", tag))).find((e) => e.name === "passwd");
    expect(link?.type).toBe("symlink");
    expect(link?.content).toBe("");
    symlinkSync(os.tmpdir(), path.join(root, "out"));
    await expect(image({ ...build, context: "out" })).rejects.toThrow(
      /leads outside the spec folder .* through a symbolic link/,
    );
  });

  it("says which folder is missing", async () => {
    await expect(image({ ...build, context: "nope" })).rejects.toThrow(/the build context .*nope cannot be read/);
  });

  it("finds the spec root from a file and its path below it", () => {
    expect(specRootOf("/srv/specs/team/web.yaml", "team/web.yaml")).toBe("/srv/specs");
    expect(specRootOf("/srv/specs/web.yaml", "web.yaml")).toBe("/srv/specs");
  });
});
