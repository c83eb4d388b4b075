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
): Set<string> {
  const held = new Set([...ours.map((c) => c.name), ...recorded]);
  const withContainers = new Set(ours.map((c) => c.labels[keys.spec]));
  const names = new Set<string>();
  for (const { spec } of desired) {
    if (!canAct(spec.name) || (spec.expiresAt !== null && spec.expiresAt <= now)) continue;
    if (spec.suspended && !withContainers.has(spec.name)) continue;
    for (const name of containerNames(spec.name, spec.replicas)) if (!held.has(name)) names.add(name);
  }
  return names;
}
