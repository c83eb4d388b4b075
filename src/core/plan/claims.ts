/**
 * The names a plan may take: the container names of desired specs that no container of berth's
 * holds now. Before planning, berth asks the engine (one unfiltered list) which of them a
 * container it does not own holds, so that the plan reports a Conflict instead of trying a create
 * that would fail. In the steady state every name is held by its own container: the set is empty
 * and the extra list is not made.
 */
import type { LabelKeys } from "../labels.js";
import { containerNames } from "../names.js";
import type { ObservedContainer } from "../observed.js";
import { memberName } from "../pool.js";
import type { NormalizedSpec } from "../spec.js";
import type { DesiredSpec } from "./types.js";

/**
 * Only for specs that can act now (a busy spec's actions wait for the next pass anyway), are not
 * expired, and would create or rename a container (a suspended spec with no container creates
 * none).
 */
export function namesToClaim(
  desired: readonly DesiredSpec[],
  ours: readonly ObservedContainer[],
  keys: LabelKeys,
  now: number,
  canAct: (spec: string) => boolean,
  /** Names of runs collected after their TTL whose record stands for the spec's hash: nothing will take them. */
  recorded: ReadonlySet<string> = new Set(),
  /** Pools' claims: the container ids claimed, and claims waiting for a cold member by pool (PlanInput.poolDemand). */
  pools: PoolClaims = { claimed: new Set(), demand: new Map() },
): Set<string> {
  const held = new Set([...ours.map((c) => c.name), ...recorded]);
  const withContainers = new Set(ours.map((c) => c.labels[keys.spec]));
  const names = new Set<string>();
  for (const { spec } of desired) {
    if (!canAct(spec.name) || (spec.expiresAt !== null && spec.expiresAt <= now)) continue;
    if (spec.suspended && !withContainers.has(spec.name)) continue;
    for (const name of namesOf(spec, ours, keys, pools)) if (!held.has(name)) names.add(name);
  }
  return names;
}

export interface PoolClaims {
  readonly claimed: ReadonlySet<string>;
  readonly demand: ReadonlyMap<string, number>;
}

/**
 * The names a spec's containers may take. A pool's members are `<pool>-<n>` whatever its size,
 * and a refill takes the lowest slots no container of the pool holds, one for each member it
 * lacks (core/pool.ts, poolSlots): none when it is full.
 */
function namesOf(
  spec: NormalizedSpec,
  ours: readonly ObservedContainer[],
  keys: LabelKeys,
  pools: PoolClaims,
): string[] {
  if (spec.pool === null) return containerNames(spec.name, spec.replicas);
  const mine = ours.filter((c) => c.labels[keys.spec] === spec.name);
  const unclaimed = mine.filter((c) => !pools.claimed.has(c.id)).length;
  let missing = spec.pool.size + (pools.demand.get(spec.name) ?? 0) - unclaimed;
  const held = new Set(mine.map((c) => c.name));
  const names: string[] = [];
  for (let i = 0; missing > 0; i++) {
    const name = memberName(spec.name, i);
    if (held.has(name)) continue;
    names.push(name);
    missing--;
  }
  return names;
}
