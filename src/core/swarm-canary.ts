/**
 * Canaries under `--target swarm` (docs/swarm.md, "Canaries"). A Swarm update rolls every task of
 * a service, so `updatePartition: P` of R replicas is two services: the spec's own, held at the
 * version it runs and scaled to P, and `NAME_canary`, of R − P tasks at the spec's version, which
 * joins the same networks under the alias NAME (so `NAME` resolves to both). Lowering P to 0
 * updates the spec's service to the new version at R tasks; the canaries' service goes once that
 * update has settled. The old version is the one Swarm keeps in the service: berth still keeps no
 * older spec. Pure.
 */
import type { Ownership } from "./ownership.js";
import type { NormalizedSpec } from "./spec.js";
import type { ObservedService, SwarmNote } from "./swarm-plan.js";
import {
  type BoundSecret,
  desiredReplicas,
  type ServiceInput,
  serviceSpec,
  type ServiceSpec,
} from "./swarm-service.js";

const SUFFIX = "_canary";
/** Swarm names a service in at most 63 characters, so a spec with canaries has a name of at most 56. */
export const MAX_CANARY_SPEC_NAME = 63 - SUFFIX.length;

/** The canaries' service of a spec: `_` cannot be in a spec's name, so it is never another spec's. */
export const canaryName = (spec: string): string => `${spec}${SUFFIX}`;

/** The tasks updatePartition holds on the spec's own service's version, and the canaries of the spec's. */
export interface CanarySplit {
  readonly held: number;
  readonly canaries: number;
}

/** How a spec's replicas split while its service runs another version; null: no split (roll every task). */
export function canarySplit(spec: NormalizedSpec): CanarySplit | null {
  const replicas = desiredReplicas(spec);
  if (replicas === null || replicas === 0 || spec.updatePartition === 0) return null;
  const held = Math.min(spec.updatePartition, replicas);
  return { held, canaries: replicas - held };
}

/** A spec's services of berth's: its own, and its canaries' (carrying the canary label). */
export function specServices(
  name: string,
  services: readonly ObservedService[],
  owner: Ownership,
): { readonly main: ObservedService | undefined; readonly canary: ObservedService | undefined } {
  const mine = (n: string): ObservedService | undefined => services.find((s) => s.name === n && owner.owns(s));
  const canary = mine(canaryName(name));
  return { main: mine(name), canary: canary && isCanary(canary, owner) ? canary : undefined };
}

export const isCanary = (s: Pick<ObservedService, "labels">, owner: Ownership): boolean =>
  s.labels[owner.keys.canary] === "true";

/** The canaries' service body: the spec's, renamed, labelled, answering to the spec's name, at R − P tasks. */
export function canaryServiceSpec(
  input: ServiceInput,
  owner: Ownership,
  secrets: readonly BoundSecret[] = [],
): ServiceSpec {
  const base = serviceSpec(input, owner, secrets);
  const name = input.spec.name;
  return {
    ...base,
    Name: canaryName(name),
    Labels: { ...base.Labels, [owner.keys.canary]: "true" },
    TaskTemplate: {
      ...base.TaskTemplate,
      Networks: base.TaskTemplate.Networks.map((n) => ({ ...n, Aliases: [name] })),
    },
    Mode: { Replicated: { Replicas: canarySplit(input.spec)?.canaries ?? 0 } },
  };
}

/** What updatePartition holds, as status and plan say it. */
export function swarmPartitionText(n: Extract<SwarmNote, { kind: "partitioned" }>): string {
  const tasks = (k: number): string => `${k} task${k === 1 ? "" : "s"}`;
  const canaries = n.canaries === 0 ? "no canary" : `${tasks(n.canaries)} of ${canaryName(n.spec)} on the spec's`;
  return `updatePartition ${n.partition} keeps ${tasks(n.held)} of service ${n.spec} on ${n.held === 1 ? "its" : "their"} version, ${canaries}; lower it to roll them`;
}
