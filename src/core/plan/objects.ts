/**
 * The plan of declared networks and volumes (docs/design.md, "Declared networks and volumes"):
 * create what is declared and missing; a network whose config changed is recreated only when no
 * container uses it, a volume's drift is only reported (recreating it would lose its data);
 * objects of deleted documents are pruned under the same guard as containers, never while a
 * container uses them; an object of the same name that berth does not own is reported, never
 * adopted or touched. And which container specs must wait for an object, or cannot be created
 * at all because the network they name exists nowhere.
 */
import { describeObject, type ObjectKind, objectKey } from "../declared.js";
import { isNetworkMode } from "../create-request.js";
import type { ObservedContainer, ObservedNetwork, ObservedState, ObservedVolume } from "../observed.js";
import type { PlanBuilder } from "./builder.js";
import type { DesiredSpec, Note, ObjectRef, PlanInput, PlanOptions } from "./types.js";

/** An object as observed, whatever its kind: its labels, and who uses it. */
interface Existing {
  readonly ref: ObjectRef;
  readonly labels: Readonly<Record<string, string>>;
  /** Containers using it (for a volume: berth's containers that mount it). */
  readonly users: readonly string[];
}

function networkOf(n: ObservedNetwork): Existing {
  return { ref: { kind: "Network", name: n.name }, labels: n.labels, users: n.containers };
}

function volumeOf(v: ObservedVolume, containers: readonly ObservedContainer[]): Existing {
  const users = containers.filter((c) => c.mounts.some((m) => m.type === "volume" && m.source === v.name));
  return { ref: { kind: "Volume", name: v.name }, labels: v.labels, users: users.map((c) => c.name) };
}

function users(e: Existing): string {
  const shown = e.users.slice(0, 3).join(", ");
  return e.users.length > 3 ? `${shown} and ${e.users.length - 3} more` : shown;
}

/** What the object plan tells the container plan: which declared objects are not there yet. */
export interface ObjectsPlanned {
  /** Declared networks and volumes that are not (yet) usable, by objectKey. */
  readonly pending: ReadonlySet<string>;
  /** Every declared object, by objectKey. */
  readonly declared: ReadonlySet<string>;
}

export function planObjects(
  input: PlanInput,
  observed: ObservedState,
  options: PlanOptions,
  out: PlanBuilder,
): ObjectsPlanned {
  const keys = options.owner.keys;
  const pending = new Set<string>();
  const desired = [...(input.objects ?? [])].sort((a, b) =>
    objectKey(a.object.kind, a.object.name) < objectKey(b.object.kind, b.object.name) ? -1 : 1,
  );
  const declared = new Set(desired.map((d) => objectKey(d.object.kind, d.object.name)));
  const existing = new Map<string, Existing>();
  if (observed.networks) for (const n of observed.networks) existing.set(objectKey("Network", n.name), networkOf(n));
  if (observed.volumes)
    for (const v of observed.volumes) existing.set(objectKey("Volume", v.name), volumeOf(v, observed.containers));
  const observes = (kind: ObjectKind): boolean =>
    (kind === "Network" ? observed.networks : observed.volumes) !== undefined;
  const ours = (e: Existing): boolean => options.owner.owns(e) && e.labels[keys.object] === e.ref.kind;
  const note = (key: string, message: string): void => {
    out.note({ kind: "object", object: key, message });
  };

  for (const d of desired) {
    const o = d.object;
    const key = objectKey(o.kind, o.name);
    if (!observes(o.kind) || input.protectedObjects?.has(key)) continue;
    const create = o.kind === "Network" ? "create-network" : "create-volume";
    const found = existing.get(key);
    if (!found) {
      pending.add(key);
      out.act({ kind: create, spec: key, object: d, reason: "not found" });
      continue;
    }
    if (!ours(found)) {
      note(
        key,
        `a ${o.kind.toLowerCase()} of this name exists and berth does not own it; it is neither adopted nor changed (remove it, or remove the document) (Conflict)`,
      );
      continue;
    }
    if (found.labels[keys.hash] === d.hash) continue;
    if (o.kind === "Volume") {
      note(
        key,
        "drift: the declared config changed; a volume is never recreated by berth (its data would be lost): remove it by hand once unused and berth creates it anew",
      );
      continue;
    }
    if (found.users.length > 0) {
      note(key, `drift: the declared config changed; recreate when unused (used by ${users(found)})`);
      continue;
    }
    pending.add(key);
    out.act({ kind: "remove-network", spec: key, target: found.ref, reason: "config changed" });
    out.act({ kind: create, spec: key, object: d, reason: "config changed" });
  }

  // Berth's objects whose document is gone: pruned when unused and when pruning is safe.
  const managed = [...existing.values()].filter(ours);
  const orphans: Existing[] = [];
  for (const e of managed) {
    const key = objectKey(e.ref.kind, e.ref.name);
    if (declared.has(key) || input.protectedObjects?.has(key)) continue;
    if (input.protectedSources.has(e.labels[keys.source] ?? "")) continue;
    if (e.users.length > 0) {
      note(key, `its document is gone, but it is kept while containers use it (${users(e)}); removed once unused`);
      continue;
    }
    orphans.push(e);
  }
  if (orphans.length > 0) {
    const names = orphans.map((e) => describeObject(e.ref)).join(", ");
    if (input.prunePaused !== null) {
      note("", `prune paused: ${input.prunePaused}; kept without a document: ${names}`);
    } else if (!options.forcePrune && orphans.length > options.pruneMaxShare * managed.length) {
      note(
        "",
        `prune paused: ${orphans.length} of ${managed.length} declared networks and volumes have no document, more than ` +
          `${Math.round(options.pruneMaxShare * 100)}%; nothing is removed (use --force-prune if this is intended): ${names}`,
      );
    } else {
      for (const e of orphans) {
        const kind = e.ref.kind === "Network" ? "remove-network" : "remove-volume";
        out.act({ kind, spec: objectKey(e.ref.kind, e.ref.name), target: e.ref, reason: "orphaned" });
      }
    }
  }
  return { pending, declared };
}

/**
 * Why a container spec cannot be created now, or null: a network or volume it names is declared
 * but not there yet (it waits), or the network it names is neither declared nor present (it
 * fails, with a message instead of the engine's error at create).
 */
export function blockedBy(
  d: DesiredSpec,
  planned: ObjectsPlanned,
  observed: ObservedState,
): Extract<Note, { kind: "blocked" }> | null {
  const spec = d.spec;
  const needs: string[] = [];
  for (const network of [spec.network, ...spec.extraNetworks]) {
    if (isNetworkMode(network) || network === "auto") continue;
    const networkKey = objectKey("Network", network);
    if (planned.pending.has(networkKey)) needs.push(`network ${network}`);
    else if (
      !planned.declared.has(networkKey) &&
      observed.networks &&
      !observed.networks.some((n) => n.name === network || n.id === network)
    ) {
      return {
        kind: "blocked",
        spec: spec.name,
        failed: true,
        message: `network ${network} does not exist and no kind: Network document declares it; declare it (kind: Network, metadata.name: ${network}) or create it`,
      };
    }
  }
  for (const m of spec.mounts) {
    if (m.type === "volume" && planned.pending.has(objectKey("Volume", m.source))) needs.push(`volume ${m.source}`);
  }
  if (needs.length === 0) return null;
  return {
    kind: "blocked",
    spec: spec.name,
    failed: false,
    message: `waits for ${needs.join(" and ")}, which berth creates first`,
  };
}
