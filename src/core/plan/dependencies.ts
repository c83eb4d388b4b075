/**
 * `dependsOn` (docs/design.md, "Start order"): a spec's containers are made only once the specs it
 * depends on are ready, as Compose's depends_on orders `up`. Only what makes a container waits:
 * a dependency that stops later stops nothing. Pure: decided from the list call and run records.
 */
import type { LabelKeys } from "../labels.js";
import type { ObservedContainer } from "../observed.js";
import type { RunRecord } from "../runs.js";
import type { NormalizedDependency } from "../spec.js";
import type { DesiredSpec, Note } from "./types.js";

type Blocked = Extract<Note, { kind: "blocked" }>;

export interface DependencyView {
  readonly desired: ReadonlyMap<string, DesiredSpec>;
  /** berth's containers by spec name. */
  readonly containers: ReadonlyMap<string, readonly ObservedContainer[]>;
  readonly records: ReadonlyMap<string, readonly RunRecord[]>;
  readonly keys: LabelKeys;
}

/** The cycle through `name`'s dependencies back to it (`a → b → a`), or null. */
export function dependencyCycle(name: string, desired: ReadonlyMap<string, DesiredSpec>): string[] | null {
  const seen = new Set<string>();
  const walk = (at: string, path: readonly string[]): string[] | null => {
    for (const dep of desired.get(at)?.spec.dependsOn ?? []) {
      if (dep.name === name) return [...path, dep.name];
      if (seen.has(dep.name)) continue;
      seen.add(dep.name);
      const found = walk(dep.name, [...path, dep.name]);
      if (found) return found;
    }
    return null;
  };
  return walk(name, [name]);
}

/** Why a dependency is not ready yet, or null when it is. */
function notReady(dep: NormalizedDependency, view: DependencyView): string | null {
  const d = view.desired.get(dep.name);
  if (!d) return `no spec named ${dep.name}`;
  const current = (view.containers.get(dep.name) ?? []).filter((c) => c.labels[view.keys.hash] === d.hash);
  if (dep.condition === "Succeeded") {
    const exitedZero = current.some((c) => c.state === "exited" && c.exitCode === 0);
    const recorded = (view.records.get(dep.name) ?? []).some(
      (r) => r.hash === d.hash && r.outcome.phase === "Succeeded",
    );
    return exitedZero || recorded ? null : `${dep.name} has not finished with exit code 0`;
  }
  if (d.spec.suspended) return `${dep.name} is suspended`;
  const wanted = Math.max(1, d.spec.pool ? d.spec.pool.minReady : d.spec.replicas);
  const running = current.filter((c) => c.state === "running");
  if (dep.condition === "Started") {
    return running.length >= wanted ? null : `${running.length} of ${wanted} container(s) of ${dep.name} running`;
  }
  const healthy = running.filter((c) => c.health === "healthy").length;
  if (healthy >= wanted) return null;
  const unchecked = running.length > 0 && running.every((c) => c.health === null);
  return unchecked
    ? `${dep.name} has no healthcheck (in its spec or its image): use condition Started, or give it one`
    : `${healthy} of ${wanted} container(s) of ${dep.name} healthy`;
}

/**
 * What holds `d`'s containers back: a dependency cycle (Failed, and said even where nothing waits
 * yet: it never resolves), a dependency with no spec (Failed, as a network nothing declares is,
 * until its spec appears), or the dependencies not ready yet (Pending); null when nothing does.
 */
export function dependencyWait(d: DesiredSpec, view: DependencyView): { note: Blocked; always: boolean } | null {
  if (d.spec.dependsOn.length === 0) return null;
  const cycle = dependencyCycle(d.spec.name, view.desired);
  if (cycle) {
    const message = `dependency cycle: ${cycle.join(" → ")}; remove one of these dependsOn entries`;
    return { note: { kind: "blocked", spec: d.spec.name, failed: true, message }, always: true };
  }
  const waits = d.spec.dependsOn.flatMap((dep) => {
    const why = notReady(dep, view);
    return why === null ? [] : [`${dep.name} ${dep.condition} (${why})`];
  });
  if (waits.length === 0) return null;
  const missing = d.spec.dependsOn.some((dep) => !view.desired.has(dep.name));
  const message = `waits for ${waits.join(", ")}`;
  return { note: { kind: "blocked", spec: d.spec.name, failed: missing, message }, always: false };
}
