/**
 * The election and its fence, on an in-memory lease store and a hand-driven clock: who leads,
 * when a leader stops writing, and what a store that lost its terms costs.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { AcquireResult, LeaseHolder, LeaseStore } from "../../../src/core/lease.js";
import { Leadership, type Role } from "../../../src/loop/leadership.js";

/** One store shared by the candidates, with a clock of its own (the tests move it). */
class MemoryStore {
  lease: { holder: string; term: number; expiresAt: number } | null = null;
  counter = 0;
  down = false;
  now = 0;
  readonly releasedListeners: (() => void)[] = [];

  view(): LeaseStore {
    const check = (): void => {
      if (this.down) throw new Error("connection refused");
    };
    const live = () => (this.lease && this.lease.expiresAt > this.now ? this.lease : null);
    return {
      where: "memory",
      acquire: async (holder, ttlMs, seen): Promise<AcquireResult> => {
        check();
        const current = live();
        if (current) return { acquired: false, current: { holder: current.holder, term: current.term } };
        this.counter++;
        const counter = this.counter;
        const term = counter > seen ? counter : seen + 1;
        this.counter = term;
        this.lease = { holder, term, expiresAt: this.now + ttlMs };
        return Promise.resolve({ acquired: true, term, fresh: counter === 1 || counter <= seen });
      },
      renew: async (lease: LeaseHolder, ttlMs) => {
        check();
        const current = live();
        if (!current || current.holder !== lease.holder || current.term !== lease.term) return false;
        current.expiresAt = this.now + ttlMs;
        return Promise.resolve(true);
      },
      release: async (lease) => {
        check();
        if (this.lease?.holder === lease.holder && this.lease.term === lease.term) this.lease = null;
        for (const f of this.releasedListeners) f();
        return Promise.resolve();
      },
      onReleased: (fn) => this.releasedListeners.push(fn),
      close: () => Promise.resolve(),
    };
  }
}

const TIMING = { ttlMs: 10_000, renewMs: 2_000 };

/** A logger at info whose lines are kept, parsed. */
function logged(): { lines: Record<string, unknown>[]; logger: pino.Logger } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, sink) };
}
const log = pino({ level: "silent" });

function candidate(
  store: MemoryStore,
  holder: string,
  clock: { now: number },
  writerBeside?: () => Promise<string | null>,
  logger: pino.Logger = log,
) {
  const roles: Role[] = [];
  const leadership = new Leadership({
    store: store.view(),
    timing: TIMING,
    holder,
    log: logger,
    monotonic: () => clock.now,
    // Ticks are driven by hand (tick()); nothing is scheduled.
    schedule: () => ({ cancel: () => undefined }),
    onRole: (role) => roles.push(role),
    ...(writerBeside ? { writerBeside } : {}),
  });
  const tick = () => (leadership as unknown as { tick(): Promise<void> }).tick();
  return { leadership, roles, tick };
}

describe("Leadership", () => {
  it("one leads; the other stays a standby and the fence refuses its writes", async () => {
    const store = new MemoryStore();
    store.counter = 3;
    const clock = { now: 0 };
    const a = candidate(store, "a", clock);
    const b = candidate(store, "b", clock);
    await a.tick();
    await b.tick();
    expect([a.leadership.role, b.leadership.role]).toEqual(["leader", "standby"]);
    expect(a.leadership.admit("create", "web")).toBe(4);
    expect(() => b.leadership.admit("create", "web")).toThrow(expect.objectContaining({ code: "BERTH_NOT_LEADER" }));
    expect(b.leadership.status()).toMatchObject({ role: "standby", leader: "a", term: null });
  });

  it("does not lead while a berth without --ha holds the host lock, also when that one came between its look and its lease", async () => {
    const store = new MemoryStore();
    store.counter = 3;
    const clock = { now: 0 };
    let plain: string | null = "berth (run, pid 7)";
    const looks: (string | null)[] = [];
    const a = candidate(store, "a", clock, () => {
      looks.push(plain);
      return Promise.resolve(plain);
    });
    await a.tick();
    expect(a.leadership.role).toBe("standby");
    expect(a.leadership.status().blockedBy).toBe("berth (run, pid 7)");
    expect(store.lease).toBeNull();
    expect(() => a.leadership.admit("create", "web")).toThrow(expect.objectContaining({ code: "BERTH_NOT_LEADER" }));

    // Free at the first look, taken by the time the lease is: the lease is let go, nothing written.
    let seen = 0;
    const b = candidate(store, "b", clock, () => Promise.resolve(seen++ === 0 ? null : "berth (apply, pid 8)"));
    await b.tick();
    expect([b.leadership.role, b.leadership.holdsLease(), store.lease]).toEqual(["standby", false, null]);
    expect(b.roles).toEqual([]);

    plain = null;
    await a.tick();
    expect([a.leadership.role, a.leadership.status().blockedBy, a.roles]).toEqual(["leader", null, ["leader"]]);
    expect(looks).toEqual(["berth (run, pid 7)", null, null]);
  });

  it("a leader whose renewals stop writes nothing after its deadline (TTL less the margin), even before any timer runs", async () => {
    const store = new MemoryStore();
    store.counter = 1;
    const clock = { now: 0 };
    const a = candidate(store, "a", clock);
    await a.tick();
    clock.now = 7_999;
    expect(a.leadership.admit("start", "web")).toBe(2);
    // Paused: no tick ran; the clock moved past the deadline (sent at 0 + 10 s − 2 s).
    clock.now = 8_000;
    expect(() => a.leadership.admit("start", "web")).toThrow(/not renewed in time/);
    expect(a.leadership.role).toBe("standby");
    expect(a.roles).toEqual(["leader", "standby"]);
  });

  it("renewals move the deadline; a lease taken by another makes the leader step down at its next try", async () => {
    const store = new MemoryStore();
    store.counter = 1;
    const clock = { now: 0 };
    const a = candidate(store, "a", clock);
    await a.tick();
    clock.now = store.now = 6_000;
    await a.tick();
    clock.now = 13_000;
    expect(a.leadership.admit("stop", "web")).toBe(2);
    store.lease = { holder: "b", term: 3, expiresAt: 1e9 };
    await a.tick();
    expect(a.leadership.role).toBe("standby");
  });

  it("with the store down a leader keeps its term until the deadline, then steps down and says why", async () => {
    const store = new MemoryStore();
    store.counter = 1;
    const clock = { now: 0 };
    const a = candidate(store, "a", clock);
    await a.tick();
    store.down = true;
    clock.now = 4_000;
    await a.tick();
    expect(a.leadership.role).toBe("leader");
    expect(a.leadership.status().storeError).toMatch(/connection refused/);
    clock.now = 8_000;
    await a.tick();
    expect(a.leadership.role).toBe("standby");
  });

  it("a term in a store without earlier terms waits one TTL before its first write", async () => {
    const store = new MemoryStore();
    const clock = { now: 0 };
    const a = candidate(store, "a", clock);
    await a.tick();
    expect(a.leadership.role).toBe("standby");
    expect(() => a.leadership.admit("create", "web")).toThrow(/waits one TTL/);
    clock.now = store.now = 2_000;
    await a.tick();
    expect(a.leadership.role).toBe("standby");
    clock.now = store.now = 10_000;
    await a.tick();
    expect(a.leadership.role).toBe("leader");
    expect(a.leadership.admit("create", "web")).toBe(1);
  });

  it("a standby that saw term 5 takes a store that lost its data in term 6, after one TTL", async () => {
    const store = new MemoryStore();
    store.counter = 4;
    const clock = { now: 0 };
    const a = candidate(store, "a", clock);
    const b = candidate(store, "b", clock);
    await a.tick();
    await b.tick();
    // Redis restarted empty.
    store.lease = null;
    store.counter = 0;
    await b.tick();
    expect(b.leadership.role).toBe("standby");
    // Holding a first term that waits: says when it writes, and names no address to send writes to.
    expect(b.leadership.status()).toMatchObject({ leaderUrl: null, firstWriteInMs: 10_000 });
    for (const t of [2_000, 4_000, 6_000, 8_000]) {
      clock.now = store.now = t;
      await b.tick();
      expect(b.leadership.role).toBe("standby");
    }
    clock.now = store.now = 10_000;
    await b.tick();
    expect(b.leadership.status()).toMatchObject({ role: "leader", term: 6 });
    // The old leader learns at its next renewal.
    await a.tick();
    expect(a.leadership.role).toBe("standby");
  });

  it("stop releases the lease and a standby hears it", async () => {
    const store = new MemoryStore();
    store.counter = 1;
    const clock = { now: 0 };
    const a = candidate(store, "a", clock);
    const b = candidate(store, "b", clock);
    await a.tick();
    await b.tick();
    await a.leadership.stop();
    expect(store.lease).toBeNull();
    await b.tick();
    expect(b.leadership.role).toBe("leader");
  });

  it("writes where its API answers with its name; a standby says who leads and where, once per leader", async () => {
    const store = new MemoryStore();
    store.counter = 1;
    const clock = { now: 0 };
    const { lines, logger } = logged();
    const a = candidate(store, "host-a/1/run/aa", clock);
    const b = candidate(store, "host-b/2/run/bb", clock, undefined, logger);
    a.leadership.advertise("http://10.0.0.5:7435");
    await a.tick();
    expect(store.lease?.holder).toBe("host-a/1/run/aa@http://10.0.0.5:7435");
    expect(a.leadership.status()).toMatchObject({ leader: "host-a/1/run/aa", leaderUrl: "http://10.0.0.5:7435" });
    await b.tick();
    await b.tick();
    expect(b.leadership.status()).toMatchObject({
      role: "standby",
      term: null,
      leader: "host-a/1/run/aa",
      leaderUrl: "http://10.0.0.5:7435",
      leaderTerm: 2,
    });
    const following = () => lines.filter((l) => l.msg === "standby; following the leader");
    expect(following()).toEqual([
      expect.objectContaining({ leader: "host-a/1/run/aa", url: "http://10.0.0.5:7435", term: 2 }),
    ]);
    // Another leader (a never advertised its API here: an older berth, or --listen off) is told again.
    await a.leadership.stop();
    const c = candidate(store, "host-c/3/apply/cc", clock);
    await c.tick();
    await b.tick();
    expect(following().map((l) => [l.leader, l.url ?? null])).toEqual([
      ["host-a/1/run/aa", "http://10.0.0.5:7435"],
      ["host-c/3/apply/cc", null],
    ]);
    expect(b.leadership.status().leaderUrl).toBeNull();
    expect(() => c.leadership.advertise("http://h:1")).toThrow(/after start/);
  });

  it("a standby whose store does not answer names no leader; one that sees its own address is warned", async () => {
    const store = new MemoryStore();
    store.counter = 1;
    const clock = { now: 0 };
    const { lines, logger } = logged();
    const a = candidate(store, "host-a/1/run/aa", clock);
    const b = candidate(store, "host-b/2/run/bb", clock, undefined, logger);
    a.leadership.advertise("http://127.0.0.1:7435");
    b.leadership.advertise("http://127.0.0.1:7435");
    await a.tick();
    await b.tick();
    expect(b.leadership.status()).toMatchObject({ leader: "host-a/1/run/aa", leaderUrl: "http://127.0.0.1:7435" });
    expect(lines.map((l) => l.msg)).toContain(
      "the leader advertises this berth's own --ha-advertise: give each berth its own, or the CLI is sent in circles",
    );
    store.down = true;
    await b.tick();
    expect(b.leadership.status()).toMatchObject({
      leader: null,
      leaderUrl: null,
      leaderTerm: null,
      storeError: expect.any(String),
    });
  });
});
