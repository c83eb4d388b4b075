/**
 * plan(desired, observed, now, options) → { actions, notes, nextWakeAt }: what must change for
 * the host to match the specs. Pure: no clock, env, I/O or logging. Every action names its spec
 * and carries a reason; notes say what was deliberately not done and why.
 *
 * Drift is decided from the list call alone (DESIGN §3): hash label differs → replace; missing
 * → create; exited but should run → start; running but suspended → stop; the image tag now
 * resolves to another image ID → replace. Every intermediate state of a replacement (a container
 * under the temporary name alone, or beside the old one) is recognised and finished.
 */
import { normalizeImageRef } from "../image-ref.js";
import type { LabelKeys } from "../labels.js";
import { containerName, isTempName, tempName } from "../names.js";
import type { ObservedContainer, ObservedState } from "../observed.js";
import type { NormalizedSpec, UpdateStrategy } from "../spec.js";
import { NEVER, parseExpiresAt } from "../units.js";

export interface DesiredSpec {
  readonly spec: NormalizedSpec;
  /** The spec hash (secrets resolved). */
  readonly hash: string;
  /** The spec file's path relative to its directory. */
  readonly source: string;
}

export interface PlanInput {
  readonly desired: readonly DesiredSpec[];
  /**
   * Specs whose containers must be left alone: named in a file that is currently invalid, or
   * whose secrets cannot be resolved. Never pruned, never changed.
   */
  readonly protectedSpecs: ReadonlySet<string>;
  /** Source paths (relative) of invalid files: containers created from them are never pruned. */
  readonly protectedSources: ReadonlySet<string>;
  /** Why pruning is paused (a spec directory empty, missing or unreadable), or null. */
  readonly prunePaused: string | null;
  /**
   * Containers whose start keeps failing (the engine's state for them is broken, e.g. a stale
   * runtime directory after a daemon crash): replaced instead of started again.
   */
  readonly unstartable?: ReadonlySet<string>;
  /**
   * Specs removed on purpose (DELETE through the API, a docker-spawner stop): their containers
   * are removed even while pruning is paused or past its share, since nothing about them is in
   * doubt.
   */
  readonly deleted?: ReadonlySet<string>;
}

export interface PlanOptions {
  readonly labels: LabelKeys;
  readonly controllerId: string;
  /** Prune even past the share limit. */
  readonly forcePrune: boolean;
  /** A pass that would prune more than this share of the managed containers prunes nothing. */
  readonly pruneMaxShare: number;
}

export type RemoveReason =
  "orphaned" | "deleted" | "expired" | "scaled down" | "duplicate" | "leftover temporary" | "name needed";

export interface ContainerRef {
  readonly id: string;
  readonly name: string;
}

interface ActionBase {
  /** The spec the action is for (the key that serializes operations). */
  readonly spec: string;
}

export type Action =
  | (ActionBase & {
      readonly kind: "create";
      readonly replica: number;
      readonly name: string;
      readonly reason: "not found";
    })
  | (ActionBase & {
      readonly kind: "replace";
      readonly replica: number;
      readonly name: string;
      readonly old: ContainerRef;
      readonly strategy: UpdateStrategy;
      readonly reason: "hash changed" | "image updated" | "dead" | "start failing";
    })
  | (ActionBase & {
      readonly kind: "finish";
      readonly replica: number;
      readonly name: string;
      readonly next: ContainerRef;
      readonly old: ContainerRef | null;
      readonly reason: "interrupted replacement";
    })
  | (ActionBase & {
      readonly kind: "start";
      readonly container: ContainerRef;
      readonly reason: "exited" | "failed" | "never started";
    })
  | (ActionBase & { readonly kind: "stop"; readonly container: ContainerRef; readonly reason: "suspended" })
  | (ActionBase & { readonly kind: "remove"; readonly container: ContainerRef; readonly reason: RemoveReason })
  | (ActionBase & {
      readonly kind: "rename";
      readonly container: ContainerRef;
      readonly to: string;
      readonly reason: "replicas changed";
    });

export type ActionKind = Action["kind"];

export type Note =
  | { readonly kind: "prune-paused"; readonly message: string; readonly containers: readonly ContainerRef[] }
  | {
      readonly kind: "conflict";
      readonly spec: string;
      readonly name: string;
      readonly holder: string;
      /** foreign: a container berth does not own; protected: berth's, from a file that is invalid. */
      readonly by: "foreign" | "protected";
    }
  | { readonly kind: "update-pending"; readonly spec: string; readonly message: string };

export interface Plan {
  readonly actions: readonly Action[];
  readonly notes: readonly Note[];
  /** When the next expiry falls (epoch ms): plan again then. */
  readonly nextWakeAt: number | null;
}

const ref = (c: ObservedContainer): ContainerRef => ({ id: c.id, name: c.name });

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function plan(input: PlanInput, observed: ObservedState, now: number, options: PlanOptions): Plan {
  const keys = options.labels;
  const actions: Action[] = [];
  const notes: Note[] = [];
  let nextWakeAt: number | null = null;
  const wakeAt = (at: number): void => {
    if (at > now && (nextWakeAt === null || at < nextWakeAt)) nextWakeAt = at;
  };

  // Only our own containers, and none that Docker is already removing.
  const ours = observed.containers
    .filter((c) => c.labels[keys.controller] === options.controllerId && c.state !== "removing")
    .slice()
    .sort(byName);
  const groups = new Map<string, ObservedContainer[]>();
  for (const c of ours) {
    const spec = c.labels[keys.spec] ?? "";
    const list = groups.get(spec);
    if (list) list.push(c);
    else groups.set(spec, [c]);
  }

  const desired = [...input.desired].sort((a, b) => byName(a.spec, b.spec));
  const desiredNames = new Set(desired.map((d) => d.spec.name));

  // A container of ours whose spec is gone but which holds a name a desired spec needs (a stale
  // leftover, or one that won a race with a create): it is replaced, whatever the prune guard says.
  const isProtected = (c: ObservedContainer): boolean =>
    input.protectedSpecs.has(c.labels[keys.spec] ?? "") || input.protectedSources.has(c.labels[keys.source] ?? "");
  const staleByName = new Map<string, ObservedContainer>();
  for (const c of ours) if (!desiredNames.has(c.labels[keys.spec] ?? "")) staleByName.set(c.name, c);
  const claimed = new Set<ObservedContainer>();
  /** The stale container of ours holding `name`; a protected one is reported, not claimed. */
  const claim = (name: string): { readonly holder: ObservedContainer; readonly protected: boolean } | undefined => {
    const holder = staleByName.get(name);
    if (!holder) return undefined;
    if (isProtected(holder)) return { holder, protected: true };
    claimed.add(holder);
    return { holder, protected: false };
  };

  for (const d of desired) {
    const containers = groups.get(d.spec.name) ?? [];
    const expiresAt = d.spec.expiresAt;
    if (expiresAt !== null && expiresAt <= now) {
      for (const c of containers)
        actions.push({ kind: "remove", spec: d.spec.name, container: ref(c), reason: "expired" });
      continue;
    }
    if (expiresAt !== null) wakeAt(expiresAt);
    planSpec(d, containers, observed, keys, actions, notes, claim, input.unstartable ?? new Set());
  }

  // Containers whose spec is gone: expired ones go regardless; the rest are orphans, pruned only
  // when it is safe.
  const orphans: { spec: string; container: ObservedContainer }[] = [];
  for (const [spec, containers] of groups) {
    if (desiredNames.has(spec) || input.protectedSpecs.has(spec)) continue;
    for (const c of containers) {
      if (claimed.has(c) || input.protectedSources.has(c.labels[keys.source] ?? "")) continue;
      const label = c.labels[keys.expiresAt];
      const expiresAt = label === undefined || label === NEVER ? null : parseExpiresAt(label);
      if (typeof expiresAt === "number" && expiresAt <= now) {
        actions.push({ kind: "remove", spec, container: ref(c), reason: "expired" });
        continue;
      }
      if (input.deleted?.has(spec)) {
        actions.push({ kind: "remove", spec, container: ref(c), reason: "deleted" });
        continue;
      }
      if (typeof expiresAt === "number") wakeAt(expiresAt);
      orphans.push({ spec, container: c });
    }
  }
  if (orphans.length > 0) {
    const managed = ours.length;
    const refs = orphans.map((o) => ref(o.container));
    if (input.prunePaused !== null) {
      notes.push({
        kind: "prune-paused",
        containers: refs,
        message: `prune paused: ${input.prunePaused}; ${orphans.length} container(s) without a spec are kept`,
      });
    } else if (!options.forcePrune && orphans.length > options.pruneMaxShare * managed) {
      notes.push({
        kind: "prune-paused",
        containers: refs,
        message:
          `prune paused: ${orphans.length} of ${managed} managed containers have no spec, more than ` +
          `${Math.round(options.pruneMaxShare * 100)}%; nothing is removed (use --force-prune if this is intended)`,
      });
    } else {
      for (const o of orphans)
        actions.push({ kind: "remove", spec: o.spec, container: ref(o.container), reason: "orphaned" });
    }
  }

  return { actions, notes, nextWakeAt };
}

function planSpec(
  d: DesiredSpec,
  containers: readonly ObservedContainer[],
  observed: ObservedState,
  keys: LabelKeys,
  actions: Action[],
  notes: Note[],
  claim: (name: string) => { readonly holder: ObservedContainer; readonly protected: boolean } | undefined,
  unstartable: ReadonlySet<string>,
): void {
  const spec = d.spec;
  const n = spec.replicas;
  const currentImage = observed.imageIds.get(normalizeImageRef(spec.image));
  const imageChanged = (c: ObservedContainer): boolean => currentImage !== undefined && c.imageId !== currentImage;
  const current = (c: ObservedContainer): boolean => c.labels[keys.hash] === d.hash && !imageChanged(c);
  const remove = (c: ObservedContainer, reason: RemoveReason): void => {
    actions.push({ kind: "remove", spec: spec.name, container: ref(c), reason });
  };
  const foreign = (name: string): boolean => {
    const holder = observed.foreignNames.get(name);
    if (holder === undefined) return false;
    notes.push({ kind: "conflict", spec: spec.name, name, holder, by: "foreign" });
    return true;
  };

  const byReplica = new Map<number, ObservedContainer[]>();
  for (const c of containers) {
    const label = c.labels[keys.replica] ?? "";
    const replica = /^(0|[1-9][0-9]*)$/.test(label) ? Number(label) : -1;
    if (replica < 0 || replica >= n) {
      remove(c, "scaled down");
      continue;
    }
    const list = byReplica.get(replica);
    if (list) list.push(c);
    else byReplica.set(replica, [c]);
  }

  for (let replica = 0; replica < n; replica++) {
    const name = containerName(spec.name, replica, n);
    const temp = tempName(name);
    const cs = byReplica.get(replica) ?? [];
    const primary = cs.find((c) => c.name === name);
    const temps = cs.filter((c) => c.name === temp);
    const others = cs.filter((c) => c !== primary && c.name !== temp);
    const removeAll = (list: readonly ObservedContainer[], keep?: ObservedContainer): void => {
      for (const c of list) if (c !== keep) remove(c, isTempName(c.name) ? "leftover temporary" : "duplicate");
    };

    if (primary && current(primary)) {
      removeAll(temps);
      removeAll(others);
      planState(primary);
      continue;
    }

    if (primary) {
      if (spec.suspended) {
        notes.push({
          kind: "update-pending",
          spec: spec.name,
          message: `${name} is out of date; it is replaced when the spec is resumed`,
        });
        planState(primary);
        continue;
      }
      const next = temps.find(current);
      removeAll(temps, next);
      removeAll(others);
      if (next) {
        actions.push({
          kind: "finish",
          spec: spec.name,
          replica,
          name,
          next: ref(next),
          old: ref(primary),
          reason: "interrupted replacement",
        });
      } else {
        const reason = primary.labels[keys.hash] !== d.hash ? "hash changed" : "image updated";
        actions.push({
          kind: "replace",
          spec: spec.name,
          replica,
          name,
          old: ref(primary),
          strategy: spec.updateStrategy,
          reason,
        });
      }
      continue;
    }

    // No container of this spec under the final name.
    if (foreign(name)) continue;
    const stale = claim(name);
    if (stale?.protected) {
      notes.push({ kind: "conflict", spec: spec.name, name, holder: stale.holder.id, by: "protected" });
      continue;
    }
    if (stale) {
      // Under this spec's key, so that it runs before the create, never beside it.
      actions.push({ kind: "remove", spec: spec.name, container: ref(stale.holder), reason: "name needed" });
    }
    const next = temps.find(current);
    if (next) {
      removeAll(temps, next);
      removeAll(others);
      actions.push({
        kind: "finish",
        spec: spec.name,
        replica,
        name,
        next: ref(next),
        old: null,
        reason: "interrupted replacement",
      });
      continue;
    }
    const renamable = others.find(current);
    if (renamable) {
      actions.push({
        kind: "rename",
        spec: spec.name,
        container: ref(renamable),
        to: name,
        reason: "replicas changed",
      });
      removeAll(temps);
      removeAll(others, renamable);
      continue;
    }
    if (!spec.suspended) actions.push({ kind: "create", spec: spec.name, replica, name, reason: "not found" });
    // The new container first, then what it replaces (StartFirst in spirit).
    removeAll(temps);
    removeAll(others);
  }

  function planState(c: ObservedContainer): void {
    if (spec.suspended) {
      if (c.state === "running" || c.state === "restarting" || c.state === "paused") {
        actions.push({ kind: "stop", spec: spec.name, container: ref(c), reason: "suspended" });
      }
      return;
    }
    const replaceIt = (reason: "dead" | "start failing"): void => {
      actions.push({
        kind: "replace",
        spec: spec.name,
        replica: Number(c.labels[keys.replica]),
        name: c.name,
        old: ref(c),
        strategy: "StopFirst",
        reason,
      });
    };
    if ((c.state === "exited" || c.state === "created") && unstartable.has(c.id)) {
      replaceIt("start failing");
      return;
    }
    switch (c.state) {
      case "dead":
        replaceIt("dead");
        return;
      case "created":
        actions.push({ kind: "start", spec: spec.name, container: ref(c), reason: "never started" });
        return;
      case "exited":
        if (spec.restartPolicy === "Always") {
          actions.push({ kind: "start", spec: spec.name, container: ref(c), reason: "exited" });
        } else if (spec.restartPolicy === "OnFailure" && c.exitCode !== 0) {
          actions.push({ kind: "start", spec: spec.name, container: ref(c), reason: "failed" });
        }
        return;
      default:
        return;
    }
  }
}

/** True when a plan changes nothing. */
export function isEmptyPlan(p: Plan): boolean {
  return p.actions.length === 0;
}
