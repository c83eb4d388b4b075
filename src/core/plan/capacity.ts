/**
 * The plan's capacity gate (docs/capacity.md): once every spec is planned, the actions that add a
 * container — a create, a StartFirst replace while both run, a StopFirst replace that asks more
 * than the container it replaces — are admitted against what is left of the host's capacity, in
 * priority order; the others are taken back and their spec is noted `Unschedulable` (Pending).
 * Nothing running is ever removed to make room.
 */
import { readApplied } from "../applied.js";
import {
  add,
  admit,
  type Amounts,
  type CapacityOptions,
  type Candidate,
  less,
  requestOf,
  defaultedOf,
  type ResourceLimits,
  ZERO,
} from "../capacity.js";
import type { LabelKeys } from "../labels.js";
import { isRejectedName } from "../names.js";
import type { ObservedContainer } from "../observed.js";
import { runOutcome } from "../runs.js";
import type { PlanBuilder } from "./builder.js";
import type { Action, DesiredSpec, NodeUsage } from "./types.js";

/** What a container of berth's holds, and whose it is. */
export type Holding = NodeUsage["holdings"][number];

/**
 * What a container holds: its spec's request when it has the spec's current hash; else what it
 * was made with, from its applied label (core/applied.ts); else its spec's request as it is now,
 * or the default request when its spec is gone.
 */
function charge(c: ObservedContainer, d: DesiredSpec | undefined, keys: LabelKeys, cap: CapacityOptions): Amounts {
  if (d && c.labels[keys.hash] === d.hash) return requestOf(d.spec.resources, cap.defaultRequest);
  const made = readApplied(c.labels[keys.applied], c.labels[keys.hash])?.hashed.resources;
  if (made && typeof made === "object" && !Array.isArray(made)) {
    const n = (v: unknown): number | null => (typeof v === "number" ? v : null);
    const limits: ResourceLimits = {
      nanoCpus: n(made.nanoCpus),
      memoryBytes: n(made.memoryBytes),
      memoryReservationBytes: n(made.memoryReservationBytes),
    };
    return requestOf(limits, cap.defaultRequest);
  }
  return requestOf(d?.spec.resources ?? {}, cap.defaultRequest);
}

/**
 * berth's containers that hold capacity: all but a finished run's (its process ended for good), a
 * rejected version's stopped record (core/plan/rollout.ts) and a suspended spec's once stopped
 * (suspending a spec is how an operator makes room, as scaling a Deployment to 0).
 */
export function holdings(
  ours: readonly ObservedContainer[],
  desired: ReadonlyMap<string, DesiredSpec>,
  keys: LabelKeys,
  cap: CapacityOptions,
): Holding[] {
  const out: Holding[] = [];
  for (const c of ours) {
    const spec = c.labels[keys.spec] ?? "";
    const d = desired.get(spec);
    if ((d && runOutcome(c, d.spec) !== null) || isRejectedName(c.name)) continue;
    if (d?.spec.suspended === true && c.state !== "running" && c.state !== "restarting") continue;
    out.push({ name: c.name, spec, amounts: charge(c, d, keys, cap) });
  }
  return out;
}

/** What a create or replace adds to what is held. */
function needOf(
  a: Extract<Action, { kind: "create" | "replace" }>,
  d: DesiredSpec,
  held: ReadonlyMap<string, Holding>,
  cap: CapacityOptions,
): Amounts {
  const request = requestOf(d.spec.resources, cap.defaultRequest);
  if (a.kind === "create") return request;
  // StartFirst: both run while they overlap. StopFirst: the new one re-uses the old one's allowance.
  if (a.strategy === "StartFirst") return request;
  return less(request, held.get(a.old.name)?.amounts ?? ZERO);
}

export function planCapacity(
  desired: readonly DesiredSpec[],
  ours: readonly ObservedContainer[],
  keys: LabelKeys,
  cap: CapacityOptions,
  out: PlanBuilder,
  /** Claims waiting for a cold member, by pool: that pool's creates serve a consumer, not a standby. */
  poolDemand: ReadonlyMap<string, number> = new Map(),
  /** The actions in flight, by spec (PlanInput.inFlight). */
  inFlight: ReadonlyMap<string, readonly Action[]> = new Map(),
): NodeUsage {
  const bySpec = new Map(desired.map((d) => [d.spec.name, d]));
  const held = holdings(ours, bySpec, keys, cap);
  const byName = new Map(held.map((h) => [h.name, h]));
  const candidates: Candidate<Action>[] = [];
  // A create or replace in flight was admitted when it began, and cannot be taken back: it keeps
  // its room, ahead of every other candidate, until its container is there to count. Planned again
  // meanwhile (the pass does not see its container yet), it is not ranked a second time.
  const observed = new Set(ours.map((c) => c.name));
  let reserved = ZERO;
  const flying: Action[] = [];
  for (const list of inFlight.values()) flying.push(...list);
  for (const f of flying) {
    if (f.kind !== "create" || observed.has(f.name)) continue;
    reserved = add(reserved, requestOf(bySpec.get(f.spec)?.spec.resources ?? {}, cap.defaultRequest));
  }
  for (const a of out.planned) {
    const d = bySpec.get(a.spec);
    if (!d || (a.kind !== "create" && a.kind !== "replace")) continue;
    const same = flying.find((f) => f.kind === a.kind && f.spec === a.spec && f.name === a.name);
    if (same?.kind === "create") continue;
    if (same?.kind === "replace") {
      reserved = add(reserved, needOf(a, d, byName, cap));
      continue;
    }
    candidates.push({
      item: a,
      spec: a.spec,
      replica: a.replica,
      priority: d.spec.priority,
      // A pool's refill makes unclaimed members: a full host stops refilling pools first. While
      // a claim waits for a cold member, the pool's creates are for that consumer.
      standby: d.spec.pool !== null && (poolDemand.get(a.spec) ?? 0) === 0,
      need: needOf(a, d, byName, cap),
      defaulted: defaultedOf(d.spec.resources),
      ...(a.kind === "replace" && a.strategy === "StopFirst"
        ? { replacing: byName.get(a.old.name)?.amounts ?? ZERO }
        : {}),
    });
  }
  const result = admit(
    cap.total,
    held.reduce((sum, h) => add(sum, h.amounts), reserved),
    candidates,
  );
  const refused = new Set(result.refused.map((r) => r.item));
  const waiting = new Map<string, { reason: string; count: number }>();
  for (const r of result.refused) {
    const w = waiting.get(r.spec);
    waiting.set(r.spec, { reason: w?.reason ?? r.reason, count: (w?.count ?? 0) + 1 });
  }
  for (const [spec, w] of waiting) {
    out.drop(spec, (a) => refused.has(a));
    out.note({
      kind: "unschedulable",
      spec,
      message: w.count > 1 ? `${w.reason} (${w.count} containers wait)` : w.reason,
    });
  }
  return { total: cap.total, requested: result.requested, holdings: held };
}
