/**
 * One writer per controller id between `berth run --ha` berths and the commands beside them
 * (docs/reliability.md, "Commands beside an --ha group"), on the real engine with a real lock file
 * and a real redis-server: `apply` without --ha is refused naming the leader; `apply --ha` is
 * refused while another holds the lease (its Docker calls counted through the fault proxy: none
 * writes), waits for it with --ha-wait, converges once the leader let go and lets go in turn, so
 * the next berth leads at once; a plain `berth run` beside a leading group is refused; and a
 * `run --ha` does not lead while a plain `berth run` holds the host lock.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  berth,
  berthWithin,
  containersOf,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { pollUntil } from "../support/poll.js";
import { testLease } from "../support/ha-lease.js";
import { TestRedis } from "../support/redis.js";

const ids = testIds();
/** A lease far longer than any wait below: a berth that leads in time was let go to, never timed out. */
const LONG = ["--ha-ttl", "60s", "--ha-renew", "1s"];

const started: RunningBerth[] = [];
afterEach(async () => {
  for (const b of started.splice(0)) await b.kill9().catch(() => undefined);
});

let redis: TestRedis | null = null;
afterAll(async () => {
  await redis?.kill();
});

async function start(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth(args);
  started.push(b);
  return b;
}

async function isLeader(b: RunningBerth): Promise<boolean> {
  const res = await fetch(`${b.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
  return res?.headers.get("x-berth-role") === "leader";
}

function leaseOf(store: "file" | "redis", id: string): Promise<string> {
  return testLease(store, id, async () => (redis ??= await TestRedis.start()));
}

/** Docker calls that change the engine, among those the proxy saw. */
const writes = (proxy: FaultProxy) => proxy.seen.filter((s) => s.method !== "GET" && s.method !== "HEAD");

const names = (cs: { name: string }[]) => cs.map((c) => c.name);

describe.each(["file", "redis"] as const)("commands beside berth run --ha (%s)", (store) => {
  it("apply without --ha and apply --ha are refused while the leader leads, writing nothing; after its SIGTERM apply --ha converges, lets go, and the next berth leads at once; a plain run is refused", async () => {
    const id = ids(`ha-apply-${store}`);
    const lease = await leaseOf(store, id);
    const dir = specDir({ "a.yaml": e2eSpec(`${id}-a`) });
    const more = specDir({ "a.yaml": e2eSpec(`${id}-a`), "b.yaml": e2eSpec(`${id}-b`) });
    const leader = await start(["-f", dir, "--id", id, "--ha", lease, ...LONG]);
    expect(await pollUntil(() => isLeader(leader), 20_000)).toBe(true);
    await waitContainers(id, "a running", (cs) => cs.some((c) => c.name === `${id}-a` && c.state === "running"));
    const holder = String(leader.logs.find((l) => l.msg === "leading")?.holder);

    const proxy = await FaultProxy.start();
    try {
      const env = { DOCKER_HOST: proxy.dockerHost };
      const plain = await berthWithin(["apply", "--id", id, "-f", more], env, { killAfterMs: 60_000 });
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain(`controller id "${id}" is led by an --ha group on this host`);
      expect(plain.stderr).toContain(holder);
      expect(plain.stderr).toContain("pass the group's --ha");

      const turn = await berthWithin(["apply", "--id", id, "-f", more, "--ha", lease, ...LONG], env, {
        killAfterMs: 60_000,
      });
      expect(turn.code).toBe(1);
      expect(turn.stderr).toContain(`is held by ${holder}`);
      expect(turn.stderr).toContain("--ha-wait");
      // reap writes too (it removes expired containers): the same rule.
      const reap = await berth(["reap", "--id", id, "-f", more], env);
      expect([reap.code, reap.stderr]).toEqual([1, expect.stringContaining("is led by an --ha group")]);
      const reapTurn = await berth(["reap", "--id", id, "-f", more, "--ha", lease], env);
      expect([reapTurn.code, reapTurn.stderr]).toEqual([1, expect.stringContaining(`is held by ${holder}`)]);
      expect(writes(proxy), "Docker writes of the refused applies and reaps").toEqual([]);
      expect(names(await containersOf(id))).toEqual([`${id}-a`]);

      // Waiting for the lease: the leader's SIGTERM lets it go, and apply takes it.
      const waiting = berthWithin(
        ["apply", "--id", id, "-f", more, "--ha", lease, ...LONG, "--ha-wait", "60s", "--timeout", "60s"],
        env,
        { killAfterMs: 90_000 },
      );
      expect(await leader.stop()).toBe(0);
      const applied = await waiting;
      expect(applied.code).toBe(0);
      // At most the line saying it waits, when its first look found the lease still held.
      expect(applied.stderr).toMatch(
        /^(berth: apply --ha: waiting up to 1m \(--ha-wait\) for the lease held by [^\n]*\n)?$/,
      );
      expect(applied.stdout).toContain("converged");
      expect(writes(proxy).length).toBeGreaterThan(0);
      expect(names(await containersOf(id))).toEqual([`${id}-a`, `${id}-b`]);
    } finally {
      await proxy.close();
    }

    // reap --ha takes the free lease, writes nothing to reap, and lets go too.
    const reaped = await berth(["reap", "--id", id, "-f", more, "--ha", lease, ...LONG]);
    expect([reaped.code, reaped.stdout]).toEqual([0, "0 expired containers removed\n"]);

    // apply and reap let go: the next berth leads well inside the 60 s lease, and converges its folder.
    const next = await start(["-f", dir, "--id", id, "--ha", lease, ...LONG]);
    expect(await pollUntil(() => isLeader(next), 20_000)).toBe(true);
    await waitContainers(id, "b removed by the new leader", (cs) => names(cs).join() === `${id}-a`);

    const loose = await berthWithin(["run", "--id", id, "-f", dir, "--listen", "off"], {}, { killAfterMs: 60_000 });
    expect(loose.killed).toBe(false);
    expect(loose.code).toBe(1);
    expect(loose.stderr).toContain("is led by an --ha group on this host");
  });
});

describe("berth run --ha beside a berth without --ha", () => {
  it("does not lead while a plain berth run holds the host lock (nor does apply --ha), and leads once it stops", async () => {
    const id = ids("ha-beside-plain");
    const lease = await leaseOf("file", id);
    const dir = specDir({ "a.yaml": e2eSpec(`${id}-a`) });
    const plain = await start(["-f", dir, "--id", id]);
    await waitContainers(id, "a running", (cs) => cs.some((c) => c.name === `${id}-a` && c.state === "running"));

    const ha = await start(["-f", dir, "--id", id, "--ha", lease, ...LONG]);
    expect(await ha.waitForLog("not leading while a berth without --ha holds this id's host lock", 20_000)).toBe(true);
    const ready = (await (await fetch(`${ha.url}/readyz?role=leader`)).json()) as { reason: string };
    expect(ready.reason).toMatch(/holds this id's host lock/);
    expect(ha.logs.some((l) => l.msg === "leading" || l.msg === "docker write")).toBe(false);

    const turn = await berth(["apply", "--id", id, "-f", dir, "--ha", lease, ...LONG]);
    expect(turn.code).toBe(1);
    expect(turn.stderr).toContain("holds the id's host lock and writes without --ha");

    expect(await plain.stop()).toBe(0);
    started.splice(started.indexOf(plain), 1);
    expect(await pollUntil(() => isLeader(ha), 20_000)).toBe(true);
  });
});
