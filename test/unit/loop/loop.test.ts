/**
 * The loop on an in-memory Docker fake with a fake clock: backoff, a newer spec version never
 * blocked behind an older one's retries, convergence on resync when events are lost, the
 * concurrency bound and per-spec serialization, terminal errors, expiry wake-ups, last-known-good.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backoffDelay, OPERATION_BACKOFF as DEFAULT_BACKOFF, RECONNECT_BACKOFF } from "../../../src/util/backoff.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("backoff", () => {
  it("doubles from 1 s to a 5 min cap, with ±25 % jitter", () => {
    const exact = { ...DEFAULT_BACKOFF, random: () => 0.5 };
    expect([1, 2, 3, 4, 5, 9, 10, 20].map((n) => backoffDelay(n, exact))).toEqual([
      1000, 2000, 4000, 8000, 16000, 256000, 300000, 300000,
    ]);
    expect(backoffDelay(1, { ...DEFAULT_BACKOFF, random: () => 0 })).toBe(750);
    expect(backoffDelay(1, { ...DEFAULT_BACKOFF, random: () => 0.999999 })).toBe(1250);
    expect(backoffDelay(20, { ...DEFAULT_BACKOFF, random: () => 0.999999 })).toBe(300000);
  });

  it("reconnects to the engine after 1 s, 2 s, 4 s … up to 30 s, without jitter", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, RECONNECT_BACKOFF))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it("retries a failing create at 1 s, 2 s, 4 s, 8 s … after each failure", async () => {
    h = await harness({ "web.yaml": specText("web") });
    h.docker.fail({ operation: "create", times: 5, message: "Docker create: engine hiccup" });
    await h.start();
    await h.clock.advance(40_000);
    const creates = h.docker.calls.filter((c) => c.operation === "create").map((c) => c.at);
    expect(creates).toHaveLength(6);
    const gaps = creates.slice(1).map((t, i) => t - (creates[i] as number));
    // Each gap is the backoff delay (exact with jitter fixed at its middle), plus the pass's coalescing.
    expect(gaps.map((g) => Math.round(g / 1000))).toEqual([1, 2, 4, 8, 16]);
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.status("web")?.phase).toBe("Running");
  });

  it("shows a backed-off spec as Failed with its error and retry time", async () => {
    h = await harness({ "web.yaml": specText("web") });
    h.docker.fail({ operation: "create", times: 100, message: "Docker create: engine hiccup" });
    await h.start();
    await h.clock.advance(100);
    const status = h.status("web");
    expect(status?.phase).toBe("Failed");
    expect(status?.message).toMatch(/^Docker create: engine hiccup \(retrying at 2026-11-23T12:00:01/);
    expect(status?.lastAction).toMatchObject({ kind: "create", reason: "not found", ok: false });
  });
});

describe("an engine outage is not the specs' fault", () => {
  it("retries a backed-off spec at once when the engine answers again, not at its backoff time", async () => {
    h = await harness({ "web.yaml": specText("web") });
    h.docker.fail({ operation: "create", times: 5 });
    await h.start();
    await h.clock.advance(20_000); // five failures: the next retry is far away
    const retryAt = h.app.dispatcher.progressOf("web")?.retryAt ?? 0;
    expect(retryAt).toBeGreaterThan(h.clock.now() + 10_000);
    expect(h.docker.count("create")).toBe(5);
    // The engine goes away for a pass, then answers again.
    h.docker.fail({ operation: "list", kind: "unavailable", times: 1 });
    h.app.controller.requestPass(false, 0);
    await h.clock.advance(1500);
    expect(h.clock.now()).toBeLessThan(retryAt);
    expect(h.docker.count("create")).toBe(6);
    expect(h.docker.byName("web")?.state).toBe("running");
  });
});

describe("a newer spec version is never blocked behind an older one's retries", () => {
  it("acts on the new version at once, whatever the old one's backoff", async () => {
    h = await harness({ "web.yaml": specText("web", { extra: ["env: { V: '1' }"] }) });
    h.docker.fail({ operation: "create", times: 6 });
    await h.start();
    await h.clock.advance(20_000); // five failures: the next retry is 32 s away
    const before = h.docker.count("create");
    expect(before).toBe(5);
    expect(h.app.dispatcher.progressOf("web")?.retryAt).toBeGreaterThan(h.clock.now() + 10_000);
    h.write("web.yaml", specText("web", { extra: ["env: { V: '2' }"] }));
    await h.changed();
    expect(h.docker.count("create")).toBe(before + 1); // tried at once: the 6th failure
    h.write("web.yaml", specText("web", { extra: ["env: { V: '3' }"] }));
    await h.changed();
    expect(h.docker.byName("web")?.body.Env).toEqual(["V=3"]);
  });
});

describe("lost events cost at most one resync", () => {
  it("does not notice a removed container without its event, and converges on the next resync", async () => {
    h = await harness({ "web.yaml": specText("web") });
    await h.start();
    const first = h.docker.byName("web")?.id;
    h.docker.dropEvents = true;
    h.docker.kill("web");
    await h.clock.advance(5_000);
    expect(h.docker.byName("web")).toBeUndefined();
    h.resync();
    await h.clock.advance(50);
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.docker.byName("web")?.id).not.toBe(first);
  });

  it("re-lists when the events stream reconnects after being cut", async () => {
    h = await harness({ "web.yaml": specText("web") });
    await h.start();
    const passes = h.passes.length;
    h.docker.cutEvents();
    await h.clock.advance(100);
    expect(h.passes.length).toBe(passes + 1); // it looks at once when the stream drops
    h.docker.kill("web"); // while disconnected: no event reaches berth
    await h.clock.advance(500);
    expect(h.docker.byName("web")).toBeUndefined();
    await h.clock.advance(1000); // reconnect after 1 s, then a pass
    expect(h.docker.byName("web")?.state).toBe("running");
  });

  it("recreates a removed container and restarts a stopped one from their events", async () => {
    h = await harness({ "web.yaml": specText("web"), "api.yaml": specText("api") });
    await h.start();
    h.docker.kill("web");
    h.docker.exit("api", 137);
    await h.clock.advance(100);
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.docker.byName("api")?.state).toBe("running");
  });
});

describe("concurrency", () => {
  it("never runs more than --concurrency Docker calls; a spec's creates run side by side, at most its replicas", async () => {
    const clock = new FakeClock();
    const docker = new FakeDocker(() => clock.now());
    docker.latency = () => new Promise((resolve) => clock.at(clock.now() + 100, resolve));
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) files[`s${i}.yaml`] = specText(`s${i}`, { replicas: 3 });
    h = await harness(files, { raw: { concurrency: "4" }, clock, docker });
    await h.start();
    await clock.until(
      () => docker.names().length === 36 && [...docker.containers.values()].every((c) => c.state === "running"),
      60_000,
    );
    expect(docker.names()).toHaveLength(36);
    expect(docker.maxInFlight).toBe(4);
    // The three creates of one spec's operation overlap; no second operation adds to them.
    expect(docker.maxInFlightPerSubject).toBe(3);
  });

  it("lets other specs proceed while one spec's operation hangs", async () => {
    h = await harness({ "a.yaml": specText("a"), "b.yaml": specText("b"), "c.yaml": specText("c") });
    // Only b's start hangs: its container is created, then the start waits until released.
    const release = h.docker.hold(["start"], { spec: "b" });
    try {
      await h.start();
      await h.clock.advance(1000);
      const b = h.docker.byName("b");
      expect(h.docker.held).toEqual([expect.objectContaining({ operation: "start", subject: b?.id })]);
      expect(b?.state).toBe("created");
      expect(h.app.dispatcher.isBusy("b")).toBe(true);
      // Meanwhile a and c converged, and a pass after their settle says so.
      for (const name of ["a", "c"]) {
        expect(h.docker.byName(name)?.state).toBe("running");
        expect(h.app.dispatcher.isBusy(name)).toBe(false);
        expect(h.status(name)?.phase).toBe("Running");
      }
      expect(h.app.dispatcher.busyCount).toBe(1);
      expect(h.status("b")?.phase).toBe("Pending");
      // A pass while b hangs does not start a second operation for it.
      const creates = h.docker.count("create");
      await h.changed();
      expect(h.passes.at(-1)?.waiting).toEqual([expect.objectContaining({ spec: "b", why: "busy" })]);
      expect(h.docker.count("create")).toBe(creates);
    } finally {
      release();
    }
    await h.clock.advance(100);
    expect(h.docker.held).toEqual([]);
    expect(h.docker.byName("b")?.state).toBe("running");
    expect(h.docker.names()).toEqual(["a", "b", "c"]);
    expect(h.app.dispatcher.busyCount).toBe(0);
    expect(h.status("b")?.phase).toBe("Running");
    expect(h.docker.count("create")).toBe(3);
  });
});

describe("terminal errors", () => {
  it("reports a name held by a container berth does not own as Conflict, leaves it, and creates once it is gone", async () => {
    const docker = new FakeDocker();
    const foreign = docker.add({ name: "web", labels: { owner: "someone-else" } });
    h = await harness({ "web.yaml": specText("web") }, { docker, clock: new FakeClock() });
    await h.start();
    await h.clock.advance(60_000);
    // Seen in the observation, before any create is tried.
    expect(h.docker.count("create")).toBe(0);
    expect(h.status("web")?.phase).toBe("Conflict");
    expect(h.status("web")?.message).toContain("which berth does not own");
    expect(h.docker.containers.get(foreign)?.state).toBe("running");
    h.docker.kill("web");
    h.resync();
    await h.clock.advance(100);
    expect(h.docker.byName("web")?.labels["berth.controller"]).toBe("test");
    expect(h.status("web")?.phase).toBe("Running");
  });

  it("treats a 409 on create (the name taken between observing and creating) as a conflict, not retried", async () => {
    h = await harness({ "web.yaml": specText("web") });
    const release = h.docker.hold(["create"]);
    await h.start();
    h.docker.add({ name: "web", labels: { owner: "someone-else" } }); // lands before berth's create
    release();
    await h.clock.advance(60_000);
    expect(h.docker.count("create")).toBe(1);
    expect(h.app.dispatcher.progressOf("web")?.terminal?.phase).toBe("Conflict");
    expect(h.status("web")?.phase).toBe("Conflict");
  });

  it("does not retry an image missing under imagePullPolicy Never until the image appears", async () => {
    h = await harness({ "web.yaml": specText("web", { image: "local/only:1", extra: ["imagePullPolicy: Never"] }) });
    await h.start();
    await h.clock.advance(60_000);
    expect(h.docker.count("create")).toBe(0);
    expect(h.docker.count("pull")).toBe(0);
    expect(h.status("web")?.phase).toBe("Failed");
    expect(h.status("web")?.message).toContain(
      "image local/only:1 is not present on this host and imagePullPolicy is Never",
    );
    h.docker.images.set("local/only:1", "sha256:" + "2".repeat(64));
    h.resync();
    await h.clock.advance(100);
    expect(h.docker.byName("web")?.state).toBe("running");
  });
});

describe("a container whose start keeps failing", () => {
  it("is replaced after three failed starts (the engine's state for it is broken)", async () => {
    h = await harness({ "web.yaml": specText("web") });
    await h.start();
    const broken = h.docker.byName("web")?.id ?? "";
    h.docker.fail({
      operation: "start",
      subject: broken,
      times: 1000,
      message: "Docker start: failed to start shim: file exists",
    });
    h.docker.exit("web", 137);
    const from = h.docker.calls.length;
    await h.clock.advance(30_000);
    expect(h.docker.calls.slice(from).filter((c) => c.operation === "start" && c.subject === broken)).toHaveLength(3);
    const now = h.docker.byName("web");
    expect(now?.id).not.toBe(broken);
    expect(now?.state).toBe("running");
    expect(h.status("web")?.phase).toBe("Running");
  });
});

describe("expiry", () => {
  it("wakes at the expiry and removes the container, and never recreates it", async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
    h = await harness({ "agent.yaml": specText("agent", { extra: ['expiresAt: "2026-11-23T12:00:03Z"'] }) }, { clock });
    await h.start();
    expect(h.docker.byName("agent")?.state).toBe("running");
    await clock.advance(2_900);
    expect(h.docker.byName("agent")).toBeDefined();
    await clock.advance(150);
    expect(h.docker.byName("agent")).toBeUndefined();
    const removedAt = h.docker.calls.find((c) => c.operation === "remove")?.at ?? 0;
    expect(removedAt - Date.UTC(2026, 10, 23, 12, 0, 3)).toBeLessThan(100);
    h.resync();
    await clock.advance(60_000);
    expect(h.docker.byName("agent")).toBeUndefined();
    expect(h.status("agent")?.phase).toBe("Expired");
    // It wants nothing any more: 0 of 0, not 0 of 1.
    expect(h.status("agent")?.replicas).toMatchObject({ desired: 0, ready: 0 });
  });
});

describe("last-known-good", () => {
  it("keeps a broken file's last good version running, marks it Invalid, and converges when fixed", async () => {
    h = await harness({ "web.yaml": specText("web", { extra: ["env: { V: '1' }"] }) });
    await h.start();
    const id = h.docker.byName("web")?.id;
    h.write("web.yaml", "apiVersion: berth/v1\nkind: Container\nmetadata:\n  name: web\nspec:\n  image: [unclosed\n");
    await h.changed();
    expect(h.docker.byName("web")?.id).toBe(id);
    expect(h.status("web")?.phase).toBe("Invalid");
    expect(h.status("web")?.message).toContain("(its last good version stays in force)");
    h.write("web.yaml", specText("web", { extra: ["env: { V: '2' }"] }));
    await h.changed();
    expect(h.docker.byName("web")?.body.Env).toEqual(["V=2"]);
    expect(h.status("web")?.phase).toBe("Running");
  });

  it("holds a spec whose name a broken file declares too: kept as it runs, not changed, until one goes", async () => {
    h = await harness({ "a.yaml": specText("web", { extra: ["env: { V: '1' }"] }) });
    await h.start();
    const id = h.docker.byName("web")?.id;
    h.write("b.yaml", specText("web", { extra: ["hostPort: 80"] }));
    h.write("a.yaml", specText("web", { extra: ["env: { V: '2' }"] }));
    await h.changed();
    await h.clock.advance(1000);
    expect(h.docker.byName("web")?.id).toBe(id);
    expect(h.docker.byName("web")?.body.Env).toEqual(["V=1"]);
    expect(h.status("web")?.message).toContain("which has errors; names must be unique across all spec files");
    h.remove("b.yaml");
    await h.changed();
    await h.clock.advance(1000);
    expect(h.docker.byName("web")?.body.Env).toEqual(["V=2"]);
  });

  it("never prunes the containers of a file that is broken when berth starts", async () => {
    const docker = new FakeDocker();
    docker.add({
      name: "web",
      labels: {
        "berth.controller": "test",
        "berth.spec": "web",
        "berth.replica": "0",
        "berth.hash": "x",
        "berth.source": "web.yaml",
      },
    });
    h = await harness(
      { "web.yaml": "this: is: broken\n", "other.yaml": specText("other") },
      { docker, clock: new FakeClock() },
    );
    await h.start();
    await h.clock.advance(1000);
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.docker.writes().filter((w) => w.operation === "remove")).toEqual([]);
  });
});

describe("a broken file whose names cannot be read", () => {
  const broken = "apiVersion: berth/v1\nkind: Container\nmetadata:\n  name: web\nspec: [\n";

  // Specs enough that two orphans stay under the prune's share limit (a guard of its own).
  const others = Object.fromEntries(["a", "b", "c", "d"].map((n) => [`${n}.yaml`, specText(n)]));

  it("renamed while broken, keeps the container its old name ran; fixed, converges; then prunes again", async () => {
    h = await harness({ "web.yaml": specText("web"), "api.yaml": specText("api"), ...others });
    await h.start();
    const id = h.docker.byName("web")?.id;
    h.write("web.yaml", broken);
    await h.changed();
    // Broken in place: its spec shows the problem (Invalid), so the report's errors need not.
    expect(h.status("web")?.phase).toBe("Invalid");
    expect(h.passes.at(-1)?.report.errors).toBeUndefined();
    // Renamed while broken: the old path is gone, the new one names nothing berth can read.
    h.remove("web.yaml");
    h.write("web-moved.yaml", broken);
    // And a spec deleted meanwhile: kept too, while the broken file may be declaring it.
    h.remove("api.yaml");
    await h.changed();
    await h.clock.advance(1000);
    expect(h.docker.byName("web")?.id).toBe(id);
    expect(h.docker.byName("api")?.state).toBe("running");
    expect(h.docker.writes().filter((w) => w.operation === "remove")).toEqual([]);
    expect(h.passes.at(-1)?.plan.notes.map((n) => n.kind)).toContain("prune-paused");
    expect(JSON.stringify(h.passes.at(-1)?.plan.notes)).toContain(
      "web-moved.yaml cannot be read for the names of its specs",
    );
    // No spec shows the moved file's problem: the report says it on its own.
    const errors = h.passes.at(-1)?.report.errors ?? [];
    expect(errors.map((e) => [path.basename(e.file), e.code, e.line])).toEqual([
      ["web-moved.yaml", "BERTH_YAML_SYNTAX", 5],
    ]);

    h.write("web-moved.yaml", specText("web"));
    await h.changed();
    await h.clock.advance(1000);
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.docker.byName("api")).toBeUndefined();
  });

  it("a schema error with the name readable leaves the prune on: only that spec is kept", async () => {
    h = await harness({ "web.yaml": specText("web"), "api.yaml": specText("api"), ...others });
    await h.start();
    h.write("web.yaml", specText("web", { extra: ["initx: true"] }));
    h.remove("api.yaml");
    await h.changed();
    await h.clock.advance(1000);
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.docker.byName("api")).toBeUndefined();
  });
});

describe("passes while operations run", () => {
  /** 12 specs at concurrency 2, every write taking 100 ms of the fake clock, as on a real engine. */
  const converge = async (busyCoalesceMs: number): Promise<{ passes: number; lists: number; doneAt: number }> => {
    const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`s${i}.yaml`, specText(`s${i}`)]));
    const clock = new FakeClock();
    const docker = new FakeDocker(() => clock.now());
    docker.latency = () => new Promise((resolve) => clock.at(clock.now() + 100, resolve));
    h = await harness(files, { busyCoalesceMs, clock, docker, raw: { concurrency: "2" } });
    const t0 = clock.now();
    await h.start();
    await h.clock.advance(3000);
    expect(h.app.controller.last?.report.specs.every((s) => s.phase === "Running")).toBe(true);
    const lastStart = Math.max(...docker.calls.filter((c) => c.operation === "start").map((c) => c.at));
    const result = { passes: h.passes.length, lists: docker.count("list"), doneAt: lastStart - t0 };
    await h.stop();
    return result;
  };

  it("are not asked for by berth's own operations: a spec's events wait for its settle, which coalesces while others run", async () => {
    // 12 creates and 12 starts (24 events, 12 settles) in 1.2 s; passes coalesce for 1 s while busy.
    const { passes, lists } = await converge(1000);
    // The first pass, one while busy, the one after the last settle, and at most one more.
    expect(passes).toBeLessThanOrEqual(4);
    // The first pass also looks for names held by others; the later ones find every claimant busy or done.
    expect(lists).toBeLessThanOrEqual(passes + 1);
  });

  it("still asks for one per settle when coalescing is short, but never one per event", async () => {
    // 12 settles in 1.2 s, some within 20 ms of each other; the 24 events add none.
    const { passes, lists } = await converge(20);
    expect(passes).toBeLessThanOrEqual(10);
    expect(lists).toBeLessThanOrEqual(passes + 1);
  });

  it("run each container's create and start together, so containers come up one after another, not all created first", async () => {
    const { doneAt } = await converge(1000);
    h = await harness(
      { "a.yaml": specText("a"), "b.yaml": specText("b"), "c.yaml": specText("c") },
      { raw: { concurrency: "1" } },
    );
    await h.start();
    await h.clock.advance(500);
    expect(h.docker.writes().map((w) => w.operation)).toEqual([
      "create",
      "start",
      "create",
      "start",
      "create",
      "start",
    ]);
    // 12 containers × 2 writes × 100 ms at concurrency 2: 1.2 s when no slot idles.
    expect(doneAt).toBeLessThanOrEqual(1300);
  });

  it("bring an armed pass forward: the pass after the last settle does not wait out the busy coalescing", async () => {
    const clock = new FakeClock();
    const docker = new FakeDocker(() => clock.now());
    // "slow"'s writes take 400 ms, "fast"'s 10 ms: fast settles first and arms a busy pass 1 s out.
    docker.latency = (_op, spec) =>
      new Promise((resolve) => clock.at(clock.now() + (spec === "slow" ? 400 : 10), resolve));
    h = await harness(
      { "slow.yaml": specText("slow"), "fast.yaml": specText("fast") },
      {
        busyCoalesceMs: 1000,
        clock,
        docker,
      },
    );
    await h.start();
    await h.clock.advance(2000);
    const slowStarted = Math.max(...docker.calls.filter((c) => c.operation === "start").map((c) => c.at)) + 400;
    const after = h.passes.filter((p) => p.at >= slowStarted);
    expect(after.length).toBeGreaterThan(0);
    // Within the short coalescing (20 ms) of the last settle, not at the fast spec's busy deadline.
    expect((after[0]?.at ?? Infinity) - slowStarted).toBeLessThan(100);
    expect(h.status("slow")?.phase).toBe("Running");
  });

  it("an outside change to an idle spec is still acted on while other operations run", async () => {
    const clock = new FakeClock();
    const docker = new FakeDocker(() => clock.now());
    h = await harness({ "idle.yaml": specText("idle") }, { busyCoalesceMs: 1000, clock, docker });
    await h.start();
    const first = h.docker.byName("idle")?.id;
    expect(first).toBeDefined();
    // A long operation starts (writes of "long" take 10 s), then someone removes idle's container.
    docker.latency = (_op, spec) =>
      new Promise((resolve) => clock.at(clock.now() + (spec === "long" ? 10_000 : 0), resolve));
    h.write("long.yaml", specText("long"));
    await h.changed();
    expect(h.app.dispatcher.busyCount).toBe(1);
    docker.kill("idle");
    await h.clock.advance(1500);
    expect(h.app.dispatcher.busyCount).toBe(1);
    const replaced = h.docker.byName("idle");
    expect(replaced?.state).toBe("running");
    expect(replaced?.id).not.toBe(first);
    await h.clock.advance(30_000);
    expect(h.status("long")?.phase).toBe("Running");
  });
});
