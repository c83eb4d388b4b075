/**
 * spec.stableFor (docs/design.md, "Safe replacements"): a replacement counts as done only once
 * the new container has stayed up that long — running, never restarted by the engine, not
 * unhealthy. This module says whether an inspected container still qualifies and, when it does
 * not, what happened in the user's words. Pure: the executor inspects (loop/executor.ts).
 */
import type { ObservedContainer } from "./observed.js";
import { formatSeconds as seconds } from "./units.js";

/** The window a new container must stay up through: from its start, for stableFor. */
export interface StableWindow {
  /** Its first start as the watch saw it (epoch ms). */
  readonly startedAt: number;
  /** When the wait is over (epoch ms). */
  readonly until: number;
}

/** The window of a container just seen running; `now` stands in for a start the engine did not report. */
export function stableWindow(c: ObservedContainer, stableForMs: number, now: number): StableWindow {
  const startedAt = c.run?.startedAt ?? now;
  return { startedAt, until: startedAt + stableForMs };
}

/**
 * Null while the container qualifies; else how it failed ("exited with code 3 1.2s after it
 * started"; without a window, not how long after). `told`: the code its `die` event told, where
 * the inspect of a container the engine started again reads none.
 */
export function stableProblem(
  c: ObservedContainer,
  window: StableWindow | null,
  told: number | null = null,
): string | null {
  const run = c.run;
  const exit = run?.lastExit ?? null;
  const code = exit?.code ?? (c.state === "running" ? null : c.exitCode) ?? told;
  const after =
    window !== null && exit !== null && exit.at >= window.startedAt
      ? ` ${seconds(exit.at - window.startedAt)} after it started`
      : "";
  const exited = `exited${code === null ? "" : ` with code ${code}`}${after}`;
  const restarts = run?.restartCount ?? 0;
  if (restarts > 0)
    return `${exited} and was restarted by the engine (${restarts} restart${restarts === 1 ? "" : "s"})`;
  if (c.state !== "running") return exited;
  if (c.health === "unhealthy") return "became unhealthy";
  return null;
}
