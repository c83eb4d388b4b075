/**
 * Observe: one label-filtered list of berth's containers, one of its volumes (per-instance
 * volumes are reclaimed from it; finished runs' records are among them) and one list of local
 * images — all a no-op pass costs (a run's inspect is cached: loop/runs.ts). When desired container names are held by none of berth's containers, one
 * more, unfiltered, list (the second observation) finds which of them containers berth does not
 * own hold, so that the plan reports a conflict before any create is tried, by `berth run` and
 * one-shot commands alike.
 */
import type { ObservedState } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type { DockerPort } from "../docker/port.js";

export async function observe(docker: DockerPort, owner: Ownership): Promise<ObservedState> {
  const [containers, imageIds, volumes] = await Promise.all([
    docker.listContainers({ labels: [owner.filter] }),
    docker.listImages(),
    // This controller's volumes: the planner reclaims per-instance ones (core/plan/volumes.ts), and
    // the records of finished runs (core/runs.ts) are among them.
    docker.listVolumes({ labels: [owner.filter] }),
  ]);
  return { containers, imageIds, foreignNames: new Map(), volumes };
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
