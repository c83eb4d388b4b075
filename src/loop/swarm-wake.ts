/**
 * When `berth run --target swarm` makes its next pass: at a time (the resync, the next expiry, a
 * follow-up), or at once when asked (the watch, a new Git revision, a signal). A request made while
 * a pass runs is kept, so the wait after that pass returns at once: a pass never misses what
 * arrived while it ran.
 */
import type { Clock } from "../util/clock.js";

export class SwarmWake {
  private requested = false;
  private wake: (() => void) | null = null;

  constructor(private readonly clock: Clock) {}

  /** Asks for a pass: ends the wait under way, or the next one at once. */
  request(): void {
    this.requested = true;
    this.wake?.();
  }

  /** A pass begins: it serves every request made until now. */
  passing(): void {
    this.requested = false;
  }

  /** Resolves at `at` (epoch ms), or when a pass is asked for; at once when one was since passing(). */
  until(at: number): Promise<void> {
    if (this.requested) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.at(at, () => {
        this.wake = null;
        resolve();
      });
      this.wake = () => {
        this.wake = null;
        timer.cancel();
        resolve();
      };
    });
  }
}
