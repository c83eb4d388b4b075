/**
 * The recent reconcile events: every executed action with its outcome, failed passes and reaper
 * removals, finished runs, containers the engine restarted and specs that wait for room on the
 * host, in a bounded ring (the oldest fall off). What `GET /v1/events` serves.
 */
import type { Action, Note } from "../core/plan/plan.js";
import { renderAction } from "../core/plan/render.js";
import type { StatusReport } from "../core/status.js";
import { renderSwarmAction, type SwarmAction } from "../core/swarm-plan.js";

export interface ReconcileEvent {
  /** Increases by one per event, never reused: `?since=SEQ` asks for newer ones. */
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly spec: string | null;
  readonly kind:
    | Action["kind"]
    | SwarmAction["kind"]
    | "pass-failed"
    | "reap"
    | "finished"
    | "restarted"
    | "revision"
    | "unschedulable";
  readonly reason: string;
  /** The action as `berth plan` prints it. */
  readonly text: string;
  readonly ok: boolean;
  readonly error: string | null;
  readonly durationMs: number;
}

export type NewEvent = Omit<ReconcileEvent, "seq">;

export const DEFAULT_EVENT_CAPACITY = 500;

export class EventLog {
  private readonly ring: ReconcileEvent[] = [];
  private next = 1;
  /**
   * The finished runs and restarts already told (kind, container and exit time), oldest first: a
   * run's end and a restart are two facts, and telling one never stands for the other.
   */
  private readonly told: string[] = [];
  /** The specs that waited for room at the last pass, with the reason told (only those: bounded). */
  private waitingFor = new Map<string, string>();

  constructor(private readonly capacity = DEFAULT_EVENT_CAPACITY) {}

  add(event: NewEvent): ReconcileEvent {
    const stored = { seq: this.next++, ...event };
    this.ring.push(stored);
    if (this.ring.length > this.capacity) this.ring.shift();
    return stored;
  }

  action(action: Action, error: Error | null, at: number, durationMs: number): ReconcileEvent {
    return this.executed(action, renderAction(action), error, at, durationMs);
  }

  /** A service operation under --target swarm (docs/swarm.md), as `berth plan --target swarm` prints it. */
  swarmAction(action: SwarmAction, error: Error | null, at: number, durationMs: number): ReconcileEvent {
    return this.executed(action, renderSwarmAction(action), error, at, durationMs);
  }

  private executed(
    action: { readonly spec: string; readonly kind: ReconcileEvent["kind"]; readonly reason: string },
    text: string,
    error: Error | null,
    at: number,
    durationMs: number,
  ): ReconcileEvent {
    return this.add({
      at,
      spec: action.spec,
      kind: action.kind,
      reason: action.reason,
      text,
      ok: error === null,
      error: error?.message ?? null,
      durationMs: Math.round(durationMs),
    });
  }

  /** A reconcile pass failed as a whole (the engine did not answer, a spec folder could not be read). */
  passFailed(err: Error, at: number): ReconcileEvent {
    return this.add({
      at,
      spec: null,
      kind: "pass-failed",
      reason: "error",
      text: "reconcile pass failed",
      ok: false,
      error: err.message,
      durationMs: 0,
    });
  }

  /** Another tool's container, past its expiry label, was removed (--reap-label). */
  reaped(
    container: { readonly id: string; readonly name: string; readonly label: string; readonly value: string },
    at: number,
  ): ReconcileEvent {
    return this.add({
      at,
      spec: null,
      kind: "reap",
      reason: "expired",
      text: `reap    ${container.name}: ${container.label}=${container.value}`,
      ok: true,
      error: null,
      durationMs: 0,
    });
  }

  /** A Git source is at a new revision (docs/gitops.md); `spec` is null, the source is in the text. */
  revision(
    source: { readonly name: string; readonly shortRevision: string | null; readonly subject: string | null },
    previous: string | null,
    at: number,
  ): ReconcileEvent {
    return this.add({
      at,
      spec: null,
      kind: "revision",
      reason: previous === null ? "first" : "fetched",
      text: `revision ${source.name}: ${source.shortRevision ?? "?"} ${JSON.stringify(source.subject ?? "")}${previous !== null ? ` (was ${previous.slice(0, 12)})` : ""}`,
      ok: true,
      error: null,
      durationMs: 0,
    });
  }

  /**
   * Each run seen finished for the first time (docs/runs.md), with its outcome: reason, exit code
   * and finish time. A restarted berth tells the runs it finds finished once more.
   */
  runsFinished(report: StatusReport, at: number): void {
    for (const s of report.specs) {
      for (const c of s.containers) {
        if (c.reason === null || c.collected || !this.first(`finished ${c.id}@${c.finishedAt ?? ""}`)) continue;
        this.add({
          at,
          spec: s.name,
          kind: "finished",
          reason: c.reason,
          text: `finished ${c.name}: ${c.reason}, exit code ${c.exitCode ?? "unknown"}, at ${c.finishedAt ?? "an unknown time"}`,
          ok: c.reason === "Completed",
          error: null,
          durationMs: 0,
        });
      }
    }
  }

  /**
   * Each exit of a container the engine restarted (docs/design.md, "Restarts and crash loops"),
   * seen for the first time: its code, when, and its restarts so far. A container that is not up
   * again (stopped after its restarts: by berth, or the engine gave up) was not restarted after
   * its last exit: its state is the one the inspect that read its last exit saw (loop/runs.ts), so
   * a final exit right after a pass's list is the run's end, not a restart. Returns the new events.
   */
  restarts(report: StatusReport, at: number): ReconcileEvent[] {
    const told: ReconcileEvent[] = [];
    for (const s of report.specs) {
      for (const c of s.containers) {
        const exit = c.lastExit;
        if (exit === null || (c.restarts ?? 0) === 0 || c.reason !== null) continue;
        if (c.state !== "running" && c.state !== "restarting") continue;
        if (!this.first(`restarted ${c.id}@${exit.at}`)) continue;
        const code = exit.exitCode === null ? "an unknown code" : `code ${exit.exitCode}`;
        const n = c.restarts ?? 0;
        told.push(
          this.add({
            at,
            spec: s.name,
            kind: "restarted",
            reason: "restarted",
            text: `restarted ${c.name} (${n} restart${n === 1 ? "" : "s"}): exited with ${code} at ${exit.at}`,
            ok: false,
            error: null,
            durationMs: 0,
          }),
        );
      }
    }
    return told;
  }

  /**
   * Each spec that starts waiting for room on the host (--capacity, docs/capacity.md), with the
   * plan's `Unschedulable` reason, as Kubernetes' FailedScheduling: told when it starts waiting and
   * when the reason changes (what is free changed), not every pass; a spec that got room, or is
   * gone, is forgotten, and told again if it waits again. Returns the new events.
   */
  waiting(notes: readonly Note[], at: number): ReconcileEvent[] {
    const now = new Map<string, string>();
    for (const n of notes) if (n.kind === "unschedulable" && !now.has(n.spec)) now.set(n.spec, n.message);
    const told: ReconcileEvent[] = [];
    for (const [spec, message] of now) {
      if (this.waitingFor.get(spec) === message) continue;
      told.push(
        this.add({
          at,
          spec,
          kind: "unschedulable",
          reason: "unschedulable",
          text: `waiting ${spec}: ${message}`,
          ok: false,
          error: null,
          durationMs: 0,
        }),
      );
    }
    this.waitingFor = now;
    return told;
  }

  /** True the first time a key is seen (the told list is bounded like the ring). */
  private first(key: string): boolean {
    if (this.told.includes(key)) return false;
    this.told.push(key);
    if (this.told.length > this.capacity) this.told.shift();
    return true;
  }

  /** Oldest first; after `since` (a seq), for `spec`, at most the newest `limit`. */
  list(filter: { readonly since?: number; readonly spec?: string; readonly limit?: number } = {}): ReconcileEvent[] {
    const found = this.ring.filter(
      (e) =>
        (filter.since === undefined || e.seq > filter.since) && (filter.spec === undefined || e.spec === filter.spec),
    );
    return filter.limit === undefined ? found : found.slice(-filter.limit);
  }
}
