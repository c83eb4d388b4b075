/**
 * spec.stableFor's hold on a rollout (docs/design.md, "Safe replacements"). A version that did not
 * stay up is not rolled out further, as Swarm's update_config.failure_action pause holds an
 * update, and is not tried again until the spec or its image changes. The hold is read from the
 * engine, not remembered:
 * - StartFirst: the failed replacement is kept, stopped, under its record name (web-0.rejected,
 *   core/names.ts). A record of the current version holds the replacements; a record of another
 *   version, or one with nothing left to roll out, goes.
 * - StopFirst: the failed replacement stays in place (its old container is gone). While the
 *   spec's containers are of more than one version (a rollout under way), a container of the
 *   current one that the engine restarted, that is not running or that is unhealthy holds the
 *   replacements of the others. Their run (restarts, last exit) is inspected for it (loop/runs.ts).
 * A version is the spec hash and the image the container was made from. Pure.
 */
import type { LabelKeys } from "../labels.js";
import { isTempName } from "../names.js";
import type { ObservedContainer } from "../observed.js";
import { stableProblem } from "../stable-for.js";
import { formatDurationMs } from "../units.js";
import type { Action, DesiredSpec, Note } from "./types.js";

type ReplaceReason = Extract<Action, { kind: "replace" }>["reason"];

/** Whether a container is of the spec's current version (plan-spec.ts, currentTest). */
export type IsCurrent = (c: ObservedContainer) => boolean;

/**
 * A replacement's reason that makes it part of a rollout (a new spec or image, or a held version
 * tried again: it must stay up for stableFor), as against a repair.
 */
export function isRolloutReason(reason: ReplaceReason): boolean {
  return reason === "hash changed" || reason === "image updated" || reason === "retried";
}

/** A replacement of a rollout. */
export function isRolloutReplace(a: Action): boolean {
  return a.kind === "replace" && isRolloutReason(a.reason);
}

/** The spec's containers are of more than one version (hash, image): a rollout is under way. */
export function midRollout(containers: readonly ObservedContainer[], keys: LabelKeys): boolean {
  return new Set(containers.map((c) => `${c.labels[keys.hash] ?? ""} ${c.imageId}`)).size > 1;
}

/**
 * A spec's records of rejected versions, sorted: the one that holds its rollout (of the current
 * version, while a container is not of it yet), and the stale ones, which go. Other records of
 * the current version (a batch's, spec.updateParallelism) stay beside the holding one.
 */
export function sortRejected(
  d: DesiredSpec,
  records: readonly ObservedContainer[],
  containers: readonly ObservedContainer[],
  current: IsCurrent,
): { readonly holding: ObservedContainer | null; readonly stale: readonly ObservedContainer[] } {
  const rolling = containers.some((c) => !isTempName(c.name) && !current(c));
  let holding: ObservedContainer | null = null;
  const stale: ObservedContainer[] = [];
  for (const r of records) {
    if (!rolling || d.spec.stableForMs === null || !current(r)) stale.push(r);
    else holding ??= r;
  }
  return { holding, stale };
}

/** The hold on a spec's rollout, or null when nothing holds it. `record`: sortRejected's holding. */
export function rolloutHold(
  d: DesiredSpec,
  containers: readonly ObservedContainer[],
  record: ObservedContainer | null,
  keys: LabelKeys,
  current: IsCurrent,
): Extract<Note, { kind: "blocked" }> | null {
  if (d.spec.stableForMs === null || d.spec.suspended) return null;
  const held = (message: string): Extract<Note, { kind: "blocked" }> => ({
    kind: "blocked",
    spec: d.spec.name,
    failed: true,
    message: `rollout held: ${message} (stableFor)`,
  });
  if (record !== null) {
    const digest = record.labels[keys.imageDigest];
    return held(
      `${record.name}, this version's replacement${digest ? ` (image ${digest})` : ""}, did not stay up for ` +
        `${formatDurationMs(d.spec.stableForMs)} and is kept stopped for its logs; the others keep their version ` +
        `until the spec or its image changes; berth rollout retry ${d.spec.name} tries this version again`,
    );
  }
  const [c] = holdingReplicas(d, containers, keys, current);
  if (c === undefined) return null;
  return held(
    `${c.container.name} of this version ${c.problem}; the others keep their version until the spec changes; ` +
      `berth rollout retry ${d.spec.name} makes it again`,
  );
}

/**
 * Under StopFirst (no record: the failed replacement took its old container's place), the
 * containers of the current version that hold the spec's rollout, and how each failed: while its
 * containers are of more than one version, those the engine restarted, that are not running or
 * that are unhealthy. None when nothing holds (or the spec has no stableFor).
 */
export function holdingReplicas(
  d: DesiredSpec,
  containers: readonly ObservedContainer[],
  keys: LabelKeys,
  current: IsCurrent,
): { readonly container: ObservedContainer; readonly problem: string }[] {
  if (d.spec.stableForMs === null || d.spec.suspended || !midRollout(containers, keys)) return [];
  return containers.flatMap((c) => {
    const problem = !current(c) || c.state === "created" ? null : stableProblem(c, null);
    return problem === null ? [] : [{ container: c, problem }];
  });
}
