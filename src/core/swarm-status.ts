/**
 * Status per spec under `--target swarm` (docs/swarm.md, "Status"), derived from the records, the
 * services, their tasks and the plan; nothing is stored. Desired vs running replicas, the nodes
 * the running tasks are on, and the last task error (e.g. "no suitable node (insufficient
 * resources on 2 nodes)").
 */
import { formatIssue, type SpecIssue } from "./errors.js";
import type { GitSourceStatus } from "./git-source.js";
import { formatTime } from "./units.js";
import type { Phase } from "./status.js";
import type { SpecRecord } from "./record.js";
import type { Ownership } from "./ownership.js";
import type { ObservedService, SwarmNote, SwarmPlan } from "./swarm-plan.js";
import { canaryName, isCanary, swarmPartitionText } from "./swarm-canary.js";
import { desiredReplicas } from "./swarm-service.js";
import type { SwarmNetworkStatus } from "./swarm-networks.js";

/** What `berth status --target swarm` shows, and `berth run --target swarm` serves at GET /v1/specs. */
export interface SwarmReport {
  readonly specs: readonly SwarmSpecStatus[];
  /** berth's networks on the swarm (core/swarm-networks.ts). */
  readonly networks: readonly SwarmNetworkStatus[];
  /** The plan's notes (pruning paused, a name held by another's service), without plan's `! `. */
  readonly notes: readonly string[];
  /** With --git, from a running controller: each source's revision and last fetch (docs/gitops.md). */
  readonly sources?: readonly GitSourceStatus[];
}

/** A task as the task list shows it, in berth's terms. */
export interface ObservedTask {
  /** The task's ID (a service's logs name each line's task). */
  readonly id: string;
  /** A replicated service's slot (1, 2, …); null for a global service's task. */
  readonly slot: number | null;
  readonly serviceId: string;
  /** The node's hostname, or its ID when the node list did not name it; "" before it is placed. */
  readonly node: string;
  /** running, shutdown, … : what Swarm wants of the task. */
  readonly desiredState: string;
  /** new, pending, running, failed, rejected, … : what the task is. */
  readonly state: string;
  /** The task's error ("" when none): why it failed or cannot be placed. */
  readonly error: string;
  /** When its state last changed (epoch ms). */
  readonly at: number;
  /**
   * Swarm says it is not of its service's current spec (an update under way, paused or rolled
   * back; an older version's task in a slot's history). Absent: it is current.
   */
  readonly outdated?: true;
}

export interface SwarmSpecStatus {
  readonly name: string;
  readonly phase: Phase;
  readonly message: string;
  readonly file: string | null;
  readonly hash: string | null;
  readonly serviceId: string | null;
  /** The service of the spec's canaries while updatePartition splits its replicas (core/swarm-canary.ts), or null. */
  readonly canaryServiceId: string | null;
  /**
   * What updatePartition holds back, when it does: the spec's own service's tasks keep their
   * version (their UP TO DATE is no), the canaries' run the spec's. Absent: nothing held.
   */
  readonly partition?: string;
  /** The replicas, or for a global service the nodes Swarm gave a task (one per eligible node). */
  readonly desired: number;
  /** A global service: one task on every eligible node. */
  readonly global: boolean;
  readonly running: number;
  /** Tasks Swarm still wants that are of the service's current spec (Kubernetes' updatedReplicas). */
  readonly updated: number;
  /** The nodes of the running tasks, sorted, each once. */
  readonly nodes: readonly string[];
  /** The most recent task error, or null. */
  readonly lastError: string | null;
  /** When berth removes the service (RFC 3339), or null for never. */
  readonly expiresAt: string | null;
  /**
   * The service's tasks as Swarm keeps them (its task history, 5 per slot by default), as
   * `docker service ps` lists them: by slot (a global service's by node), in each the task Swarm
   * wants running first, then the older ones, newest first.
   */
  readonly tasks: readonly SwarmTaskStatus[];
}

/** One task of a spec's service, for `berth get --target swarm` and GET /v1/specs/{name}. */
export interface SwarmTaskStatus {
  readonly id: string;
  /** A replicated service's slot; null for a global service's task. */
  readonly slot: number | null;
  /** The node's hostname; "" before Swarm placed it. */
  readonly node: string;
  readonly desiredState: string;
  readonly state: string;
  /** Why it failed or cannot be placed; null when it did not. */
  readonly error: string | null;
  /** When its state last changed (ISO 8601); null when the engine did not say. */
  readonly since: string | null;
  /**
   * Swarm says it is not of the service's current spec (an older version, one from before a
   * `berth restart`): `berth get`'s UP TO DATE. Absent: it is current.
   */
  readonly outdated?: true;
  /** A task of the spec's canaries' service, NAME_canary (core/swarm-canary.ts). Absent: of its own. */
  readonly canary?: true;
}

export interface SwarmStatusInput {
  readonly records: ReadonlyMap<string, SpecRecord>;
  readonly services: readonly ObservedService[];
  readonly tasks: readonly ObservedTask[];
  readonly plan: SwarmPlan;
  /** What the last operation on a spec failed with, by spec name. */
  readonly failures: ReadonlyMap<string, string>;
  readonly owner: Ownership;
  readonly now: number;
  /**
   * Problems of invalid files by source path (loop/desired.ts): a service of berth's whose file is
   * so broken that not even its spec's name can be read is shown Invalid, found by its source label.
   */
  readonly invalidSources?: ReadonlyMap<string, readonly SpecIssue[]>;
}

function phaseOf(
  record: SpecRecord,
  service: ObservedService | undefined,
  canary: ObservedService | undefined,
  held: Extract<SwarmNote, { kind: "partitioned" }> | undefined,
  canariesPending: boolean,
  running: number,
  desired: number,
  input: SwarmStatusInput,
  /** Tasks in its history whose process exited with an error. */
  exits: number,
  /** A run's end (restartPolicy Never or OnFailure): every slot's last task ended, none wanted. */
  run: { phase: Phase; message: string } | null,
): { phase: Phase; message: string } {
  const spec = record.spec;
  if (record.invalid.length > 0) return { phase: "Invalid", message: record.invalid[0]?.message ?? "invalid" };
  if (!spec) return { phase: "Invalid", message: "no valid version" };
  if (spec.expiresAt !== null && spec.expiresAt <= input.now) return { phase: "Expired", message: "expired" };
  const conflict = input.plan.notes.find((n) => n.kind === "conflict" && n.spec === record.name);
  if (conflict) return { phase: "Conflict", message: "the service name is held by a service berth does not own" };
  const failure = input.failures.get(record.name);
  if (failure !== undefined) return { phase: "Failed", message: failure };
  if (record.error !== null) return { phase: "Failed", message: record.error };
  if (!service) return { phase: "Pending", message: "service not created" };
  if (spec.suspended) return { phase: "Suspended", message: "scaled to 0" };
  const pending = input.plan.actions.some((a) => a.spec === record.name && a.kind !== "remove-secret");
  if (pending) return { phase: "Updating", message: "service to be changed" };
  if (run) return run;
  const failed = [service, canary].find((s) => s !== undefined && s.updateFailure !== null);
  if (failed?.updateFailure) return { phase: "Failed", message: failed.updateFailure };
  const tasks = `${running}/${desired} tasks running${spec.global ? " (global: one per eligible node)" : ""}`;
  if (service.updating || canary?.updating === true) return { phase: "Updating", message: `rolling update, ${tasks}` };
  // Under StartFirst the held tasks beyond the partition go only once the canaries run: until
  // both are as the partition says, the rollout is under way (apply waits for it).
  if (held && canariesPending) return { phase: "Updating", message: `rolling out the canaries, ${tasks}` };
  if (running < desired || (spec.global && desired === 0))
    return { phase: "Pending", message: tasks + crashLoop(exits) };
  return { phase: "Running", message: held ? `${tasks}; ${swarmPartitionText(held)}` : tasks };
}

/**
 * A run's end under swarm (docs/runs.md): with restartPolicy Never or OnFailure, Swarm starts no
 * task in place of one that completed, nor of one that failed past its MaxAttempts (backoffLimit).
 * The run has ended when the service's tasks of its current version fill every slot (a global
 * service's: every node it ran on) and Swarm wants none of them any more: Succeeded when each
 * slot's last task completed, else Failed with the error of the one that did not. Null: not a
 * run, or not ended (a task runs, or waits out its restart delay).
 */
function runEnd(
  record: SpecRecord,
  service: ObservedService | undefined,
  tasks: readonly ObservedTask[],
  desired: number,
): { phase: Phase; message: string } | null {
  const spec = record.spec;
  if (!spec || spec.restartPolicy === "Always" || !service) return null;
  const own = tasks.filter((t) => t.serviceId === service.id && t.outdated !== true);
  if (own.length === 0 || own.some(wanted)) return null;
  const last = new Map<string, ObservedTask>();
  for (const t of own) {
    const key = t.slot !== null ? `slot ${t.slot}` : `node ${t.node}`;
    const seen = last.get(key);
    if (!seen || t.at > seen.at) last.set(key, t);
  }
  if (!spec.global && last.size < desired) return null;
  const ends = [...last.values()];
  const failed = ends.filter((t) => t.state !== "complete").sort((a, b) => b.at - a.at);
  const first = failed[0];
  if (first === undefined) return { phase: "Succeeded", message: `${ends.length}/${ends.length} tasks completed` };
  const why = first.error !== "" ? first.error : first.state;
  return {
    phase: "Failed",
    message: `run ${record.name} failed: ${why}${failed.length > 1 ? ` (${failed.length} of ${ends.length} tasks failed)` : ""}`,
  };
}

/** What the plan says updatePartition holds back of the spec, if anything. */
function partitionOf(plan: SwarmPlan, spec: string): Extract<SwarmNote, { kind: "partitioned" }> | undefined {
  return plan.notes.find(
    (n): n is Extract<SwarmNote, { kind: "partitioned" }> => n.kind === "partitioned" && n.spec === spec,
  );
}

/**
 * Kubernetes' CrashLoopBackOff under swarm: tasks whose process exited with an error, while fewer
 * run than wanted; Swarm starts a new task after the restart delay and keeps the last few of each
 * slot (its task history). The last error is the status' lastError.
 */
function crashLoop(n: number): string {
  return n === 0 ? "" : `; crash loop: ${n} task${n === 1 ? "" : "s"} failed (in Swarm's task history)`;
}

export function swarmStatus(input: SwarmStatusInput): SwarmSpecStatus[] {
  const byName = new Map(input.services.filter((s) => input.owner.owns(s)).map((s) => [s.name, s]));
  const rows = [...input.records.values()].map((record) => {
    const service = byName.get(record.name);
    const c = byName.get(canaryName(record.name));
    const canary = c && isCanary(c, input.owner) ? c : undefined;
    const ids = new Set([service?.id, canary?.id].filter((id) => id !== undefined));
    const tasks = input.tasks.filter((t) => ids.has(t.serviceId));
    // Tasks of the spec's version: its own service's once it runs it, and its canaries'.
    const current = new Set(
      [service, canary].flatMap((s) => (s && s.labels[input.owner.keys.hash] === record.hash ? [s.id] : [])),
    );
    const { live, failed, swarmWants } = taskFacts(tasks);
    // A global service's desired count is Swarm's: the tasks it wants running, one per eligible
    // node. With no valid version of the spec, the service's own count (kept as it is).
    // An expired spec wants nothing any more: berth removes what it had.
    const expired = record.spec?.expiresAt != null && record.spec.expiresAt <= input.now;
    const desired = expired
      ? 0
      : record.spec
        ? (desiredReplicas(record.spec) ?? swarmWants)
        : (service?.replicas ?? swarmWants);
    const exits = failed.filter((t) => t.state === "failed").length;
    const held = partitionOf(input.plan, record.name);
    const liveOf = (s: ObservedService | undefined): number =>
      s ? live.filter((t) => t.serviceId === s.id).length : 0;
    const canariesPending = held !== undefined && (service?.replicas !== held.held || liveOf(canary) < held.canaries);
    const { phase, message } = phaseOf(
      record,
      service,
      canary,
      held,
      canariesPending,
      live.length,
      desired,
      input,
      exits,
      runEnd(record, service, tasks, desired),
    );
    return {
      name: record.name,
      phase,
      message,
      file: record.file,
      hash: record.hash,
      serviceId: service?.id ?? null,
      canaryServiceId: canary?.id ?? null,
      ...(held ? { partition: swarmPartitionText(held) } : {}),
      desired,
      global: record.spec?.global ?? false,
      running: live.length,
      updated: tasks.filter((t) => current.has(t.serviceId) && wanted(t) && t.outdated !== true).length,
      nodes: [...new Set(live.map((t) => t.node))].sort(),
      lastError: failed[0]?.error ?? null,
      expiresAt: record.spec?.expiresAt != null ? formatTime(record.spec.expiresAt) : null,
      tasks: swarmTaskRows(tasks, { canaryId: canary?.id ?? null, held: held !== undefined }),
    };
  });
  return [...rows, ...unnamedInvalid(input, byName)].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** A service's tasks as status counts them: running, with an error (newest first), wanted running. */
function taskFacts(tasks: readonly ObservedTask[]) {
  return {
    live: tasks.filter((t) => t.desiredState === "running" && t.state === "running"),
    failed: tasks.filter((t) => t.error !== "").sort((a, b) => b.at - a.at),
    swarmWants: tasks.filter((t) => t.desiredState === "running").length,
  };
}

/**
 * The services of specs known only from them, whose file is now so broken that not even the
 * spec's name can be read (a fresh berth, or each new checkout of a Git source): Invalid, with the
 * file's error, found by the services' source label, as the engine target finds containers.
 */
function unnamedInvalid(input: SwarmStatusInput, byName: ReadonlyMap<string, ObservedService>): SwarmSpecStatus[] {
  const keys = input.owner.keys;
  const out: SwarmSpecStatus[] = [];
  for (const service of byName.values()) {
    if (isCanary(service, input.owner)) continue;
    const name = service.labels[keys.spec] ?? service.name;
    if (input.records.has(name)) continue;
    const issue = input.invalidSources?.get(service.labels[keys.source] ?? "")?.[0];
    if (issue === undefined) continue;
    const tasks = input.tasks.filter((t) => t.serviceId === service.id);
    const { live, failed, swarmWants } = taskFacts(tasks);
    out.push({
      name,
      phase: "Invalid",
      message: `${formatIssue(issue)} (its service is kept as it is)`,
      file: issue.file,
      hash: null,
      serviceId: service.id,
      canaryServiceId: null,
      desired: service.replicas ?? swarmWants,
      global: service.replicas === null,
      running: live.length,
      updated: 0,
      nodes: [...new Set(live.map((t) => t.node))].sort(),
      lastError: failed[0]?.error ?? null,
      expiresAt: null,
      tasks: swarmTaskRows(tasks),
    });
  }
  return out;
}

/** The service a task of a spec's is of: the spec's own, or its canaries' (NAME_canary). */
export const taskService = (spec: string, t: Pick<SwarmTaskStatus, "canary">): string =>
  t.canary === true ? canaryName(spec) : spec;

/** A task Swarm still wants (running, or ready to start after a restart delay), not one it let go. */
export const isWantedTask = (desiredState: string): boolean =>
  !["shutdown", "remove", "orphaned"].includes(desiredState);
const wanted = (t: ObservedTask): boolean => isWantedTask(t.desiredState);

/** Task states of a service's task that ended on its own: Swarm starts another in its place. */
export const ENDED_TASK_STATES: ReadonlySet<string> = new Set(["failed", "complete", "rejected"]);

/**
 * Slots in order (a global service's tasks by node), the wanted task first in each, then newest
 * first; the canaries' service's after the spec's own. `held`: updatePartition keeps the spec's own
 * service on its version, so none of its tasks is of the spec's (outdated).
 */
export function swarmTaskRows(
  tasks: readonly ObservedTask[],
  { canaryId = null, held = false }: { readonly canaryId?: string | null; readonly held?: boolean } = {},
): SwarmTaskStatus[] {
  // The canaries' service's slots after the spec's own.
  const group = (t: ObservedTask): string =>
    (t.serviceId === canaryId ? "~~" : "") + (t.slot !== null ? String(t.slot).padStart(9, "0") : `~${t.node}`);
  return [...tasks]
    .sort(
      (a, b) =>
        (group(a) < group(b) ? -1 : group(a) > group(b) ? 1 : 0) ||
        Number(wanted(b)) - Number(wanted(a)) ||
        b.at - a.at,
    )
    .map((t) => ({
      id: t.id,
      slot: t.slot,
      node: t.node,
      desiredState: t.desiredState,
      state: t.state,
      error: t.error === "" ? null : t.error,
      since: t.at > 0 ? new Date(t.at).toISOString() : null,
      ...(t.outdated === true || (held && t.serviceId !== canaryId) ? { outdated: true as const } : {}),
      ...(t.serviceId === canaryId ? { canary: true as const } : {}),
    }));
}
