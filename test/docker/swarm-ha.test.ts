/**
 * `--ha` under `--target swarm` (docs/swarm.md, "High availability"), end to end through the built
 * CLI, on a single-node swarm in a private dockerd (as swarm.test.ts; never the shared engine):
 * two `berth run --target swarm --ha` with one --id, each reaching the manager through a fault
 * proxy of its own that counts its Docker calls.
 * - exactly one leads (X-Berth-Role, /readyz?role=leader, berth_leader) and makes the service once;
 * - the standby, whose folder asks for a change, plans it and makes no write;
 * - `apply --target swarm` without --ha beside the leading group is refused naming the group, and
 *   `apply --ha` naming the holder; neither writes;
 * - the leader's SIGTERM lets the lease go (a 60 s lease: only a release explains a handover in
 *   time), and the standby leads and applies its change to the same service; with Redis, after
 *   the leader's kill -9, the standby leads once the lease runs out and applies its change.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthWithin, type RunningBerth, specDir, startBerth, TEST_IMAGE, testIds } from "../support/e2e.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { testLease } from "../support/ha-lease.js";
import { pollUntil, pollValue } from "../support/poll.js";
import { PrivateDockerd } from "../support/private-dockerd.js";
import { TestRedis } from "../support/redis.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

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

/** Docker calls that change the swarm, among those a proxy saw. */
const writes = (p: FaultProxy) => p.seen.filter((s) => s.method !== "GET" && s.method !== "HEAD");

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

describe("berth run --target swarm --ha", () => {
  it("file: one leads and makes the service once; the standby writes nothing; apply beside the group is refused; SIGTERM hands over and the new leader applies its change", async () => {
    const id = ids("swarm-ha-file");
    const name = `${id}-web`;
    const lease = await testLease("file", id, () => Promise.reject(new Error("no redis")));
    const stateDir = tempDir();
    // The standby's folder asks for a change the leader's does not: a standby that acted would write.
    const dirA = specDir({ "web.yaml": web(name, "a") });
    const dirB = specDir({ "web.yaml": web(name, "b") });
    const [proxyA, proxyB] = [await proxy(), await proxy()];
    const ha = ["--id", id, "--ha", lease, "--ha-ttl", "60s", "--ha-renew", "1s"];
    const a = await start([...ha, "-f", dirA], { DOCKER_HOST: proxyA.dockerHost, BERTH_STATE_DIR: stateDir });
    expect(await pollUntil(async () => (await roleOf(a)) === "leader", 20_000), a.recentLogs()).toBe(true);
    const [made] = await stamped(id, "a", () => a.recentLogs());
    const holder = String(a.logs.find((l) => l.msg === "leading")?.holder);

    const b = await start([...ha, "-f", dirB], { DOCKER_HOST: proxyB.dockerHost, BERTH_STATE_DIR: stateDir });
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
    const plain = await berthWithin(["apply", "--target", "swarm", "--id", id, "-f", dirB], env, {
      killAfterMs: 60_000,
    });
    expect([plain.code, plain.stderr]).toEqual([1, expect.stringContaining(`is led by an --ha group on this host`)]);
    expect(plain.stderr).toContain(holder);
    const turn = await berthWithin(["apply", "--target", "swarm", ...ha, "-f", dirB], env, { killAfterMs: 60_000 });
    expect([turn.code, turn.stderr]).toEqual([1, expect.stringContaining(`is held by ${holder}`)]);
    expect(turn.stderr).toContain("--ha-wait");
    expect(writes(proxyB), "Docker writes of the refused applies").toEqual([]);

    // SIGTERM: the leader lets go, well inside its 60 s lease the standby leads and applies its folder.
    expect(await a.stop()).toBe(0);
    expect(
      a.logs.some((l) => l.msg === "lease released"),
      a.recentLogs(),
    ).toBe(true);
    expect(await pollUntil(async () => (await roleOf(b)) === "leader", 20_000), b.recentLogs()).toBe(true);
    const updated = await stamped(id, "b", () => b.recentLogs());
    expect(updated.map((s) => s.ID)).toEqual([made?.ID]);
    expect(proxyB.count("POST", /^\/services\/[^/]+\/update/)).toBeGreaterThan(0);
    expect(await metric(b, "berth_leader")).toBe(1);
    expect(await b.stop()).toBe(0);
    await daemon.docker.getService(name).remove();
  });

  it("redis: after the leader's kill -9 the standby leads once the lease runs out, and applies its change", async () => {
    redis ??= await TestRedis.start();
    const id = ids("swarm-ha-redis");
    const name = `${id}-web`;
    const lease = await testLease("redis", id, () => Promise.resolve(redis!));
    const stateDir = tempDir();
    const dirA = specDir({ "web.yaml": web(name, "a") });
    const dirB = specDir({ "web.yaml": web(name, "b") });
    const proxyB = await proxy();
    const ha = ["--id", id, "--ha", lease, "--ha-ttl", "3s", "--ha-renew", "500ms"];
    const a = await start([...ha, "-f", dirA], { DOCKER_HOST: daemon.dockerHost, BERTH_STATE_DIR: stateDir });
    expect(await pollUntil(async () => (await roleOf(a)) === "leader", 20_000), a.recentLogs()).toBe(true);
    await stamped(id, "a", () => a.recentLogs());
    const b = await start([...ha, "-f", dirB], { DOCKER_HOST: proxyB.dockerHost, BERTH_STATE_DIR: stateDir });
    expect(await pollUntil(async () => (await passes(b)) >= 2, 30_000, 200), b.recentLogs()).toBe(true);
    expect(await roleOf(b)).toBe("standby");
    expect(writes(proxyB), "Docker writes of the standby").toEqual([]);

    await a.kill9();
    expect(await pollUntil(async () => (await roleOf(b)) === "leader", 20_000), b.recentLogs()).toBe(true);
    await stamped(id, "b", () => b.recentLogs());
    expect(writes(proxyB).length).toBeGreaterThan(0);
    expect(await b.stop()).toBe(0);
    await daemon.docker.getService(name).remove();
  });
});
