/**
 * spec.stableFor (core/stable-for.ts, core/plan/rollout.ts, loop/executor.ts), the whole controller
 * on the in-memory Docker fake: under StartFirst the old container keeps running until its
 * replacement has stayed up, and a replacement that crashes within the wait is kept stopped as its
 * version's record (web-0.rejected) while the old one stays, and that version is not tried again
 * until the spec changes (without stableFor: removed, and tried again after a backoff); replicas roll one at a time, each after the one before stayed up; under
 * StopFirst a replacement that crashes stays, and the rest of the rollout holds until the spec
 * changes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { crashing, crashingRollout, type Harness, harness, versions } from "../../support/harness.js";
import { Metrics } from "../../../src/http/metrics.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const web = (env: string, extra: string[] = []) =>
  specText("web", { replicas: 2, extra: ["stableFor: 10s", `env: { VERSION: "${env}" }`, ...extra] });

const REJECTED =
  "rollout held: web-0.rejected, this version's replacement, did not stay up for 10s and is kept stopped for its logs; " +
  "the others keep their version until the spec or its image changes; berth rollout retry web tries this version again (stableFor)";

/** The error of the last action that failed. */
function failure(x: Harness): string | null | undefined {
  return x.app.events
    .list()
    .filter((e) => !e.ok)
    .at(-1)?.error;
}

/** Container name → its state. */
function states(x: Harness): Record<string, string> {
  return Object.fromEntries([...x.docker.containers.values()].map((c) => [c.name, c.state]));
}

describe("stableFor", () => {
  it("StartFirst: keeps the old container until the new one stayed up, then the next replica", async () => {
    h = await harness({ "web.yaml": web("1") });
    await h.start();
    expect(versions(h)).toEqual({ "web-0": "1", "web-1": "1" });

    h.write("web.yaml", web("2"));
    h.resync();
    await h.clock.advance(5_000);
    // Five seconds into web-0's wait: both old containers run, the new one beside them.
    expect(versions(h)).toEqual({ "web-0": "1", "web-0.next": "2", "web-1": "1" });
    await h.clock.advance(6_000);
    // web-0 stayed up: it replaced the old one, and only now does web-1's replacement begin.
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "1", "web-1.next": "2" });
    // Status follows the rollout replica by replica, while the spec's actions still run.
    expect(h.status("web")).toMatchObject({
      phase: "Updating",
      replicas: { desired: 2, ready: 1, updated: 1, available: 2 },
    });
    await h.clock.advance(11_000);
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "2" });
    expect(h.status("web")?.phase).toBe("Running");
  });

  it("updateParallelism: replaces that many replicas at once, each batch after the one before stayed up", async () => {
    const wide = (v: string) =>
      specText("web", { replicas: 4, extra: ["stableFor: 10s", "updateParallelism: 2", `env: { VERSION: "${v}" }`] });
    h = await harness({ "web.yaml": wide("1") });
    await h.start();
    h.write("web.yaml", wide("2"));
    h.resync();
    await h.clock.advance(5_000);
    // Two replacements side by side, beside the four old containers.
    expect(versions(h)).toEqual({
      "web-0": "1",
      "web-0.next": "2",
      "web-1": "1",
      "web-1.next": "2",
      "web-2": "1",
      "web-3": "1",
    });
    await h.clock.advance(6_000);
    expect(versions(h)).toEqual({
      "web-0": "2",
      "web-1": "2",
      "web-2": "1",
      "web-2.next": "2",
      "web-3": "1",
      "web-3.next": "2",
    });
    await h.clock.advance(11_000);
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "2", "web-2": "2", "web-3": "2" });
    expect(h.status("web")?.phase).toBe("Running");

    // A crashing version: the whole first batch is kept as records, and the second is never begun.
    crashing(h, "3");
    h.write("web.yaml", wide("3"));
    h.resync();
    await h.clock.advance(3_000);
    for (let i = 0; i < 5; i++) {
      h.resync();
      await h.clock.advance(60_000);
    }
    expect(versions(h)).toEqual({
      "web-0": "2",
      "web-0.rejected": "3",
      "web-1": "2",
      "web-1.rejected": "3",
      "web-2": "2",
      "web-3": "2",
    });
    expect(h.status("web")?.message).toMatch(/^rollout held: web-0\.rejected, this version's replacement/);
  });

  it("StartFirst: a replacement that crashes within the wait is kept stopped as its record; the version is not tried again", async () => {
    h = await crashingRollout(web);
    expect(versions(h)).toEqual({ "web-0": "1", "web-0.rejected": "2", "web-1": "1" });
    expect(states(h)).toEqual({ "web-0": "running", "web-0.rejected": "exited", "web-1": "running" });
    expect(failure(h)).toMatch(
      /^the new container for web-0 exited with code 3 1\.0s after it started and was restarted by the engine \(1 restart\), within stableFor 10s; it is kept stopped as web-0\.rejected for its logs, the old one keeps running, and this version is not tried again until the spec or its image changes\. Fix the spec or the image$/,
    );
    // Held, not backed off: no retry is coming, so none is announced (berth rollout status gives up).
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: REJECTED, retryAt: null });
    // The old containers serve: none of this version, two available; the record is no replica.
    expect(h.status("web")?.replicas).toEqual({ desired: 2, ready: 0, updated: 0, available: 2 });
    // Stopped by berth, not restarted by the engine: no restart is told of the record.
    expect(h.app.events.list().filter((e) => e.kind === "restarted" && e.text.includes("rejected"))).toEqual([]);

    // Long past any backoff, and many passes later: no new container of version 2 was made.
    const made = h.docker.count("create");
    for (let i = 0; i < 10; i++) {
      h.resync();
      await h.clock.advance(60_000);
    }
    expect(h.docker.count("create")).toBe(made);
    expect(versions(h)).toEqual({ "web-0": "1", "web-0.rejected": "2", "web-1": "1" });
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: REJECTED });

    // Read from the engine: a berth started afresh holds it too.
    const { docker, clock } = h;
    await h.stop();
    h = await harness({ "web.yaml": web("2") }, { docker, clock });
    await h.start();
    expect(h.docker.count("create")).toBe(made);
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: REJECTED });

    // A fixed version rolls out, and the record goes.
    h.write("web.yaml", web("3"));
    h.resync();
    await h.clock.advance(25_000);
    expect(versions(h)).toEqual({ "web-0": "3", "web-1": "3" });
    expect(h.status("web")?.phase).toBe("Running");
  });

  it("StartFirst: a replacement that turns unhealthy within the wait is kept stopped as its record", async () => {
    const hc = 'healthcheck: { command: ["true"], interval: 1s }';
    h = await harness({ "web.yaml": web("1", [hc]) });
    await h.start();
    h.write("web.yaml", web("2", [hc]));
    h.resync();
    await h.clock.advance(2_000);
    expect(versions(h)).toEqual({ "web-0": "1", "web-0.next": "2", "web-1": "1" });
    h.docker.health.set("web-0.next", "unhealthy");
    await h.clock.advance(1_000);
    expect(states(h)).toEqual({ "web-0": "running", "web-0.rejected": "exited", "web-1": "running" });
    expect(failure(h)).toMatch(
      /^the new container for web-0 became unhealthy, within stableFor 10s; it is kept stopped as web-0\.rejected/,
    );
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: REJECTED });
  });

  it("without stableFor a replacement that does not come up is removed, and tried again after a backoff", async () => {
    const plain = (v: string) => specText("web", { extra: [`env: { VERSION: "${v}" }`] });
    h = await harness({ "web.yaml": plain("1") });
    await h.start();
    const start = h.docker.startContainer.bind(h.docker);
    h.docker.startContainer = async (id: string) => {
      await start(id);
      const c = h?.docker.containers.get(id);
      if (c?.body.Env?.includes("VERSION=2")) h?.docker.crash(c.name, 3);
    };
    h.write("web.yaml", plain("2"));
    h.resync();
    await h.clock.advance(2_000);
    expect(versions(h)).toEqual({ web: "1" });
    const made = h.docker.count("create");
    await h.clock.advance(120_000);
    expect(h.docker.count("create")).toBeGreaterThan(made);
    expect(Object.keys(versions(h))).toEqual(["web"]);
  });

  it("StopFirst: status follows a rollout that stays up, replica by replica, and never calls it held", async () => {
    const stopFirst = (v: string) =>
      specText("web", {
        replicas: 3,
        extra: ["stableFor: 10s", "updateStrategy: StopFirst", `env: { VERSION: "${v}" }`],
      });
    h = await harness({ "web.yaml": stopFirst("1") });
    await h.start();
    h.write("web.yaml", stopFirst("2"));
    h.resync();
    await h.clock.advance(11_000);
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "2", "web-2": "1" });
    // web-0 stayed up and web-1's wait began (its old container gone first): two of the version
    // run, and the old web-2 beside them.
    expect(h.status("web")).toMatchObject({
      phase: "Updating",
      message: null,
      replicas: { desired: 3, ready: 2, updated: 2, available: 3 },
    });
    await h.clock.advance(11_000);
    // Every replica of the version, web-2 still within its stableFor: not done yet.
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "2", "web-2": "2" });
    expect(h.status("web")).toMatchObject({
      phase: "Updating",
      message: null,
      replicas: { desired: 3, ready: 3, updated: 3, available: 3 },
    });
    await h.clock.advance(11_000);
    expect(h.status("web")).toMatchObject({
      phase: "Running",
      replicas: { desired: 3, ready: 3, updated: 3, available: 3 },
    });
  });

  it("StopFirst: a replacement that crashes stays, and the rest of the rollout holds until the spec changes", async () => {
    const stopFirst = (v: string) => web(v, ["updateStrategy: StopFirst"]);
    h = await crashingRollout(stopFirst);
    const held = (restarts: string) =>
      `rollout held: web-0 of this version exited with code 3 and was restarted by the engine (${restarts}); ` +
      "the others keep their version until the spec changes; berth rollout retry web makes it again (stableFor)";
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "1" });
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: held("1 restart") });

    // Long past any backoff, and many passes later, web-1 still runs the old version.
    for (let i = 0; i < 10; i++) {
      h.resync();
      await h.clock.advance(60_000);
    }
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "1" });
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: held("1 restart") });
    expect(h.passes.at(-1)?.plan.actions).toEqual([]);

    // Read from the engine, not remembered: a berth started afresh holds it too, and says so once
    // the engine has restarted web-0 again.
    const { docker, clock } = h;
    await h.stop();
    h = await harness({ "web.yaml": stopFirst("2") }, { docker, clock });
    await h.start();
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "1" });
    // Running again, its inspect reads no exit code: the restart alone holds it.
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: held("1 restart").replace(" with code 3", "") });
    docker.crash("web-0", 3, { running: true });
    await h.clock.advance(100);
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "1" });
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: held("2 restarts") });

    // A new version rolls out over both.
    h.write("web.yaml", stopFirst("3"));
    h.resync();
    await h.clock.advance(25_000);
    expect(versions(h)).toEqual({ "web-0": "3", "web-1": "3" });
    expect(h.status("web")?.phase).toBe("Running");
  });

  it("holds no repair to it: a dead container is replaced at once", async () => {
    h = await harness({ "web.yaml": specText("web", { extra: ["stableFor: 1h"] }) });
    await h.start();
    const before = h.docker.byName("web")?.id;
    const dead = h.docker.byName("web");
    if (dead) dead.state = "dead";
    h.resync();
    await h.clock.advance(1_000);
    expect(h.docker.byName("web")?.id).not.toBe(before);
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.status("web")?.phase).toBe("Running");
  });
});

/** The berth_spec_replicas series of /metrics, as of the harness's last pass. */
async function replicaSeries(x: Harness): Promise<string[]> {
  const metrics = new Metrics({ version: "test" });
  const last = x.passes.at(-1);
  if (last) metrics.pass(last);
  return (await metrics.text()).split("\n").filter((l) => l.startsWith("berth_spec_replicas{"));
}

describe("updatePartition", () => {
  const canary = (v: string, partition: number) =>
    specText("web", {
      replicas: 3,
      extra: ["stableFor: 10s", `updatePartition: ${partition}`, `env: { VERSION: "${v}" }`],
    });
  const KEPT = "updatePartition 2 keeps web-0 and web-1 on their version; lower it to roll them";

  it("rolls only the replicas at and above it: a canary, then the rest once it is lowered", async () => {
    h = await harness({ "web.yaml": canary("1", 2) });
    await h.start();
    expect(versions(h)).toEqual({ "web-0": "1", "web-1": "1", "web-2": "1" });
    expect(h.status("web")).toMatchObject({ phase: "Running", message: null });

    h.write("web.yaml", canary("2", 2));
    h.resync();
    await h.clock.advance(11_000);
    expect(versions(h)).toEqual({ "web-0": "1", "web-1": "1", "web-2": "2" });
    // A state of its own, not a rollout under way: Running, saying what the partition keeps.
    await h.clock.advance(60_000);
    expect(versions(h)).toEqual({ "web-0": "1", "web-1": "1", "web-2": "2" });
    expect(h.status("web")).toMatchObject({
      phase: "Running",
      message: KEPT,
      // READY counts this version's: 1/3 (3 available), as during any rollout.
      replicas: { desired: 3, ready: 1, updated: 1, available: 3 },
    });
    expect(h.passes.at(-1)?.plan.actions).toEqual([]);
    // Scraped, the same counts by spec: an alert on updated < desired must allow for the partition.
    expect(await replicaSeries(h)).toEqual([
      'berth_spec_replicas{spec="web",state="desired"} 3',
      'berth_spec_replicas{spec="web",state="updated"} 1',
      'berth_spec_replicas{spec="web",state="ready"} 1',
      'berth_spec_replicas{spec="web",state="available"} 3',
    ]);

    // Lowered (a change that is not in the hash): the others roll, one at a time, as any rollout.
    h.write("web.yaml", canary("2", 0));
    h.resync();
    await h.clock.advance(11_000);
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "1", "web-1.next": "2", "web-2": "2" });
    await h.clock.advance(11_000);
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "2", "web-2": "2" });
    expect(h.status("web")).toMatchObject({ phase: "Running", message: null, replicas: { updated: 3 } });
  });

  it("a replica it keeps that turns unhealthy makes the spec Pending, not Running", async () => {
    const healthy = (v: string) =>
      specText("web", {
        replicas: 2,
        extra: [
          "updatePartition: 1",
          `env: { VERSION: "${v}" }`,
          "healthcheck:",
          '  command: ["true"]',
          "  interval: 1s",
        ],
      });
    h = await harness({ "web.yaml": healthy("1") });
    await h.start();
    h.write("web.yaml", healthy("2"));
    h.resync();
    await h.clock.advance(2_000);
    expect(versions(h)).toEqual({ "web-0": "1", "web-1": "2" });
    expect(h.status("web")).toMatchObject({ phase: "Running", replicas: { ready: 1, available: 2 } });
    // Two versions side by side, with no stableFor: still inspected, so the status says when each
    // started and how often the engine restarted it (GET /v1/specs, for whoever promotes the canary).
    const seen = h.status("web")?.containers.map((c) => [c.name, c.restarts, typeof c.startedAt]);
    expect(seen?.sort()).toEqual([
      ["web-0", 0, "string"],
      ["web-1", 0, "string"],
    ]);
    h.docker.health.set("web-0", "unhealthy");
    h.resync();
    await h.clock.advance(100);
    expect(h.status("web")).toMatchObject({ phase: "Pending", replicas: { ready: 1, available: 1 } });
  });

  it("a canary that does not stay up holds the rollout when the partition is lowered", async () => {
    h = await harness({ "web.yaml": canary("1", 2) });
    await h.start();
    crashing(h, "2");
    h.write("web.yaml", canary("2", 2));
    h.resync();
    await h.clock.advance(15_000);
    // StartFirst: the canary's replacement crashed within its wait; web-2 keeps version 1.
    expect(versions(h)).toEqual({ "web-0": "1", "web-1": "1", "web-2": "1", "web-2.rejected": "2" });
    expect(h.status("web")?.phase).toBe("Failed");

    h.write("web.yaml", canary("2", 0));
    h.resync();
    await h.clock.advance(60_000);
    expect(versions(h)).toEqual({ "web-0": "1", "web-1": "1", "web-2": "1", "web-2.rejected": "2" });
    expect(h.status("web")).toMatchObject({ phase: "Failed", message: expect.stringContaining("web-2.rejected") });
  });
});
