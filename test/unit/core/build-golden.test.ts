/**
 * Builds from the repository, the pure part: what a `build:` field may say (golden error lines, as
 * berth validate prints them, with the spec file's place below its spec root) and what the
 * context hash covers.
 */
import { describe, expect, it } from "vitest";
import {
  builtImage,
  type ContextEntry,
  contextHash,
  type NormalizedBuild,
  resolveInside,
} from "../../../src/core/build.js";
import { parseSpecText } from "../../../src/manifest/parse.js";

const spec = (build: string, extra = ""): string =>
  `apiVersion: berth/v1\nkind: Container\nmetadata:\n  name: web\nspec:\n${extra}  build:\n${build}`;

/** Error lines for a spec file at `source` below its spec root. */
const errors = (text: string, source = "web.yaml"): string[] =>
  parseSpecText(text, "specs/web.yaml", undefined, source).issues.map(
    (i) => `${i.file}:${i.line}:${i.column}: ${i.path}: ${i.message}`,
  );

describe("build: what validate refuses, at file:line:col", () => {
  it.each([
    ["a context inside the spec folder", spec("    context: ./app\n"), "web.yaml", []],
    ["a context below a nested spec file's folder", spec("    context: ../shared\n"), "team/web.yaml", []],
    [
      "a context above the spec folder",
      spec("    context: ../app\n"),
      "web.yaml",
      [
        'specs/web.yaml:7:14: spec.build.context: "../app" leads outside the spec folder; a build context must be a folder inside it (relative to the spec file, e.g. ./app)',
      ],
    ],
    [
      "a context that climbs out through a nested folder",
      spec("    context: ../../x\n"),
      "team/web.yaml",
      [
        'specs/web.yaml:7:14: spec.build.context: "../../x" leads outside the spec folder; a build context must be a folder inside it (relative to the spec file, e.g. ./app)',
      ],
    ],
    [
      "an absolute context",
      spec("    context: /srv/app\n"),
      "web.yaml",
      [
        'specs/web.yaml:7:14: spec.build.context: "/srv/app" leads outside the spec folder; a build context must be a folder inside it (relative to the spec file, e.g. ./app)',
      ],
    ],
    [
      "a Dockerfile outside the context",
      spec("    context: app\n    dockerfile: ../Dockerfile\n"),
      "web.yaml",
      [
        'specs/web.yaml:8:17: spec.build.dockerfile: "../Dockerfile" is not a file inside the context; give its path relative to build.context (e.g. Dockerfile)',
      ],
    ],
    [
      "image and build",
      spec("    context: app\n", "  image: busybox:latest\n"),
      "web.yaml",
      [
        "specs/web.yaml:6:3: spec.image: give image or build, not both: a built image is tagged berth.local/<name>:<context hash>",
      ],
    ],
    [
      "a pull policy of Always",
      spec("    context: app\n", "  imagePullPolicy: Always\n"),
      "web.yaml",
      [
        "specs/web.yaml:6:3: spec.imagePullPolicy: a built image is never pulled: drop it, or use image instead of build",
      ],
    ],
    [
      "a secret build arg",
      spec("    context: app\n    args:\n      TOKEN: { fromHostEnv: NPM_TOKEN }\n"),
      "web.yaml",
      [
        "specs/web.yaml:9:14: spec.build.args.TOKEN: a build arg cannot come from a secret: the Engine API's build endpoint has no BuildKit secrets, and a build arg stays in the image's history in clear. Pass the secret at run time with secretEnv instead",
      ],
    ],
    [
      "neither image nor build",
      "apiVersion: berth/v1\nkind: Container\nmetadata:\n  name: web\nspec:\n  command: [sleep, '1']\n",
      "web.yaml",
      ['specs/web.yaml:5:1: spec: missing required field "image" (or "build": a folder to build it from)'],
    ],
  ])("%s", (_name, text, source, expected) => {
    expect(errors(text, source)).toEqual(expected);
  });

  it("a valid build spec is normalized: context from the spec root, the placeholder image until hashed", () => {
    const parsed = parseSpecText(
      spec("    context: ../app\n    dockerfile: ./docker//Dockerfile\n    target: runtime\n    args: { V: '1' }\n"),
      "specs/team/web.yaml",
      undefined,
      "team/web.yaml",
    );
    expect(parsed.issues).toEqual([]);
    const s = parsed.documents[0]?.spec;
    expect(s?.build).toEqual({ context: "app", dockerfile: "docker/Dockerfile", args: { V: "1" }, target: "runtime" });
    expect(s?.image).toBe("berth.local/web:unhashed");
  });
});

describe("resolveInside", () => {
  it.each([
    [".", ".", "."],
    [".", "./app/", "app"],
    ["team", "../app", "app"],
    ["team", "..", "."],
    [".", "..", null],
    ["a/b", "../../..", null],
    [".", "/abs", null],
    [".", "a/./b/../c", "a/c"],
  ])("%s + %s → %s", (base, rel, expected) => {
    expect(resolveInside(base, rel)).toBe(expected);
  });
});

describe("the context hash", () => {
  const build: NormalizedBuild = { context: ".", dockerfile: "Dockerfile", args: {}, target: null };
  const entries: ContextEntry[] = [
    { path: "Dockerfile", type: "file", mode: 0o644, digest: "a".repeat(64) },
    { path: "app", type: "dir", mode: 0o755, digest: "" },
    { path: "app/main.sh", type: "file", mode: 0o755, digest: "b".repeat(64) },
  ];
  const base = contextHash(entries, build);

  it("is pinned (a change of the format would rebuild every image)", () => {
    expect(builtImage("web", base)).toBe(`berth.local/web:${base.slice(0, 12)}`);
    expect(base).toBe("f0861eb790cc7e2c2886b112c86ed8b46eab17fff4272ccff43e9e5e23d1a856");
  });

  it("does not depend on the order the entries were read in", () => {
    expect(contextHash([...entries].reverse(), build)).toBe(base);
  });

  it.each([
    ["a file's content", [{ ...entries[0], digest: "c".repeat(64) } as ContextEntry, ...entries.slice(1)], build],
    ["a file's mode", [entries[0], entries[1], { ...entries[2], mode: 0o644 } as ContextEntry], build],
    ["a file's name", [entries[0], entries[1], { ...entries[2], path: "app/run.sh" } as ContextEntry], build],
    ["a file more", [...entries, { path: "README", type: "file", mode: 0o644, digest: "d".repeat(64) }], build],
    ["the dockerfile", entries, { ...build, dockerfile: "app/Dockerfile" }],
    ["an arg", entries, { ...build, args: { V: "1" } }],
    ["the target", entries, { ...build, target: "runtime" }],
  ])("changes with %s", (_what, changed, b) => {
    expect(contextHash(changed as ContextEntry[], b)).not.toBe(base);
  });
});
