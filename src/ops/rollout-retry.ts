/**
 * `berth rollout retry NAME…` (docs/design.md, "Safe replacements"): a version that did not stay
 * up under StartFirst + stableFor is kept as stopped records (web-0.rejected) that hold the spec's
 * rollout (core/plan/rollout.ts). Removing the records of the spec's current version releases it:
 * the next pass tries that version again, one batch first, as `docker rm web-0.rejected` would.
 * A StopFirst hold is refused: its failed replica replaced the old container, so there is no
 * record to remove, and removing the replica would make the next pass roll the others at once.
 */
import { BerthError } from "../core/errors.js";
import type { LabelKeys } from "../core/labels.js";
import { isRejectedName } from "../core/names.js";
import type { ObservedContainer, ObservedState } from "../core/observed.js";
import { currentTest } from "../core/plan/plan-spec.js";
import { rolloutHold, sortRejected } from "../core/plan/rollout.js";
import type { Action, DesiredSpec } from "../core/plan/types.js";
import { isDockerError } from "../docker/errors.js";
import type { DockerPort } from "../docker/port.js";
import { onSpec, type SpecOperationAnswer } from "./spec-operation.js";

export interface RetryTarget {
  readonly spec: string;
  /** The records of its current version, which hold its rollout; none: nothing holds it. */
  readonly records: readonly ObservedContainer[];
}

export interface RetryStep {
  readonly spec: string;
  /** The record removed; null when nothing held the spec's rollout. */
  readonly container: string | null;
  readonly detail: string;
}

/**
 * The named specs' records to remove, from what a pass saw (its containers inspected for held
 * rollouts, loop/runs.ts); a usage error naming every spec that cannot be retried and why.
 */
export function retryTargets(
  names: readonly string[],
  desired: readonly DesiredSpec[],
  observed: ObservedState,
  keys: LabelKeys,
): RetryTarget[] {
  const problems: string[] = [];
  const targets: RetryTarget[] = [];
  for (const name of names) {
    const d = desired.find((x) => x.spec.name === name);
    if (!d) {
      problems.push(`no spec named ${name}`);
      continue;
    }
    const all = observed.containers.filter((c) => c.labels[keys.spec] === name);
    const containers = all.filter((c) => !isRejectedName(c.name));
    const { current } = currentTest(d, observed, keys);
    const sorted = sortRejected(
      d,
      all.filter((c) => isRejectedName(c.name)),
      containers,
      current,
    );
    const stale = new Set(sorted.stale);
    const records = all.filter((c) => isRejectedName(c.name) && !stale.has(c));
    if (records.length === 0 && rolloutHold(d, containers, null, keys, current) !== null) {
      problems.push(
        `${name}'s rollout is held by a replica of this version that did not stay up (StopFirst: it took its ` +
          `old container's place, so there is no record to remove); change the spec or its image to roll again`,
      );
      continue;
    }
    targets.push({ spec: name, records });
  }
  if (problems.length > 0) throw BerthError.usage(`cannot retry: ${problems.join("; ")}`);
  return targets;
}

/** A removal as it happened: the action (reason `retried`), its error, how long it took (events, metrics). */
export type RetryTold = (action: Action, error: Error | null, durationMs: number) => void;

/** Removes each target's records (gone already: done); `told` hears of each removal. */
export async function retryRollouts(
  docker: Pick<DockerPort, "removeContainer">,
  targets: readonly RetryTarget[],
  onStep: (step: RetryStep) => void = () => undefined,
  told: RetryTold = () => undefined,
): Promise<RetryStep[]> {
  const steps: RetryStep[] = [];
  const say = (step: RetryStep): void => {
    steps.push(step);
    onStep(step);
  };
  for (const { spec, records } of targets) {
    if (records.length === 0) say({ spec, container: null, detail: "no rejected version holds its rollout" });
    for (const r of records) {
      const action: Action = { kind: "remove", spec, container: { id: r.id, name: r.name }, reason: "retried" };
      const started = performance.now();
      try {
        await docker.removeContainer(r.id, { force: true });
      } catch (err) {
        if (!isDockerError(err, "gone")) {
          told(action, err as Error, performance.now() - started);
          throw err;
        }
      }
      told(action, null, performance.now() - started);
      say({ spec, container: r.name, detail: "its version is tried again at the next pass" });
    }
  }
  return steps;
}

/** A retry asked of a running controller (POST /v1/specs/{name}/retry), as the API answers it. */
export type RetryAnswer = SpecOperationAnswer<RetryStep>;

export interface ControllerRetryDeps {
  readonly docker: Pick<DockerPort, "removeContainer">;
  /** Each removal, as the controller tells its own actions (events, metrics, hooks). */
  readonly told?: RetryTold;
  readonly keys: LabelKeys;
  /** The specs as last loaded and what the last pass observed; null before the first. */
  view(): { readonly desired: readonly DesiredSpec[]; readonly observed: ObservedState } | null;
  /** Runs `fn` while no pass acts on the spec (loop/dispatcher.ts, exclusive); a pass follows. */
  exclusive<T>(spec: string, fn: () => Promise<T>): Promise<T>;
}

/** The controller's side of `berth rollout retry`: one spec, while its passes keep off it. */
export function controllerRetry(deps: ControllerRetryDeps, name: string): Promise<RetryAnswer> {
  return onSpec(
    name,
    deps.view(),
    (view) => retryTargets([name], view.desired, view.observed, deps.keys),
    (spec, fn) => deps.exclusive(spec, fn),
    (targets) => retryRollouts(deps.docker, targets, undefined, deps.told),
  );
}
