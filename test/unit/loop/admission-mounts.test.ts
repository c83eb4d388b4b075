/**
 * The admission audit where the engine must be asked (issue 14, findings 1, 5 and 7), on the
 * in-memory fake: the create body against the containers as last observed, berth's own start
 * audited again, named volumes made by berth and inspected before and after the create, and stops
 * that always name their timeout and hold no slot.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createInspector } from "../../../src/app.js";
import { buildConfig, buildPolicy, type PolicyOptions } from "../../../src/config.js";
import type { EngineCreateBody } from "../../../src/core/create-request.js";
import { BerthError } from "../../../src/core/errors.js";
import { specHash } from "../../../src/core/hash.js";
import { labelKeys } from "../../../src/core/labels.js";
import type { ObservedVolume } from "../../../src/core/observed.js";
import { ownership } from "../../../src/core/ownership.js";
import type { Action } from "../../../src/core/plan/plan.js";
import { LEXICAL_CONTEXT, type PolicyContext } from "../../../src/core/policy/policy.js";
import type { SpecRecord } from "../../../src/core/record.js";
import { hostPolicyContext } from "../../../src/host/host-paths.js";
import { Admission } from "../../../src/loop/admission.js";
import { Dispatcher } from "../../../src/loop/dispatcher.js";
import { type ActionContext, Executor } from "../../../src/loop/executor.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { OPERATION_BACKOFF } from "../../../src/util/backoff.js";
import { silentLogger } from "../../../src/util/log.js";
import { Semaphore } from "../../../src/util/semaphore.js";
import { FakeClock, settle } from "../../support/fake-clock.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

const KEYS = labelKeys("berth");
const OWNER = ownership(KEYS, "test");

function record(name: string, extra: readonly string[], policy = buildPolicy({ allowBind: ["/srv"] })): SpecRecord {
  const parsed = parseSpecText(specText(name, { extra }), `${name}.yaml`, { ...DEFAULT_PARSE_OPTIONS, policy });
  const doc = parsed.documents[0];
  if (!doc) throw new Error(parsed.issues.map((i) => i.message).join("; "));
  return {
    name,
    spec: doc.spec,
    file: `${name}.yaml`,
    source: `${name}.yaml`,
    hash: specHash(doc.spec),
    invalid: [],
    error: null,
  };
}

function setup(options: { policy?: PolicyOptions; paths?: PolicyContext; slots?: number; docker?: FakeDocker } = {}) {
  const clock = new FakeClock();
  const docker = options.docker ?? new FakeDocker(() => clock.now());
  const policy = buildPolicy(options.policy ?? { allowBind: ["/srv"] });
  const executor = new Executor({
    docker,
    owner: OWNER,
    secrets: { env: {}, readFile: () => Promise.reject(new Error("no files")) },
    clock,
    log: silentLogger(),
    slots: new Semaphore(options.slots ?? 4),
    network: { resolve: (n) => Promise.resolve(n) },
    admission: new Admission(docker, policy, OWNER, options.paths ?? LEXICAL_CONTEXT),
    healthPollMs: 100,
  });
  const observed = () => docker.listContainers({ labels: [OWNER.filter] });
  const run = async (action: Action, rec: SpecRecord | undefined, withObservation = true): Promise<unknown> => {
    const ctx: ActionContext = {
      record: rec,
      imagePresent: true,
      ...(withObservation ? { containers: await observed() } : {}),
    };
    const done = executor.run(action, ctx).then(
      () => "ok",
      (err: unknown) => err,
    );
    await clock.advance(20_000);
    return done;
  };
  /** A container of berth's with these binds, made as another version of berth would have. */
  const existing = async (name: string, binds: string[], state: "running" | "exited" = "running") => {
    const body: EngineCreateBody = {
      Image: "berth-test/busybox:latest",
      Env: [],
      Labels: { [KEYS.controller]: "test", [KEYS.spec]: name, [KEYS.replica]: "0", [KEYS.hash]: "h" },
      StopTimeout: 10,
      HostConfig: {
        Binds: binds,
        NetworkMode: "bridge",
        RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
      },
    };
    const id = await docker.createContainer(name, body);
    if (state === "running") await docker.startContainer(id);
    return id;
  };
  return { docker, clock, run, existing, executor };
}

const create = (spec: string): Action => ({ kind: "create", spec, replica: 0, name: spec, reason: "not found" });

function refusal(outcome: unknown): string {
  expect(outcome).toBeInstanceOf(BerthError);
  expect((outcome as BerthError).code).toBe("BERTH_POLICY");
  return (outcome as BerthError).message;
}

describe("bind-inside-writable just before create: against the containers as last observed", () => {
  it("refuses a writable mount that holds a bind of a container no spec describes any more", async () => {
    const { docker, run, existing } = setup();
    await existing("old-reader", ["/srv/x/d:/d:ro"]);
    const writer = record("writer", ["mounts: [{ type: bind, source: /srv/x, target: /w }]"]);
    const message = refusal(await run(create("writer"), writer));
    expect(message).toBe(
      "refused by the admission policy just before creating writer: bind-inside-writable: " +
        'writable "/srv/x" holds /srv/x/d, which container "old-reader" mounts',
    );
    expect(docker.byName("writer")).toBeUndefined();
  });

  it("refuses a bind inside another container's writable mount, and lists the containers itself when not handed them", async () => {
    const { docker, run, existing } = setup();
    await existing("old-writer", ["/srv/x:/w"]);
    const reader = record("reader", ["mounts: [{ type: bind, source: /srv/x/d, target: /d, readOnly: true }]"]);
    for (const observed of [true, false]) {
      const message = refusal(await run(create("reader"), reader, observed));
      expect(message).toContain(
        'bind-inside-writable: "/srv/x/d" lies inside /srv/x, which container "old-writer" mounts writable',
      );
    }
    expect(docker.count("create")).toBe(1); // old-writer's own
  });

  it("lets StopFirst replace a writable parent by a child (the old container is gone first); StartFirst is refused", async () => {
    for (const strategy of ["StopFirst", "StartFirst"] as const) {
      const { docker, run, existing } = setup();
      const old = await existing("app", ["/srv/x:/w"]);
      const next = record("app", ["mounts: [{ type: bind, source: /srv/x/d, target: /d, readOnly: true }]"]);
      const outcome = await run(
        {
          kind: "replace",
          spec: "app",
          replica: 0,
          name: "app",
          old: { id: old, name: "app" },
          strategy,
          reason: "hash changed",
        },
        next,
      );
      if (strategy === "StopFirst") {
        expect(outcome).toBe("ok");
        expect(docker.byName("app")?.body.HostConfig.Binds).toEqual(["/srv/x/d:/d:ro"]);
      } else {
        // The old container, still running while the new one is made, could swap /srv/x/d.
        expect(refusal(outcome)).toContain('which container "app" mounts writable');
        expect(docker.byName("app")?.id).toBe(old);
      }
    }
  });
});

describe("berth's own start audits the container's mounts again", () => {
  it("refuses, terminally, to start a container whose bind source now resolves to /etc", async () => {
    const root = tempDir("berth-start-");
    mkdirSync(path.join(root, "real"));
    const link = path.join(root, "link");
    symlinkSync(path.join(root, "real"), link);
    const { docker, run, existing } = setup({ policy: { allowBind: [root] }, paths: hostPolicyContext });
    const id = await existing("svc", [`${link}:/data`], "exited");
    rmSync(link);
    symlinkSync("/etc", link);
    const outcome = await run(
      { kind: "start", spec: "svc", container: { id, name: "svc" }, reason: "exited" },
      undefined,
    );
    expect(refusal(outcome)).toBe(
      `refused by the admission policy before starting svc: bind-forbidden: bind mount of ${link}`,
    );
    expect((outcome as BerthError).retriable).toBe(false);
    expect(docker.count("start")).toBe(0);
  });

  it("refuses to start a container whose bind lies inside another container's writable one", async () => {
    const { docker, run, existing } = setup();
    await existing("writer", ["/srv/x:/w"]);
    const id = await existing("reader", ["/srv/x/d:/d:ro"], "exited");
    const outcome = await run(
      { kind: "start", spec: "reader", container: { id, name: "reader" }, reason: "exited" },
      undefined,
    );
    expect(refusal(outcome)).toContain(
      'bind-inside-writable: "/srv/x/d" lies inside /srv/x, which container "writer" mounts writable',
    );
    expect(docker.byName("reader")?.state).toBe("created");
  });

  it("refuses to start a container whose volume now counts as a host path outside the allowed folders", async () => {
    const { docker, run } = setup({ policy: {} });
    docker.volumes.set("data", bindVolume("data", "/secret/dir"));
    const id = await docker.createContainer("svc", {
      Image: "berth-test/busybox:latest",
      Env: [],
      Labels: { [KEYS.controller]: "test", [KEYS.spec]: "svc", [KEYS.replica]: "0", [KEYS.hash]: "h" },
      StopTimeout: 10,
      HostConfig: {
        Mounts: [{ Type: "volume", Source: "data", Target: "/data" }],
        NetworkMode: "bridge",
        RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
      },
    });
    const outcome = await run(
      { kind: "start", spec: "svc", container: { id, name: "svc" }, reason: "never started" },
      undefined,
    );
    expect(refusal(outcome)).toContain('volume-host-path: volume "data" mounts host path /secret/dir');
    expect(docker.count("start")).toBe(0);
  });

  it("starts a container whose mounts are fine", async () => {
    const { docker, run, existing } = setup();
    const id = await existing("ok", ["/srv/y:/y"], "exited");
    expect(await run({ kind: "start", spec: "ok", container: { id, name: "ok" }, reason: "exited" }, undefined)).toBe(
      "ok",
    );
    expect(docker.byName("ok")?.state).toBe("running");
  });
});

const bindVolume = (name: string, device: string, labels: Record<string, string> = {}): ObservedVolume => ({
  name,
  driver: "local",
  labels,
  options: { type: "none", o: "bind", device },
});

describe("named volumes", () => {
  const web = (policy?: PolicyOptions) =>
    record("web", ["mounts: [{ type: volume, source: data, target: /data }]"], buildPolicy(policy ?? {}));

  it("makes a missing volume itself, labelled with the controller and the spec, before the container", async () => {
    const { docker, run } = setup({ policy: { policy: "restricted" } });
    const rec = record(
      "web",
      [
        'user: "1000:1000"',
        "securityContext: { noNewPrivileges: true, capDrop: [ALL] }",
        "mounts: [{ type: volume, source: data, target: /data }]",
      ],
      buildPolicy({ policy: "restricted" }),
    );
    expect(await run(create("web"), rec)).toBe("ok");
    const writes = docker.calls.filter((c) => ["volume-create", "create", "start"].includes(c.operation));
    expect(writes.map((w) => w.operation)).toEqual(["volume-create", "create", "start"]);
    expect(docker.volumes.get("data")?.labels).toEqual({ "berth.controller": "test", "berth.spec": "web" });
  });

  it("baseline refuses a volume whose options bind a host path outside --allow-bind, before creating anything", async () => {
    const { docker, run } = setup({ policy: {} });
    docker.volumes.set("data", bindVolume("data", "/secret/dir"));
    expect(refusal(await run(create("web"), web()))).toBe(
      "refused by the admission policy just before creating web: volume-host-path: " +
        'volume "data" mounts host path /secret/dir, outside the allowed host folders (--allow-bind)',
    );
    expect(docker.writes()).toEqual([]);
  });

  it("baseline refuses a volume that binds a forbidden path even when --allow-bind / allows the rest", async () => {
    const { docker, run } = setup({ policy: { allowBind: ["/"] } });
    docker.volumes.set("data", bindVolume("data", "/etc"));
    expect(refusal(await run(create("web"), web({ allowBind: ["/"] })))).toContain(
      'volume-host-path: volume "data" mounts host path /etc, which is or holds a path never mounted',
    );
  });

  it("restricted refuses a volume someone else made unless --allow-volume names it, and a bind volume always", async () => {
    const restricted = [
      'user: "1000:1000"',
      "securityContext: { noNewPrivileges: true, capDrop: [ALL] }",
      "mounts: [{ type: volume, source: data, target: /data }]",
    ];
    const rec = record("web", restricted, buildPolicy({ policy: "restricted" }));
    const plain: ObservedVolume = { name: "data", driver: "local", labels: {}, options: {} };

    const strict = setup({ policy: { policy: "restricted" } });
    strict.docker.volumes.set("data", plain);
    expect(refusal(await strict.run(create("web"), rec))).toContain(
      'volume-origin: volume "data" exists and was not made by berth for this spec; allow it with --allow-volume data',
    );

    const allowed = setup({ policy: { policy: "restricted", allowVolume: ["da*"] } });
    allowed.docker.volumes.set("data", plain);
    expect(await allowed.run(create("web"), rec)).toBe("ok");

    // Labels can be forged; a host path cannot hide: a bind volume is a bind mount.
    const forged = setup({ policy: { policy: "restricted", allowVolume: ["data"] } });
    forged.docker.volumes.set(
      "data",
      bindVolume("data", "/srv/x", { "berth.controller": "test", "berth.spec": "web" }),
    );
    expect(refusal(await forged.run(create("web"), rec))).toContain(
      'volume-mounts-only: volume "data" mounts host path /srv/x',
    );
  });

  it("inspects the volume again once the container holds it: one made between the audit and the create is caught", async () => {
    class Racing extends FakeDocker {
      inspected = 0;
      override async inspectVolume(name: string): Promise<ObservedVolume | null> {
        const found = await super.inspectVolume(name);
        // Right after berth's audit looked, someone makes the volume, binding a secret folder.
        if (++this.inspected === 1) this.volumes.set(name, bindVolume(name, "/secret/dir"));
        return found;
      }
    }
    const clock = new FakeClock();
    const racing = new Racing(() => clock.now());
    const { run } = setup({ policy: {}, docker: racing });
    const message = refusal(await run(create("web"), web()));
    expect(message).toBe(
      "refused by the admission policy once web was created (it was removed unstarted): volume-host-path: " +
        'volume "data" mounts host path /secret/dir, outside the allowed host folders (--allow-bind)',
    );
    expect(racing.names()).toEqual([]);
    expect(racing.count("start")).toBe(0);
  });

  it("says so in the status of a one-shot look (berth status, plan) when an existing volume would be refused", async () => {
    const dir = tempDir("berth-volstatus-");
    writeFileSync(
      path.join(dir, "web.yaml"),
      specText("web", { extra: ["mounts: [{ type: volume, source: data, target: /data }]"] }),
    );
    const clock = new FakeClock();
    const docker = new FakeDocker(() => clock.now());
    docker.volumes.set("data", bindVolume("data", "/secret/dir"));
    const inspector = createInspector(buildConfig({ specs: [dir], id: "test" }), {
      log: silentLogger(),
      docker: { port: docker },
      clock,
    });
    const pass = await inspector.reconciler.pass({ reload: true });
    const status = pass.report.specs.find((s) => s.name === "web");
    expect(status?.phase).toBe("Failed");
    expect(status?.message).toBe(
      "the admission policy would refuse its create: volume-host-path: " +
        'volume "data" mounts host path /secret/dir, outside the allowed host folders (--allow-bind)',
    );
    docker.volumes.delete("data");
    const fine = await inspector.reconciler.pass({ reload: false });
    expect(fine.report.specs.find((s) => s.name === "web")?.phase).toBe("Pending");
  });
});

describe("what the dispatcher hands the audit", () => {
  it("the containers as observed, without those the spec's own earlier actions removed", async () => {
    const clock = new FakeClock();
    const docker = new FakeDocker(() => clock.now());
    const { existing } = setup({ docker });
    const old = await existing("app", ["/srv/x:/w"]);
    await existing("other", []);
    const seen: string[][] = [];
    const dispatcher = new Dispatcher({
      executor: {
        run: (_action, ctx) => {
          seen.push((ctx.containers ?? []).map((c) => c.name));
          return Promise.resolve();
        },
      },
      clock,
      log: silentLogger(),
      backoff: OPERATION_BACKOFF,
    });
    const observedAt = dispatcher.epoch();
    // The spec's actions are done when it settles (drain() would stop after the first batch).
    const settled = new Promise<void>((resolve) => {
      dispatcher.onSettled(() => {
        resolve();
      });
    });
    dispatcher.dispatch({
      plan: {
        actions: [
          { kind: "remove", spec: "app", container: { id: old, name: "app" }, reason: "duplicate" },
          create("app"),
        ],
        notes: [],
        nextWakeAt: null,
      },
      records: new Map([["app", record("app", [])]]),
      observed: {
        containers: await docker.listContainers({ labels: [OWNER.filter] }),
        imageIds: new Map(),
        foreignNames: new Map(),
      },
      observedAt,
    });
    await settled;
    expect(seen).toEqual([["app", "other"], ["other"]]);
  });
});

describe("stops: an explicit timeout always, and no slot held while waiting", () => {
  it("gives every stop the spec's stopTimeout, and an orphan Docker's default 10s", async () => {
    const { docker, run, existing } = setup();
    const a = await existing("a", []);
    const b = await existing("b", []);
    const c = await existing("c", []);
    const slow = record("a", ["stopTimeout: 5m"]);
    expect(await run({ kind: "stop", spec: "a", container: { id: a, name: "a" }, reason: "suspended" }, slow)).toBe(
      "ok",
    );
    expect(await run({ kind: "remove", spec: "b", container: { id: b, name: "b" }, reason: "scaled down" }, slow)).toBe(
      "ok",
    );
    expect(
      await run({ kind: "remove", spec: "c", container: { id: c, name: "c" }, reason: "orphaned" }, undefined),
    ).toBe("ok");
    expect(docker.stops.map((s) => [s.id, s.timeoutSeconds])).toEqual([
      [a, 300],
      [b, 300],
      [c, 10],
    ]);
  });

  it("with one slot, creates another spec while a stop waits out its timeout", async () => {
    const { docker, clock, executor, existing } = setup({ slots: 1 });
    const stubborn = await existing("stubborn", []);
    let release: () => void = () => undefined;
    const stopWaits = new Promise<void>((resolve) => (release = resolve));
    docker.latency = (operation) => (operation === "stop" ? stopWaits : Promise.resolve());
    const slow = record("stubborn", ["stopTimeout: 10m"]);
    const removing = executor.run(
      { kind: "remove", spec: "stubborn", container: { id: stubborn, name: "stubborn" }, reason: "scaled down" },
      { record: slow, imagePresent: true, containers: [] },
    );
    await settle();
    const other = record("other", []);
    const creating = executor.run(create("other"), { record: other, imagePresent: true, containers: [] });
    await clock.advance(1000);
    await creating; // would wait for the stop if the stop held the only slot
    expect(docker.byName("other")?.state).toBe("running");
    expect(docker.byName("stubborn")).toBeDefined();
    release();
    await removing;
    expect(docker.byName("stubborn")).toBeUndefined();
  });
});
