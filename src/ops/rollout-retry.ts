/**
 * `berth rollout retry NAME…` (docs/design.md, "Safe replacements"): a version that did not stay
 * up for the spec's stableFor holds the rest of its rollout (core/plan/rollout.ts), and is not
 * tried again until the spec or its image changes. After a fix outside the spec (a database back,
 * a file mounted), retry tries it once more, first on the replicas that failed:
 * - StartFirst: the failed replacements are kept as stopped records (web-0.rejected). Removing
 *   the records of the current version releases the hold: the next pass tries that version again,
 *   one batch first, as `docker rm web-0.rejected` would.
 * - StopFirst: the failed replacement took its old container's place, and the hold is on it.
 *   Each such replica is replaced once more, as a rollout replaces (StopFirst, then its stableFor
 *   wait: loop/executor.ts), while the others keep their version. When it stays up the hold is
 *   gone and the next pass rolls the rest; when it fails again it stays and holds, as before.
 *   Removing it instead would leave a missing replica, whose create is no rollout replacement and
 *   is not held: the next pass would roll the others at once.
 */
import { BerthError } from "../core/errors.js";
import { autoPortKeys, containerHostPorts } from "../core/host-ports.js";
import { normalizeImageRef } from "../core/image-ref.js";
import type { LabelKeys } from "../core/labels.js";
import { isRejectedName, isTempName } from "../core/names.js";
import type { ObservedContainer, ObservedState } from "../core/observed.js";
import { currentTest } from "../core/plan/plan-spec.js";
import { holdingReplicas, sortRejected } from "../core/plan/rollout.js";
import type { Action, DesiredSpec } from "../core/plan/types.js";
import type { SpecRecord } from "../core/record.js";
import { isDockerError } from "../docker/errors.js";
import type { DockerPort } from "../docker/port.js";
import type { ActionContext } from "../loop/executor.js";
import { onSpec, type SpecOperationAnswer } from "./spec-operation.js";

export interface RetryTarget {
  readonly spec: string;
  /** StartFirst: the records of its current version, which hold its rollout. */
  readonly records: readonly ObservedContainer[];
  /** StopFirst: its replacements of the current version that did not stay up, to make again. */
  readonly replace: readonly Extract<Action, { kind: "replace" }>[];
}

export interface RetryStep {
  readonly spec: string;
  /** The container removed or made again; null when nothing held the spec's rollout. */
  readonly container: string | null;
  readonly outcome: "removed" | "replaced" | "failed" | "none";
  readonly detail: string;
}

/**
 * The named specs' retries, from what a pass saw (its containers inspected for held rollouts,
 * loop/runs.ts); a usage error naming every spec that is not loaded.
 */
export function retryTargets(
  names: readonly string[],
  desired: readonly DesiredSpec[],
  observed: ObservedState,
  keys: LabelKeys,
): RetryTarget[] {
  const missing = names.filter((name) => !desired.some((d) => d.spec.name === name));
  if (missing.length > 0)
    throw BerthError.usage(`cannot retry: ${missing.map((n) => `no spec named ${n}`).join("; ")}`);
  return names.map((name) => {
    const d = desired.find((x) => x.spec.name === name) as DesiredSpec;
    const all = observed.containers.filter((c) => c.labels[keys.spec] === name);
    const containers = all.filter((c) => !isRejectedName(c.name));
    const { current } = currentTest(d, observed, keys);
    const { stale } = sortRejected(
      d,
      all.filter((c) => isRejectedName(c.name)),
      containers,
      current,
    );
    const records = all.filter((c) => isRejectedName(c.name) && !stale.includes(c));
    const failed = records.length > 0 ? [] : holdingReplicas(d, containers, keys, current);
    const replace = failed
      .filter(({ container: c }) => !isTempName(c.name))
      .map(({ container: c }): Extract<Action, { kind: "replace" }> => {
        // Its `hostPort: auto` ports are its replica's: the new container takes them over, as the
        // planner's StopFirst replacement keeps them (core/plan/plan-spec.ts).
        const held = containerHostPorts(c, keys.hostPorts);
        const hostPorts = Object.fromEntries(
          autoPortKeys(d.spec).flatMap((key) => (held[key] === undefined ? [] : [[key, held[key]]])),
        );
        return {
          kind: "replace",
          spec: name,
          replica: Number(c.labels[keys.replica] ?? 0),
          name: c.name,
          old: { id: c.id, name: c.name },
          strategy: "StopFirst",
          reason: "retried",
          ...(Object.keys(hostPorts).length > 0 ? { hostPorts } : {}),
        };
      });
    return { spec: name, records, replace };
  });
}

/** An action of a retry as it happened: its error, how long it took (events, metrics). */
export type RetryTold = (action: Action, error: Error | null, durationMs: number) => void;

export interface RetryDeps {
  readonly docker: Pick<DockerPort, "removeContainer">;
  /** Runs a replacement as the controller does (loop/executor.ts). */
  readonly executor: { run(action: Action, ctx: ActionContext): Promise<void> };
  /** The spec records and what was observed, for the replacement's context. */
  readonly records: ReadonlyMap<string, SpecRecord>;
  readonly observed: ObservedState;
  /** Hears of each action (the controller's events and metrics); nothing by default. */
  readonly told?: RetryTold;
}

/**
 * Removes each target's records (gone already: done) and makes its failed StopFirst replicas
 * again, one after the other; a replica that fails again ends the retry (a `failed` step).
 */
export async function retryRollouts(
  deps: RetryDeps,
  targets: readonly RetryTarget[],
  onStep: (step: RetryStep) => void = () => undefined,
): Promise<RetryStep[]> {
  const told = deps.told ?? (() => undefined);
  const steps: RetryStep[] = [];
  const say = (step: RetryStep): void => {
    steps.push(step);
    onStep(step);
  };
  for (const { spec, records, replace } of targets) {
    if (records.length === 0 && replace.length === 0)
      say({ spec, container: null, outcome: "none", detail: "nothing holds its rollout" });
    for (const r of records) {
      const action: Action = { kind: "remove", spec, container: { id: r.id, name: r.name }, reason: "retried" };
      const started = performance.now();
      try {
        await deps.docker.removeContainer(r.id, { force: true });
      } catch (err) {
        if (!isDockerError(err, "gone")) {
          told(action, err as Error, performance.now() - started);
          throw err;
        }
      }
      told(action, null, performance.now() - started);
      say({ spec, container: r.name, outcome: "removed", detail: "its version is tried again at the next pass" });
    }
    for (const action of replace) {
      const record = deps.records.get(spec);
      const image = record?.spec?.image;
      const ctx: ActionContext = {
        record,
        imagePresent: image !== undefined && deps.observed.imageIds.has(normalizeImageRef(image)),
        containers: deps.observed.containers,
      };
      const started = performance.now();
      try {
        await deps.executor.run(action, ctx);
      } catch (err) {
        told(action, err as Error, performance.now() - started);
        say({ spec, container: action.name, outcome: "failed", detail: (err as Error).message });
        return steps;
      }
      told(action, null, performance.now() - started);
      say({
        spec,
        container: action.name,
        outcome: "replaced",
        detail: "made again, it stayed up: the next pass rolls the others",
      });
    }
  }
  return steps;
}

/** A retry asked of a running controller (POST /v1/specs/{name}/retry), as the API answers it. */
export type RetryAnswer = SpecOperationAnswer<RetryStep>;

export interface ControllerRetryDeps extends Pick<RetryDeps, "docker" | "executor" | "told"> {
  readonly keys: LabelKeys;
  /** The specs as last loaded and what the last pass observed; null before the first. */
  view(): {
    readonly desired: readonly DesiredSpec[];
    readonly records: ReadonlyMap<string, SpecRecord>;
    readonly observed: ObservedState;
  } | null;
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
    (targets, view) => retryRollouts({ ...deps, records: view.records, observed: view.observed }, targets),
  );
}
