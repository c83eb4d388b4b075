/**
 * The plan of one desired spec: for each replica, what makes its container current and in the
 * state the spec asks for, from the spec's containers as observed.
 */
import { appliedSpec, readApplied } from "../applied.js";
import { autoPortKeys, containerHostPorts, type HostPortAllocator, type HostPortMap } from "../host-ports.js";
import { followsTag, normalizeImageRef } from "../image-ref.js";
import type { LabelKeys } from "../labels.js";
import { containerName, isTempName, tempName } from "../names.js";
import type { ObservedContainer, ObservedState } from "../observed.js";
import type { Ownership } from "../ownership.js";
import { memberName } from "../pool.js";
import {
  deadlineMarkLabels,
  deadlineMarkVolume,
  deadlineOf,
  type RunRecord,
  runOutcome,
  runRecordLabels,
  runRecordVolume,
  runsToCompletion,
} from "../runs.js";
import { type FieldChange, specChanges } from "../spec-diff.js";
import type { UpdateStrategy } from "../spec.js";
import type { PlanBuilder } from "./builder.js";
import type { IsCurrent } from "./rollout.js";
import type { ContainerRef, DesiredSpec, RemoveReason } from "./types.js";
import { volumesToMake } from "./volumes.js";

/** A stale container of ours holding `name`, claimed for a desired spec; a protected one is only reported. */
export type Claim = (name: string) => { readonly holder: ObservedContainer; readonly protected: boolean } | undefined;

export interface SpecPlanContext {
  readonly observed: ObservedState;
  readonly keys: LabelKeys;
  readonly claim: Claim;
  readonly unstartable: ReadonlySet<string>;
  readonly out: PlanBuilder;
  readonly owner: Ownership;
  readonly now: number;
  /** The records of this spec's finished runs whose containers were collected (core/runs.ts). */
  readonly records: readonly RunRecord[];
  /** The plan's host-port allocator, for `hostPort: auto` (core/host-ports.ts). */
  readonly ports: () => HostPortAllocator;
  /** A pool's replica slots this pass (core/pool.ts, poolSlots); absent: 0 … replicas-1. */
  readonly slots?: readonly number[];
  /** The spec's current-version test (currentTest), made once per spec by the caller. */
  readonly version: CurrentVersion;
}

/** currentTest's answer. */
export interface CurrentVersion {
  readonly current: IsCurrent;
  readonly servedDigest: string | undefined;
  readonly digestMoved: (c: ObservedContainer) => boolean;
}

export const ref = (c: ObservedContainer): ContainerRef => ({ id: c.id, name: c.name });

/** A replica label berth writes: "0", "1", …; anything else is not berth's doing. */
function replicaOf(c: ObservedContainer, keys: LabelKeys): number | null {
  const label = c.labels[keys.replica] ?? "";
  return /^(0|[1-9][0-9]*)$/.test(label) ? Number(label) : null;
}

/** What changed since `c` was made, from its applied label; null when that cannot be told. */
function changesSince(c: ObservedContainer, d: DesiredSpec, keys: LabelKeys): readonly FieldChange[] | null {
  const before = readApplied(c.labels[keys.applied], c.labels[keys.hash]);
  const changes = before && specChanges(before, appliedSpec(d.spec, d.secretDigests));
  return changes && changes.length > 0 ? changes : null;
}

/**
 * Whether a container of `d` is of its current version: its hash, and the image its tag names now
 * (a followed tag's: the digest the registry serves now, against the one it was pulled by).
 */
export function currentTest(d: DesiredSpec, observed: ObservedState, keys: LabelKeys): CurrentVersion {
  const spec = d.spec;
  const runs = runsToCompletion(spec);
  const currentImage = observed.imageIds.get(normalizeImageRef(spec.image));
  const servedDigest = followsTag(spec) ? observed.registryDigests?.get(normalizeImageRef(spec.image)) : undefined;
  const digestMoved = (c: ObservedContainer): boolean =>
    servedDigest !== undefined && c.labels[keys.imageDigest] !== servedDigest;
  // A finished run is started again only by a new hash: a rebuilt image tag waits for the next run.
  const imageChanged = (c: ObservedContainer): boolean =>
    !(runs && c.state === "exited") && ((currentImage !== undefined && c.imageId !== currentImage) || digestMoved(c));
  const current = (c: ObservedContainer): boolean => c.labels[keys.hash] === d.hash && !imageChanged(c);
  return { current, servedDigest, digestMoved };
}

export function planSpec(d: DesiredSpec, containers: readonly ObservedContainer[], ctx: SpecPlanContext): void {
  const { observed, keys, out } = ctx;
  const spec = d.spec;
  const n = spec.replicas;
  const slots = ctx.slots ?? Array.from({ length: n }, (_, i) => i);
  const inSlots = new Set(slots);
  const nameOf = (replica: number): string =>
    spec.pool ? memberName(spec.name, replica) : containerName(spec.name, replica, n);
  const runs = runsToCompletion(spec);
  const { current, servedDigest, digestMoved } = ctx.version;
  const remove = (c: ObservedContainer, reason: RemoveReason): void => {
    out.act({ kind: "remove", spec: spec.name, container: ref(c), reason });
  };
  const foreign = (name: string): boolean => {
    const holder = observed.foreignNames.get(name);
    if (holder === undefined) return false;
    out.note({ kind: "conflict", spec: spec.name, name, holder, by: "foreign" });
    return true;
  };

  // `hostPort: auto`: a new container's ports, its instance's previous ones when the old container
  // goes first (StopFirst), else the lowest free; null when the range is exhausted (noted once).
  const autoKeys = autoPortKeys(spec);
  let exhausted = false;
  const portsFor = (
    old: ObservedContainer | null,
    strategy: UpdateStrategy,
  ): { readonly hostPorts?: HostPortMap } | null => {
    if (autoKeys.length === 0) return {};
    const keep = old !== null && strategy === "StopFirst";
    const got = ctx
      .ports()
      .allocate(autoKeys, spec.name, keep ? containerHostPorts(old, keys.hostPorts) : {}, keep ? old.id : null);
    if (got !== null) return { hostPorts: got };
    if (!exhausted) {
      exhausted = true;
      out.note({
        kind: "blocked",
        spec: spec.name,
        message: `no free host port in ${ctx.ports().rangeText}`,
        failed: false,
      });
    }
    return null;
  };

  // The records of collected runs: this hash's stand for their replica; others go (a new run).
  const collected = new Set<number>();
  for (const r of ctx.records) {
    if (r.hash === d.hash && inSlots.has(r.replica) && !collected.has(r.replica)) collected.add(r.replica);
    else out.act({ kind: "forget", spec: spec.name, name: r.volume, reason: "new run" });
  }

  const byReplica = new Map<number, ObservedContainer[]>();
  for (const c of containers) {
    const replica = replicaOf(c, keys);
    if (replica === null) {
      remove(c, "invalid replica label");
      continue;
    }
    if (!inSlots.has(replica)) {
      remove(c, "scaled down");
      continue;
    }
    const list = byReplica.get(replica);
    if (list) list.push(c);
    else byReplica.set(replica, [c]);
  }

  // The replicas updatePartition keeps on their version (noted once, after the loop).
  const partitioned: string[] = [];
  for (const replica of slots) {
    const name = nameOf(replica);
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
        out.note({
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
        out.act({
          kind: "finish",
          spec: spec.name,
          replica,
          name,
          next: ref(next),
          old: ref(primary),
          reason: "interrupted replacement",
        });
      } else if (replica < spec.updatePartition) {
        // Below the partition: it keeps its version (a replacement begun before is finished above),
        // unless a repair makes it again (dead, start failing): at this version, no older spec is kept.
        planState(primary);
        const last = out.planned.at(-1);
        if (!(last?.kind === "replace" && last.name === name)) partitioned.push(name);
      } else {
        const reason = primary.labels[keys.hash] !== d.hash ? "hash changed" : "image updated";
        // A new run replaces the last one: it is not kept running beside it.
        const strategy = runs ? "StopFirst" : spec.updateStrategy;
        const hostPorts = portsFor(primary, strategy);
        if (hostPorts === null) continue;
        out.act({
          kind: "replace",
          spec: spec.name,
          replica,
          name,
          old: ref(primary),
          strategy,
          reason,
          ...(reason === "hash changed" ? { changes: changesSince(primary, d, keys) } : {}),
          ...(reason === "image updated" && servedDigest !== undefined && digestMoved(primary)
            ? { imageDigests: { from: primary.labels[keys.imageDigest] ?? null, to: servedDigest } }
            : {}),
          ...volumesToMake(spec, replica, observed),
          ...hostPorts,
        });
      }
      continue;
    }

    // No container of this spec under the final name.
    if (collected.has(replica) && cs.every((c) => c.labels[keys.hash] === d.hash)) {
      // The run finished and its container was collected after its TTL: not run again.
      removeAll(temps);
      removeAll(others);
      continue;
    }
    if (foreign(name)) continue;
    const stale = ctx.claim(name);
    if (stale?.protected) {
      out.note({ kind: "conflict", spec: spec.name, name, holder: stale.holder.id, by: "protected" });
      continue;
    }
    if (stale) {
      // Under this spec's key, so that it runs before the create, never beside it.
      out.act({ kind: "remove", spec: spec.name, container: ref(stale.holder), reason: "name needed" });
    }
    const next = temps.find(current);
    if (next) {
      removeAll(temps, next);
      removeAll(others);
      out.act({
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
      out.act({ kind: "rename", spec: spec.name, container: ref(renamable), to: name, reason: "replicas changed" });
      removeAll(temps);
      removeAll(others, renamable);
      continue;
    }
    const hostPorts = spec.suspended ? null : portsFor(null, spec.updateStrategy);
    if (hostPorts !== null) {
      out.act({
        kind: "create",
        spec: spec.name,
        replica,
        name,
        reason: "not found",
        ...volumesToMake(spec, replica, observed),
        ...hostPorts,
      });
    }
    // The new container first, then what it replaces (StartFirst in spirit).
    removeAll(temps);
    removeAll(others);
  }
  if (partitioned.length > 0)
    out.note({ kind: "partitioned", spec: spec.name, partition: spec.updatePartition, kept: partitioned });

  function planState(c: ObservedContainer): void {
    if (spec.suspended) {
      if (c.state === "running" || c.state === "restarting" || c.state === "paused") {
        out.act({ kind: "stop", spec: spec.name, container: ref(c), reason: "suspended" });
      }
      return;
    }
    const replaceIt = (reason: "dead" | "start failing"): void => {
      const replica = Number(c.labels[keys.replica]);
      const hostPorts = portsFor(c, "StopFirst");
      if (hostPorts === null) return;
      out.act({
        kind: "replace",
        spec: spec.name,
        replica,
        name: c.name,
        old: ref(c),
        strategy: "StopFirst",
        reason,
        ...volumesToMake(spec, replica, observed),
        ...hostPorts,
      });
    };
    if (runs && planRun(c)) return;
    if ((c.state === "exited" || c.state === "created") && ctx.unstartable.has(c.id)) {
      replaceIt("start failing");
      return;
    }
    switch (c.state) {
      case "dead":
        replaceIt("dead");
        return;
      case "created":
        out.act({ kind: "start", spec: spec.name, container: ref(c), reason: "never started" });
        return;
      case "exited":
        if (spec.restartPolicy === "Always") {
          out.act({ kind: "start", spec: spec.name, container: ref(c), reason: "exited" });
        } else if (spec.restartPolicy === "OnFailure" && c.exitCode !== 0 && spec.backoffLimit === null) {
          // With a backoffLimit the engine retries and counts (docs/runs.md); a start by berth would reset its count.
          out.act({ kind: "start", spec: spec.name, container: ref(c), reason: "failed" });
        }
        return;
      default:
        return;
    }
  }

  /**
   * A run's own rules (docs/runs.md), true when they decided: a finished run is never started
   * again, and is collected at finish + ttlAfterFinished; a run past its activeDeadline is stopped.
   */
  function planRun(c: ObservedContainer): boolean {
    const outcome = runOutcome(c, spec);
    if (outcome) {
      const ttl = spec.ttlAfterFinishedMs;
      if (ttl !== null && outcome.finishedAt !== null) {
        const at = outcome.finishedAt + ttl;
        if (at <= ctx.now) {
          const replica = Number(c.labels[keys.replica]);
          const hash = c.labels[keys.hash] ?? d.hash;
          out.act({
            kind: "collect",
            spec: spec.name,
            container: ref(c),
            record: {
              volume: runRecordVolume(keys, ctx.owner.controllerId, c.name, hash),
              labels: runRecordLabels(ctx.owner, spec.name, replica, hash, c.name, outcome),
            },
            reason: "ttl expired",
          });
        } else out.wakeAt(at);
      }
      return true;
    }
    if (c.state === "running" || c.state === "restarting" || c.state === "paused") {
      const at = deadlineOf(c, spec);
      if (at === null) return false;
      if (at <= ctx.now) {
        out.act({
          kind: "stop",
          spec: spec.name,
          container: ref(c),
          reason: "deadline exceeded",
          mark: {
            volume: deadlineMarkVolume(keys, ctx.owner.controllerId, c.id),
            labels: deadlineMarkLabels(ctx.owner, spec.name, c.id),
          },
        });
      } else out.wakeAt(at);
      return true;
    }
    // OnFailure with a backoffLimit: the engine restarts it and counts; berth waits.
    return c.state === "exited" && spec.backoffLimit !== null;
  }
}
