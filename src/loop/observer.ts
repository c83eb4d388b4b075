/**
 * Observe: one label-filtered list of berth's containers and one list of local images, and for
 * declared networks and volumes one list of the engine's networks (with the containers attached
 * to each: one more, unfiltered, container list) and one label-filtered list of berth's volumes —
 * all a no-op pass costs. When desired container names are held by none of berth's containers, one
 * more, unfiltered, list (the second observation) finds which of them containers berth does not
 * own hold, so that the plan reports a conflict before any create is tried, by `berth run` and
 * one-shot commands alike.
 */
import type { ObservedState } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type { DockerPort } from "../docker/port.js";

/**
 * `objects`: also list networks and volumes. The reconciler asks for them at its first pass, and
 * after while the desired state declares objects or names networks, or berth's objects were seen:
 * a host without any keeps its no-op pass at two list calls.
 */
export async function observe(docker: DockerPort, owner: Ownership, objects = true): Promise<ObservedState> {
  const [containers, imageIds, networks, volumes] = await Promise.all([
    docker.listContainers({ labels: [owner.filter] }),
    docker.listImages(),
    objects ? docker.listNetworks({ labels: [] }) : undefined,
    objects ? docker.listVolumes({ labels: [owner.filter, owner.keys.object] }) : undefined,
  ]);
  const base = { containers, imageIds, foreignNames: new Map<string, string>() };
  return networks && volumes ? { ...base, networks, volumes } : base;
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
