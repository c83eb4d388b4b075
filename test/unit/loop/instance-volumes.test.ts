/**
 * Per-instance volumes through the executor, on the in-memory fake of the Docker port: made
 * labelled before the container and mounted under `<container>-<source>`, kept across a
 * replacement, never adopted when someone else's volume holds the name, and removed only when no
 * container uses it (a 409 is "later", retried with backoff). Also the pure parts: the create
 * body's volume name and the hash.
 */
import { afterEach, describe, expect, it } from "vitest";
import { buildCreateBody } from "../../../src/core/create-request.js";
import { BerthError } from "../../../src/core/errors.js";
import { specHash } from "../../../src/core/hash.js";
import { labelKeys } from "../../../src/core/labels.js";
import { ownership } from "../../../src/core/ownership.js";
import type { Action } from "../../../src/core/plan/plan.js";
import type { SpecRecord } from "../../../src/core/record.js";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { Executor } from "../../../src/loop/executor.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { silentLogger } from "../../../src/util/log.js";
import { Semaphore } from "../../../src/util/semaphore.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

const KEYS = labelKeys("berth");
const OWNER = ownership(KEYS, "test");
const PER_INSTANCE = "  - { type: volume, source: data, target: /data, perInstance: true }";

function parse(extra: string[], replicas?: number): NormalizedSpec {
  const parsed = parseSpecText(specText("web", { extra, ...(replicas !== undefined ? { replicas } : {}) }), "web.yaml");
  const doc = parsed.documents[0];
  if (!doc) throw new Error(parsed.issues.map((i) => i.message).join("; "));
  return doc.spec;
}

function setup(extra: string[] = ["mounts:", PER_INSTANCE]) {
  const clock = new FakeClock();
  const docker = new FakeDocker(() => clock.now());
  const spec = parse(extra);
  const record: SpecRecord = {
    name: "web",
    spec,
    file: "web.yaml",
    source: "web.yaml",
    hash: specHash(spec),
    invalid: [],
    error: null,
  };
  const executor = new Executor({
    docker,
    owner: OWNER,
    secrets: { env: {}, readFile: () => Promise.reject(new Error("no files")) },
    clock,
    log: silentLogger(),
    slots: new Semaphore(4),
    network: { resolve: (n) => Promise.resolve(n) },
  });
  const run = async (action: Action): Promise<unknown> => {
    const done = executor.run(action, { record, imagePresent: true }).then(
      () => "ok",
      (err: unknown) => err,
    );
    await clock.advance(20_000);
    return done;
  };
  return { docker, run };
}

const create: Action = { kind: "create", spec: "web", replica: 0, name: "web", reason: "not found" };
const removeVolume: Action = { kind: "reclaim-volume", spec: "web", volume: "web-data", reason: "deleted" };

describe("per-instance volumes: the create body and the hash", () => {
  const body = (spec: NormalizedSpec, replica: number) =>
    buildCreateBody(spec, {
      owner: OWNER,
      replica,
      hash: "h",
      source: "web.yaml",
      secretValues: {},
      network: "bridge",
    });

  it("names each replica's volume after its final container name; a shared volume keeps its name", () => {
    const spec = parse(["mounts:", PER_INSTANCE, "  - { type: volume, source: cache, target: /cache }"], 2);
    expect(body(spec, 1).HostConfig.Mounts).toEqual([
      { Type: "volume", Source: "cache", Target: "/cache" },
      { Type: "volume", Source: "web-1-data", Target: "/data" },
    ]);
    expect(body(parse(["mounts:", PER_INSTANCE]), 0).HostConfig.Mounts).toEqual([
      { Type: "volume", Source: "web-data", Target: "/data" },
    ]);
  });

  it("perInstance enters the hash; perInstance: false and reclaimPolicy do not change it", () => {
    const shared = specHash(parse(["mounts:", "  - { type: volume, source: data, target: /data }"]));
    const off = specHash(parse(["mounts:", "  - { type: volume, source: data, target: /data, perInstance: false }"]));
    const own = specHash(parse(["mounts:", PER_INSTANCE]));
    const retain = specHash(
      parse(["mounts:", "  - { type: volume, source: data, target: /data, perInstance: true, reclaimPolicy: Retain }"]),
    );
    expect(off).toBe(shared);
    expect(own).not.toBe(shared);
    expect(retain).toBe(own);
  });

  it("a spec with a per-instance volume is replaced StopFirst, whatever it asks", () => {
    expect(parse(["updateStrategy: StartFirst", "mounts:", PER_INSTANCE]).updateStrategy).toBe("StopFirst");
    expect(parse(["mounts:", "  - { type: volume, source: data, target: /data }"]).updateStrategy).toBe("StartFirst");
  });
});

describe("per-instance volumes: the executor", () => {
  it("makes the volume, labelled, before the container, and mounts it", async () => {
    const { docker, run } = setup();
    expect(await run(create)).toBe("ok");
    expect(docker.volumes.get("web-data")?.labels).toEqual({
      [KEYS.controller]: "test",
      [KEYS.spec]: "web",
      [KEYS.replica]: "0",
      [KEYS.source]: "web.yaml",
      [KEYS.instanceVolume]: "data",
      [KEYS.reclaimPolicy]: "Delete",
    });
    const ops = docker.calls.map((c) => c.operation).filter((op) => op === "volume-create" || op === "create");
    expect(ops).toEqual(["volume-create", "create"]);
    expect(docker.byName("web")?.body.HostConfig.Mounts).toEqual([
      { Type: "volume", Source: "web-data", Target: "/data" },
    ]);
  });

  it("a replacement mounts the same volume and makes none", async () => {
    const { docker, run } = setup();
    await run(create);
    const old = docker.byName("web");
    const before = docker.calls.filter((c) => c.operation === "volume-create").length;
    const replace: Action = {
      kind: "replace",
      spec: "web",
      replica: 0,
      name: "web",
      old: { id: old?.id ?? "", name: "web" },
      strategy: "StopFirst",
      reason: "hash changed",
    };
    expect(await run(replace)).toBe("ok");
    expect(docker.byName("web")?.id).not.toBe(old?.id);
    expect(docker.byName("web")?.body.HostConfig.Mounts).toEqual([
      { Type: "volume", Source: "web-data", Target: "/data" },
    ]);
    expect(docker.calls.filter((c) => c.operation === "volume-create").length).toBe(before);
  });

  it("never adopts a volume of that name that berth did not make for this mount", async () => {
    const { docker, run } = setup();
    docker.volumes.set("web-data", { name: "web-data", driver: "local", labels: {}, options: {} });
    const outcome = await run(create);
    expect(outcome).toBeInstanceOf(BerthError);
    expect((outcome as BerthError).code).toBe("BERTH_VOLUME_CONFLICT");
    expect((outcome as BerthError).message).toContain("docker volume rm web-data");
    expect(docker.byName("web")).toBeUndefined();
    expect(docker.volumes.get("web-data")?.labels).toEqual({});
  });

  it("removes a volume only when no container uses it: a 409 is retried later; an absent one is done", async () => {
    const { docker, run } = setup();
    await run(create);
    const inUse = await run(removeVolume);
    expect(inUse).toBeInstanceOf(BerthError);
    expect((inUse as BerthError).code).toBe("BERTH_VOLUME_IN_USE");
    expect((inUse as BerthError).retriable).toBe(true);
    expect(docker.volumes.has("web-data")).toBe(true);

    const c = docker.byName("web");
    await run({ kind: "remove", spec: "web", container: { id: c?.id ?? "", name: "web" }, reason: "deleted" });
    expect(await run(removeVolume)).toBe("ok");
    expect(docker.volumes.has("web-data")).toBe(false);
    expect(await run(removeVolume)).toBe("ok");
  });
});

describe("per-instance volumes: the loop", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it("reclaims an orphaned instance's volume once a container berth does not see stops using it", async () => {
    h = await harness({
      "keep.yaml": specText("keep"),
      "db.yaml": specText("db", { extra: ["mounts:", PER_INSTANCE] }),
    });
    await h.start();
    expect(h.docker.volumes.get("db-data")?.labels[KEYS.instanceVolume]).toBe("data");
    // Another tool's container mounts the volume: the list call for berth's containers does not show it.
    const strangerId = h.docker.add({ name: "stranger" });
    const stranger = h.docker.containers.get(strangerId);
    if (!stranger) throw new Error("no stranger");
    stranger.body = {
      ...stranger.body,
      HostConfig: { ...stranger.body.HostConfig, Mounts: [{ Type: "volume", Source: "db-data", Target: "/data" }] },
    };

    h.remove("db.yaml");
    await h.changed();
    await h.clock.advance(500);
    expect(h.docker.byName("db")).toBeUndefined();
    expect(h.docker.volumes.has("db-data")).toBe(true);
    const refused = h.docker.calls.filter((c) => c.operation === "volume-remove" && c.subject === "db-data");
    expect(refused.length).toBeGreaterThanOrEqual(1);

    h.docker.kill("stranger");
    await h.clock.advance(5_000);
    expect(h.docker.volumes.has("db-data")).toBe(false);
    expect(h.docker.byName("keep")?.state).toBe("running");
  });
});
