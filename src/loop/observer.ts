/**
 * Observe: one label-filtered list of berth's containers and one list of local images — all a
 * no-op pass costs. When a plan wants to claim container names (create, rename, finish), one
 * more, unfiltered, list finds names held by containers berth does not own, so that a conflict is
 * reported before any create is tried, by `berth run` and one-shot commands alike.
 */
import type { LabelKeys } from "../core/labels.js";
import type { ObservedState } from "../core/observed.js";
import type { Plan } from "../core/plan/plan.js";
import type { DockerPort } from "../docker/port.js";

export interface ObserveOptions {
  readonly labels: LabelKeys;
  readonly controllerId: string;
}

export async function observe(port: DockerPort, options: ObserveOptions): Promise<ObservedState> {
  const [containers, imageIds] = await Promise.all([
    port.listContainers({ labels: [`${options.labels.controller}=${options.controllerId}`] }),
    port.listImages(),
  ]);
  return { containers, imageIds, foreignNames: new Map() };
}

/**
 * The container names a plan would take that berth does not hold yet, for the specs that can act
 * now (a busy spec's actions wait for the next pass anyway).
 */
export function claimedNames(plan: Plan, canAct: (spec: string) => boolean): Set<string> {
  const names = new Set<string>();
  for (const a of plan.actions) {
    if (!canAct(a.spec)) continue;
    if (a.kind === "create" || a.kind === "finish") names.add(a.name);
    else if (a.kind === "rename") names.add(a.to);
  }
  return names;
}

/** Which of `names` are held by containers that are not this controller's: name → container ID. */
export async function foreignHolders(
  port: DockerPort,
  options: ObserveOptions,
  names: ReadonlySet<string>,
): Promise<Map<string, string>> {
  const foreign = new Map<string, string>();
  if (names.size === 0) return foreign;
  for (const c of await port.listContainers({ labels: [] })) {
    if (names.has(c.name) && c.labels[options.labels.controller] !== options.controllerId) foreign.set(c.name, c.id);
  }
  return foreign;
}
