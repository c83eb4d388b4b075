/**
 * spec.stableFor's hold on a rollout (docs/design.md, "Safe replacements"). A replacement under
 * StopFirst that did not stay up stays in place (its old container is gone); the rest of the
 * rollout must not follow it, as Swarm's update_config.failure_action pause holds an update. The
 * hold is read from the engine, not remembered: while the spec's containers are of more than one
 * version (a rollout under way), a container of the current one that the engine restarted, that
 * is not running or that is unhealthy holds the replacements of the others until the spec
 * changes. Their run (restarts, last exit) is inspected for it (loop/runs.ts). Pure.
 */
import type { LabelKeys } from "../labels.js";
import type { ObservedContainer } from "../observed.js";
import { stableProblem } from "../stable-for.js";
import type { Action, DesiredSpec, Note } from "./types.js";

type ReplaceReason = Extract<Action, { kind: "replace" }>["reason"];

/** A replacement's reason that makes it part of a rollout (a new spec or image), as against a repair. */
export function isRolloutReason(reason: ReplaceReason): boolean {
  return reason === "hash changed" || reason === "image updated";
}

/** A replacement of a rollout. */
export function isRolloutReplace(a: Action): boolean {
  return a.kind === "replace" && isRolloutReason(a.reason);
}

/** The spec's containers are of more than one version: a rollout is under way. */
export function midRollout(containers: readonly ObservedContainer[], keys: LabelKeys): boolean {
  return new Set(containers.map((c) => c.labels[keys.hash])).size > 1;
}

/** The hold on a spec's rollout, or null when nothing holds it. */
export function rolloutHold(
  d: DesiredSpec,
  containers: readonly ObservedContainer[],
  keys: LabelKeys,
): Extract<Note, { kind: "blocked" }> | null {
  if (d.spec.stableForMs === null || d.spec.suspended || !midRollout(containers, keys)) return null;
  for (const c of containers) {
    if (c.labels[keys.hash] !== d.hash) continue;
    const problem = c.state === "created" ? null : stableProblem(c, null);
    if (problem === null) continue;
    return {
      kind: "blocked",
      spec: d.spec.name,
      failed: true,
      message: `rollout held: ${c.name} of this version ${problem}; the others keep their version until the spec changes (stableFor)`,
    };
  }
  return null;
}
