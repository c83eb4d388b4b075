/**
 * Passes, one at a time: a request arms a pass after a coalescing delay; requests made while a
 * pass runs collapse into one more; a shorter request brings an armed pass forward. Triggers only
 * ask; what a pass does never depends on who asked.
 */
import type { Clock, Timer } from "../util/clock.js";

export class PassQueue {
  private pending: { reload: boolean } | null = null;
  private running: Promise<void> | null = null;
  private timer: Timer | null = null;
  private armedFor = 0;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    /** One pass; it handles its own failure. */
    private readonly runPass: (reload: boolean) => Promise<void>,
  ) {}

  /** A pass is running now. */
  get passing(): boolean {
    return this.running !== null;
  }

  /** Asks for a pass (re-reading the specs when `reload`) in `delayMs`. */
  request(reload: boolean, delayMs: number): void {
    if (this.stopped) return;
    this.pending = { reload: (this.pending?.reload ?? false) || reload };
    if (this.running) return;
    const at = this.clock.now() + delayMs;
    // A pass already armed for sooner stays; one armed for later is brought forward.
    if (this.timer && this.armedFor <= at) return;
    this.timer?.cancel();
    this.armedFor = at;
    this.timer = this.clock.at(at, () => {
      this.timer = null;
      this.running = this.drainPending().finally(() => {
        this.running = null;
      });
    });
  }

  private async drainPending(): Promise<void> {
    while (this.pending && !this.stopped) {
      const { reload } = this.pending;
      this.pending = null;
      await this.runPass(reload);
    }
  }

  /** Resolves when no pass is running or armed. */
  async idle(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running;
      else await new Promise<void>((resolve) => this.clock.at(this.clock.now() + 5, resolve));
    }
  }

  /** Takes no more requests and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = null;
    this.timer?.cancel();
    this.timer = null;
    if (this.running) await this.running;
  }
}
