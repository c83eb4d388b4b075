/**
 * The clock edge: the only place that reads the time or arms timers. Tests use FakeClock
 * (test/support/fake-clock.ts) instead.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once, at `at` (epoch ms) or as soon after as possible. */
  at(at: number, fn: () => void): Timer;
}

/** setTimeout overflows (fires at once) past 2^31-1 ms, about 24.8 days; longer waits re-arm. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Resolves once `ms` have passed on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.at(clock.now() + ms, resolve));
}

export const systemClock: Clock = {
  now: () => Date.now(),
  at(at, fn) {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const delay = at - Date.now();
      if (delay > MAX_DELAY_MS) {
        handle = setTimeout(arm, MAX_DELAY_MS);
      } else {
        handle = setTimeout(
          () => {
            if (!cancelled) fn();
          },
          Math.max(0, delay),
        );
      }
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        clearTimeout(handle);
      },
    };
  },
};
