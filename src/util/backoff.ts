/**
 * Exponential backoff, the one formula berth waits by: base·2^(attempt-1), jittered ±25 %,
 * capped. Failed operations of a spec, failed passes and a broken events stream all use it, each
 * with its own policy.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** [0, 1): the jitter source (Math.random, a seeded one in tests, or () => 0.5 for none). */
  readonly random: () => number;
}

/** Failed operations of a spec: 1 s → 5 min, jittered. */
export const OPERATION_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 5 * 60_000, random: Math.random };

/** Reconnecting to the engine (failed passes, the events stream): 1 s → 30 s, no jitter. */
export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 30_000, random: () => 0.5 };

/** The delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const exact = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.min(policy.maxMs, Math.round(exact * (0.75 + 0.5 * policy.random())));
}
