/** When `berth run --target swarm` passes next (loop/swarm-wake.ts), on a fake clock. */
import { describe, expect, it } from "vitest";
import { SwarmWake } from "../../../src/loop/swarm-wake.js";
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
