/**
 * A clock the test moves by hand. `advance(ms)` fires every timer due on the way, in order,
 * letting promises settle between timers so that chains of async work run as they would.
 */
import type { Clock, Timer } from "../../src/util/clock.js";

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets every queued promise callback run (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Waits in real time (bounded) while `busy` holds: work doing real I/O, such as reading spec files. */
async function quiesce(busy: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  await settle();
  while (busy() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await settle();
  }
}

export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers: Pending[] = [];
  /** Real-time work to wait for before fake time moves on (set by the harness). */
  busy: () => boolean = () => false;

  constructor(start = Date.UTC(2026, 10, 23, 12, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  at(at: number, fn: () => void): Timer {
    const timer: Pending = { at, seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers not yet fired nor cancelled, soonest first. */
  pending(): number[] {
    return this.timers
      .filter((t) => !t.cancelled)
      .map((t) => t.at)
      .sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await quiesce(this.busy);
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.current = Math.max(this.current, due.at);
      due.fn();
      await quiesce(this.busy);
    }
    this.current = target;
    await quiesce(this.busy);
  }

  /** Advances in steps until `check` holds or `maxMs` of fake time passes. */
  async until(check: () => boolean, maxMs: number, stepMs = 10): Promise<boolean> {
    for (let t = 0; t <= maxMs; t += stepMs) {
      if (check()) return true;
      await this.advance(stepMs);
    }
    return check();
  }
}
