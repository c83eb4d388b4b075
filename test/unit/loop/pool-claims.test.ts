/**
 * How a claim waiting for a member made cold for it follows the passes (src/ops/pools.ts over
 * src/loop/pass-marks.ts), on a fake clock with the passes driven by hand and the pool's members
 * held in memory: a pass that completes while the claim looks wakes it again at once (no lost
 * wakeup); a pass that fails does not count; only a pass that began after its demand was held may
 * end it as unschedulable. Against the real engine: test/docker/pools.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { ObservedContainer } from "../../../src/core/observed.js";
import { ownership } from "../../../src/core/ownership.js";
import type { ClaimRecord } from "../../../src/core/pool.js";
import { memoryPools } from "../../support/claims.js";
import type { SpecStatus } from "../../../src/core/status.js";
import { PassMarks } from "../../../src/loop/pass-marks.js";
import type { ClaimExpiry, ClaimOutcome } from "../../../src/ops/pools.js";
import { FakeClock, settle } from "../../support/fake-clock.js";
import { container, CONTROLLER, desired, KEYS } from "../../support/plan-fixtures.js";
import { specStatus } from "../../support/spec-status.js";

const WAIT_MS = 60_000;
const web = desired("web", { extra: ["pool: { size: 0 }"] });

/** A pool of size 0 (every member made cold for a claim) and the passes, driven by the test. */
function world() {
  const clock = new FakeClock();
  const passes = new PassMarks(clock);
  const members: ObservedContainer[] = [];
  const records: ClaimRecord[] = [];
  let status: SpecStatus | undefined = specStatus({ name: "web" });
  /** Runs while the claim looks, once. */
  let duringLook: (() => void) | null = null;
  const asked: number[] = [];
  const pools = memoryPools(records, {
    docker: {
      // The hook runs as the claim looks: after the list it looks at was taken.
      listContainers: () => {
        const seen = [...members];
        const hook = duringLook;
        duringLook = null;
        hook?.();
        return Promise.resolve(seen);
      },
      removeContainer: () => Promise.resolve(),
    },
    owner: ownership(KEYS, CONTROLLER),
    desired: (name) => (name === "web" ? { spec: web.spec, hash: web.hash } : null),
    status: () => status,
    passes,
    requestPass: () => asked.push(clock.now()),
    clock,
  });
  return {
    clock,
    passes,
    asked,
    /** A pass makes the member the claim asked for: running, of the spec's version. */
    memberMade: () => members.push(container(web, { name: "web-0", replica: 0 })),
    setStatus: (s: SpecStatus | undefined) => (status = s),
    whileLooking: (fn: () => void) => (duringLook = fn),
    /** Starts a claim (until released unless `expires` says); `answer()` is its outcome once it has one. */
    claim: (expires: ClaimExpiry = null) => {
      let outcome: ClaimOutcome | undefined;
      void pools.claim("web", { name: "a", expires, waitMs: WAIT_MS }).then((o) => (outcome = o));
      return () => outcome;
    },
  };
}

/** A whole pass: begins, and completes (or fails: begins only). */
function pass(passes: PassMarks, completed = true): void {
  passes.begin();
  if (completed) passes.complete();
}

describe("a claim waiting for a cold member", () => {
  it("is woken by a pass that completed while it looked, not left until its wait is up", async () => {
    const w = world();
    // While the claim looks (finds no member), a pass makes one and ends: it must look again.
    w.whileLooking(() => {
      w.memberMade();
      pass(w.passes);
    });
    const answer = w.claim();
    await settle();
    expect(answer()).toMatchObject({ kind: "claimed", claim: { claim: "a", name: "web-0" } });
    expect(w.clock.now() - Date.UTC(2026, 10, 23, 12, 0, 0)).toBe(0);
  });

  it("waits through a pass that fails, and is served by the next that completes", async () => {
    const w = world();
    const answer = w.claim();
    await settle();
    expect(w.asked).toHaveLength(1);
    expect(answer()).toBeUndefined();
    pass(w.passes, false);
    await settle();
    expect(answer()).toBeUndefined();
    w.memberMade();
    pass(w.passes);
    await settle();
    expect(answer()).toMatchObject({ kind: "claimed", claim: { name: "web-0" } });
  });

  it("ends as unschedulable only on the status of a pass that began after its demand was held", async () => {
    const w = world();
    const unschedulable = specStatus({ name: "web", message: "Unschedulable: needs memory 2Gi, 1Gi free" });
    // A pass already under way when the claim asks: its status predates the claim's demand.
    w.passes.begin();
    const answer = w.claim();
    await settle();
    w.setStatus(unschedulable);
    w.passes.complete();
    await settle();
    expect(answer()).toBeUndefined();
    // The next pass planned with the demand, and saw no room: the claim ends at once, with the reason.
    pass(w.passes);
    await settle();
    expect(answer()).toMatchObject({
      kind: "unavailable",
      reason: "no ready member of pool web (0 of 1 members ready): Unschedulable: needs memory 2Gi, 1Gi free",
    });
  });

  it("answers 503 when its wait is up and no pass made a member", async () => {
    const w = world();
    const answer = w.claim();
    await settle();
    await w.clock.advance(WAIT_MS - 1);
    expect(answer()).toBeUndefined();
    await w.clock.advance(1);
    expect(answer()).toMatchObject({
      kind: "unavailable",
      reason: "no ready member of pool web (0 of 1 members ready)",
    });
  });
});

describe("a claim's time to live", () => {
  const START = Date.UTC(2026, 10, 23, 12, 0, 0);

  it("counts a ttl from when the member is claimed, not from the request that waited for it", async () => {
    const w = world();
    const answer = w.claim({ afterMs: 10_000 });
    await settle();
    // The member is made 20 s later, after a ttl counted from the request would have ended.
    await w.clock.advance(20_000);
    w.memberMade();
    pass(w.passes);
    await settle();
    expect(answer()).toMatchObject({
      kind: "claimed",
      claim: {
        claimedAt: new Date(START + 20_000).toISOString(),
        expiresAt: new Date(START + 30_000).toISOString(),
      },
    });
  });

  it("waits for a member no longer than its expiresAt, and says that is why it ends", async () => {
    const w = world();
    const answer = w.claim({ at: START + 5_000 });
    await settle();
    await w.clock.advance(4_999);
    expect(answer()).toBeUndefined();
    await w.clock.advance(1);
    expect(answer()).toMatchObject({
      kind: "unavailable",
      reason: "no ready member of pool web (0 of 1 members ready); the claim's expiresAt came while it waited",
    });
  });

  it("keeps an expiresAt as given when a member is ready", async () => {
    const w = world();
    w.memberMade();
    const answer = w.claim({ at: START + 5_000 });
    await settle();
    expect(answer()).toMatchObject({
      kind: "claimed",
      claim: { claimedAt: new Date(START).toISOString(), expiresAt: new Date(START + 5_000).toISOString() },
    });
  });
});
