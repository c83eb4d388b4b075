/**
 * The status of every spec (docs/design.md, "Status"), derived from what berth knows after a
 * pass: the records, the observation, the plan and the work queue's memory of each spec. Nothing
 * here is stored.
 */
import { type NodeReport, nodeReport } from "./capacity.js";
import type { GitSourceStatus } from "./git-source.js";
import { formatIssue, type SpecIssue } from "./errors.js";
import { containerHostPorts } from "./host-ports.js";
import type { LabelKeys } from "./labels.js";
import { isRejectedName, isTempName } from "./names.js";
import type { ContainerState, Health, ObservedRun, ObservedState } from "./observed.js";
import { type ObjectStatus, objectStatuses } from "./object-status.js";
import type { ActionKind, DesiredObject, Note, Plan } from "./plan/plan.js";
import { partitionText, renderNote } from "./plan/render.js";
import type { SpecRecord } from "./record.js";
import { type RunOutcome, type RunReason, runOutcome, runRecords } from "./runs.js";
import type { NormalizedSpec } from "./spec.js";
import { formatTime } from "./units.js";

/** What the work queue remembers of a spec's operations (loop/dispatcher.ts), as status reads it. */
export interface SpecProgress {
  readonly busy: boolean;
  /** When a backed-off spec may act again (epoch ms). */
  readonly retryAt: number | null;
  /** A failure not retried until something changes. */
  readonly terminal: { readonly message: string; readonly phase: "Failed" | "Conflict" } | null;
  readonly lastError: string | null;
  /** The error code of lastError (core/errors.ts), when it has one. */
  readonly lastErrorCode?: string | null;
  readonly lastAction: {
    readonly kind: ActionKind;
    readonly reason: string;
    readonly at: number;
    readonly ok: boolean;
  } | null;
}

export const PHASES = [
  "Pending",
  "Running",
  "Updating",
  "Suspended",
  "Expired",
  "Failed",
  "Invalid",
  "Conflict",
  "Succeeded",
] as const;
export type Phase = (typeof PHASES)[number];

export interface ContainerStatus {
  readonly id: string;
  readonly name: string;
  readonly replica: number;
  readonly state: ContainerState;
  readonly health: Health | null;
  /** The container has the spec's current hash. */
  readonly current: boolean;
  readonly createdAt: string;
  /** Network name → the container's IPv4 address on it (none while it is not running). */
  readonly addresses: Readonly<Record<string, string>>;
  /**
   * Its host ports, "3000/tcp" → 10000: those the engine lists published, and the `hostPort: auto`
   * ports berth gave it (kept while it is stopped).
   */
  readonly hostPorts: Readonly<Record<string, number>>;
  /** Network name → its global IPv6 address, on the networks with IPv6 (enableIPv6). */
  readonly ipv6Addresses: Readonly<Record<string, string>>;
  /** A finished run's outcome (docs/runs.md); null while it runs, or for containers kept running. */
  readonly exitCode: number | null;
  readonly reason: RunReason | null;
  /**
   * RFC 3339; null when not known. A finished run's start and end; of a container kept running,
   * its last start (after any restart by the engine) where berth inspected it, as restarts.
   */
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /**
   * Restarts by the engine's restart policy, and the last exit (kept while the engine runs it
   * again, its code null when not known); null where berth has not inspected it (docs/design.md,
   * "Restarts and crash loops").
   */
  readonly restarts: number | null;
  readonly lastExit: { readonly exitCode: number | null; readonly at: string } | null;
  /** The container was removed after its ttlAfterFinished; this is its run's record (id ""). */
  readonly collected: boolean;
  /** A claimed pool member: its claim's name (docs/pools.md); absent otherwise. */
  readonly claim?: string;
}

/** The errors waiting cannot mend: the image cannot be had (a run or a claim fails at once on them). */
const IMAGE_ERRORS: ReadonlySet<string> = new Set([
  "BERTH_PULL_FAILED",
  "BERTH_PULL_DENIED",
  "BERTH_REGISTRY_AUTH",
  "BERTH_IMAGE_MISSING",
]);

/** The spec's last failure is its image's: one that cannot be had, which waiting does not mend. */
export function imageUnavailable(spec: Pick<SpecStatus, "lastErrorCode">): boolean {
  return spec.lastErrorCode !== null && IMAGE_ERRORS.has(spec.lastErrorCode);
}

export interface SpecStatus {
  readonly name: string;
  readonly phase: Phase;
  /** Why the spec is in this phase, when it is not simply Running. */
  readonly message: string | null;
  readonly file: string | null;
  readonly hash: string | null;
  /**
   * desired: the spec's replicas. ready: of its current version, running and not unhealthy (what
   * Running waits for). updated: of its current version, in any state (Kubernetes' UP-TO-DATE).
   * available: running and not unhealthy, of any version (Kubernetes' AVAILABLE: what serves
   * while a rollout is under way or held). A replacement under way (NAME.next) and the record of
   * a rejected version (NAME.rejected) count in neither; nor do claimed pool members.
   */
  readonly replicas: {
    readonly desired: number;
    readonly ready: number;
    readonly updated: number;
    readonly available: number;
  };
  readonly containers: readonly ContainerStatus[];
  readonly lastAction: {
    readonly kind: ActionKind;
    readonly reason: string;
    readonly at: string;
    readonly ok: boolean;
  } | null;
  readonly lastError: string | null;
  /** Its code (docs/errors.md), when it has one: BERTH_PULL_FAILED, … */
  readonly lastErrorCode: string | null;
  /** RFC 3339, or null for never. */
  readonly expiresAt: string | null;
  /** When a failed spec is tried again (RFC 3339); null when none is coming: not failed, or held until something changes. */
  readonly retryAt: string | null;
  /** Every run finished and was collected after its ttlAfterFinished: only records remain. */
  readonly collected: boolean;
  /**
   * A warm pool (docs/pools.md): its size, unclaimed members ready, and claimed members; absent
   * for a plain spec. `replicas` counts the unclaimed members only.
   */
  readonly pool?: {
    readonly size: number;
    readonly minReady: number;
    readonly ready: number;
    readonly claimed: number;
  };
}

export interface StatusReport {
  readonly specs: readonly SpecStatus[];
  /** Containers of berth's whose spec is gone and which were not removed (pruning paused). */
  readonly orphans: readonly ContainerStatus[];
  /** What berth deliberately did not do, and why. */
  readonly notes: readonly string[];
  /** Declared networks and volumes, and berth's whose document is gone (absent: none observed). */
  readonly objects?: readonly ObjectStatus[];
  /** With --capacity: the host's capacity, what berth's containers hold, what waits (docs/capacity.md). */
  readonly node?: NodeReport;
  /** With --git: each source's revision and last fetch (docs/gitops.md); absent: none, or not known (no controller). */
  readonly sources?: readonly GitSourceStatus[];
  /**
   * The problems of broken files that no spec above shows (berth could not read a name from them,
   * and no container of theirs is left): absent when there are none.
   */
  readonly errors?: readonly FileError[];
}

/** A problem of a spec file, with its one-line text (`file:line:col: path: message`). */
export type FileError = SpecIssue & { readonly text: string };

export interface StatusInput {
  readonly records: ReadonlyMap<string, SpecRecord>;
  /** Problems of invalid files by source path: their containers' specs are Invalid even when unnamed. */
  readonly invalidSources: ReadonlyMap<string, readonly SpecIssue[]>;
  readonly observed: ObservedState;
  readonly plan: Plan;
  /** Specs whose next create the admission policy would refuse, as the engine is now (a volume): why. */
  readonly refused?: ReadonlyMap<string, string>;
  readonly progress: (spec: string) => SpecProgress | undefined;
  readonly keys: LabelKeys;
  readonly now: number;
  /** Declared networks and volumes (PlanInput.objects), and this controller's id, for their status. */
  readonly objects?: { readonly declared: readonly DesiredObject[]; readonly controllerId: string };
  /** Claimed pool members: container id → claim name (docs/pools.md); absent: none. */
  readonly claims?: ReadonlyMap<string, string>;
}

const time = (ms: number | null): string | null => (ms === null ? null : formatTime(ms));

/** A run's outcome as status shows it; else, of a container berth inspected, its last start. */
function outcomeFields(
  o: RunOutcome | null,
  startedAt: number | null,
): Pick<ContainerStatus, "exitCode" | "reason" | "startedAt" | "finishedAt"> {
  return o
    ? { exitCode: o.exitCode, reason: o.reason, startedAt: time(o.startedAt), finishedAt: time(o.finishedAt) }
    : { exitCode: null, reason: null, startedAt: time(startedAt), finishedAt: null };
}

/** What an inspect tells of a container's restarts and last exit; null for each where berth did not inspect it. */
export function restartFields(run: ObservedRun | undefined): Pick<ContainerStatus, "restarts" | "lastExit"> {
  return {
    restarts: run?.restartCount ?? null,
    lastExit: run?.lastExit ? { exitCode: run.lastExit.code, at: formatTime(run.lastExit.at) } : null,
  };
}

/** Succeeded or Failed, when every replica's current run has finished; else null. */
function runPhase(
  spec: NormalizedSpec,
  containers: readonly ContainerStatus[],
): { phase: "Succeeded" | "Failed"; message: string | null } | null {
  const done = containers.filter((c) => c.current && c.reason !== null);
  const replicas = new Set(done.map((c) => c.replica));
  if (spec.replicas === 0 || replicas.size < spec.replicas) return null;
  const failed = done.find((c) => c.reason !== "Completed");
  if (!failed) return { phase: "Succeeded", message: null };
  const exit = failed.exitCode === null ? "" : ` (exit code ${failed.exitCode})`;
  const why =
    failed.reason === "DeadlineExceeded"
      ? "ran past its activeDeadline and was stopped"
      : `failed: ${failed.reason ?? ""}`;
  return { phase: "Failed", message: `run ${failed.name} ${why}${exit}` };
}

/**
 * Kubernetes' CrashLoopBackOff: a current container the engine is restarting (its process exited
 * and the restart policy waits out a growing delay before starting it again); null for none.
 */
function crashLoop(containers: readonly ContainerStatus[]): string | null {
  const c = containers.find((x) => x.current && x.state === "restarting");
  if (!c) return null;
  const code = c.lastExit?.exitCode ?? null;
  const exit = c.lastExit ? ` after ${code === null ? "an exit" : `exit code ${code}`} at ${c.lastExit.at}` : "";
  const restarts = c.restarts === null ? "" : ` (${c.restarts} restart${c.restarts === 1 ? "" : "s"})`;
  return `crash loop: ${c.name} is restarting${exit}${restarts}; the engine starts it again after a growing delay`;
}

/**
 * One of the spec's replicas, as its counts have them: not a replacement under way (NAME.next), a
 * rejected version's record, a claimed pool member or a collected run's record.
 */
export function isReplica(c: ContainerStatus): boolean {
  return c.claim === undefined && !c.collected && !isTempName(c.name) && !isRejectedName(c.name);
}

/** A spec's replica counts from its containers (SpecStatus.replicas). */
function counts(containers: readonly ContainerStatus[]): { ready: number; updated: number; available: number } {
  const replicas = containers.filter(isReplica);
  const up = (c: ContainerStatus): boolean =>
    c.state === "running" && c.health !== "unhealthy" && c.health !== "starting";
  return {
    ready: replicas.filter((c) => c.current && up(c)).length,
    updated: replicas.filter((c) => c.current).length,
    available: replicas.filter(up).length,
  };
}

export function statusReport(input: StatusInput): StatusReport {
  const keys = input.keys;
  const bySpec = new Map<string, ContainerStatus[]>();
  for (const c of input.observed.containers) {
    const spec = c.labels[keys.spec] ?? "";
    const list = bySpec.get(spec) ?? [];
    const normalized = input.records.get(spec)?.spec;
    list.push({
      id: c.id,
      name: c.name,
      replica: Number(c.labels[keys.replica] ?? -1),
      state: c.state,
      health: c.health,
      current: input.records.get(spec)?.hash === c.labels[keys.hash],
      createdAt: formatTime(c.createdAt),
      addresses: { ...(c.addresses ?? {}) },
      hostPorts: containerHostPorts(c, keys.hostPorts),
      ipv6Addresses: { ...(c.ipv6Addresses ?? {}) },
      ...outcomeFields(normalized ? runOutcome(c, normalized) : null, c.run?.startedAt ?? null),
      ...restartFields(c.run),
      collected: false,
      ...(input.claims?.has(c.id) ? { claim: input.claims.get(c.id) } : {}),
    });
    bySpec.set(spec, list);
  }
  for (const r of runRecords(input.observed.volumes, keys)) {
    const list = bySpec.get(r.spec) ?? [];
    list.push({
      id: "",
      name: r.container,
      replica: r.replica,
      state: "exited",
      health: null,
      current: input.records.get(r.spec)?.hash === r.hash,
      createdAt: time(r.outcome.startedAt) ?? "",
      addresses: {},
      hostPorts: {},
      ipv6Addresses: {},
      ...outcomeFields(r.outcome, null),
      restarts: null,
      lastExit: null,
      collected: true,
    });
    bySpec.set(r.spec, list);
  }
  // Removing an old image changes none of the spec's containers: it stays Running meanwhile.
  const planned = new Set(input.plan.actions.filter((a) => a.kind !== "remove-image").map((a) => a.spec));
  const conflicts = new Map<string, string>();
  const blocked = new Map<string, Extract<Note, { kind: "blocked" }>>();
  const partitions = new Map<string, Extract<Note, { kind: "partitioned" }>>();
  for (const note of input.plan.notes) {
    if (note.kind === "conflict") conflicts.set(note.spec, renderNote(note).slice(2));
    if (note.kind === "blocked") blocked.set(note.spec, note);
    if (note.kind === "unschedulable") blocked.set(note.spec, { ...note, kind: "blocked", failed: false });
    if (note.kind === "partitioned") partitions.set(note.spec, note);
  }

  const specs: SpecStatus[] = [];
  for (const record of [...input.records.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const containers = (bySpec.get(record.name) ?? []).sort(
      (a, b) => a.replica - b.replica || (a.name < b.name ? -1 : 1),
    );
    const rt = input.progress(record.name);
    const spec = record.spec;
    const partition = partitions.get(record.name);
    const expired = spec?.expiresAt !== null && spec?.expiresAt !== undefined && spec.expiresAt <= input.now;
    // An expired spec wants nothing any more: berth reaps what it had.
    const desiredReplicas = spec && !expired ? spec.replicas : 0;
    const replicaCounts = counts(containers);
    const ready = replicaCounts.ready;
    const run = spec && spec.restartPolicy !== "Always" ? runPhase(spec, containers) : null;

    let phase: Phase;
    let message: string | null = null;
    // Held until something changes (a rollout hold, a missing object): no retry is coming.
    let held = false;
    if (record.invalid.length > 0) {
      phase = "Invalid";
      message = `${formatIssue(record.invalid[0] as (typeof record.invalid)[number])}${spec && record.hash !== null ? " (its last good version stays in force)" : ""}`;
    } else if (expired) {
      phase = "Expired";
    } else if (conflicts.has(record.name) || rt?.terminal?.phase === "Conflict") {
      phase = "Conflict";
      message = conflicts.get(record.name) ?? rt?.terminal?.message ?? null;
    } else if (record.error !== null) {
      phase = "Failed";
      message = record.error;
    } else if (input.refused?.has(record.name)) {
      phase = "Failed";
      message = input.refused.get(record.name) ?? null;
    } else if (blocked.has(record.name)) {
      const note = blocked.get(record.name);
      phase = note?.failed ? "Failed" : "Pending";
      message = note?.message ?? null;
      held = note?.failed === true;
    } else if (rt?.terminal) {
      phase = "Failed";
      message = rt.terminal.message;
    } else if (rt?.lastError && rt.retryAt !== null) {
      phase = "Failed";
      message = `${rt.lastError} (retrying at ${formatTime(rt.retryAt)})`;
    } else if (spec?.suspended) {
      phase = "Suspended";
    } else if (run) {
      // Finished: what is still planned for it (collecting it after its TTL) changes nothing.
      phase = run.phase;
      message = run.message;
    } else if (planned.has(record.name) || rt?.busy) {
      // Pending while being created: no container yet, or only new ones that never started.
      phase = containers.every((c) => c.current && c.state === "created") ? "Pending" : "Updating";
      message = crashLoop(containers);
    } else if (
      spec?.pool
        ? ready >= spec.pool.minReady
        : partition
          ? // Those updatePartition keeps count as they are, up on their version.
            ready === desiredReplicas - partition.kept.length && replicaCounts.available === desiredReplicas
          : ready === desiredReplicas
    ) {
      phase = "Running";
      message = partition ? partitionText(partition) : null;
    } else {
      phase = "Pending";
      message = crashLoop(containers);
    }

    specs.push({
      name: record.name,
      phase,
      message,
      file: record.file,
      hash: record.hash,
      replicas: { desired: desiredReplicas, ...replicaCounts },
      containers,
      lastAction: rt?.lastAction ? { ...rt.lastAction, at: formatTime(rt.lastAction.at) } : null,
      lastError: rt?.lastError ?? null,
      lastErrorCode: rt?.lastError ? (rt.lastErrorCode ?? null) : null,
      expiresAt: spec?.expiresAt != null ? formatTime(spec.expiresAt) : null,
      retryAt: rt?.retryAt != null && !held ? formatTime(rt.retryAt) : null,
      collected: run !== null && containers.every((c) => c.collected),
      ...(spec?.pool
        ? {
            pool: {
              size: spec.pool.size,
              minReady: spec.pool.minReady,
              ready,
              claimed: containers.filter((c) => c.claim !== undefined).length,
            },
          }
        : {}),
    });
  }

  const orphans: ContainerStatus[] = [];
  for (const [spec, containers] of bySpec) {
    if (input.records.has(spec)) continue;
    // A spec known only from its containers, whose file is now invalid (so broken that not even
    // its name can be read): Invalid, with the file's error.
    const source = input.observed.containers.find((c) => c.labels[keys.spec] === spec)?.labels[keys.source];
    const issues = source === undefined ? undefined : input.invalidSources.get(source);
    if (issues && issues.length > 0) {
      specs.push({
        name: spec,
        phase: "Invalid",
        message: `${formatIssue(issues[0] as SpecIssue)} (its containers are kept as they are)`,
        file: (issues[0] as SpecIssue).file,
        hash: null,
        replicas: { desired: containers.length, ...counts(containers), ready: 0, updated: 0 },
        containers,
        lastAction: null,
        lastError: null,
        lastErrorCode: null,
        expiresAt: null,
        retryAt: null,
        collected: false,
      });
      continue;
    }
    orphans.push(...containers.filter((c) => !c.collected));
  }
  specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const shown = new Set(specs.map((sp) => sp.file));
  const errors: FileError[] = [...input.invalidSources.values()]
    .flat()
    .filter((i) => !shown.has(i.file))
    .map((i) => ({ ...i, text: formatIssue(i) }));
  const notes = input.plan.notes
    .filter(
      (n) => n.kind === "prune-paused" || n.kind === "volume-prune-paused" || (n.kind === "object" && n.object === ""),
    )
    .map((n) => renderNote(n).slice(2));
  const objects =
    input.objects && (input.observed.networks || input.observed.volumes)
      ? objectStatuses({
          objects: input.objects.declared,
          observed: input.observed,
          plan: input.plan,
          progress: input.progress,
          keys,
          controllerId: input.objects.controllerId,
        })
      : [];
  const node = input.plan.capacity
    ? nodeReport(
        input.plan.capacity,
        input.plan.notes.flatMap((n) => (n.kind === "unschedulable" ? [{ spec: n.spec, reason: n.message }] : [])),
      )
    : null;
  return {
    specs,
    orphans,
    notes,
    ...(objects.length > 0 ? { objects } : {}),
    ...(node ? { node } : {}),
    ...(errors.length > 0 ? { errors } : {}),
  };
}
