/**
 * plan(desired, observed, now, options) → { actions, notes, nextWakeAt }: what must change for
 * the host to match the specs. Pure: no clock, env, I/O or logging. Every action names its spec
 * and carries a reason; notes say what was deliberately not done and why.
 *
 * Drift is decided from the list call alone (docs/design.md, "Drift"): hash label differs →
 * replace; missing → create; exited but should run → start; running but suspended → stop; the
 * image tag now resolves to another image ID → replace. Every intermediate state of a replacement
 * (a container under the temporary name alone, or beside the old one) is recognised and finished.
 */
import { DEFAULT_HOST_PORT_RANGE, HostPortAllocator, takenHostPorts } from "../host-ports.js";
import { isRejectedName } from "../names.js";
import type { ObservedContainer, ObservedState } from "../observed.js";
import { type RunRecord, runRecords, staleDeadlineMarks } from "../runs.js";
import { poolSlots } from "../pool.js";
import { NEVER, parseExpiresAt } from "../units.js";
import { PlanBuilder } from "./builder.js";
import { planCapacity } from "./capacity.js";
import { blockedBy, planObjects } from "./objects.js";
import { dependencyWait } from "./dependencies.js";
import { isRolloutReplace, rolloutHold, sortRejected } from "./rollout.js";
import { type Claim, currentTest, planSpec, ref } from "./plan-spec.js";
import type { Action, Plan, PlanInput, PlanOptions } from "./types.js";
import { planImages } from "./images.js";
import { planInstanceVolumes } from "./volumes.js";

export type * from "./types.js";

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The actions that make a container, and the removal that frees a name for one. */
function makesContainer(a: Action): boolean {
  return (
    a.kind === "create" ||
    a.kind === "replace" ||
    a.kind === "finish" ||
    a.kind === "rename" ||
    (a.kind === "remove" && a.reason === "name needed")
  );
}

export function plan(input: PlanInput, observed: ObservedState, now: number, options: PlanOptions): Plan {
  const keys = options.owner.keys;
  const out = new PlanBuilder(now);

  // Only our own containers, and none that Docker is already removing.
  const ours = observed.containers.filter((c) => options.owner.owns(c) && c.state !== "removing").sort(byName);
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
  const claim: Claim = (name) => {
    const holder = staleByName.get(name);
    if (!holder) return undefined;
    if (isProtected(holder)) return { holder, protected: true };
    claimed.add(holder);
    return { holder, protected: false };
  };

  const records = new Map<string, RunRecord[]>();
  const volumes = observed.volumes?.filter((v) => options.owner.owns(v));
  for (const r of runRecords(volumes, keys)) {
    const list = records.get(r.spec);
    if (list) list.push(r);
    else records.set(r.spec, [r]);
  }
  // Declared networks and volumes first: a container spec that needs one waits for it.
  const objects = planObjects(input, observed, options, out);

  // Made when the first spec with a `hostPort: auto` needs a port, shared by all that follow.
  let allocator: HostPortAllocator | null = null;
  const ports = (): HostPortAllocator =>
    (allocator ??= new HostPortAllocator(
      input.hostPorts?.ranges ?? [DEFAULT_HOST_PORT_RANGE],
      takenHostPorts(
        observed.containers,
        keys.hostPorts,
        new Map([
          ...[...(observed.foreignHostPorts ?? [])].map((port) => [port, ""] as const),
          ...(input.hostPorts?.busy ?? []),
        ]),
      ),
    ));
  // Claimed pool members are their claims': removed when the claim expires, otherwise left alone.
  const claims = new Map((input.claims ?? []).map((c) => [c.containerId, c]));
  const claimedHere = (c: ObservedContainer): boolean => {
    const record = claims.get(c.id);
    if (record === undefined) return false;
    if (record.expiresAt !== null && record.expiresAt <= now) {
      out.act({ kind: "remove", spec: c.labels[keys.spec] ?? "", container: ref(c), reason: "claim expired" });
    } else if (record.expiresAt !== null) out.wakeAt(record.expiresAt);
    return true;
  };
  for (const list of groups.values()) {
    const free = list.filter((c) => !claimedHere(c));
    if (free.length < list.length) groups.set(list[0]?.labels[keys.spec] ?? "", free);
  }

  const claimedReplicas = (spec: string): Set<number> =>
    new Set(
      ours
        .filter((c) => claims.has(c.id) && c.labels[keys.spec] === spec)
        .map((c) => Number(c.labels[keys.replica] ?? "-1")),
    );

  const unstartable = input.unstartable ?? new Set<string>();
  const dependencies = {
    desired: new Map(desired.map((d) => [d.spec.name, d])),
    containers: groups,
    records,
    keys,
  };
  for (const d of desired) {
    const all = groups.get(d.spec.name) ?? [];
    const expiresAt = d.spec.expiresAt;
    if (expiresAt !== null && expiresAt <= now) {
      for (const c of all) out.act({ kind: "remove", spec: d.spec.name, container: ref(c), reason: "expired" });
      continue;
    }
    // The stopped records of rejected versions (rollout.ts) are no replicas; stale ones go first.
    const containers = all.filter((c) => !isRejectedName(c.name));
    const version = currentTest(d, observed, keys);
    const { current } = version;
    const rejected = sortRejected(
      d,
      all.filter((c) => isRejectedName(c.name)),
      containers,
      current,
    );
    for (const c of rejected.stale)
      out.act({ kind: "remove", spec: d.spec.name, container: ref(c), reason: "old rejection" });
    if (expiresAt !== null) out.wakeAt(expiresAt);
    const own = records.get(d.spec.name) ?? [];
    const slots = d.spec.pool
      ? poolSlots(
          d.spec.pool,
          containers,
          claimedReplicas(d.spec.name),
          keys,
          d.hash,
          input.poolDemand?.get(d.spec.name) ?? 0,
        )
      : undefined;
    planSpec(d, containers, {
      observed,
      keys,
      claim,
      unstartable,
      out,
      owner: options.owner,
      now,
      records: own,
      ports,
      version,
      ...(slots ? { slots } : {}),
    });
    const blocked = blockedBy(d, objects, observed);
    if (blocked) {
      if (out.drop(d.spec.name, makesContainer)) out.note(blocked);
      continue;
    }
    const hold = rolloutHold(d, containers, rejected.holding, keys, current);
    if (hold) {
      out.drop(d.spec.name, isRolloutReplace);
      out.note(hold);
    }
    const waiting = dependencyWait(d, dependencies);
    if (waiting && (out.drop(d.spec.name, makesContainer) || waiting.always)) out.note(waiting.note);
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
        out.act({ kind: "remove", spec, container: ref(c), reason: "expired" });
        continue;
      }
      if (input.deleted?.has(spec)) {
        out.act({ kind: "remove", spec, container: ref(c), reason: "deleted" });
        continue;
      }
      if (typeof expiresAt === "number") out.wakeAt(expiresAt);
      orphans.push({ spec, container: c });
    }
  }
  if (orphans.length > 0) {
    const managed = ours.length;
    const refs = orphans.map((o) => ref(o.container));
    if (input.prunePaused !== null) {
      out.note({
        kind: "prune-paused",
        containers: refs,
        message: `prune paused: ${input.prunePaused}; ${orphans.length} container(s) without a spec are kept`,
      });
    } else if (!options.forcePrune && orphans.length > options.pruneMaxShare * managed) {
      out.note({
        kind: "prune-paused",
        containers: refs,
        message:
          `prune paused: ${orphans.length} of ${managed} managed containers have no spec, more than ` +
          `${Math.round(options.pruneMaxShare * 100)}%; nothing is removed (use --force-prune if this is intended)`,
      });
    } else {
      for (const o of orphans)
        out.act({ kind: "remove", spec: o.spec, container: ref(o.container), reason: "orphaned" });
    }
  }

  // Records of runs whose spec is gone: removed with the spec's deliberate delete, or as orphans
  // once nothing pauses pruning (a record removed early would let its run start again).
  const pruning = input.prunePaused === null && !out.hasNote("prune-paused");
  for (const [spec, list] of records) {
    if (desiredNames.has(spec) || input.protectedSpecs.has(spec)) continue;
    const deleted = input.deleted?.has(spec) === true;
    if (!deleted && !pruning) continue;
    for (const r of list) out.act({ kind: "forget", spec, name: r.volume, reason: deleted ? "deleted" : "orphaned" });
  }

  // The deadline marks of runs whose container is gone (removed by hand or by an earlier pass), or
  // goes in this plan: then after it, under its key (a failed removal runs nothing after it).
  // Volumes are listed with containers, so a mark's container, older than it, is seen.
  const going = new Map<string, string>();
  for (const a of out.planned) {
    if (a.kind === "remove" || a.kind === "collect") going.set(a.container.id, a.spec);
    else if (a.kind === "replace") going.set(a.old.id, a.spec);
    else if (a.kind === "finish" && a.old !== null) going.set(a.old.id, a.spec);
  }
  const staying = observed.containers.filter((c) => !going.has(c.id));
  for (const m of staleDeadlineMarks(observed.volumes, staying, keys))
    out.act({ kind: "forget", spec: going.get(m.containerId) ?? m.spec, name: m.volume, reason: "container gone" });

  // Last: a per-instance volume is free once this plan has removed the containers that mount it.
  planInstanceVolumes(input, observed, now, options, out);
  // Then the images berth built that nothing keeps, after the containers that used them.
  planImages(input, observed, options.owner, out);
  // Very last: what adds a container waits for room (docs/capacity.md).
  if (!options.capacity) return out.build();
  const live = desired.filter((d) => d.spec.expiresAt === null || d.spec.expiresAt > now);
  const usage = planCapacity(live, ours, keys, options.capacity, out, input.poolDemand, input.inFlight);
  return { ...out.build(), capacity: usage };
}

/** True when a plan changes nothing. */
export function isEmptyPlan(p: Plan): boolean {
  return p.actions.length === 0;
}
