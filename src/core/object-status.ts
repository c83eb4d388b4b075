/**
 * The status of declared networks and volumes, derived like the specs' (core/status.ts): from the
 * declared objects, the observation, the plan and the work queue's memory. Nothing here is stored.
 */
import { type ObjectKind, objectKey } from "./declared.js";
import type { LabelKeys } from "./labels.js";
import type { ObservedState } from "./observed.js";
import type { DesiredObject, Plan } from "./plan/plan.js";
import type { SpecProgress } from "./status.js";
import { formatTime } from "./units.js";

/**
 * Ready: there, as declared. Pending: being created (or recreated). Drifted: its config differs
 * from the document and it is not recreated now (message says why). Conflict: a network or volume
 * of that name is not berth's. Failed: the last attempt failed (retried). Orphaned: berth's, its
 * document gone, kept (message says why) or being removed.
 */
export type ObjectState = "Ready" | "Pending" | "Drifted" | "Conflict" | "Failed" | "Orphaned";

export interface ObjectStatus {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly state: ObjectState;
  readonly message: string | null;
  /** The spec file that declares it (relative to its folder); null for an orphan. */
  readonly source: string | null;
  /** Containers using it, as observed (a volume: berth's containers that mount it). */
  readonly usedBy: readonly string[];
}

export interface ObjectStatusInput {
  readonly objects: readonly DesiredObject[];
  readonly observed: ObservedState;
  readonly plan: Plan;
  readonly progress: (key: string) => SpecProgress | undefined;
  readonly keys: LabelKeys;
  readonly controllerId: string;
}

interface Seen {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly usedBy: readonly string[];
}

export function objectStatuses(input: ObjectStatusInput): ObjectStatus[] {
  const { keys, observed } = input;
  const seen = new Map<string, Seen>();
  for (const n of observed.networks ?? []) {
    seen.set(objectKey("Network", n.name), { kind: "Network", name: n.name, labels: n.labels, usedBy: n.containers });
  }
  for (const v of observed.volumes ?? []) {
    const usedBy = observed.containers
      .filter((c) => c.mounts.some((m) => m.type === "volume" && m.source === v.name))
      .map((c) => c.name);
    seen.set(objectKey("Volume", v.name), { kind: "Volume", name: v.name, labels: v.labels, usedBy });
  }
  const notes = new Map<string, string>();
  for (const n of input.plan.notes) if (n.kind === "object" && n.object !== "") notes.set(n.object, n.message);
  const planned = new Set(input.plan.actions.map((a) => a.spec));
  const ours = (s: Seen): boolean =>
    s.labels[keys.controller] === input.controllerId && s.labels[keys.object] === s.kind;

  const out: ObjectStatus[] = [];
  const declared = new Set<string>();
  for (const d of input.objects) {
    const key = objectKey(d.object.kind, d.object.name);
    declared.add(key);
    const found = seen.get(key);
    const note = notes.get(key) ?? null;
    const rt = input.progress(key);
    let state: ObjectState;
    let message = note;
    if (rt?.lastError && rt.retryAt !== null) {
      state = "Failed";
      message = `${rt.lastError} (retrying at ${formatTime(rt.retryAt)})`;
    } else if (planned.has(key) || rt?.busy) state = "Pending";
    else if (note?.endsWith("(Conflict)")) state = "Conflict";
    else if (note !== null) state = "Drifted";
    else if (found) state = "Ready";
    else state = "Pending";
    out.push({
      kind: d.object.kind,
      name: d.object.name,
      state,
      message,
      source: d.source,
      usedBy: found?.usedBy ?? [],
    });
  }
  for (const [key, s] of seen) {
    if (declared.has(key) || !ours(s)) continue;
    const message = notes.get(key) ?? (planned.has(key) ? "its document is gone: being removed" : null);
    out.push({ kind: s.kind, name: s.name, state: "Orphaned", message, source: null, usedBy: s.usedBy });
  }
  return out.sort((a, b) => (objectKey(a.kind, a.name) < objectKey(b.kind, b.name) ? -1 : 1));
}
