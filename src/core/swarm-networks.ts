/**
 * `kind: Network` documents under `--target swarm` (docs/swarm.md, "Networks"): each is an
 * overlay network made on the manager — attachable, so that standalone containers on the nodes
 * can join it too — with berth's labels; services join them by name. The plan is the engine
 * target's (core/plan/objects.ts: create what is missing, recreate a changed one only when
 * unused, prune under the same guard, never adopt a network berth does not own), with the
 * services that name a network as its users. Pure.
 */
import { type DeclaredNetwork, objectHash, objectKey } from "./declared.js";
import { type ObjectState, objectStatuses } from "./object-status.js";
import type { Ownership } from "./ownership.js";
import { PlanBuilder } from "./plan/builder.js";
import { planObjects } from "./plan/objects.js";
import type { DesiredObject, Plan, PlanInput, PlanOptions } from "./plan/types.js";
import type { ObservedNetwork } from "./observed.js";
import type { ObservedService } from "./swarm-plan.js";

/** A declared network as Swarm needs it: bridge (the default, a one-host driver) becomes overlay. */
export function overlayNetwork(o: DeclaredNetwork): DeclaredNetwork {
  return { ...o, driver: o.driver === "bridge" ? "overlay" : o.driver, attachable: true };
}

function swarmObject(d: DesiredObject): DesiredObject | null {
  if (d.object.kind !== "Network") return null;
  const object = overlayNetwork(d.object);
  return { ...d, object, hash: objectHash(object) };
}

function swarmObjects(objects: readonly DesiredObject[] | undefined): DesiredObject[] {
  return (objects ?? []).flatMap((d) => swarmObject(d) ?? []);
}

/**
 * The networks as the object plan and status read them: a network's users are the services that
 * name it (by ID or name), else the containers attached to it on the manager.
 */
function observedOnSwarm(networks: readonly ObservedNetwork[], services: readonly ObservedService[]) {
  const users = (n: ObservedNetwork): string[] => {
    const named = services.filter((s) => (s.networks ?? []).some((t) => t === n.id || t === n.name));
    return named.length > 0 ? named.map((s) => s.name).sort() : [...n.containers];
  };
  return {
    containers: [],
    imageIds: new Map<string, string>(),
    foreignNames: new Map<string, string>(),
    networks: networks.map((n) => ({ ...n, containers: users(n) })),
  };
}

/** A network berth manages on the swarm, as `berth status --target swarm` lists it. */
export interface SwarmNetworkStatus {
  readonly name: string;
  /** As core/object-status.ts: Ready, Pending, Drifted, Conflict, Failed, Orphaned. */
  readonly state: ObjectState;
  readonly message: string | null;
  /** The spec file that declares it; null for an orphan. */
  readonly source: string | null;
  /** As the manager lists it (overlay, swarm); as declared while it does not exist yet. */
  readonly driver: string;
  /** swarm, local; null while it does not exist. */
  readonly scope: string | null;
  readonly inUse: boolean;
  /** The services that join it (else the containers attached to it on the manager). */
  readonly usedBy: readonly string[];
}

/**
 * The status of berth's networks on the swarm: the declared ones (as overlay networks) and berth's
 * own whose document is gone, from the same plan the pass made. `failures` (objectKey → the
 * engine's message) are the networks whose operation failed in the pass: Failed while still planned. Pure.
 */
export function swarmNetworkStatuses(
  objects: readonly DesiredObject[] | undefined,
  networks: readonly ObservedNetwork[],
  services: readonly ObservedService[],
  plan: Plan,
  owner: Ownership,
  failures: ReadonlyMap<string, string> = new Map(),
): SwarmNetworkStatus[] {
  const declared = swarmObjects(objects);
  const byName = new Map(networks.map((n) => [n.name, n]));
  return objectStatuses({
    objects: declared,
    observed: observedOnSwarm(networks, services),
    plan,
    progress: () => undefined,
    keys: owner.keys,
    controllerId: owner.controllerId,
  }).flatMap((o) => {
    if (o.kind !== "Network") return [];
    const seen = byName.get(o.name);
    const object = declared.find((d) => d.object.name === o.name)?.object;
    // The pass's last attempt at a network it still plans for failed: say so, with the engine's words.
    const failure = o.state === "Pending" ? failures.get(objectKey("Network", o.name)) : undefined;
    const failed =
      failure !== undefined
        ? `${failure} (tried again at the next pass)`
        : o.state === "Ready" && seen?.scope === "swarm" && seen.driver === ""
          ? UNALLOCATED
          : null;
    return [
      {
        name: o.name,
        state: failed === null ? o.state : "Failed",
        message: failed ?? o.message,
        source: o.source,
        driver: seen?.driver || (object?.kind === "Network" ? object.driver : "overlay"),
        scope: seen?.scope ?? null,
        inUse: o.usedBy.length > 0,
        usedBy: o.usedBy,
      },
    ];
  });
}

/**
 * The manager took the network but could not allocate it (it lists it with no driver and no
 * IPAM): a subnet that overlaps another network's does this; the services joining it get no tasks.
 */
const UNALLOCATED =
  "the swarm manager accepted the network but has not allocated it (no driver, no addresses): a subnet that overlaps another network's does this, and its services' tasks cannot start; change the document (berth recreates it) or free the subnet";

const VOLUMES =
  "not made under --target swarm: a service's named volume is made by the engine of each node its tasks run on";

/**
 * The plan of berth's networks on the swarm; `networks` is every network the manager lists,
 * `services` every service (their networks by ID or name). A `kind: Volume` document gets a note.
 */
export function planSwarmNetworks(
  input: Pick<PlanInput, "objects" | "protectedObjects" | "protectedSources" | "prunePaused">,
  networks: readonly ObservedNetwork[],
  services: readonly ObservedService[],
  options: PlanOptions,
): Plan {
  const out = new PlanBuilder(0);
  planObjects(
    { desired: [], protectedSpecs: new Set(), ...input, objects: swarmObjects(input.objects) },
    observedOnSwarm(networks, services),
    options,
    out,
  );
  for (const d of input.objects ?? [])
    if (d.object.kind === "Volume")
      out.note({ kind: "object", object: objectKey("Volume", d.object.name), message: VOLUMES });
  return out.build();
}
