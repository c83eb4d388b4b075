/**
 * The plan under `--target swarm` (docs/swarm.md): the desired specs against the services that
 * carry this controller's label. Pure, as core/plan/plan.ts is, and decided from the service
 * list alone: the hash label differs → update (the fields that changed, from the applied label);
 * missing → create; replicas differ → scale; expired → remove; spec gone → remove (orphaned),
 * under the prune guard; spec removed through the API → remove (deleted), whatever the guard
 * says. A service berth does not own under a spec's name is a conflict.
 */
import { appliedSpec, readApplied } from "./applied.js";
import type { DesiredSpec, PlanInput } from "./plan/types.js";
import { type ObservedSecret, type SecretBinding, secretBindings } from "./swarm-secrets.js";
import { shortId } from "./observed.js";
import type { Ownership } from "./ownership.js";
import { renderChange } from "./plan/render.js";
import { type FieldChange, specChanges } from "./spec-diff.js";
import type { UpdateStrategy } from "./spec.js";
import { type CanarySplit, canaryName, canarySplit, isCanary, swarmPartitionText } from "./swarm-canary.js";
import { desiredReplicas } from "./swarm-service.js";
import { isWantedTask, type ObservedTask } from "./swarm-status.js";

/** A service as the service list shows it, in berth's terms. */
export interface ObservedService {
  readonly id: string;
  readonly name: string;
  /** The service's version index: an update names the version it replaces. */
  readonly version: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Replicated services' replicas; null for a global service. */
  readonly replicas: number | null;
  /** A rolling update is under way. */
  readonly updating: boolean;
  /** Why Swarm paused (or rolled back) the last update, or null: a failed update berth will not retry by itself. */
  readonly updateFailure: string | null;
  /** Swarm's state of the last update (UpdateStatus.State: updating, paused, completed, rollback_…); absent: none. */
  readonly updateState?: string;
  /** When Swarm began and finished its last update (epoch ms; UpdateStatus), where it said. */
  readonly updateStartedAt?: number | null;
  readonly updateCompletedAt?: number | null;
  /** The IDs of the Swarm secrets its tasks get. */
  readonly secretIds: readonly string[];
  /** The networks its tasks join, as the engine keeps them (IDs); absent: not observed. */
  readonly networks?: readonly string[];
}

/** What a swarm pass observes: every service (for conflicts), and berth's secrets. */
export interface SwarmObserved {
  readonly services: readonly ObservedService[];
  readonly secrets: readonly ObservedSecret[];
  /**
   * berth's services' tasks, with Swarm's word on which are current: a canaries' service goes
   * only once every task of the spec's own service is (core/swarm-canary.ts). Absent: never.
   */
  readonly tasks?: readonly ObservedTask[];
}

/**
 * `secrets` on create, replace and update: the service's secrets, those with a null ID to be made
 * first (core/swarm-secrets.ts).
 */
export type SwarmAction =
  | {
      readonly kind: "create";
      readonly spec: string;
      readonly reason: "not found";
      readonly secrets: readonly SecretBinding[];
      /** The spec's canaries' service (core/swarm-canary.ts), not its own. */
      readonly canary?: true;
    }
  | {
      readonly kind: "update";
      readonly spec: string;
      readonly service: ServiceRef;
      readonly canary?: true;
      readonly strategy: UpdateStrategy;
      readonly reason: "hash changed";
      /** The fields that changed since the service was made or updated; null when berth cannot tell. */
      readonly changes: readonly FieldChange[] | null;
      readonly secrets: readonly SecretBinding[];
    }
  | {
      /** Remove the service and create it anew: Swarm cannot change a service's mode in place. */
      readonly kind: "replace";
      readonly spec: string;
      readonly service: ServiceRef;
      readonly reason: "mode changed";
      readonly secrets: readonly SecretBinding[];
    }
  | {
      readonly kind: "remove-secret";
      readonly spec: string;
      readonly secret: { readonly id: string; readonly name: string };
      readonly reason: "unused";
    }
  | {
      readonly kind: "scale";
      readonly spec: string;
      readonly service: ServiceRef;
      readonly from: number | null;
      readonly to: number;
      /** partition: the spec's service held at its version with updatePartition tasks, or its canaries' service resized. */
      readonly reason: "replicas changed" | "suspended" | "resumed" | "partition";
      readonly canary?: true;
    }
  | {
      readonly kind: "remove";
      readonly spec: string;
      readonly service: ServiceRef;
      /**
       * deleted: its spec was removed through the API (PlanInput.deleted), so it goes even while
       * pruning is paused. A canaries' service goes when the spec's service has rolled out and
       * settled, when updatePartition holds every replica (partition), or when the spec is suspended.
       */
      readonly reason: "expired" | "orphaned" | "deleted" | "rolled out" | "partition" | "suspended";
      readonly canary?: true;
    };

export interface ServiceRef {
  readonly id: string;
  readonly version: number;
}

export type SwarmNote =
  | { readonly kind: "conflict"; readonly spec: string; readonly service: string }
  /** updatePartition holds `held` tasks of the spec's service on its version; `canaries` run the spec's. */
  | {
      readonly kind: "partitioned";
      readonly spec: string;
      readonly partition: number;
      readonly held: number;
      readonly canaries: number;
    }
  | { readonly kind: "prune-paused"; readonly reason: string; readonly services: readonly string[] };

export interface SwarmPlan {
  readonly actions: readonly SwarmAction[];
  readonly notes: readonly SwarmNote[];
  /** The next expiresAt after now (epoch ms), or null. */
  readonly nextWakeAt: number | null;
}

export interface SwarmPlanOptions {
  readonly owner: Ownership;
  readonly forcePrune: boolean;
  /** A pass that would remove more than this share of berth's services removes none of them. */
  readonly pruneMaxShare: number;
}

/**
 * The fields an update changes: the spec's (from the applied label), then the replicas, which are
 * in no hash (a scale alone is its own action) yet go with the update's body; null when berth
 * cannot tell the spec's.
 */
function changesOf(
  d: DesiredSpec,
  service: ObservedService,
  replicas: number | null,
  owner: Ownership,
): readonly FieldChange[] | null {
  const before = readApplied(service.labels[owner.keys.applied], service.labels[owner.keys.hash]);
  if (before === null) return null;
  const changes = specChanges(before, appliedSpec(d.spec, d.secretDigests));
  if (changes === null || replicas === null || service.replicas === null || service.replicas === replicas)
    return changes;
  return [...changes, { op: "change", path: "replicas", from: String(service.replicas), to: String(replicas) }];
}

function scaleReason(from: number | null, d: DesiredSpec): "replicas changed" | "suspended" | "resumed" {
  if (d.spec.suspended) return "suspended";
  return from === 0 ? "resumed" : "replicas changed";
}

export function planSwarm(
  input: Pick<PlanInput, "desired" | "protectedSpecs" | "protectedSources" | "prunePaused" | "deleted">,
  observed: SwarmObserved,
  now: number,
  options: SwarmPlanOptions,
): SwarmPlan {
  const { owner } = options;
  const { services } = observed;
  const bindings = (d: DesiredSpec): SecretBinding[] =>
    secretBindings(owner, d.spec.name, d.secretDigests, observed.secrets);
  /** Names of the secrets desired specs need: kept. */
  const needed = new Set<string>();
  const byName = new Map(services.map((s) => [s.name, s]));
  const actions: SwarmAction[] = [];
  const notes: SwarmNote[] = [];
  const wanted = new Set<string>();
  let nextWakeAt: number | null = null;
  for (const d of [...input.desired].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1))) {
    const name = d.spec.name;
    wanted.add(name);
    const service = byName.get(name);
    const canary = byName.get(canaryName(name));
    const held = [service, canary].find((s) => s !== undefined && !owner.owns(s));
    if (held) {
      notes.push({ kind: "conflict", spec: name, service: held.id });
      continue;
    }
    const expiresAt = d.spec.expiresAt;
    if (expiresAt !== null && expiresAt <= now) {
      if (service) actions.push({ kind: "remove", spec: name, service: ref(service), reason: "expired" });
      if (canary) actions.push({ kind: "remove", spec: name, service: ref(canary), reason: "expired", canary: true });
      continue;
    }
    if (expiresAt !== null) nextWakeAt = nextWakeAt === null ? expiresAt : Math.min(nextWakeAt, expiresAt);
    const secrets = bindings(d);
    for (const b of secrets) needed.add(b.name);
    // How updatePartition splits the replicas while the spec's own service is of another version.
    const split = service && service.labels[owner.keys.hash] !== d.hash ? canarySplit(d.spec) : null;
    const own = planOwn(d, service, canary, split, observed.tasks, secrets, owner);
    actions.push(...own.actions);
    if (own.note) notes.push(own.note);
    const c = planCanary(d, service, canary, split, own.actions.length > 0 ? null : observed.tasks, secrets, owner);
    if (c) actions.push(c);
  }
  const mine = services.filter((s) => owner.owns(s));
  const specOf = (s: ObservedService): string => s.labels[owner.keys.spec] ?? s.name;
  const canaryMark = (s: ObservedService): { canary?: true } => (isCanary(s, owner) ? { canary: true } : {});
  // A spec removed on purpose (through the API): its service goes, whatever the prune guard says.
  const deleted = mine.filter((s) => !wanted.has(specOf(s)) && input.deleted?.has(specOf(s)) === true);
  for (const s of deleted.sort((a, b) => (a.name < b.name ? -1 : 1)))
    actions.push({ kind: "remove", spec: specOf(s), service: ref(s), reason: "deleted", ...canaryMark(s) });
  // A service made from a file that is now broken is no orphan (as a container: docs/design.md, "Broken files").
  const orphans = mine
    .filter((s) => {
      const spec = specOf(s);
      return (
        !wanted.has(spec) &&
        input.deleted?.has(spec) !== true &&
        !input.protectedSpecs.has(spec) &&
        !input.protectedSources.has(s.labels[owner.keys.source] ?? "")
      );
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (orphans.length > 0) {
    const tooMany = !options.forcePrune && orphans.length > mine.length * options.pruneMaxShare;
    const paused =
      input.prunePaused ??
      (tooMany
        ? `${orphans.length} of ${mine.length} services would be removed, more than --prune-max-share ${options.pruneMaxShare} (--force-prune to remove them)`
        : null);
    if (paused !== null) notes.push({ kind: "prune-paused", reason: paused, services: orphans.map((s) => s.name) });
    else
      for (const s of orphans)
        actions.push({
          kind: "remove",
          spec: specOf(s),
          service: ref(s),
          reason: "orphaned",
          ...canaryMark(s),
        });
  }
  if (input.prunePaused === null) actions.push(...unusedSecrets(input, observed, needed, owner));
  return { actions, notes, nextWakeAt };
}

/**
 * The spec's own service: made, replaced, updated or scaled; held at its version while
 * updatePartition splits the spec's replicas (core/swarm-canary.ts): scaled to the partition,
 * under StartFirst only once the canaries run.
 */
function planOwn(
  d: DesiredSpec,
  service: ObservedService | undefined,
  canary: ObservedService | undefined,
  split: CanarySplit | null,
  tasks: readonly ObservedTask[] | undefined,
  secrets: readonly SecretBinding[],
  owner: Ownership,
): { readonly actions: SwarmAction[]; readonly note?: SwarmNote } {
  const name = d.spec.name;
  if (!service) return { actions: [{ kind: "create", spec: name, reason: "not found", secrets }] };
  const to = desiredReplicas(d.spec);
  if ((to === null) !== (service.replicas === null))
    return { actions: [{ kind: "replace", spec: name, service: ref(service), reason: "mode changed", secrets }] };
  if (split === null) {
    if (service.labels[owner.keys.hash] !== d.hash)
      return {
        actions: [
          {
            kind: "update",
            spec: name,
            service: ref(service),
            strategy: d.spec.updateStrategy,
            reason: "hash changed",
            changes: changesOf(d, service, to, owner),
            secrets,
          },
        ],
      };
    if (to !== null && service.replicas !== to)
      return {
        actions: [
          {
            kind: "scale",
            spec: name,
            service: ref(service),
            from: service.replicas,
            to,
            reason: scaleReason(service.replicas, d),
          },
        ],
      };
    return { actions: [] };
  }
  const note: SwarmNote = { kind: "partitioned", spec: name, partition: d.spec.updatePartition, ...split };
  const actions: SwarmAction[] = [];
  // StartFirst: the held tasks beyond the partition stop once the canaries run the spec's version.
  const canariesUp =
    split.canaries === 0 ||
    (canary !== undefined &&
      canary.labels[owner.keys.hash] === d.hash &&
      canary.replicas === split.canaries &&
      tasks !== undefined &&
      rolledOut(canary, tasks));
  const shrink = service.replicas !== null && service.replicas > split.held;
  if (service.replicas !== split.held && (!shrink || d.spec.updateStrategy === "StopFirst" || canariesUp))
    actions.push({
      kind: "scale",
      spec: name,
      service: ref(service),
      from: service.replicas,
      to: split.held,
      reason: "partition",
    });
  return { actions, note };
}

/**
 * The spec's canaries' service, when it exists: made or kept at the spec's version and R − P
 * tasks while updatePartition splits the replicas; removed once the spec's own service runs the
 * spec's version at its replicas with nothing left to do (an update under way or paused keeps
 * it), when the partition holds every replica, or when the spec is suspended.
 */
function planCanary(
  d: DesiredSpec,
  service: ObservedService | undefined,
  canary: ObservedService | undefined,
  split: CanarySplit | null,
  /** The tasks, or null when the spec's own service has an action this pass. */
  tasks: readonly ObservedTask[] | null | undefined,
  secrets: readonly SecretBinding[],
  owner: Ownership,
): SwarmAction | null {
  const name = d.spec.name;
  const remove = (reason: "rolled out" | "partition" | "suspended"): SwarmAction | null =>
    canary ? { kind: "remove", spec: name, service: ref(canary), reason, canary: true } : null;
  if (d.spec.suspended) return remove("suspended");
  if (split === null) return service && tasks && rolledOut(service, tasks) ? remove("rolled out") : null;
  if (split.canaries === 0) return remove("partition");
  if (!canary) return { kind: "create", spec: name, reason: "not found", secrets, canary: true };
  if (canary.labels[owner.keys.hash] !== d.hash)
    return {
      kind: "update",
      spec: name,
      service: ref(canary),
      strategy: d.spec.updateStrategy,
      reason: "hash changed",
      changes: changesOf(d, canary, split.canaries, owner),
      secrets,
      canary: true,
    };
  if (canary.replicas !== split.canaries)
    return {
      kind: "scale",
      spec: name,
      service: ref(canary),
      from: canary.replicas,
      to: split.canaries,
      reason: "partition",
      canary: true,
    };
  return null;
}

/**
 * berth's secrets that no desired spec needs and no service points to, unless their spec is
 * protected (a broken file) or its service is still rolling (its old tasks still run with them).
 * A secret a service points to goes at the pass after that service changed or went.
 */
function unusedSecrets(
  input: Pick<PlanInput, "protectedSpecs">,
  observed: SwarmObserved,
  needed: ReadonlySet<string>,
  owner: Ownership,
): SwarmAction[] {
  const used = new Set(observed.services.flatMap((s) => s.secretIds));
  const rolling = new Set(
    observed.services.filter((s) => owner.owns(s) && s.updating).map((s) => s.labels[owner.keys.spec] ?? s.name),
  );
  return observed.secrets
    .filter((s) => owner.owns(s) && !needed.has(s.name) && !used.has(s.id))
    .map((s) => ({ secret: s, spec: s.labels[owner.keys.spec] ?? "" }))
    .filter(({ spec }) => !input.protectedSpecs.has(spec) && !rolling.has(spec))
    .sort((a, b) => (a.secret.name < b.secret.name ? -1 : 1))
    .map(({ secret, spec }) => ({
      kind: "remove-secret",
      spec,
      secret: { id: secret.id, name: secret.name },
      reason: "unused",
    }));
}

/**
 * Every task Swarm wants of the service runs its current spec, as many as its replicas, and no
 * update is under way or paused: an update just asked for makes the old tasks outdated at once.
 */
function rolledOut(service: ObservedService, tasks: readonly ObservedTask[]): boolean {
  const own = tasks.filter((t) => t.serviceId === service.id && isWantedTask(t.desiredState));
  return (
    !service.updating &&
    service.updateFailure === null &&
    own.length === service.replicas &&
    own.every((t) => t.state === "running" && t.outdated !== true)
  );
}

function ref(s: ObservedService): ServiceRef {
  return { id: s.id, version: s.version };
}

export function renderSwarmAction(a: SwarmAction): string {
  const name = "canary" in a && a.canary === true ? canaryName(a.spec) : a.spec;
  switch (a.kind) {
    case "create":
      return `create  service ${name}: ${a.reason}`;
    case "replace":
      return `replace service ${name} [${shortId(a.service.id)}]: ${a.reason}`;
    case "update":
      return `update  service ${name} [${shortId(a.service.id)}] ${a.strategy}: ${a.reason}`;
    case "remove-secret":
      return `remove  secret ${a.secret.name} [${shortId(a.secret.id)}]: ${a.reason}`;
    case "scale":
      return `scale   service ${name} [${shortId(a.service.id)}] ${a.from ?? "global"} -> ${a.to}: ${a.reason}`;
    case "remove":
      return `remove  service ${name} [${shortId(a.service.id)}]: ${a.reason}`;
  }
}

/**
 * An update's changed fields, one indented line each, as `berth plan` prints them for the engine;
 * then the secrets an action makes first (their names, never a value).
 */
export function renderSwarmChanges(a: SwarmAction): string[] {
  const changes = a.kind === "update" && a.changes ? a.changes.map((c) => `    ${renderChange(c)}`) : [];
  const made = "secrets" in a ? a.secrets.filter((b) => b.id === null).map((b) => `    + secret ${b.name}`) : [];
  return [...changes, ...made];
}

export function renderSwarmNote(n: SwarmNote): string {
  switch (n.kind) {
    case "conflict":
      return `! ${n.spec}: the service name is held by service ${shortId(n.service)}, which berth does not own`;
    case "partitioned":
      return `! ${n.spec}: ${swarmPartitionText(n)}`;
    case "prune-paused":
      return `! pruning paused: ${n.reason} (kept: ${n.services.join(", ")})`;
  }
}

/** The whole plan as stable text: the golden tests compare it. */
export function renderSwarmPlan(p: SwarmPlan): string {
  return [
    ...p.actions.flatMap((a) => [renderSwarmAction(a), ...renderSwarmChanges(a)]),
    ...p.notes.map(renderSwarmNote),
  ].join("\n");
}
