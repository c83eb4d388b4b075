/**
 * Observe: one label-filtered list of berth's containers, one of its volumes (per-instance
 * volumes are reclaimed from it; finished runs' records and declared volumes are among them) and
 * one list of local images — all a no-op pass costs (a run's inspect is cached: loop/runs.ts) — and
 * for declared networks one list of the engine's networks (with the containers attached to each).
 * When desired container names are held by none of berth's containers, one
 * more, unfiltered, list (the second observation) finds which of them containers berth does not
 * own hold, so that the plan reports a conflict before any create is tried, by `berth run` and
 * one-shot commands alike.
 */
import type { ObservedState } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type { DockerPort } from "../docker/port.js";

/**
 * `objects`: also list networks. The reconciler asks for them at its first pass, and after while
 * the desired state declares objects or names networks, or berth's objects were seen.
 */
export async function observe(docker: DockerPort, owner: Ownership, objects = true): Promise<ObservedState> {
  const [containers, imageIds, volumes, networks] = await Promise.all([
    docker.listContainers({ labels: [owner.filter] }),
    docker.listImages(),
    // This controller's volumes: the planner reclaims per-instance ones (core/plan/volumes.ts),
    // and the records of finished runs (core/runs.ts) and declared volumes are among them.
    docker.listVolumes({ labels: [owner.filter] }),
    objects ? docker.listNetworks({ labels: [] }) : undefined,
  ]);
  const base = { containers, imageIds, foreignNames: new Map<string, string>(), volumes };
  return networks ? { ...base, networks } : base;
}

/** Which of `names` are held by containers that are not this controller's: name → container ID. */
export async function foreignHolders(
  docker: DockerPort,
  owner: Ownership,
  names: ReadonlySet<string>,
): Promise<Map<string, string>> {
  const foreign = new Map<string, string>();
  if (names.size === 0) return foreign;
  for (const c of await docker.listContainers({ labels: [] })) {
    if (names.has(c.name) && !owner.owns(c)) foreign.set(c.name, c.id);
  }
  return foreign;
}
