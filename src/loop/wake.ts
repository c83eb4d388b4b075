/** One timer for the next time-driven pass: an expiry, a retry, a reaping, or a recovery. */
import type { Clock, Timer } from "../util/clock.js";

export class Wake {
  private timer: Timer | null = null;
  private armedAt: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly fire: () => void,
  ) {}

  /** When it fires next; null when unarmed. */
  get at(): number | null {
    return this.armedAt;
  }

  /** Fires at `at` (null: never); replaces the previous time. */
  arm(at: number | null): void {
    if (at === this.armedAt) return;
    this.cancel();
    this.armedAt = at;
    if (at === null) return;
    this.timer = this.clock.at(at, () => {
      this.timer = null;
      this.armedAt = null;
      this.fire();
    });
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = null;
    this.armedAt = null;
  }
}
