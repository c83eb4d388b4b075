/**
 * High availability on the real engine (docs/reliability.md): several `berth run --ha` with one
 * --id, over a real lock file and a real redis-server on loopback. Exactly one leads; a standby
 * takes over after kill -9 and converges what changed meanwhile; SIGTERM hands over without
 * waiting for the lease to run out; a leader paused past its lease writes nothing when it resumes
 * (every Docker call it makes is counted through the fault proxy); with Redis gone no one writes,
 * and Redis back empty still gives one writer at a time, in a higher term.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  berthWithin,
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { pollUntil, pollValue } from "../support/poll.js";
import { testLease } from "../support/ha-lease.js";
import { TestRedis } from "../support/redis.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { tempDir } from "../support/tmp.js";
import { loggedWrites, overlappingTerms } from "../support/write-terms.js";

const ids = testIds();
/** Short leases, so that each failover takes seconds; renewals leave room for a loaded machine. */
const TIMING = ["--ha-ttl", "3s", "--ha-renew", "500ms"];
const TTL_MS = 3_000;
const TOKEN = "ha-test-token-0123456789abcdef0123";

const started: RunningBerth[] = [];
afterEach(async () => {
  for (const b of started.splice(0)) await b.kill9().catch(() => undefined);
});

let redis: TestRedis | null = null;
afterAll(async () => {
  await redis?.kill();
});

async function start(id: string, dir: string, ha: string, env: Record<string, string> = {}): Promise<RunningBerth> {
  const b = await startBerth(["-f", dir, "--id", id, "--ha", ha, ...TIMING], env);
  started.push(b);
  return b;
}

type Role = "leader" | "standby" | "down";

/** Whether a berth's last pass loaded the spec `name` (its status API knows it). */
async function knows(b: RunningBerth, name: string): Promise<boolean> {
  return pollUntil(async () => (await fetch(`${b.url}/v1/specs/${name}`)).status === 200, 20_000);
}

async function roleOf(b: RunningBerth): Promise<Role> {
  if (b.child.exitCode !== null || b.child.signalCode !== null) return "down";
  try {
    const res = await fetch(`${b.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    const role = res.headers.get("x-berth-role");
    return role === "leader" ? "leader" : "standby";
  } catch {
    return "down";
  }
}

/** Waits until exactly one of `bs` leads and the others are standbys; returns the leader. */
async function oneLeader(bs: readonly RunningBerth[], timeoutMs = 20_000): Promise<RunningBerth> {
  const roles = await pollValue(
    () => Promise.all(bs.map(roleOf)),
    (rs) => rs.filter((r) => r === "leader").length === 1 && rs.every((r) => r !== "down"),
    timeoutMs,
  );
  const leader = bs[roles.indexOf("leader")];
  if (!leader || roles.filter((r) => r === "leader").length !== 1)
    throw new Error(`not exactly one leader: ${roles.join(", ")}\n${bs.map((b) => b.recentLogs(8)).join("\n")}`);
  return leader;
}

/** No overlapping write terms (test/support/write-terms.ts), over some writes at least. */
function noOverlap(bs: readonly RunningBerth[]): void {
  const writes = bs.flatMap((b) => loggedWrites(b.logs));
  expect(writes.length).toBeGreaterThan(0);
  expect(overlappingTerms(writes)).toEqual([]);
}

const running = (names: readonly string[]) => (cs: { name: string; state: string }[]) =>
  names.every((n) => cs.some((c) => c.name === n && c.state === "running"));

function leaseOf(store: "file" | "redis", id: string): Promise<string> {
  return testLease(store, id, async () => (redis ??= await TestRedis.start()));
}

describe.each(["file", "redis"] as const)("berth run --ha (%s)", (store) => {
  it("one of three leads; a standby serves reads, refuses writes; after kill -9 another leads and converges the folder changed meanwhile", async () => {
    const id = ids(`ha-${store}`);
    const dir = specDir({ "a.yaml": e2eSpec(`${id}-a`) });
    const lease = await leaseOf(store, id);
    const bs = [await start(id, dir, lease), await start(id, dir, lease), await start(id, dir, lease)];
    const leader = await oneLeader(bs);
    await waitContainers(id, "a running", running([`${id}-a`]));

    const standby = bs.find((b) => b !== leader)!;
    const ready = await fetch(`${standby.url}/readyz?role=leader`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ role: "standby", ready: false });
    expect((await fetch(`${standby.url}/readyz`)).status).toBe(200);
    const read = await fetch(`${standby.url}/v1/specs`);
    expect(read.status).toBe(200);
    const write = await fetch(`${standby.url}/v1/specs/x`, { method: "DELETE" });
    expect(write.status).toBe(503);
    expect(await write.json()).toMatchObject({ code: "BERTH_NOT_LEADER" });
    const metrics = await (await fetch(`${standby.url}/metrics`)).text();
    expect(metrics).toMatch(/^berth_leader 0$/m);
    expect(await (await fetch(`${leader.url}/metrics`)).text()).toMatch(/^berth_leader 1$/m);

    await leader.kill9();
    writeFileSync(path.join(dir, "b.yaml"), e2eSpec(`${id}-b`));
    const rest = bs.filter((b) => b !== leader);
    const next = await oneLeader(rest);
    await waitContainers(id, "a and b running, made by the new leader", running([`${id}-a`, `${id}-b`]), {
      explain: () => next.recentLogs(),
    });
    noOverlap(bs);
  });

  it("SIGTERM hands over at once: the leader lets go of its lease, a standby does not wait for it to run out", async () => {
    const id = ids(`ha-term-${store}`);
    const dir = specDir({ "a.yaml": e2eSpec(`${id}-a`) });
    const lease = await leaseOf(store, id);
    // A lease far longer than the wait below: only a release can hand over in time.
    const long = ["--ha-ttl", "60s", "--ha-renew", "2s"];
    const a = await startBerth(["-f", dir, "--id", id, "--ha", lease, ...long]);
    started.push(a);
    expect(await pollUntil(async () => (await roleOf(a)) === "leader", 20_000)).toBe(true);
    const b = await startBerth(["-f", dir, "--id", id, "--ha", lease, ...long]);
    started.push(b);
    expect(await roleOf(b)).toBe("standby");
    const stoppedAt = Date.now();
    expect(await a.stop()).toBe(0);
    expect(a.logs.some((l) => l.msg === "lease released")).toBe(true);
    expect(await pollUntil(async () => (await roleOf(b)) === "leader", 20_000)).toBe(true);
    // Well inside the 60 s lease: taken because it was let go (the bench times the handover).
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    writeFileSync(path.join(dir, "b.yaml"), e2eSpec(`${id}-b`));
    await waitContainers(id, "b made by the new leader", running([`${id}-a`, `${id}-b`]));
  });
});

describe("berth run --ha: a standby names its leader", () => {
  it("in its refusal and its log; status, events and restart pointed at the standby reach the leader", async () => {
    const id = ids("ha-follow");
    const name = `${id}-a`;
    const dir = specDir({ "a.yaml": e2eSpec(name) });
    const lease = await leaseOf("file", id);
    const env = { BERTH_API_TOKEN: TOKEN };
    const bs = [await start(id, dir, lease, env), await start(id, dir, lease, env)];
    const leader = await oneLeader(bs);
    const standby = bs.find((b) => b !== leader)!;
    await waitContainers(id, "a running", running([name]));

    // Its refusal and its /readyz say where the leader's API answers (by default its --listen address).
    const write = await fetch(`${standby.url}/v1/specs/x`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect([write.status, await write.json()]).toEqual([
      503,
      expect.objectContaining({ code: "BERTH_NOT_LEADER", leaderUrl: leader.url }),
    ]);
    expect(await (await fetch(`${standby.url}/readyz`)).json()).toMatchObject({
      role: "standby",
      term: null,
      leaderUrl: leader.url,
      leaderTerm: expect.any(Number),
    });
    expect(standby.logs).toContainEqual(
      expect.objectContaining({ msg: "standby; following the leader", url: leader.url }),
    );
    // The leader says what it listens on and what it advertises (by default, that address).
    expect(leader.logs).toContainEqual(
      expect.objectContaining({ msg: "http listening", host: "127.0.0.1", advertise: leader.url }),
    );

    const ask = ["--server", standby.url, "--id", id];
    const status = await berthWithin(["status", ...ask], env, { killAfterMs: 60_000 });
    expect([status.code, status.stderr]).toEqual([
      0,
      expect.stringContaining(`(live from the leader at ${leader.url} (the standby at ${standby.url} named it)`),
    ]);
    // The create was the leader's: a standby's own events have none.
    const events = await berthWithin(["events", "-o", "json", ...ask], env, { killAfterMs: 60_000 });
    expect(events.code).toBe(0);
    expect((JSON.parse(events.stdout) as { events: { kind: string; spec: string }[] }).events).toContainEqual(
      expect.objectContaining({ kind: "create", spec: name }),
    );

    // Without --ha beside the group: the host lock is not enough, so restart asks the API at
    // --server, and the standby there sends it on to the leader.
    const before = await docker.getContainer(name).inspect();
    const restart = await berthWithin(["restart", name, ...ask], env, { killAfterMs: 120_000 });
    expect([restart.code, restart.stdout, restart.stderr]).toEqual([
      0,
      expect.stringContaining("1 container restarted"),
      expect.stringContaining(`berth: ${standby.url} is a standby; asking the leader at ${leader.url}`),
    ]);
    const after = await docker.getContainer(name).inspect();
    // Restarted in place, by the leader: the same container, started again.
    expect([after.Id, after.State.Running]).toEqual([before.Id, true]);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);

    // With another state folder the group is not seen through the host lock: the berth at --server
    // says it is an --ha member, and restart asks it rather than writing beside its leader.
    const elsewhere = await berthWithin(["restart", name, ...ask, "--state-dir", tempDir()], env, {
      killAfterMs: 120_000,
    });
    expect([elsewhere.code, elsewhere.stderr]).toEqual([
      0,
      expect.stringContaining(`berth: ${standby.url} is a standby; asking the leader at ${leader.url}`),
    ]);

    // Nothing answering at --server: the refusal says both why it did not write and why it could not ask.
    const nowhere = await berthWithin(["restart", name, "--server", "http://127.0.0.1:9", "--id", id], env, {
      killAfterMs: 60_000,
    });
    expect([nowhere.code, nowhere.stderr]).toEqual([
      1,
      expect.stringMatching(
        /is led by an --ha group on this host.*Nor does a berth answer at http:\/\/127\.0\.0\.1:9/s,
      ),
    ]);
  });
});

describe("berth run --ha redis://", () => {
  it("a leader paused past its lease (SIGSTOP) and cut off from Redis makes no Docker write when it resumes, and becomes a standby", async () => {
    redis ??= await TestRedis.start();
    const id = ids("ha-stop");
    const x = e2eSpec(`${id}-x`);
    // The paused leader's folder gains a spec while it sleeps; the new leader's folder has another.
    const dirA = specDir({ "x.yaml": x });
    const dirB = specDir({ "x.yaml": x, "y.yaml": e2eSpec(`${id}-y`) });
    const proxy = await FaultProxy.start();
    // The old leader reaches Redis through a link that is cut while it sleeps: when it wakes, its
    // renewal hangs (up to its command timeout) while its watch already asks for a pass — the
    // fence alone stands between that pass and the engine.
    const link = await TcpProxy.start(redis.port);
    try {
      const a = await start(id, dirA, `redis://127.0.0.1:${link.port}/0`, { DOCKER_HOST: proxy.dockerHost });
      expect(await pollUntil(async () => (await roleOf(a)) === "leader", 20_000)).toBe(true);
      await waitContainers(id, "x running", running([`${id}-x`]));
      const b = await start(id, dirB, redis.url());
      expect(await roleOf(b)).toBe("standby");

      a.child.kill("SIGSTOP");
      link.stall();
      let resumedAt: number;
      try {
        expect(await pollUntil(async () => (await roleOf(b)) === "leader", 20_000)).toBe(true);
        await waitContainers(id, "y made by the new leader", running([`${id}-x`, `${id}-y`]));
        writeFileSync(path.join(dirA, "z.yaml"), e2eSpec(`${id}-z`));
      } finally {
        resumedAt = proxy.seen.length;
        a.child.kill("SIGCONT");
      }
      expect(await a.waitForLog("stepped down; standby", 20_000)).toBe(true);
      link.resume();
      // Its watch saw z.yaml and its passes planned to create z and remove y.
      expect(await knows(a, `${id}-z`)).toBe(true);
      const writes = proxy.seen.slice(resumedAt).filter((s) => s.method !== "GET" && s.method !== "HEAD");
      expect(writes, "Docker writes of the old leader after it resumed").toEqual([]);
      expect(await roleOf(a)).toBe("standby");
      expect(await roleOf(b)).toBe("leader");
      expect((await containersOf(id)).map((c) => c.name)).toEqual([`${id}-x`, `${id}-y`]);
      noOverlap([a, b]);
    } finally {
      await link.close();
      await proxy.close();
    }
  });

  it("Redis killed: the leader steps down within the TTL and no one writes; Redis back empty: one leads, in a higher term", async () => {
    redis ??= await TestRedis.start();
    const id = ids("ha-redis");
    const dir = specDir({ "a.yaml": e2eSpec(`${id}-a`) });
    const bs = [await start(id, dir, redis.url()), await start(id, dir, redis.url())];
    const first = await oneLeader(bs);
    await waitContainers(id, "a running", running([`${id}-a`]));
    const firstTerm = Number(first.logs.find((l) => l.msg === "leading")?.term);

    await redis.kill();
    const killedAt = Date.now();
    expect(await pollUntil(async () => (await roleOf(first)) === "standby", TTL_MS + 10_000)).toBe(true);
    expect(first.logs.some((l) => l.msg === "stepped down; standby")).toBe(true);
    const steppedAt = Number(first.logs.find((l) => l.msg === "stepped down; standby")?.time);
    // Stepped down by its own deadline: the TTL less the margin after its last renewal (due 0.6 s
    // before killedAt + TTL at the latest; 3 s of slack for a loaded machine's timers).
    expect(steppedAt - killedAt).toBeLessThanOrEqual(TTL_MS + 3_000);
    const ready = (await (await fetch(`${first.url}/readyz?role=leader`)).json()) as { reason: string };
    expect(ready.reason).toMatch(/lease store does not answer/);

    writeFileSync(path.join(dir, "b.yaml"), e2eSpec(`${id}-b`));
    for (const b of bs) expect(await knows(b, `${id}-b`)).toBe(true);
    expect((await containersOf(id)).map((c) => c.name)).toEqual([`${id}-a`]);

    const mark = bs.map((b) => b.logs.length);
    await redis.restart();
    const next = await oneLeader(bs, TTL_MS + 20_000);
    await waitContainers(id, "b made once Redis is back", running([`${id}-a`, `${id}-b`]));
    const nextTerm = Number(next.logs.filter((l) => l.msg === "leading").at(-1)?.term);
    expect(nextTerm).toBeGreaterThan(firstTerm);
    // The store came back empty: the new term waited one TTL before its first write.
    const since = next.logs.slice(mark[bs.indexOf(next)]);
    expect(since.some((l) => l.msg === "lease taken in a store without earlier terms; first write after one TTL")).toBe(
      true,
    );
    noOverlap(bs);
  });

  it("refuses at start what can never work: a wrong password (not shown), a database Redis refuses, a lock folder not there", async () => {
    const locked = await TestRedis.start("s3cret-pass");
    try {
      const id = ids("ha-auth");
      const dir = specDir({ "a.yaml": e2eSpec(`${id}-a`) });
      const run = (ha: string) =>
        berthWithin(["run", "-f", dir, "--id", id, "--ha", ha, ...TIMING], {}, { killAfterMs: 30_000 });
      const wrong = await run(`redis://:wrong-pass@127.0.0.1:${locked.port}/0`);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/Redis refused the password/);
      expect(wrong.stdout + wrong.stderr).not.toContain("wrong-pass");
      const db = await run(`redis://:s3cret-pass@127.0.0.1:${locked.port}/99`);
      expect(db.code).toBe(1);
      expect(db.stderr).toMatch(/Redis refused database 99 \(ERR DB index is out of range\)/);
      const missing = path.join(tempDir(), "no-such-dir");
      const folder = await run(`file:${missing}/x.lock`);
      expect(folder.code).toBe(1);
      expect(folder.stderr).toMatch(/does not exist; create it first/);
      expect((await containersOf(id)).length).toBe(0);
    } finally {
      await locked.kill();
    }
  });
});
