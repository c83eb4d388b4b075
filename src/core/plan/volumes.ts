/**
 * The plan of per-instance volumes (docs/design.md, "Volume reclaim"). A volume berth made for an
 * instance — spec and replica, as a StatefulSet's claim belongs to an ordinal — is kept while that
 * instance is wanted, whatever its containers do (a replacement mounts it again), and removed once
 * the instance goes: its spec deleted, expired or gone from the folder (orphaned, under the prune
 * guard), its replica scaled away, or its finished run collected after its ttlAfterFinished. Never while a container still mounts it (unless this plan
 * removes that container first, under the same key), never when its reclaim policy is Retain,
 * never a volume without this controller's id and the per-instance label.
 */
import { instanceVolumes, isOwnInstanceVolume } from "../instance-volumes.js";
import type { ObservedContainer, ObservedState, ObservedVolume } from "../observed.js";
import { runRecords } from "../runs.js";
import type { NormalizedSpec, ReclaimPolicy } from "../spec.js";
import type { PlanBuilder } from "./builder.js";
import type { DesiredSpec, PlanInput, PlanOptions, VolumeRemoveReason } from "./types.js";

/** The per-instance volumes a new container of this replica needs that do not exist yet (when volumes were observed). */
export function volumesToMake(
  spec: NormalizedSpec,
  replica: number,
  observed: ObservedState,
): { readonly newVolumes?: readonly string[] } {
  if (observed.volumes === undefined) return {};
  const existing = new Set(observed.volumes.map((v) => v.name));
  const missing = instanceVolumes(spec, replica)
    .map((v) => v.name)
    .filter((name) => !existing.has(name));
  return missing.length > 0 ? { newVolumes: missing } : {};
}

function byName(a: ObservedVolume, b: ObservedVolume): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function planInstanceVolumes(
  input: PlanInput,
  observed: ObservedState,
  now: number,
  options: PlanOptions,
  out: PlanBuilder,
): void {
  const owner = options.owner;
  const keys = owner.keys;
  const volumes = (observed.volumes ?? []).filter((v) => isOwnInstanceVolume(v, owner)).sort(byName);
  if (volumes.length === 0) return;

  const desired = new Map(input.desired.map((d) => [d.spec.name, d]));
  // Containers this plan removes, and the key (spec) each is removed under: a volume they alone
  // mount is free once they are gone, if its removal runs after theirs (the same key).
  const removedUnder = new Map<string, string>();
  // Instances whose finished run is collected (ttlAfterFinished): by this plan, or by an earlier
  // pass (the run's record for the current hash stands for it). Their volumes go with the run.
  const collected = new Set<string>();
  for (const r of runRecords(observed.volumes, keys))
    if (desired.get(r.spec)?.hash === r.hash) collected.add(`${r.spec}/${r.replica}`);
  for (const a of out.planned) {
    if (a.kind !== "remove" && a.kind !== "collect") continue;
    removedUnder.set(a.container.id, a.spec);
    const c = a.kind === "collect" ? observed.containers.find((x) => x.id === a.container.id) : undefined;
    if (c) collected.add(`${a.spec}/${c.labels[keys.replica] ?? ""}`);
  }
  const users = new Map<string, ObservedContainer[]>();
  for (const c of observed.containers) {
    for (const m of c.mounts) {
      if (m.type !== "volume") continue;
      const list = users.get(m.source);
      if (list) list.push(c);
      else users.set(m.source, [c]);
    }
  }
  const inUse = (v: ObservedVolume, spec: string): boolean =>
    (users.get(v.name) ?? []).some((c) => removedUnder.get(c.id) !== spec);

  /** The spec's own word on the policy while it declares the mount; else what the volume was made with. */
  const policyOf = (v: ObservedVolume, d: DesiredSpec | undefined): ReclaimPolicy => {
    const source = v.labels[keys.instanceVolume];
    for (const m of d?.spec.mounts ?? []) {
      if (m.type === "volume" && m.perInstance && m.source === source) return m.reclaimPolicy;
    }
    // Only an exact Delete deletes data.
    return v.labels[keys.reclaimPolicy] === "Delete" ? "Delete" : "Retain";
  };

  const orphans: { spec: string; volume: ObservedVolume }[] = [];
  for (const v of volumes) {
    const spec = v.labels[keys.spec] ?? "";
    if (input.protectedSpecs.has(spec) || input.protectedSources.has(v.labels[keys.source] ?? "")) continue;
    const d = desired.get(spec);
    const reason = goneBecause(spec, v, d, input, now, keys.replica, collected);
    if (reason === null || policyOf(v, d) === "Retain" || inUse(v, spec)) continue;
    if (reason === "orphaned") orphans.push({ spec, volume: v });
    else out.act({ kind: "reclaim-volume", spec, volume: v.name, reason });
  }
  if (orphans.length === 0) return;

  // The prune guard, as for containers: nothing while the spec folders are in doubt, nor when more
  // than the share of the managed instances (containers and volumes, by spec and replica) would go.
  const instances = new Set(
    [...observed.containers.filter((c) => owner.owns(c)), ...volumes].map(
      (o) => `${o.labels[keys.spec] ?? ""}/${o.labels[keys.replica] ?? ""}`,
    ),
  );
  const names = orphans.map((o) => o.volume.name);
  if (input.prunePaused !== null) {
    out.note({
      kind: "volume-prune-paused",
      volumes: names,
      message: `prune paused: ${input.prunePaused}; ${orphans.length} per-instance volume(s) without a spec are kept`,
    });
  } else if (!options.forcePrune && orphans.length > options.pruneMaxShare * instances.size) {
    out.note({
      kind: "volume-prune-paused",
      volumes: names,
      message:
        `prune paused: ${orphans.length} per-instance volume(s) of ${instances.size} managed instances have no spec, ` +
        `more than ${Math.round(options.pruneMaxShare * 100)}%; nothing is removed (use --force-prune if this is intended)`,
    });
  } else {
    for (const o of orphans)
      out.act({ kind: "reclaim-volume", spec: o.spec, volume: o.volume.name, reason: "orphaned" });
  }
}

/** Why the volume's instance is no longer wanted, or null while it is. */
function goneBecause(
  spec: string,
  v: ObservedVolume,
  d: DesiredSpec | undefined,
  input: PlanInput,
  now: number,
  replicaKey: string,
  collected: ReadonlySet<string>,
): VolumeRemoveReason | null {
  if (d === undefined) return input.deleted?.has(spec) === true ? "deleted" : "orphaned";
  if (d.spec.expiresAt !== null && d.spec.expiresAt <= now) return "expired";
  const label = v.labels[replicaKey] ?? "";
  if (collected.has(`${spec}/${label}`)) return "ttl expired";
  const replica = /^(0|[1-9][0-9]*)$/.test(label) ? Number(label) : null;
  return replica !== null && replica < d.spec.replicas ? null : "scaled down";
}
