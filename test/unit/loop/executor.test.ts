/** The executor's multi-step operations on the in-memory fake: order of calls, and failure paths. */
import { describe, expect, it } from "vitest";
import { specHash } from "../../../src/core/hash.js";
import { labelKeys } from "../../../src/core/labels.js";
import type { Action } from "../../../src/core/plan/plan.js";
import type { SpecRecord } from "../../../src/loop/desired.js";
import { BerthError } from "../../../src/core/errors.js";
import { ownership } from "../../../src/core/ownership.js";
import { Executor, type ExecutorDeps } from "../../../src/loop/executor.js";
import type { ImageActivity } from "../../../src/core/progress.js";
import { Writable } from "node:stream";
import pino from "pino";
import { Semaphore } from "../../../src/util/semaphore.js";
import { silentLogger } from "../../../src/util/log.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { specText } from "../../support/specs.js";

const KEYS = labelKeys("berth");

function setup(extra: string[] = [], more: Partial<ExecutorDeps> = {}) {
  const clock = new FakeClock();
  const docker = new FakeDocker(() => clock.now());
  const parsed = parseSpecText(specText("web", { extra }), "web.yaml");
  const doc = parsed.documents[0];
  if (!doc) throw new Error(parsed.issues.map((i) => i.message).join("; "));
  const hash = specHash(doc.spec);
  const record: SpecRecord = {
    name: "web",
    spec: doc.spec,
    file: "web.yaml",
    source: "web.yaml",
    hash,
    invalid: [],
    error: null,
  };
  const executor = new Executor({
    docker,
    owner: ownership(KEYS, "test"),
    secrets: { env: {}, readFile: () => Promise.reject(new Error("no files")) },
    clock,
    log: silentLogger(),
    slots: new Semaphore(4),
    network: { resolve: (n) => Promise.resolve(n) },
    healthPollMs: 100,
    ...more,
  });
  const oldId = docker.add({
    name: "web",
    labels: { [KEYS.controller]: "test", [KEYS.spec]: "web", [KEYS.replica]: "0", [KEYS.hash]: "old" },
  });
  const run = async (action: Action): Promise<unknown> => {
    const done = executor.run(action, { record, imagePresent: true }).then(
      () => "ok",
      (err: unknown) => err,
    );
    await clock.advance(20_000); // health polls and waits run on the fake clock
    return done;
  };
  const replace = (strategy: "StartFirst" | "StopFirst"): Action => ({
    kind: "replace",
    spec: "web",
    replica: 0,
    name: "web",
    old: { id: oldId, name: "web" },
    strategy,
    reason: "hash changed",
  });
  return { docker, run, oldId, replace, clock };
}

const writes = (docker: FakeDocker) =>
  docker.writes().map((w) => `${w.operation} ${w.subject.length > 20 ? w.subject.slice(0, 12) : w.subject}`);

describe("Executor", () => {
  it("StartFirst: creates and starts under the temporary name, waits for health, removes the old, renames", async () => {
    const { docker, run, oldId, replace } = setup(['healthcheck: { command: ["true"], interval: 1s }']);
    const outcome = await run(replace("StartFirst"));
    expect(outcome).toBe("ok");
    const newId = docker.byName("web")?.id ?? "";
    expect(writes(docker)).toEqual([
      "create web.next",
      `start ${newId.slice(0, 12)}`,
      `stop ${oldId.slice(0, 12)}`,
      `remove ${oldId.slice(0, 12)}`,
      `rename ${newId.slice(0, 12)}`,
    ]);
    expect(docker.names()).toEqual(["web"]);
  });

  it("StartFirst: a new container that turns unhealthy is removed and the old one keeps running", async () => {
    const { docker, run, oldId, replace } = setup(['healthcheck: { command: ["true"], interval: 1s }']);
    docker.health.set("web.next", "unhealthy");
    const outcome = await run(replace("StartFirst"));
    expect(outcome).toBeInstanceOf(BerthError);
    expect((outcome as BerthError).message).toBe(
      "the new container for web became unhealthy; the old one keeps running. Fix the spec or the image",
    );
    expect((outcome as BerthError).retriable).toBe(true);
    expect((outcome as BerthError).code).toBe("BERTH_START_FAILED");
    expect(docker.names()).toEqual(["web"]);
    expect(docker.byName("web")?.id).toBe(oldId);
    expect(docker.byName("web")?.state).toBe("running");
  });

  it("StartFirst: a new container that crash-loops under its restart policy does not replace the old one", async () => {
    const { docker, run, oldId, replace } = setup();
    const start = docker.startContainer.bind(docker);
    docker.startContainer = async (id: string) => {
      await start(id);
      docker.crash(docker.containers.get(id)?.name ?? "", 3);
    };
    const outcome = await run(replace("StartFirst"));
    expect((outcome as Error).message).toBe(
      "the new container for web exited at once and is restarting under its restart policy (exit code 3); " +
        "the old one keeps running. Fix the spec or the image",
    );
    expect(docker.names()).toEqual(["web"]);
    expect(docker.byName("web")?.id).toBe(oldId);
  });

  it("StartFirst: a new container that exits at once does not replace the old one", async () => {
    const { docker, run, oldId, replace } = setup();
    const start = docker.startContainer.bind(docker);
    docker.startContainer = async (id: string) => {
      await start(id);
      docker.exit(docker.containers.get(id)?.name ?? "", 2);
    };
    const outcome = await run(replace("StartFirst"));
    expect((outcome as Error).message).toBe(
      "the new container for web exited at once (exit code 2); the old one keeps running. Fix the spec or the image",
    );
    expect(docker.names()).toEqual(["web"]);
    expect(docker.byName("web")?.id).toBe(oldId);
  });

  it("StopFirst: stops and removes the old one before creating the new one", async () => {
    const { docker, run, oldId, replace } = setup();
    expect(await run(replace("StopFirst"))).toBe("ok");
    const newId = docker.byName("web")?.id ?? "";
    expect(writes(docker)).toEqual([
      `stop ${oldId.slice(0, 12)}`,
      `remove ${oldId.slice(0, 12)}`,
      "create web",
      `start ${newId.slice(0, 12)}`,
    ]);
  });

  it("removes an expired container at once (no grace period), an orphan after stopping it", async () => {
    const { docker, run, oldId } = setup();
    const other = docker.add({ name: "other", labels: { [KEYS.controller]: "test", [KEYS.spec]: "other" } });
    await run({ kind: "remove", spec: "web", container: { id: oldId, name: "web" }, reason: "expired" });
    await run({ kind: "remove", spec: "other", container: { id: other, name: "other" }, reason: "orphaned" });
    expect(writes(docker)).toEqual([
      `remove ${oldId.slice(0, 12)}`,
      `stop ${other.slice(0, 12)}`,
      `remove ${other.slice(0, 12)}`,
    ]);
  });

  it("treats a container already gone as done", async () => {
    const { docker, run } = setup();
    expect(
      await run({ kind: "remove", spec: "web", container: { id: "f".repeat(64), name: "ghost" }, reason: "orphaned" }),
    ).toBe("ok");
    expect(
      await run({ kind: "start", spec: "web", container: { id: "f".repeat(64), name: "ghost" }, reason: "exited" }),
    ).toBe("ok");
    expect(docker.names()).toEqual(["web"]);
  });

  it("says what to do when the image is missing and cannot be pulled", async () => {
    const { run } = setup();
    const docker2 = setup(["imagePullPolicy: Always"]);
    const outcome = await docker2.run({ kind: "create", spec: "web", replica: 0, name: "web-2", reason: "not found" });
    expect((outcome as Error).message).toMatch(
      /^pulling image berth-test\/busybox:latest failed \(Docker pull berth-test\/busybox:latest: manifest for berth-test\/busybox:latest not found: manifest unknown: manifest unknown\); berth retries with backoff\. If the image exists only on this host, build it there \(docker build -t berth-test\/busybox:latest \.\) or set imagePullPolicy: Never$/,
    );
    expect(await run({ kind: "create", spec: "web", replica: 0, name: "web-3", reason: "not found" })).toBe("ok");
  });

  it("under Always, an unreachable registry says so, not to build an image that is already here", async () => {
    const { docker, run } = setup(["imagePullPolicy: Always"]);
    const image = "berth-test/busybox:latest";
    const refused = `Docker pull ${image}: Get "https://registry-1.docker.io/v2/": dial tcp 127.0.0.1:443: connect: connection refused`;
    docker.fail({ operation: "pull", kind: "server", message: refused });
    const outcome = await run({ kind: "create", spec: "web", replica: 0, name: "web-2", reason: "not found" });
    expect([(outcome as BerthError).code, (outcome as Error).message]).toEqual([
      "BERTH_PULL_FAILED",
      `pulling image ${image} failed (${refused}); berth retries with backoff. The registry docker.io could not be ` +
        "reached: under imagePullPolicy: Always berth pulls before every create, even when the image is on this host " +
        "(IfNotPresent would use the local image)",
    ]);
  });

  it("tells onImage of a pull's start, the engine's messages and its end, and logs start and end at info", async () => {
    const activities: ImageActivity[] = [];
    const logs: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const { docker, run } = setup(["imagePullPolicy: Always"], {
      onImage: (a) => activities.push(a),
      log: pino({ level: "info" }, sink),
    });
    const image = "berth-test/busybox:latest";
    docker.registry.set(image, "sha256:pulled");
    expect(await run({ kind: "create", spec: "web", replica: 0, name: "web-2", reason: "not found" })).toBe("ok");
    expect(activities).toEqual([
      { kind: "started", spec: "web", phase: "pull", image },
      {
        kind: "progress",
        spec: "web",
        event: { phase: "pull", image, status: `Status: Downloaded newer image for ${image}` },
      },
      { kind: "finished", spec: "web", phase: "pull", image, ok: true, durationMs: 0 },
    ]);
    const pulls = logs.filter((l) => String(l.msg).startsWith("image "));
    expect(pulls.map((l) => [l.level, l.msg, l.spec, l.image])).toEqual([
      [30, "image pull started", "web", image],
      [30, "image pulled", "web", image],
    ]);

    // A failed pull ends too, not ok; nothing is logged as pulled.
    docker.registry.clear();
    activities.length = 0;
    expect(await run({ kind: "create", spec: "web", replica: 0, name: "web-3", reason: "not found" })).toBeInstanceOf(
      BerthError,
    );
    expect(activities.map((a) => [a.kind, "ok" in a ? a.ok : null])).toEqual([
      ["started", null],
      ["finished", false],
    ]);
  });
});
