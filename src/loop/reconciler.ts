/**
 * One reconcile pass: (re)load the specs when asked, observe (one list of containers, one of
 * images), plan (pure), hand the actions to the dispatcher, and derive every spec's status.
 * Level-triggered: a pass never depends on what triggered it.
 */
import type { Logger } from "pino";
import type { Clock } from "../util/clock.js";
import { formatIssue } from "../core/errors.js";
import type { LabelKeys } from "../core/labels.js";
import type { ObservedState } from "../core/observed.js";
import { plan, type Plan } from "../core/plan/plan.js";
import { renderNote } from "../core/plan/render.js";
import type { DockerPort } from "../docker/port.js";
import type { SpecLoader } from "../manifest/loader.js";
import type { DesiredSnapshot, DesiredStateBuilder } from "./desired.js";
import type { Dispatcher, Waiting } from "./dispatcher.js";
import { claimedNames, foreignHolders, observe } from "./observer.js";
import { statusReport, type StatusReport } from "./status.js";

/** Failed starts in a row after which a container is replaced rather than started again. */
export const UNSTARTABLE_AFTER = 3;

export interface ReconcilerOptions {
  readonly labels: LabelKeys;
  readonly controllerId: string;
  readonly forcePrune: boolean;
  readonly pruneMaxShare: number;
}

export interface PassResult {
  readonly snapshot: DesiredSnapshot;
  readonly observed: ObservedState;
  readonly plan: Plan;
  readonly started: readonly string[];
  readonly waiting: readonly Waiting[];
  readonly report: StatusReport;
  /** When the host was observed (ms since the epoch). */
  readonly at: number;
  readonly durationMs: number;
}

export interface ReconcilerDeps {
  readonly loader: Pick<SpecLoader, "load">;
  readonly builder: DesiredStateBuilder;
  readonly port: DockerPort;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly log: Logger;
}

export class Reconciler {
  private snapshot: DesiredSnapshot | null = null;
  private reported = new Set<string>();
  /** Specs removed on purpose, until their containers are gone (PlanInput.deleted). */
  private readonly deleted = new Set<string>();

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly options: ReconcilerOptions,
  ) {}

  /** A spec was removed on purpose (through the API): its containers go even while pruning is paused. */
  markDeleted(spec: string): void {
    this.deleted.add(spec);
  }

  /** The spec was written again: the ordinary prune guard applies to it once more. */
  unmarkDeleted(spec: string): void {
    this.deleted.delete(spec);
  }

  /** The last loaded desired state, if any. */
  get desired(): DesiredSnapshot | null {
    return this.snapshot;
  }

  async pass(options: { readonly reload: boolean; readonly execute: boolean }): Promise<PassResult> {
    const started = this.deps.clock.now();
    const observedAt = this.deps.dispatcher.epoch();
    // The files and the engine are read at once: neither depends on the other.
    const [snapshot, listed] = await Promise.all([
      this.desiredState(options.reload),
      observe(this.deps.port, this.options),
    ]);
    let observed = listed;
    const now = this.deps.clock.now();
    this.forgetDeleted(observed);
    const input = {
      ...snapshot.input,
      unstartable: this.deps.dispatcher.unstartable(UNSTARTABLE_AFTER),
      deleted: this.deleted,
    };
    let result = plan(input, observed, now, this.options);
    const foreign = await foreignHolders(
      this.deps.port,
      this.options,
      claimedNames(result, (spec) => this.deps.dispatcher.runtimeOf(spec)?.busy !== true),
    );
    if (foreign.size > 0) {
      observed = { ...observed, foreignNames: foreign };
      result = plan(input, observed, now, this.options);
    }
    const dispatched = options.execute
      ? this.deps.dispatcher.dispatch({ plan: result, records: snapshot.records, observed, observedAt })
      : null;
    const report = statusReport({
      records: snapshot.records,
      invalidSources: snapshot.invalidSources,
      observed,
      plan: result,
      runtime: (spec) => this.deps.dispatcher.runtimeOf(spec),
      labels: this.options.labels,
      now,
    });
    const durationMs = this.deps.clock.now() - started;
    this.deps.log.debug(
      { actions: result.actions.length, started: dispatched?.started.length ?? 0, durationMs },
      "reconcile pass done",
    );
    return {
      snapshot,
      observed,
      plan: result,
      started: dispatched?.started ?? [],
      waiting: dispatched?.waiting ?? [],
      report,
      at: now,
      durationMs,
    };
  }

  /** The specs as last loaded, (re)loaded first when asked or never loaded. */
  private async desiredState(reload: boolean): Promise<DesiredSnapshot> {
    if (reload || this.snapshot === null) {
      this.snapshot = await this.deps.builder.build(await this.deps.loader.load());
      this.report(this.snapshot);
    }
    return this.snapshot;
  }

  /** A deleted spec is forgotten once none of its containers remain. */
  private forgetDeleted(observed: ObservedState): void {
    for (const spec of this.deleted) {
      if (!observed.containers.some((c) => c.labels[this.options.labels.spec] === spec)) this.deleted.delete(spec);
    }
  }

  /** Logs each spec problem and note once, when it first appears. */
  private report(snapshot: DesiredSnapshot): void {
    const current = new Set<string>();
    for (const issue of snapshot.issues) {
      const text = formatIssue(issue);
      current.add(text);
      if (!this.reported.has(text)) {
        this.deps.log.warn(
          {
            file: issue.file,
            line: issue.line,
            column: issue.column,
            field: issue.path,
            code: issue.code,
            err: issue.message,
          },
          "spec file invalid",
        );
      }
    }
    for (const record of snapshot.records.values()) {
      if (record.error === null) continue;
      const text = `${record.name}: ${record.error}`;
      current.add(text);
      if (!this.reported.has(text))
        this.deps.log.warn({ spec: record.name, err: record.error }, "spec cannot be applied");
    }
    this.reported = current;
  }

  /** Logs a plan's notes (prune paused, conflicts) once each. */
  logNotes(result: Plan, seen: Set<string>): Set<string> {
    const now = new Set<string>();
    for (const note of result.notes) {
      const text = renderNote(note);
      now.add(text);
      if (!seen.has(text)) {
        this.deps.log.warn(
          { note: note.kind, spec: "spec" in note ? note.spec : undefined, detail: text.slice(2) },
          "reconcile note",
        );
      }
    }
    return now;
  }
}
