/**
 * When `berth apply` is done: every spec converged (running, and healthy where it has a check), or
 * nothing left that more waiting would change (every waiting spec failed terminally or used up its
 * attempts).
 */
import { waitingForRoom } from "../core/plan/render.js";
import type { PassResult } from "../loop/reconciler.js";

/** How long apply waits: --timeout in all, and --stable-for (0: not asked) once converged. */
export interface ApplyWait {
  readonly timeoutMs: number;
  readonly stableForMs: number;
  /** When apply began (epoch ms): a long-running container's exit from then on is a crash. */
  readonly since: number;
}

/** Failed attempts of one spec after which apply stops waiting for it. */
export const APPLY_MAX_ATTEMPTS = 3;

const FAILED_PHASES = new Set(["Failed", "Invalid", "Conflict"]);

const settling = (result: PassResult): number =>
  result.report.specs.filter((spec) => spec.phase === "Pending" || spec.phase === "Updating").length;

/** Specs waiting for room on the host (docs/capacity.md): nothing apply does frees it. */
const unschedulable = (result: PassResult): number => waitingForRoom(result.plan.notes);

/** True when the pass leaves nothing to wait for. */
export function applyDone(result: PassResult, maxAttempts = APPLY_MAX_ATTEMPTS): boolean {
  if (result.inFlight > 0 || result.started.length > 0) return false;
  if (result.plan.actions.length === 0 && settling(result) === unschedulable(result)) return true;
  return (
    result.waiting.length > 0 &&
    result.waiting.every((w) => w.why === "terminal" || (w.why === "backoff" && w.attempts >= maxAttempts))
  );
}

/**
 * The outcome: specs that failed, changes still pending, and the problems in the spec files (a
 * file that does not parse or cannot be read names no spec, yet apply has not done what it says).
 */
export function applyOutcome(result: PassResult): ApplyOutcome {
  const waiting = unschedulable(result);
  return {
    failed: result.report.specs.filter((s) => FAILED_PHASES.has(s.phase)).length,
    pending: result.plan.actions.length + settling(result),
    problems: result.snapshot.issues.length,
    ...(waiting > 0 ? { unschedulable: waiting } : {}),
  };
}

export interface ApplyOutcome {
  readonly failed: number;
  readonly pending: number;
  readonly problems: number;
  /** Of the pending, specs that wait for room on the host (--capacity); absent: none. */
  readonly unschedulable?: number;
}

export const isConverged = (o: ApplyOutcome): boolean => o.failed === 0 && o.pending === 0 && o.problems === 0;

/** apply's last line when it did not converge. */
export function notConverged(o: ApplyOutcome): string {
  const problems = o.problems > 0 ? `, ${o.problems} problem(s) in the spec files (above)` : "";
  const room =
    o.unschedulable === undefined
      ? ""
      : ` (${o.unschedulable} spec(s) wait for room on the host, Unschedulable: nothing apply does frees it; see --capacity)`;
  return `not converged: ${o.failed} spec(s) failed, ${o.pending} change(s) left${room}${problems}\n`;
}
