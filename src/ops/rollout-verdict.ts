/**
 * GET /v1/specs/{name}/rollout (docs/http-api.md, docs/swarm.md): `berth rollout status`'s verdict on one look,
 * for clients that speak HTTP only: from the controller's last pass, the version waited for
 * being the one it runs. With stableFor (`--stable-for`), a spec rolled out is judged again by how
 * long its version's replicas have run (core/rollout-status.ts, stabilityState), each of them
 * inspected now: a status read serves the last pass, but a verdict on restarts must not be a
 * pass old.
 */
import {
  judgedForStability,
  type RolloutState,
  rolloutState,
  stabilityState,
  swarmRolloutView,
  swarmStabilityState,
  withStability,
} from "../core/rollout-status.js";
import { type ContainerStatus, isReplica, restartFields, type SpecStatus } from "../core/status.js";
import { type SwarmSpecStatus, swarmTaskRows } from "../core/swarm-status.js";
import { formatTime } from "../core/units.js";
import type { DockerPort } from "../docker/port.js";
import type { SwarmPort } from "../docker/swarm-adapter.js";

export interface RolloutVerdictDeps {
  readonly docker: Pick<DockerPort, "inspectContainer">;
  /** Milliseconds since the epoch. */
  now(): number;
}

export async function rolloutVerdict(
  deps: RolloutVerdictDeps,
  spec: SpecStatus,
  stableForMs: number | null,
): Promise<RolloutState> {
  const state = rolloutState(spec.name, spec, null);
  if (stableForMs === null || !judgedForStability(state, spec.phase, "engine")) return state;
  const containers = await Promise.all(
    spec.containers.map(async (c) => (isReplica(c) && c.current && c.id !== "" ? inspected(deps, c) : c)),
  );
  return withStability(state, stabilityState(spec.name, containers, stableForMs, deps.now()));
}

export interface SwarmRolloutVerdictDeps {
  readonly swarm: Pick<SwarmPort, "listTasks">;
  /** Milliseconds since the epoch. */
  now(): number;
}

/**
 * Under swarm: Swarm's update state (the service's phase) as of the last pass; with stableFor,
 * the service's tasks listed now, Swarm asked which are of its current spec (swarmStabilityState).
 */
export async function swarmRolloutVerdict(
  deps: SwarmRolloutVerdictDeps,
  spec: SwarmSpecStatus,
  stableForMs: number | null,
): Promise<RolloutState> {
  const state = rolloutState(spec.name, swarmRolloutView(spec), null);
  if (stableForMs === null || spec.serviceId === null || !judgedForStability(state, spec.phase, "swarm")) return state;
  // The canaries' tasks too; under an updatePartition, only theirs are of the spec's version.
  const ids = [spec.serviceId, ...(spec.canaryServiceId === null ? [] : [spec.canaryServiceId])];
  const rows = swarmTaskRows(await deps.swarm.listTasks(ids, ids), {
    canaryId: spec.canaryServiceId,
    held: spec.partition !== undefined,
  });
  return withStability(state, swarmStabilityState(spec.name, rows, stableForMs, deps.now()));
}

/** The container as an inspect tells it now; gone since the pass, its start is not known. */
async function inspected(deps: RolloutVerdictDeps, c: ContainerStatus): Promise<ContainerStatus> {
  const d = await deps.docker.inspectContainer(c.id);
  if (d === null) return { ...c, startedAt: null, restarts: null };
  const startedAt = d.run?.startedAt ?? null;
  return {
    ...c,
    state: d.state,
    health: d.health,
    startedAt: startedAt === null ? null : formatTime(startedAt),
    ...restartFields(d.run),
  };
}
