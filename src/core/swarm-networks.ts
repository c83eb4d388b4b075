/**
 * `kind: Network` documents under `--target swarm` (docs/swarm.md, "Networks"): each is an
 * overlay network made on the manager — attachable, so that standalone containers on the nodes
 * can join it too — with berth's labels; services join them by name. The plan is the engine
 * target's (core/plan/objects.ts: create what is missing, recreate a changed one only when
 * unused, prune under the same guard, never adopt a network berth does not own), with the
 * services that name a network as its users. Pure.
 */
import { type DeclaredNetwork, objectHash, objectKey } from "./declared.js";
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
  const objects = (input.objects ?? []).flatMap((d) => swarmObject(d) ?? []);
  const users = (n: ObservedNetwork): string[] => {
    const named = services.filter((s) => (s.networks ?? []).some((t) => t === n.id || t === n.name));
    return named.length > 0 ? named.map((s) => s.name).sort() : [...n.containers];
  };
  planObjects(
    { desired: [], protectedSpecs: new Set(), ...input, objects },
    {
      containers: [],
      imageIds: new Map(),
      foreignNames: new Map(),
      networks: networks.map((n) => ({ ...n, containers: users(n) })),
    },
    options,
    out,
  );
  for (const d of input.objects ?? [])
    if (d.object.kind === "Volume")
      out.note({ kind: "object", object: objectKey("Volume", d.object.name), message: VOLUMES });
  return out.build();
}
