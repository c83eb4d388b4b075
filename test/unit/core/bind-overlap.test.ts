/**
 * bind-inside-writable, the pure check (issue 14, finding 1): no path a container can write
 * decides what any container mounts. The pairs found on lexical paths, through symbolic links on a
 * real folder, within one spec, across spec files (both refused, each naming the other), and on a
 * container's mounts against the other containers' as observed.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildPolicy } from "../../../src/config.js";
import { formatIssue } from "../../../src/core/errors.js";
import type { ObservedMount } from "../../../src/core/observed.js";
import {
  checkMounts,
  checkRequest,
  findOverlaps,
  type HostMount,
  LEXICAL_CONTEXT,
  type PolicyContext,
} from "../../../src/core/policy/policy.js";
import { hostPolicyContext } from "../../../src/host/host-paths.js";
import { crossFileChecks, findBindsInsideWritable } from "../../../src/manifest/cross-file.js";
import { DEFAULT_LOADER_OPTIONS, SpecLoader, specsOf } from "../../../src/manifest/loader.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

const identity = (p: string): string => p;
const mount = (source: string, writable: boolean, by = "this container", target = "/m"): HostMount => ({
  source,
  target,
  writable,
  by,
});
const pairs = (mine: HostMount[], others: HostMount[] = [], realpath = identity): string[] =>
  findOverlaps(mine, others, realpath).map((o) => `${o.inner.source} in ${o.outer.source}`);

describe("findOverlaps on lexical paths", () => {
  it("finds a bind mount inside a writable one, whichever way round they are listed", () => {
    expect(pairs([mount("/w/x", true), mount("/w/x/d", false)])).toEqual(["/w/x/d in /w/x"]);
    expect(pairs([mount("/w/x/d", false), mount("/w/x", true)])).toEqual(["/w/x/d in /w/x"]);
    expect(pairs([mount("/w/x", true), mount("/w/x/a/b/c", true)])).toEqual(["/w/x/a/b/c in /w/x"]);
  });

  it("leaves alone the same folder, siblings, string prefixes and read-only outer mounts", () => {
    expect(pairs([mount("/w/x", true), mount("/w/x", false)])).toEqual([]);
    expect(pairs([mount("/w/x", true), mount("/w/x/", true)])).toEqual([]);
    expect(pairs([mount("/w/x", true), mount("/w/y/d", false)])).toEqual([]);
    expect(pairs([mount("/w/x", true), mount("/w/xy/d", false)])).toEqual([]);
    expect(pairs([mount("/w/x", false), mount("/w/x/d", false)])).toEqual([]);
  });

  it("normalises .., // and trailing slashes before comparing", () => {
    expect(pairs([mount("/w/x/", true), mount("/w//y/../x/d/", false)])).toEqual(["/w//y/../x/d/ in /w/x/"]);
  });

  it("compares this container's mounts with the others', in both directions, but not the others among themselves", () => {
    const theirs = [mount("/w/x", true, 'container "a"'), mount("/w/x/d", false, 'container "b"')];
    expect(pairs([mount("/w/x/d/e", false)], theirs)).toEqual(["/w/x/d/e in /w/x"]);
    expect(pairs([mount("/w", true)], theirs)).toEqual(["/w/x in /w", "/w/x/d in /w"]);
    expect(pairs([mount("/other", true)], theirs)).toEqual([]);
  });
});

describe("findOverlaps through symbolic links (a real folder)", () => {
  const root = tempDir("berth-overlap-", "file");
  mkdirSync(path.join(root, "x", "d"), { recursive: true });
  mkdirSync(path.join(root, "y"), { recursive: true });
  symlinkSync(path.join(root, "x", "d"), path.join(root, "into-x")); // outside x, pointing in
  symlinkSync(path.join(root, "y"), path.join(root, "x", "out")); // inside x, pointing out
  const resolve = hostPolicyContext.realpath;

  it("finds a path that resolves inside a writable folder", () => {
    expect(pairs([mount(`${root}/x`, true), mount(`${root}/into-x`, false)], [], resolve)).toEqual([
      `${root}/into-x in ${root}/x`,
    ]);
  });

  it("finds a path that passes through a link inside a writable folder, even when the link leads out", () => {
    // The container that writes x can point x/out anywhere before the next start.
    expect(pairs([mount(`${root}/x`, true), mount(`${root}/x/out/f`, false)], [], resolve)).toEqual([
      `${root}/x/out/f in ${root}/x`,
    ]);
    expect(pairs([mount(`${root}/x`, true), mount(`${root}/y/f`, false)], [], resolve)).toEqual([]);
  });

  it("judges a writable folder by where it resolves", () => {
    symlinkSync(path.join(root, "x"), path.join(root, "x-link"));
    expect(pairs([mount(`${root}/x-link`, true), mount(`${root}/x/d`, false)], [], resolve)).toEqual([
      `${root}/x/d in ${root}/x-link`,
    ]);
  });
});

describe("the spec check: within one spec", () => {
  const policy = buildPolicy({ allowBind: ["/srv"] });
  const verdict = (lines: string[]): string[] =>
    parseSpecText(specText("s", { extra: lines }), "s.yaml", {
      ...DEFAULT_PARSE_OPTIONS,
      policy,
      policyContext: LEXICAL_CONTEXT,
    }).issues.map((i) => formatIssue(i));

  it("refuses the one-container attack: a writable folder and a mount below it", () => {
    expect(
      verdict([
        "mounts:",
        "  - { type: bind, source: /srv/x, target: /w }",
        "  - { type: bind, source: /srv/x/d, target: /d, readOnly: true }",
      ]),
    ).toEqual([
      's.yaml:9:29: spec.mounts[1].source: "/srv/x/d" lies inside "/srv/x", which spec.mounts[0] mounts writable at /w; ' +
        "whatever can write there can swap that path for a symbolic link (to /etc, say), which the engine follows " +
        "when the container starts again: make the outer mount readOnly, or mount folders that do not nest " +
        "[policy baseline: bind-inside-writable]",
    ]);
  });

  it("is not applied under --policy privileged", () => {
    const privileged = parseSpecText(
      specText("s", {
        extra: ["mounts: [{ type: bind, source: /x, target: /w }, { type: bind, source: /x/d, target: /d }]"],
      }),
      "s.yaml",
      { ...DEFAULT_PARSE_OPTIONS, policy: buildPolicy({ policy: "privileged" }), policyContext: LEXICAL_CONTEXT },
    );
    expect(privileged.issues).toEqual([]);
  });
});

describe("across spec files", () => {
  const policy = buildPolicy({ allowBind: ["/srv"] });

  async function load(files: Record<string, string>) {
    const dir = tempDir("berth-overlap-specs-");
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    const loaded = await new SpecLoader([dir], {
      ...DEFAULT_LOADER_OPTIONS,
      policy,
      policyContext: LEXICAL_CONTEXT,
    }).load();
    const specs = loaded.files.flatMap((f) => specsOf(path.basename(f.file), f.source, f.result.documents));
    return { specs, loaded };
  }
  const writer = specText("writer", { extra: ["mounts: [{ type: bind, source: /srv/x, target: /w }]"] });
  const reader = specText("reader", {
    extra: ["mounts: [{ type: bind, source: /srv/x/d, target: /d, readOnly: true }]"],
  });

  it("refuses both specs of the two-container attack, each naming the other's place", async () => {
    const { specs } = await load({ "a-writer.yaml": writer, "b-reader.yaml": reader });
    const { refused, issues } = crossFileChecks(specs, "baseline", LEXICAL_CONTEXT);
    expect([...refused.keys()].map((s) => s.spec.name).sort()).toEqual(["reader", "writer"]);
    expect(issues.map((i) => formatIssue(i))).toEqual([
      'b-reader.yaml:4:9: spec.mounts: "/srv/x/d" lies inside "/srv/x", which spec "writer" (a-writer.yaml:4:9) mounts ' +
        "writable at /w; whatever can write there can swap that path for a symbolic link (to /etc, say), which the " +
        "engine follows when the container starts again: make the outer mount readOnly, or mount folders that do not " +
        "nest (neither is applied) [policy baseline: bind-inside-writable]",
      'a-writer.yaml:4:9: spec.mounts: writable "/srv/x" holds "/srv/x/d", which spec "reader" (b-reader.yaml:4:9) ' +
        "mounts at /d; whatever can write there can swap that path for a symbolic link (to /etc, say), which the " +
        "engine follows when the container starts again: make the outer mount readOnly, or mount folders that do not " +
        "nest (neither is applied) [policy baseline: bind-inside-writable]",
    ]);
    // Each refused spec carries its own issue.
    for (const [spec, own] of refused) expect(own.map((i) => i.file)).toEqual([spec.file]);
  });

  it("refuses them in whichever order they come", async () => {
    const { specs } = await load({ "a-reader.yaml": reader, "b-writer.yaml": writer });
    expect(
      [...crossFileChecks(specs, "baseline", LEXICAL_CONTEXT).refused.keys()].map((s) => s.spec.name).sort(),
    ).toEqual(["reader", "writer"]);
  });

  it("admits them when the outer mount is read-only, and checks nothing under --policy privileged", async () => {
    const readOnly = specText("writer", {
      extra: ["mounts: [{ type: bind, source: /srv/x, target: /w, readOnly: true }]"],
    });
    const calm = await load({ "a.yaml": readOnly, "b.yaml": reader });
    expect(crossFileChecks(calm.specs, "baseline", LEXICAL_CONTEXT).issues).toEqual([]);
    const { specs } = await load({ "a.yaml": writer, "b.yaml": reader });
    expect(findBindsInsideWritable(specs, "privileged", LEXICAL_CONTEXT).issues).toEqual([]);
  });

  it("makes no bind comparison when it is not told how host paths resolve (berth validate makes its own)", async () => {
    const { specs } = await load({ "a.yaml": writer, "b.yaml": reader });
    expect(crossFileChecks(specs, "baseline").issues).toEqual([]);
  });
});

describe("a container's mounts against the other containers' (before create, before start)", () => {
  const policy = buildPolicy({ allowBind: ["/srv"] });
  const bind = (source: string, rw: boolean, target = "/m"): ObservedMount => ({ type: "bind", source, target, rw });
  const ctx = (others: { by: string; mounts: ObservedMount[] }[]): PolicyContext => ({
    ...LEXICAL_CONTEXT,
    otherMounts: others,
  });

  it("refuses a container whose mount lies inside another's writable mount, and one whose writable mount holds another's", () => {
    const writer = { by: 'container "writer"', mounts: [bind("/srv/x", true, "/w")] };
    const reader = { by: 'container "reader"', mounts: [bind("/srv/x/d", false, "/d")] };
    expect(checkMounts([bind("/srv/x/d", false)], policy, ctx([writer]))).toEqual([
      'bind-inside-writable: "/srv/x/d" lies inside /srv/x, which container "writer" mounts writable',
    ]);
    expect(checkMounts([bind("/srv/x", true)], policy, ctx([reader]))).toEqual([
      'bind-inside-writable: writable "/srv/x" holds /srv/x/d, which container "reader" mounts',
    ]);
    expect(checkMounts([bind("/srv/y", true)], policy, ctx([writer, reader]))).toEqual([]);
  });

  it("counts a volume whose options bind a host path as a bind of that path", () => {
    const volumes = new Map([
      [
        "hostdir",
        { name: "hostdir", driver: "local", labels: {}, options: { type: "none", o: "bind", device: "/srv/x" } },
      ],
    ]);
    const reader = { by: 'container "reader"', mounts: [bind("/srv/x/d", false, "/d")] };
    const mounts: ObservedMount[] = [{ type: "volume", source: "hostdir", target: "/v", rw: true }];
    expect(checkMounts(mounts, policy, { ...ctx([reader]), volumes })).toEqual([
      'bind-inside-writable: writable volume "hostdir" (host path /srv/x) holds /srv/x/d, which container "reader" mounts',
    ]);
  });

  it("reads the same off a create body", () => {
    const body = {
      Image: "i",
      Env: [],
      Labels: {},
      StopTimeout: 10,
      HostConfig: {
        Binds: ["/srv/x/d:/d:ro"],
        NetworkMode: "bridge",
        RestartPolicy: { Name: "no" as const, MaximumRetryCount: 0 as const },
      },
    };
    const writer = { by: 'container "writer"', mounts: [bind("/srv/x", true, "/w")] };
    expect(checkRequest(body, policy, ctx([writer]))).toEqual([
      'bind-inside-writable: "/srv/x/d" lies inside /srv/x, which container "writer" mounts writable',
    ]);
  });
});
