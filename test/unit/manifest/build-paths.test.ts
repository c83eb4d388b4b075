/**
 * A build spec's context folder and Dockerfile are looked for on disk at every load
 * (manifest/build-paths.ts): `berth validate` and `berth plan` say a missing one at its line,
 * not `berth apply` at the build; and a context that appears or goes is seen at the next load,
 * even when the spec file itself is unchanged (its parse kept).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue } from "../../../src/core/errors.js";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { loadChecked } from "../../support/load.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

function buildSpec(build: string[]): string {
  return specText("web", { image: null, extra: ["build:", ...build.map((l) => `  ${l}`)] });
}

function folder(files: Record<string, string>): string {
  const dir = tempDir("berth-build-paths-");
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

const lineOf = (text: string, needle: string): number => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

async function problems(loader: SpecLoader): Promise<{ lines: string[]; codes: string[]; specs: number }> {
  const result = await loadChecked(loader);
  return {
    lines: result.issues.map(formatIssue),
    codes: result.issues.map((i) => i.code),
    specs: result.specs.length,
  };
}

describe("build paths at validation", () => {
  it("a context folder that does not exist: at build.context's line and column", async () => {
    const text = buildSpec(["context: ./nosuchdir"]);
    const dir = folder({ "web.yaml": text });
    const file = path.join(dir, "web.yaml");
    const line = lineOf(text, "context:");
    const column = (text.split("\n")[line - 1]?.indexOf("./nosuchdir") ?? 0) + 1;
    expect(await problems(new SpecLoader([dir]))).toEqual({
      lines: [
        `${file}:${line}:${column}: spec.build.context: ${path.join(dir, "nosuchdir")} does not exist; a build ` +
          "context must be a folder inside the spec folder",
      ],
      codes: ["BERTH_BUILD_CONTEXT"],
      specs: 0,
    });
  });

  it("a context that is a file, not a folder", async () => {
    const dir = folder({ "web.yaml": buildSpec(["context: ./app"]), app: "not a folder\n" });
    const { lines } = await problems(new SpecLoader([dir]));
    expect(lines).toEqual([expect.stringContaining(`spec.build.context: ${path.join(dir, "app")} is not a folder`)]);
  });

  it("a missing Dockerfile: at build.dockerfile when written, else at the build key", async () => {
    const named = buildSpec(["context: ./app", "dockerfile: docker/Prod.Dockerfile"]);
    const dir = folder({ "web.yaml": named, "app/Dockerfile": "FROM scratch\n" });
    const file = path.join(dir, "web.yaml");
    const line = lineOf(named, "dockerfile:");
    const column = (named.split("\n")[line - 1]?.indexOf("docker/") ?? 0) + 1;
    expect((await problems(new SpecLoader([dir]))).lines).toEqual([
      `${file}:${line}:${column}: spec.build.dockerfile: the Dockerfile ${path.join(dir, "app", "docker", "Prod.Dockerfile")} ` +
        "does not exist; give its path relative to build.context",
    ]);

    const plain = buildSpec(["context: ./app"]);
    const other = folder({ "web.yaml": plain, "app/main.go": "package main\n" });
    const buildLine = lineOf(plain, "build:");
    const buildColumn = (plain.split("\n")[buildLine - 1]?.indexOf("build:") ?? 0) + 1;
    expect((await problems(new SpecLoader([other]))).lines).toEqual([
      `${path.join(other, "web.yaml")}:${buildLine}:${buildColumn}: spec.build.dockerfile: the Dockerfile ` +
        `${path.join(other, "app", "Dockerfile")} does not exist; add a Dockerfile to the context, or name another with build.dockerfile`,
    ]);
  });

  it("is looked for at every load: a context made, then a Dockerfile deleted, with the spec file unchanged", async () => {
    const dir = folder({ "web.yaml": buildSpec(["context: ./app"]) });
    const loader = new SpecLoader([dir]);
    expect((await problems(loader)).codes).toEqual(["BERTH_BUILD_CONTEXT"]);
    mkdirSync(path.join(dir, "app"));
    writeFileSync(path.join(dir, "app", "Dockerfile"), "FROM scratch\n");
    expect(await problems(loader)).toEqual({ lines: [], codes: [], specs: 1 });
    rmSync(path.join(dir, "app", "Dockerfile"));
    expect((await problems(loader)).lines).toEqual([expect.stringContaining("spec.build.dockerfile: the Dockerfile")]);
  });

  it("a spec file given alone: its context is relative to the file's folder", async () => {
    const dir = folder({ "web.yaml": buildSpec(["context: ./app"]), "app/Dockerfile": "FROM scratch\n" });
    expect(await problems(new SpecLoader([path.join(dir, "web.yaml")]))).toEqual({ lines: [], codes: [], specs: 1 });
    rmSync(path.join(dir, "app"), { recursive: true });
    expect((await problems(new SpecLoader([path.join(dir, "web.yaml")]))).codes).toEqual(["BERTH_BUILD_CONTEXT"]);
  });
});
