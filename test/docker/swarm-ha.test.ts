/**
 * `--ha` under `--target swarm` (docs/swarm.md, "High availability"), end to end through the built
 * CLI, on a single-node swarm in a private dockerd (as swarm.test.ts; never the shared engine):
 * two `berth run --target swarm --ha` with one --id, each reaching the manager through a fault
 * proxy of its own that counts its Docker calls.
 * - exactly one leads (X-Berth-Role, /readyz?role=leader, berth_leader) and makes the service once;
 * - the standby, whose folder asks for a change, plans it and makes no write;
 * - `apply --target swarm` without --ha beside the leading group is refused naming the group, and
 *   `apply --ha` naming the holder; neither writes; `apply --ha --ha-wait` waits without writing,
 *   takes the lease at the leader's SIGTERM, updates the service and lets go at its exit;
 * - the leader's SIGTERM lets the lease go (a 60 s lease: only a release explains a handover in
 *   time), and the standby leads and applies its change to the same service; with Redis, after
 *   the leader's kill -9, the standby leads once the lease runs out and applies its change;
 * - a leader paused past its lease (SIGSTOP) while the standby takes over makes no write when it
 *   resumes, though its folder asks for a change, and becomes a standby.
 */
import { writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthWithin, type RunningBerth, specDir, startBerth, TEST_IMAGE, testIds } from "../support/e2e.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { testLease } from "../support/ha-lease.js";
import { pollUntil, pollValue } from "../support/poll.js";
import { PrivateDockerd } from "../support/private-dockerd.js";
import { TestRedis } from "../support/redis.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";
import { loggedWrites, overlappingTerms } from "../support/write-terms.js";

const ids = testIds();
let daemon: PrivateDockerd;
let redis: TestRedis | null = null;
const started: RunningBerth[] = [];
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  daemon = await PrivateDockerd.create([TEST_IMAGE], { loopback: true });
  await daemon.docker.swarmInit({ ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1" });
}, 120_000);
afterAll(async () => {
  for (const b of started) await b.kill9().catch(() => undefined);
  for (const p of proxies) await p.close();
  await redis?.kill();
  // destroy removes the private daemon with its swarm: every service in it is this file's.
  await daemon.destroy();
}, 60_000);

/** A service whose env says which version of its spec it runs. */
const web = (name: string, stamp: string): string =>
  specText(name, {
    image: TEST_IMAGE,
    extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s", "env:", `  STAMP: "${stamp}"`],
  });

interface ServiceView {
  readonly ID: string;
  readonly Spec: { Name: string; TaskTemplate: { ContainerSpec: { Env?: string[] } } };
}

async function services(id: string): Promise<ServiceView[]> {
  return (await daemon.docker.listServices({ filters: { label: [`berth.controller=${id}`] } })) as ServiceView[];
}

async function proxy(): Promise<FaultProxy> {
  const p = await FaultProxy.start(daemon.socketPath);
  proxies.push(p);
  return p;
}

/** Docker calls that change the swarm, among those a proxy saw (from the `from`th on). */
const writes = (p: FaultProxy, from = 0) => p.seen.slice(from).filter((s) => s.method !== "GET" && s.method !== "HEAD");

async function roleOf(b: RunningBerth): Promise<string> {
  if (b.child.exitCode !== null || b.child.signalCode !== null) return "down";
  const res = await fetch(`${b.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
  return res?.headers.get("x-berth-role") ?? "down";
}

const metric = async (b: RunningBerth, name: string): Promise<number> => {
  const text = await (await fetch(`${b.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
};

/** The ok passes a berth has made (its berth_reconciles_total). */
const passes = async (b: RunningBerth): Promise<number> => metric(b, 'berth_reconciles_total\\{result="ok"\\}');

/** Waits until the service runs with this STAMP; returns the services of the id. */
async function stamped(id: string, stamp: string, explain: () => string): Promise<ServiceView[]> {
  const list = await pollValue(
    () => services(id),
    (ss) => ss.some((s) => s.Spec.TaskTemplate.ContainerSpec.Env?.includes(`STAMP=${stamp}`)),
    60_000,
    250,
  );
  expect(
    list.map((s) => s.Spec.TaskTemplate.ContainerSpec.Env),
    explain(),
  ).toEqual([expect.arrayContaining([`STAMP=${stamp}`])]);
  return list;
}

async function start(args: readonly string[], env: Record<string, string>): Promise<RunningBerth> {
  const b = await startBerth(["--target", "swarm", "--resync", "1s", ...args], env);
  started.push(b);
  return b;
}

/** "No overlapping write terms" (test/support/write-terms.ts) over the writes the berths logged with their terms. */
function noOverlap(bs: readonly RunningBerth[]): void {
  const writes = bs.flatMap((b) => loggedWrites(b.logs));
  expect(writes.length).toBeGreaterThan(0);
  expect(overlappingTerms(writes)).toEqual([]);
}

/** One test's id, service, lease and stores: the leader's folder runs STAMP a, the standby's asks for b. */
async function scenario(label: string, store: "file" | "redis") {
  if (store === "redis") redis ??= await TestRedis.start();
  const id = ids(label);
  const name = `${id}-web`;
  const lease = await testLease(store, id, () =>
    redis ? Promise.resolve(redis) : Promise.reject(new Error("no redis")),
  );
  // The standby's folder asks for a change the leader's does not: a standby that acted would write.
  const dirs = { a: specDir({ "web.yaml": web(name, "a") }), b: specDir({ "web.yaml": web(name, "b") }) };
  return { id, name, lease, stateDir: tempDir(), dirs };
}

/** Waits until `b` says it leads. */
async function leads(b: RunningBerth): Promise<void> {
  expect(await pollUntil(async () => (await roleOf(b)) === "leader", 20_000), b.recentLogs()).toBe(true);
}

describe("berth run --target swarm --ha", () => {
  it("file: one leads and makes the service once; the standby writes nothing; apply beside the group is refused; SIGTERM hands over and the new leader applies its change", async () => {
    const { id, name, lease, stateDir, dirs } = await scenario("swarm-ha-file", "file");
    const [proxyA, proxyB] = [await proxy(), await proxy()];
    const ha = ["--id", id, "--ha", lease, "--ha-ttl", "60s", "--ha-renew", "1s"];
    const a = await start([...ha, "-f", dirs.a], { DOCKER_HOST: proxyA.dockerHost, BERTH_STATE_DIR: stateDir });
    await leads(a);
    const [made] = await stamped(id, "a", () => a.recentLogs());
    const holder = String(a.logs.find((l) => l.msg === "leading")?.holder);

    const b = await start([...ha, "-f", dirs.b], { DOCKER_HOST: proxyB.dockerHost, BERTH_STATE_DIR: stateDir });
    expect(await roleOf(b)).toBe("standby");
    // Three passes of the standby, each planning the update of STAMP a → b.
    expect(await pollUntil(async () => (await passes(b)) >= 3, 30_000, 200), b.recentLogs()).toBe(true);
    const standbyReady = await fetch(`${b.url}/readyz`);
    expect(standbyReady.status).toBe(200);
    const asLeader = await fetch(`${b.url}/readyz?role=leader`);
    expect([asLeader.status, await asLeader.json()]).toEqual([
      503,
      expect.objectContaining({ role: "standby", leader: holder, reason: "standby: another berth leads" }),
    ]);
    expect([await metric(a, "berth_leader"), await metric(b, "berth_leader")]).toEqual([1, 0]);
    expect(writes(proxyB), "Docker writes of the standby").toEqual([]);
    // Nor did it try: a standby's pass plans without acting (the fence would refuse it otherwise).
    expect(b.logs.filter((l) => l.msg === "docker write" || l.msg === "service operation failed")).toEqual([]);
    // The service was made once, by the leader, and the standby's passes left it alone.
    expect(proxyA.count("POST", /^\/services\/create/)).toBe(1);
    expect((await services(id)).map((s) => s.ID)).toEqual([made?.ID]);

    const env = { DOCKER_HOST: proxyB.dockerHost, BERTH_STATE_DIR: stateDir };
    const plain = await berthWithin(["apply", "--target", "swarm", "--id", id, "-f", dirs.b], env, {
      killAfterMs: 60_000,
    });
    expect([plain.code, plain.stderr]).toEqual([1, expect.stringContaining(`is led by an --ha group on this host`)]);
    expect(plain.stderr).toContain(holder);
    const turn = await berthWithin(["apply", "--target", "swarm", ...ha, "-f", dirs.b], env, { killAfterMs: 60_000 });
    expect([turn.code, turn.stderr]).toEqual([1, expect.stringContaining(`is held by ${holder}`)]);
    expect(turn.stderr).toContain("--ha-wait");
    expect(writes(proxyB), "Docker writes of the refused applies").toEqual([]);

    // SIGTERM: the leader lets go, well inside its 60 s lease the standby leads and applies its folder.
    expect(await a.stop()).toBe(0);
    expect(
      a.logs.some((l) => l.msg === "lease released"),
      a.recentLogs(),
    ).toBe(true);
    await leads(b);
    const updated = await stamped(id, "b", () => b.recentLogs());
    expect(updated.map((s) => s.ID)).toEqual([made?.ID]);
    expect(proxyB.count("POST", /^\/services\/[^/]+\/update/)).toBeGreaterThan(0);
    expect(await metric(b, "berth_leader")).toBe(1);
    noOverlap([a, b]);
    expect(await b.stop()).toBe(0);
    await daemon.docker.getService(name).remove();
  });

  it("file: apply --ha --ha-wait waits while the leader holds the lease, takes it at the leader's SIGTERM, converges and lets go", async () => {
    const { id, name, lease, stateDir, dirs } = await scenario("swarm-ha-wait", "file");
    const proxyB = await proxy();
    const ha = ["--id", id, "--ha", lease, "--ha-ttl", "60s", "--ha-renew", "1s"];
    const a = await start([...ha, "-f", dirs.a], { DOCKER_HOST: daemon.dockerHost, BERTH_STATE_DIR: stateDir });
    await leads(a);
    const [made] = await stamped(id, "a", () => a.recentLogs());

    const env = { DOCKER_HOST: proxyB.dockerHost, BERTH_STATE_DIR: stateDir };
    const waiting = berthWithin(
      ["apply", "--target", "swarm", ...ha, "-f", dirs.b, "--ha-wait", "60s", "--timeout", "60s"],
      env,
      { killAfterMs: 90_000 },
    );
    // The apply is a participant of the group (each listens on <state dir>/<id>.ha/*.sock) and waits.
    const sockets = () =>
      readdir(path.join(stateDir, `${id}.ha`)).then((names) => names.filter((n) => n.endsWith(".sock")));
    expect(await pollUntil(async () => (await sockets().catch(() => [])).length === 2, 20_000)).toBe(true);
    expect(writes(proxyB), "Docker writes of the waiting apply").toEqual([]);
    expect(await roleOf(a)).toBe("leader");

    // The leader's SIGTERM lets go, well inside its 60 s lease: apply takes the lease and updates the service.
    expect(await a.stop()).toBe(0);
    const applied = await waiting;
    // Nothing on stderr but, once it has looked at the lease and found it held, the line saying it
    // waits and for whom (the leader may have let go before that first look: test/unit/cli/ha-wait.test.ts).
    expect(applied.code).toBe(0);
    expect(applied.stderr).toMatch(
      /^(berth: apply --ha: waiting up to 1m \(--ha-wait\) for the lease held by [^\n]*\n)?$/,
    );
    expect(applied.stdout).toContain(`update  service ${name}`);
    expect(writes(proxyB).length).toBeGreaterThan(0);
    const updated = await stamped(id, "b", () => applied.stdout);
    expect(updated.map((s) => s.ID)).toEqual([made?.ID]);

    // It let go at its exit: the next apply --ha takes the lease at once and has nothing to do.
    const next = await berthWithin(["apply", "--target", "swarm", ...ha, "-f", dirs.b], env, { killAfterMs: 60_000 });
    expect([next.code, next.stderr]).toEqual([0, ""]);
    expect(await sockets()).toEqual([]);
    await daemon.docker.getService(name).remove();
  });

  it("redis: after the leader's kill -9 the standby leads once the lease runs out, and applies its change", async () => {
    const { id, name, lease, stateDir, dirs } = await scenario("swarm-ha-redis", "redis");
    const proxyB = await proxy();
    const ha = ["--id", id, "--ha", lease, "--ha-ttl", "3s", "--ha-renew", "500ms"];
    const a = await start([...ha, "-f", dirs.a], { DOCKER_HOST: daemon.dockerHost, BERTH_STATE_DIR: stateDir });
    await leads(a);
    await stamped(id, "a", () => a.recentLogs());
    const b = await start([...ha, "-f", dirs.b], { DOCKER_HOST: proxyB.dockerHost, BERTH_STATE_DIR: stateDir });
    expect(await pollUntil(async () => (await passes(b)) >= 2, 30_000, 200), b.recentLogs()).toBe(true);
    expect(await roleOf(b)).toBe("standby");
    expect(writes(proxyB), "Docker writes of the standby").toEqual([]);

    await a.kill9();
    await leads(b);
    await stamped(id, "b", () => b.recentLogs());
    expect(writes(proxyB).length).toBeGreaterThan(0);
    noOverlap([a, b]);
    expect(await b.stop()).toBe(0);
    await daemon.docker.getService(name).remove();
  });

  it("redis: a leader paused past its lease (SIGSTOP) and cut off from Redis makes no swarm write when it resumes, and becomes a standby", async () => {
    const { id, name, stateDir, dirs } = await scenario("swarm-ha-stop", "redis");
    if (!redis) throw new Error("no redis");
    const proxyA = await proxy();
    // The old leader reaches Redis through a link cut while it sleeps: when it wakes, its renewal
    // hangs while its resync and its watch already ask for passes (as ha.test.ts's SIGSTOP test).
    const link = await TcpProxy.start(redis.port);
    try {
      const timing = ["--id", id, "--ha-ttl", "3s", "--ha-renew", "500ms"];
      const a = await start([...timing, "--ha", `redis://127.0.0.1:${link.port}/0`, "-f", dirs.a], {
        DOCKER_HOST: proxyA.dockerHost,
        BERTH_STATE_DIR: stateDir,
      });
      await leads(a);
      await stamped(id, "a", () => a.recentLogs());
      const b = await start([...timing, "--ha", redis.url(), "-f", dirs.b], {
        DOCKER_HOST: daemon.dockerHost,
        BERTH_STATE_DIR: stateDir,
      });

      a.child.kill("SIGSTOP");
      link.stall();
      let resumedAt: number;
      try {
        await leads(b);
        await stamped(id, "b", () => b.recentLogs());
        // The paused leader's folder asks for yet another version: its passes after it resumes plan it.
        writeFileSync(path.join(dirs.a, "web.yaml"), web(name, "c"));
      } finally {
        resumedAt = proxyA.seen.length;
        a.child.kill("SIGCONT");
      }
      expect(await a.waitForLog("stepped down; standby", 20_000), a.recentLogs()).toBe(true);
      link.resume();
      expect(writes(proxyA, resumedAt), "Docker writes of the old leader after it resumed").toEqual([]);
      expect(await roleOf(a)).toBe("standby");
      expect(await roleOf(b)).toBe("leader");
      await stamped(id, "b", () => a.recentLogs());
      noOverlap([a, b]);
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
      await daemon.docker.getService(name).remove();
    } finally {
      await link.close();
    }
  });
});
