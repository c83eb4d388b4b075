/** When `berth run --target swarm` passes next (loop/swarm-wake.ts), on a fake clock. */
import { describe, expect, it } from "vitest";
import { SettleBackoff, SwarmWake } from "../../../src/loop/swarm-wake.js";
import { FakeClock, settle } from "../../support/fake-clock.js";

/** Whether the promise has resolved, after the queued callbacks ran. */
async function resolved(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await settle();
  return done;
}

describe("SwarmWake", () => {
  it("waits until the time when nothing asks", async () => {
    const clock = new FakeClock();
    const wake = new SwarmWake(clock);
    wake.passing();
    const waiting = wake.until(clock.now() + 30_000);
    expect(await resolved(waiting)).toBe(false);
    await clock.advance(29_999);
    expect(await resolved(waiting)).toBe(false);
    await clock.advance(1);
    expect(await resolved(waiting)).toBe(true);
  });

  it("ends the wait when a pass is asked for, and cancels its timer", async () => {
    const clock = new FakeClock();
    const wake = new SwarmWake(clock);
    wake.passing();
    const waiting = wake.until(clock.now() + 30_000);
    wake.request();
    expect(await resolved(waiting)).toBe(true);
    expect(clock.pending()).toEqual([]);
  });

  it("keeps a request made during a pass: the wait after it returns at once", async () => {
    const clock = new FakeClock();
    const wake = new SwarmWake(clock);
    wake.passing();
    wake.request(); // a new revision while the pass runs
    expect(await resolved(wake.until(clock.now() + 30_000))).toBe(true);
    // The next pass serves it; then the wait is a wait again.
    wake.passing();
    expect(await resolved(wake.until(clock.now() + 30_000))).toBe(false);
  });
});

describe("SettleBackoff", () => {
  it("looks again after 1 s, twice as long each pass a service still settles, at most the cap; from 1 s again after", () => {
    const backoff = new SettleBackoff(1_000, 30_000);
    const waits = [true, true, true, true, true, true, true].map((s) => backoff.after(s));
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(backoff.after(false)).toBeNull();
    expect(backoff.after(true)).toBe(1_000);
  });
});
