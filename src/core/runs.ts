/**
 * Runs that finish (docs/runs.md): a container of a spec with restartPolicy Never or OnFailure
 * that has exited for good is a finished run, and the stopped container is its record. Once
 * ttlAfterFinished has passed, the container is removed and the outcome is kept in a small
 * labelled volume, the run's record, so that the spec still reports it and is not run again.
 * Pure: decided from what the engine showed (the list call and the inspect in ObservedRun).
 */
import type { LabelKeys } from "./labels.js";
import type { ObservedContainer, ObservedVolume } from "./observed.js";
import type { Ownership } from "./ownership.js";
import type { NormalizedSpec } from "./spec.js";
import { formatTime } from "./units.js";

/** Why a run ended, in Kubernetes' words (a terminated container's reason, a Job's condition). */
export type RunReason = "Completed" | "Error" | "OOMKilled" | "DeadlineExceeded";

export interface RunOutcome {
  readonly phase: "Succeeded" | "Failed";
  readonly exitCode: number | null;
  readonly reason: RunReason;
  /** Epoch ms; null when not known. */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

/** A spec whose containers run to completion rather than being kept running. */
export function runsToCompletion(spec: NormalizedSpec): boolean {
  return spec.restartPolicy !== "Always";
}

/**
 * The run was stopped for its activeDeadline: berth's mark says so (made before the stop, so it
 * holds whatever the spec's deadline is later). Where the mark was not looked at, the run's times
 * tell: it ran at least as long as the spec's deadline.
 */
function pastDeadline(c: ObservedContainer, spec: NormalizedSpec): boolean {
  const run = c.run;
  if (run?.stoppedForDeadline !== undefined) return run.stoppedForDeadline;
  return (
    spec.activeDeadlineMs !== null &&
    run !== undefined &&
    run.finishedAt !== null &&
    run.finishedAt - run.createdAt >= spec.activeDeadlineMs
  );
}

/**
 * The outcome of a container's run when it has finished for good, else null. Never: exited.
 * OnFailure: exited with 0, or past its deadline, or (with a backoffLimit) exited when the engine
 * will not restart it any more. Always: never finished.
 */
export function runOutcome(c: ObservedContainer, spec: NormalizedSpec): RunOutcome | null {
  if (c.state !== "exited" || !runsToCompletion(spec)) return null;
  const deadline = pastDeadline(c, spec);
  if (spec.restartPolicy === "OnFailure" && c.exitCode !== 0 && !deadline) {
    if (spec.backoffLimit === null || c.run?.settled !== true) return null;
  }
  const reason: RunReason = deadline
    ? "DeadlineExceeded"
    : c.run?.oomKilled === true
      ? "OOMKilled"
      : c.exitCode === 0
        ? "Completed"
        : "Error";
  return {
    phase: reason === "Completed" ? "Succeeded" : "Failed",
    exitCode: c.exitCode,
    reason,
    startedAt: c.run?.startedAt ?? null,
    finishedAt: c.run?.finishedAt ?? null,
  };
}

/** When a running run must be stopped (epoch ms), or null when it has no deadline or it is not known. */
export function deadlineOf(c: ObservedContainer, spec: NormalizedSpec): number | null {
  if (spec.activeDeadlineMs === null || !runsToCompletion(spec) || c.run === undefined) return null;
  return c.run.createdAt + spec.activeDeadlineMs;
}

// --- the mark of a run berth stopped for its activeDeadline ---

/**
 * `<prefix>-deadline.<id>.<container id, 12 digits>`: a small volume berth makes just before it
 * stops a run for its activeDeadline (labelled with the full id), so that the run's reason is
 * recorded when it is decided, not worked out later from a spec that may have changed. It goes
 * once its container is gone.
 */
export function deadlineMarkVolume(keys: LabelKeys, controllerId: string, containerId: string): string {
  const prefix = keys.controller.slice(0, -".controller".length);
  return `${prefix}-deadline.${controllerId}.${containerId.slice(0, 12)}`;
}

export function deadlineMarkLabels(owner: Ownership, spec: string, containerId: string): Record<string, string> {
  const keys = owner.keys;
  return { [keys.controller]: owner.controllerId, [keys.spec]: spec, [keys.deadlineStop]: containerId };
}

/** Whether `mark` (the volume of deadlineMarkVolume's name, null when there is none) marks `containerId`. */
export function marksDeadlineStop(mark: ObservedVolume | null, containerId: string, owner: Ownership): boolean {
  return mark !== null && owner.owns(mark) && mark.labels[owner.keys.deadlineStop] === containerId;
}

/** The deadline marks among volumes of berth's whose container is not among `containers`: to go. */
export function staleDeadlineMarks(
  volumes: readonly ObservedVolume[] | undefined,
  containers: readonly ObservedContainer[],
  keys: LabelKeys,
): { readonly volume: string; readonly spec: string; readonly containerId: string }[] {
  const present = new Set(containers.map((c) => c.id));
  const out: { volume: string; spec: string; containerId: string }[] = [];
  for (const v of volumes ?? []) {
    const id = v.labels[keys.deadlineStop];
    if (id !== undefined && !present.has(id))
      out.push({ volume: v.name, spec: v.labels[keys.spec] ?? "", containerId: id });
  }
  return out;
}

// --- the record of a run whose container was removed after its ttlAfterFinished ---

/** A run's record: the volume that stands for a finished run whose container is gone. */
export interface RunRecord {
  /** The volume's name. */
  readonly volume: string;
  readonly spec: string;
  readonly replica: number;
  /** The spec hash the run was made with: another hash is another run. */
  readonly hash: string;
  readonly container: string;
  readonly outcome: RunOutcome;
}

/** `<prefix>-run.<id>.<container>.<hash, 12 digits>`: one per run, so a new run never meets an old record. */
export function runRecordVolume(keys: LabelKeys, controllerId: string, container: string, hash: string): string {
  const prefix = keys.controller.slice(0, -".controller".length);
  return `${prefix}-run.${controllerId}.${container}.${hash.slice(0, 12)}`;
}

interface RecordLabel {
  readonly container: string;
  readonly phase: RunOutcome["phase"];
  readonly exitCode: number | null;
  readonly reason: RunReason;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** The labels of a run's record volume. */
export function runRecordLabels(
  owner: Ownership,
  spec: string,
  replica: number,
  hash: string,
  container: string,
  outcome: RunOutcome,
): Record<string, string> {
  const keys = owner.keys;
  const record: RecordLabel = {
    container,
    phase: outcome.phase,
    exitCode: outcome.exitCode,
    reason: outcome.reason,
    startedAt: outcome.startedAt === null ? null : formatTime(outcome.startedAt),
    finishedAt: outcome.finishedAt === null ? null : formatTime(outcome.finishedAt),
  };
  return {
    [keys.controller]: owner.controllerId,
    [keys.spec]: spec,
    [keys.replica]: String(replica),
    [keys.hash]: hash,
    [keys.finished]: JSON.stringify(record),
  };
}

const PHASES = new Set(["Succeeded", "Failed"]);
const REASONS = new Set(["Completed", "Error", "OOMKilled", "DeadlineExceeded"]);

function time(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The run records among volumes of berth's (the observer lists this controller's only); a volume
 * whose record label berth did not write is none.
 */
export function runRecords(volumes: readonly ObservedVolume[] | undefined, keys: LabelKeys): RunRecord[] {
  const out: RunRecord[] = [];
  for (const v of volumes ?? []) {
    const label = v.labels[keys.finished];
    if (label === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(label);
    } catch {
      continue;
    }
    if (typeof parsed !== "object" || parsed === null) continue;
    const r = parsed as Partial<Record<keyof RecordLabel, unknown>>;
    const replica = Number(v.labels[keys.replica]);
    const spec = v.labels[keys.spec];
    const hash = v.labels[keys.hash];
    if (typeof r.phase !== "string" || !PHASES.has(r.phase) || typeof r.reason !== "string" || !REASONS.has(r.reason))
      continue;
    if (spec === undefined || hash === undefined || !Number.isInteger(replica) || typeof r.container !== "string")
      continue;
    out.push({
      volume: v.name,
      spec,
      replica,
      hash,
      container: r.container,
      outcome: {
        phase: r.phase as RunOutcome["phase"],
        exitCode: typeof r.exitCode === "number" ? r.exitCode : null,
        reason: r.reason as RunReason,
        startedAt: time(r.startedAt),
        finishedAt: time(r.finishedAt),
      },
    });
  }
  return out.sort((a, b) => (a.volume < b.volume ? -1 : a.volume > b.volume ? 1 : 0));
}
