/**
 * When `berth run --target swarm` makes its next pass: at a time (the resync, the next expiry, a
 * follow-up, a look at a service that settles), or at once when asked (the watch, an API write, a
 * new Git revision, a service event, a signal). A request made while
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

/**
 * How soon to look again while a service settles (its tasks not all running yet, a rolling
 * update): Swarm reports progress through its task list, which only a pass reads. The first look
 * comes after `firstMs`, then twice as long each pass it still settles, at most `maxMs`, so that
 * the status turns Running soon after the tasks do, without a pass a second for a service that
 * cannot be placed. null: nothing settles.
 */
export class SettleBackoff {
  private streak = 0;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {}

  after(settling: boolean): number | null {
    if (!settling) {
      this.streak = 0;
      return null;
    }
    const ms = Math.min(this.maxMs, this.firstMs * 2 ** this.streak);
    this.streak++;
    return ms;
  }
}
