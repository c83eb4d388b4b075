/**
 * What `berth run --target swarm` knows of its passes, for GET /readyz and GET /v1/specs: the last
 * pass that succeeded, and whether the last one failed. Ready once a pass has succeeded and the
 * last one did: a pass needs the manager's service list, so an engine that is not a swarm manager
 * (or a manager without quorum) is never ready, and /readyz says the engine's own words.
 */
import { renderNote } from "../core/plan/render.js";
import { renderSwarmNote } from "../core/swarm-plan.js";
import type { SwarmReport } from "../core/swarm-status.js";
import type { Readiness } from "./controller.js";
import type { SwarmPassResult } from "./swarm-reconciler.js";

/** The status of the last pass, and when it observed the swarm (ms since the epoch). */
export interface SwarmStatusView extends SwarmReport {
  readonly at: number;
}

/** The pass's notes as `berth plan --target swarm` prints them (`! pruning paused: …`): networks' first. */
export function swarmNoteLines(result: Pick<SwarmPassResult, "plan" | "networkPlan">): string[] {
  return swarmNotes(result).map((n) => n.line);
}

/** Each note's line, and whether it is information (a partition declared) rather than a problem. */
export function swarmNotes(
  result: Pick<SwarmPassResult, "plan" | "networkPlan">,
): { readonly line: string; readonly info: boolean }[] {
  return [
    ...result.networkPlan.notes.map((n) => ({ line: renderNote(n), info: n.kind === "partitioned" })),
    ...result.plan.notes.map((n) => ({ line: renderSwarmNote(n), info: n.kind === "partitioned" })),
  ];
}

export class SwarmPasses {
  private last: SwarmPassResult | null = null;
  private lastError: string | null = null;

  passed(result: SwarmPassResult): void {
    this.last = result;
    this.lastError = null;
  }

  failed(message: string): void {
    this.lastError = message;
  }

  readiness(): Readiness {
    if (this.lastError !== null) return { ready: false, reason: `the last reconcile pass failed: ${this.lastError}` };
    if (this.last === null) return { ready: false, reason: "first reconcile not done" };
    // As the engine target's: a spec folder that cannot be read pauses pruning, and berth is not ready.
    const paused = this.last.snapshot.input.prunePaused;
    if (paused && this.last.snapshot.directories.some((d) => !d.readable)) return { ready: false, reason: paused };
    return { ready: true, reason: null };
  }

  /** The last successful pass's status; null before the first. */
  status(): SwarmStatusView | null {
    const last = this.last;
    if (last === null) return null;
    return {
      specs: last.status,
      networks: last.networks,
      notes: swarmNoteLines(last).map((n) => n.slice(2)),
      at: last.at,
    };
  }
}
