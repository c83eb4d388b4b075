/**
 * The passes as a claim waits on them (ops/pools.ts): how many began and how many completed, so
 * that a claim waits for a pass that completes after it last looked (one that completed while it
 * looked is not missed), and can tell whether the last pass that completed began after its demand
 * was held (so its status was planned with it). A pass that fails is not waited for: the
 * controller looks again after its reconnect backoff, and the claim with the pass that completes.
 * Passes run one at a time (loop/pass-queue.ts).
 */
import type { Clock } from "../util/clock.js";

export interface PassMark {
  /** Passes begun so far. */
  readonly began: number;
  /** Passes completed so far. */
  readonly completed: number;
}

export class PassMarks {
  private began = 0;
  private completed = 0;
  /** The number (in order of beginning) of the last pass that completed; 0: none yet. */
  private lastCompleted = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  /** A pass begins. */
  begin(): void {
    this.began++;
  }

  /** The pass that began last completed: wakes who waits for a pass. */
  complete(): void {
    this.completed++;
    this.lastCompleted = this.began;
    for (const wake of [...this.waiters]) wake();
  }

  mark(): PassMark {
    return { began: this.began, completed: this.completed };
  }

  /** The last pass that completed began after `began` passes had (after that mark was taken). */
  completedSince(began: number): boolean {
    return this.lastCompleted > began;
  }

  /** Resolves once more than `completed` passes have completed (at once if they have), or after `ms`. */
  after(completed: number, ms: number): Promise<void> {
    if (this.completed > completed || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel();
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
      // ms > 0: a clock never calls back within `at`, so `timer` is set before `done` can run.
      const timer = this.clock.at(this.clock.now() + ms, done);
    });
  }
}
