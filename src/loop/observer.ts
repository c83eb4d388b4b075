/**
 * Observe: one label-filtered list of berth's containers and one list of local images (with the
 * labels of berth's builds) — all a no-op pass costs on a host of plain specs — and, when there is a reason (loop/reconciler.ts), one
 * label-filtered list of berth's volumes (per-instance volumes, finished runs' records, declared
 * volumes) and one of the engine's networks (with the containers attached to each). A run's
 * inspect is cached (loop/runs.ts).
 * When desired container names are held by none of berth's containers, one
 * more, unfiltered, list (the second observation) finds which of them containers berth does not
 * own hold, so that the plan reports a conflict before any create is tried, by `berth run` and
 * one-shot commands alike. The same list tells which host ports others hold, for `hostPort: auto`
 * (made for that alone only when a plan must allocate one), and which images others use (made for
 * that alone only when a built image may be removed: core/plan/images.ts).
 */
import { containerHostPorts } from "../core/host-ports.js";
import type { ObservedState } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type { DockerPort } from "../docker/port.js";

/** What a pass lists besides berth's containers and the local images. */
export interface ObserveWhat {
  /**
   * The engine's networks: all of them (declared networks, the undeclared-network check), only
   * this controller's (a first look, to find what it made and may prune), or none.
   */
  readonly networks: "all" | "own" | "none";
  /** This controller's volumes (per-instance volumes, runs' records, declared volumes). */
  readonly volumes: boolean;
}

/** Everything: what a pass looks at when the specs give a reason it did not know of before. */
export const OBSERVE_ALL: ObserveWhat = { networks: "all", volumes: true };

/**
 * A reconciler's first pass (every one-shot command's only one), before the specs are known: its
 * volumes and its own networks (each a label-filtered list, usually empty). The engine's every
 * network, with every container for their users, only once the specs name one.
 */
export const OBSERVE_FIRST: ObserveWhat = { networks: "own", volumes: true };

/**
 * The reconciler asks for networks and volumes at its first pass, and after while the desired
 * state or what was seen gives a reason (loop/reconciler.ts): a host with no such specs keeps its
 * no-op pass at two list calls.
 */
export async function observe(docker: DockerPort, owner: Ownership, what: ObserveWhat): Promise<ObservedState> {
  const [containers, images, volumes, networks] = await Promise.all([
    docker.listContainers({ labels: [owner.filter] }),
    docker.listImages(),
    // This controller's volumes: the planner reclaims per-instance ones (core/plan/volumes.ts),
    // and the records of finished runs (core/runs.ts) and declared volumes are among them.
    what.volumes ? docker.listVolumes({ labels: [owner.filter] }) : undefined,
    what.networks === "none"
      ? undefined
      : docker.listNetworks({ labels: what.networks === "own" ? [owner.filter] : [] }),
  ]);
  return {
    containers,
    imageIds: images.ids,
    builtImages: images.built,
    foreignNames: new Map<string, string>(),
    ...(volumes ? { volumes } : {}),
    ...(networks ? { networks } : {}),
  };
}

/** What an unfiltered list tells of the containers that are not this controller's. */
export interface ForeignView {
  /** Which of the names asked about they hold: name → container ID. */
  readonly names: Map<string, string>;
  /** The host ports they hold (published while running, or in a berth `host_ports` label). */
  readonly hostPorts: Set<number>;
  /** The images they were made from (image IDs): a built image one of them uses is kept. */
  readonly imageIds: Set<string>;
}

/** One unfiltered list: who else holds `names`, which host ports and which images others use. */
export async function foreignView(
  docker: DockerPort,
  owner: Ownership,
  names: ReadonlySet<string>,
): Promise<ForeignView> {
  const view: ForeignView = { names: new Map(), hostPorts: new Set(), imageIds: new Set() };
  for (const c of await docker.listContainers({ labels: [] })) {
    if (owner.owns(c)) continue;
    if (names.has(c.name)) view.names.set(c.name, c.id);
    view.imageIds.add(c.imageId);
    for (const port of Object.values(containerHostPorts(c, owner.keys.hostPorts))) view.hostPorts.add(port);
  }
  return view;
}
