/**
 * `berth restart NAME…` (docs/design.md, "Rolling restarts"): a spec's running containers are
 * restarted in place — stopped with the spec's stop signal and timeout, started again — one at a
 * time, each only once the one before runs again (healthy, if it has a healthcheck, and for its
 * stableFor, if it has one), as `kubectl rollout restart` paces a Deployment. The containers stay
 * (no new ones, nothing renamed), so a running controller has nothing to undo: between the stop
 * and the start it may start the container itself, which the start then finds done. A failure
 * ends the restart: the containers after it are not touched.
 */
import { BerthError } from "../core/errors.js";
import type { LabelKeys } from "../core/labels.js";
import { isTempName } from "../core/names.js";
import type { ObservedContainer } from "../core/observed.js";
import type { DesiredSpec } from "../core/plan/types.js";
import type { NormalizedSpec } from "../core/spec.js";
import { isDockerError } from "../docker/errors.js";
import type { DockerPort } from "../docker/port.js";
import { type ReadinessDeps, stayedUp, waitReady } from "../loop/readiness.js";
import { formatDurationMs } from "../core/units.js";
import { onSpec, type SpecOperationAnswer } from "./spec-operation.js";

/** A spec to restart, and its containers in the order they go (replica 0 first). */
export interface RestartTarget {
  readonly spec: NormalizedSpec;
  readonly containers: readonly ObservedContainer[];
}

interface RestartOutcome {
  readonly spec: string;
  readonly outcome: "restarted" | "failed";
  /** What happened: "running", "healthy", "stayed up 10s"; or how it failed. */
  readonly detail: string;
  readonly durationMs: number;
}
/** One container restarted, or how it failed. */
export type ContainerRestartStep = RestartOutcome & { readonly container: string };
/** Under swarm, one service updated (its tasks replaced), or how it failed. */
export type ServiceRestartStep = RestartOutcome & { readonly service: string };
export type RestartStep = ContainerRestartStep | ServiceRestartStep;

/** What a step restarted: its container, or under swarm its service. */
export const restarted = (step: RestartStep): string => ("container" in step ? step.container : step.service);

/** Why the spec named `name` cannot be restarted (none, suspended, a pool, a run), or null. */
export function restartRefusal(name: string, spec: NormalizedSpec | undefined): string | null {
  if (!spec) return `no spec named ${name}`;
  if (spec.suspended) return `${name} is suspended: nothing of it runs`;
  if (spec.pool) return `${name} is a pool: its members are claimed and released one by one`;
  if (spec.restartPolicy !== "Always")
    return `${name} runs to completion (restartPolicy ${spec.restartPolicy}): a restart would run it again`;
  return null;
}

/**
 * The named specs' targets, from what a pass saw; a usage error naming every spec that cannot be
 * restarted and why (none missing, suspended, a pool, a run, nothing running).
 */
export function restartTargets(
  names: readonly string[],
  desired: readonly DesiredSpec[],
  containers: readonly ObservedContainer[],
  keys: LabelKeys,
): RestartTarget[] {
  const problems: string[] = [];
  const targets: RestartTarget[] = [];
  for (const name of names) {
    const spec = desired.find((d) => d.spec.name === name)?.spec;
    const refused = restartRefusal(name, spec);
    if (refused !== null || !spec) problems.push(refused ?? `no spec named ${name}`);
    else {
      const running = containers
        .filter((c) => c.labels[keys.spec] === name && !isTempName(c.name) && c.state === "running")
        .sort((a, b) => Number(a.labels[keys.replica] ?? 0) - Number(b.labels[keys.replica] ?? 0));
      if (running.length === 0) problems.push(`${name} has no running container`);
      else targets.push({ spec, containers: running });
    }
  }
  if (problems.length > 0) throw BerthError.usage(`cannot restart: ${problems.join("; ")}`);
  return targets;
}

export interface RestartDeps extends ReadinessDeps {
  readonly docker: Pick<DockerPort, "inspectContainer" | "stopContainer" | "startContainer">;
}

/** Restarts each target's containers in turn; stops at the first that does not come back. */
export async function rollingRestart(
  deps: RestartDeps,
  targets: readonly RestartTarget[],
  onStep: (step: ContainerRestartStep) => void = () => undefined,
): Promise<ContainerRestartStep[]> {
  const steps: ContainerRestartStep[] = [];
  for (const { spec, containers } of targets) {
    for (const c of containers) {
      const started = deps.clock.now();
      const problem = await restartOne(deps, c.id, spec);
      const step: ContainerRestartStep = {
        spec: spec.name,
        container: c.name,
        outcome: problem === null ? "restarted" : "failed",
        detail: problem ?? readyDetail(spec),
        durationMs: deps.clock.now() - started,
      };
      steps.push(step);
      onStep(step);
      if (problem !== null) return steps;
    }
  }
  return steps;
}

async function restartOne(deps: RestartDeps, id: string, spec: NormalizedSpec): Promise<string | null> {
  const gone = (err: unknown): boolean => isDockerError(err, "gone");
  try {
    await deps.docker.stopContainer(id, spec.stopTimeoutMs / 1000);
  } catch (err) {
    if (!gone(err)) throw err;
  }
  try {
    await deps.docker.startContainer(id);
  } catch (err) {
    // 304: started already (by a running controller, between the stop and this start).
    if (!gone(err)) throw err;
  }
  const problem = await waitReady(deps, id, spec);
  if (problem !== null) return problem;
  return spec.stableForMs === null ? null : stayedUp(deps, id, spec.stableForMs);
}

function readyDetail(spec: NormalizedSpec): string {
  if (spec.stableForMs !== null) return `stayed up ${formatDurationMs(spec.stableForMs)}`;
  return spec.healthcheck ? "healthy" : "running";
}

/** A restart asked of a running controller (POST /v1/specs/{name}/restart), as the API answers it. */
export type RestartAnswer = SpecOperationAnswer<ContainerRestartStep>;

export interface ControllerRestartDeps extends RestartDeps {
  readonly keys: LabelKeys;
  /** The specs as last loaded, and berth's containers as the last pass saw them; null before the first. */
  view(): { readonly desired: readonly DesiredSpec[]; readonly containers: readonly ObservedContainer[] } | null;
  /** Runs `fn` while no pass acts on the spec (loop/dispatcher.ts, exclusive). */
  exclusive<T>(spec: string, fn: () => Promise<T>): Promise<T>;
}

/** The controller's side of `berth restart`: one spec, while its passes keep off it. */
export function controllerRestart(deps: ControllerRestartDeps, name: string): Promise<RestartAnswer> {
  return onSpec(
    name,
    deps.view(),
    (view) => restartTargets([name], view.desired, view.containers, deps.keys),
    (spec, fn) => deps.exclusive(spec, fn),
    (targets) => rollingRestart(deps, targets),
  );
}
