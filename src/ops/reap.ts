/**
 * `berth reap`: remove expired containers now — berth's own (through the executor, as the loop
 * would) and, with --reap-label, other tools' (through the reaper) — or only say which.
 */
import { shortId } from "../core/observed.js";
import type { Action } from "../core/plan/plan.js";
import type { Executor } from "../loop/executor.js";
import type { Reaper } from "../loop/reaper.js";
import type { Reconciler } from "../loop/reconciler.js";

export interface Reaped {
  /** `NAME [SHORT-ID]` */
  readonly container: string;
  /** Why it expired: `expired` (its spec's expiresAt) or `LABEL=VALUE`. */
  readonly why: string;
  /** Why it could not be removed; null when it was (or, dry, would be). */
  readonly error: string | null;
}

export async function reapExpired(
  parts: {
    readonly reconciler: Pick<Reconciler, "pass">;
    readonly executor: Pick<Executor, "run">;
    readonly reaper: Pick<Reaper, "sweep">;
  },
  now: number,
  dryRun: boolean,
): Promise<Reaped[]> {
  const result = await parts.reconciler.pass({ reload: true });
  const expired = result.plan.actions.filter(
    (a): a is Extract<Action, { kind: "remove" }> => a.kind === "remove" && a.reason === "expired",
  );
  const out: Reaped[] = [];
  for (const action of expired) {
    let error: string | null = null;
    if (!dryRun) {
      const record = result.snapshot.records.get(action.spec);
      await parts.executor.run(action, { record, imagePresent: true }).catch((err: unknown) => {
        error = err instanceof Error ? err.message : String(err);
      });
    }
    out.push({ container: `${action.container.name} [${shortId(action.container.id)}]`, why: "expired", error });
  }
  const sweep = await parts.reaper.sweep(now, dryRun);
  const removed = new Set(sweep.removed.map((c) => c.id));
  for (const c of sweep.expired) {
    out.push({
      container: `${c.name} [${shortId(c.id)}]`,
      why: `${c.label}=${c.value}`,
      error: dryRun || removed.has(c.id) ? null : "not removed; see the log",
    });
  }
  return out;
}
