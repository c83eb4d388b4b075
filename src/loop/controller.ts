/**
 * The reconcile loop (docs/design.md, "The loop"): its lifecycle and the triggers that ask for
 * passes — the spec watch, Docker events (those about a spec berth is operating on wait for its
 * settle), a cron resync that also re-reads the specs, the next expiry or retry time (Wake), the
 * end of every dispatched operation, and reaping other tools' expired containers.
 *
 * Startup is observe-first: nothing acts before the specs are loaded and the containers listed.
 * Shutdown stops taking work, lets in-flight operations finish (bounded) and leaves the
 * containers running.
 */
import type { Logger } from "pino";
import type { Ownership } from "../core/ownership.js";
import { renderNote } from "../core/plan/render.js";
import { isEngineError } from "../docker/errors.js";
import type { DockerEvent, DockerPort } from "../docker/port.js";
import type { SpecWatcher } from "../host/watcher.js";
import { type BackoffPolicy, backoffDelay } from "../util/backoff.js";
import type { Clock } from "../util/clock.js";
import type { Dispatcher } from "./dispatcher.js";
import { changesObserved, EngineEvents } from "./engine-events.js";
import { PassQueue } from "./pass-queue.js";
import type { ReapCandidate, Reaper } from "./reaper.js";
import type { PassResult, Reconciler } from "./reconciler.js";
import { ReportOnce } from "./report-once.js";
import { Wake } from "./wake.js";

export interface ControllerOptions {
  readonly owner: Ownership;
  /** Coalescing delay for passes triggered by events and finished operations. */
  readonly coalesceMs: number;
  /**
   * The same while operations are still running: a pass then finds most specs busy, and each one
   * costs the engine list calls that compete with the creates and starts. It also bounds how stale
   * the status of a settled spec can be while others work. The last settle asks with coalesceMs.
   */
  readonly busyCoalesceMs: number;
  /** How long shutdown waits for in-flight operations. */
  readonly drainTimeoutMs: number;
  /** Backoff of failed passes and of the events stream. */
  readonly reconnect: BackoffPolicy;
}

export interface ControllerDeps {
  readonly reconciler: Reconciler;
  readonly dispatcher: Dispatcher;
  readonly docker: DockerPort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly reaper: Reaper;
  /** Starts the periodic resync (node-cron in the product); called once, after the first pass. */
  readonly scheduleResync: (tick: () => void) => { stop(): void | Promise<void> };
  /** Starts the spec watch; called once, after the first pass. */
  readonly watch: ((onChange: () => void) => SpecWatcher) | null;
  /** Called as every pass begins (what waits for a pass that began later: ops/pools.ts). */
  readonly onPassBegin?: () => void;
  /** Called after every pass (status surfaces, metrics, tests). */
  readonly onPass?: (result: PassResult) => void;
  /** Called when a pass fails (metrics, the event log). */
  readonly onPassFailed?: (err: Error) => void;
  /** Called when the events stream is open again after it ended or failed (metrics). */
  readonly onEventsReconnected?: () => void;
  /** Called with what a reaper sweep removed (metrics, the event log). */
  readonly onReaped?: (removed: readonly ReapCandidate[]) => void;
  /**
   * What an engine error means and what fixes it, in one line (docker/engine-message.ts): logged as
   * the `advice` of "Docker not answering".
   */
  readonly explainEngine?: (err: Error) => string;
  /** Under --ha: whether this berth leads now; a standby's passes plan but do not act, and it reaps nothing. */
  readonly leading?: () => boolean;
}

export interface Readiness {
  readonly ready: boolean;
  readonly reason: string | null;
}

/** A `die` event's exit code (the engine's `exitCode` attribute); null when it has none. */
function exitCodeOf(event: DockerEvent): number | null {
  const raw = event.labels.exitCode ?? "";
  return /^\d+$/.test(raw) ? Number(raw) : null;
}

export class Controller {
  private readonly queue: PassQueue;
  private readonly wake: Wake;
  private readonly events: EngineEvents;
  private readonly notes = new ReportOnce();
  private watcher: SpecWatcher | null = null;
  private resync: { stop(): void | Promise<void> } | null = null;
  private stopping = false;
  /** What the passes have shown of the engine. */
  private engine = { answering: false, firstPassDone: false, failedPasses: 0 };
  private lastResult: PassResult | null = null;
  /** The earliest future expiry the last reaper sweep saw. */
  private reapNext: number | null = null;

  constructor(
    private readonly deps: ControllerDeps,
    private readonly options: ControllerOptions,
  ) {
    this.queue = new PassQueue(deps.clock, (reload) => this.passOnce(reload));
    this.wake = new Wake(deps.clock, () => {
      if (this.reapNext !== null && this.reapNext <= deps.clock.now()) void this.sweepReaper();
      this.requestPass(false, 0);
    });
    this.events = new EngineEvents({
      docker: deps.docker,
      filter: { labels: [options.owner.filter] },
      clock: deps.clock,
      log: deps.log,
      backoff: options.reconnect,
      onOpen: (again) => {
        deps.reconciler.eventsOpened();
        if (again) deps.onEventsReconnected?.();
        // Whatever happened while disconnected: look again.
        this.requestPass(false, 0);
      },
      onEvent: (event) => {
        // A healthcheck probe is an exec every interval: were it a change, an idle host would pass
        // (and inspect) once per probe of every container.
        if (!changesObserved(event)) return;
        deps.reconciler.containerChanged(event.id, event.action === "die" ? { code: exitCodeOf(event) } : undefined);
        // berth's own work on a spec shows up as events about its containers; the spec's settle
        // asks for the pass that looks at the outcome, so only other events ask for one.
        const spec = event.labels[options.owner.keys.spec];
        if (spec !== undefined && deps.dispatcher.isBusy(spec)) return;
        this.requestPass(false, this.coalesceDelay());
      },
      // Look now: if the engine itself is gone, this pass fails and readiness says so.
      onLost: () => {
        this.requestPass(false, 0);
      },
    });
    deps.dispatcher.onSettled(() => {
      this.requestPass(false, this.coalesceDelay());
    });
    deps.dispatcher.onProgress(() => {
      this.requestPass(false, this.coalesceDelay());
    });
  }

  /** A pass is running now. */
  get passing(): boolean {
    return this.queue.passing;
  }

  get last(): PassResult | null {
    return this.lastResult;
  }

  readiness(): Readiness {
    if (!this.engine.firstPassDone)
      return { ready: false, reason: this.engine.answering ? "first reconcile not done" : "Docker not answering yet" };
    if (!this.engine.answering) return { ready: false, reason: "Docker is not answering" };
    const paused = this.lastResult?.snapshot.input.prunePaused;
    const unreadable = this.lastResult?.snapshot.directories.some((d) => !d.readable);
    if (unreadable && paused) return { ready: false, reason: paused };
    return { ready: true, reason: null };
  }

  /** Observe-first start: the first pass runs before any watch or event can trigger one. */
  async start(): Promise<void> {
    this.deps.log.info({ id: this.options.owner.controllerId }, "controller starting");
    this.requestPass(true, 0);
    await this.idle();
    if (this.stopping) return;
    if (this.deps.watch) {
      this.watcher = this.deps.watch(() => {
        this.requestPass(true, 0);
      });
    }
    this.events.open();
    this.resync = this.deps.scheduleResync(() => {
      this.requestPass(true, 0);
      void this.sweepReaper();
    });
    void this.sweepReaper();
    this.deps.log.info({ id: this.options.owner.controllerId }, "controller started");
  }

  /** Resolves when no pass is running or queued. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Asks for a pass (re-reading the specs when `reload`), after `delayMs` of coalescing. */
  requestPass(reload: boolean, delayMs = this.options.coalesceMs): void {
    if (!this.stopping) this.queue.request(reload, delayMs);
  }

  private async passOnce(reload: boolean): Promise<void> {
    let result: PassResult;
    this.deps.onPassBegin?.();
    try {
      result = await this.deps.reconciler.pass({ reload });
    } catch (err) {
      this.passFailed(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.passOk(result);
  }

  private passOk(result: PassResult): void {
    if (!this.engine.answering && this.engine.firstPassDone) {
      const forgiven = this.deps.dispatcher.forgiveBackoff();
      this.deps.log.info({ backoffReset: forgiven }, "Docker answering again");
      // Retry the specs that failed while the engine was away now, not at their backoff times.
      if (forgiven > 0) this.requestPass(false);
    }
    this.engine = { answering: true, firstPassDone: true, failedPasses: 0 };
    this.lastResult = result;
    this.notes.round(result.plan.notes, renderNote, (note) => {
      // A partition is declared, not a problem: said once, as information.
      this.deps.log[note.kind === "partitioned" ? "info" : "warn"](
        { note: note.kind, spec: "spec" in note ? note.spec : undefined, detail: renderNote(note).slice(2) },
        "reconcile note",
      );
    });
    const retry = this.deps.dispatcher.nextRetryAt();
    const candidates = [result.plan.nextWakeAt, retry, this.reapNext].filter((t): t is number => t !== null);
    this.armWake(candidates.length > 0 ? Math.min(...candidates) : null);
    this.deps.onPass?.(result);
  }

  private passFailed(err: Error): void {
    this.deps.onPassFailed?.(err);
    // No socket, no permission, not an engine, no answer: the engine is not answering.
    const unavailable = isEngineError(err);
    if (unavailable && this.engine.answering)
      this.deps.log.warn({ err: err.message, advice: this.deps.explainEngine?.(err) }, "Docker not answering");
    else if (!unavailable || this.engine.failedPasses === 0)
      this.deps.log.error({ err: err.message }, "reconcile pass failed");
    if (unavailable) this.engine.answering = false;
    this.engine.failedPasses++;
    this.armWake(this.deps.clock.now() + backoffDelay(this.engine.failedPasses, this.options.reconnect));
  }

  private armWake(at: number | null): void {
    if (!this.stopping) this.wake.arm(at);
  }

  /** Events and settles coalesce longer while other operations still run. */
  private coalesceDelay(): number {
    return this.deps.dispatcher.busyCount > 0 ? this.options.busyCoalesceMs : this.options.coalesceMs;
  }

  /** Under --ha, when this berth became the leader: act now on what the standby passes saw. */
  becameLeader(): void {
    // Before the first pass (the first try at the lease won): start() looks first, then acts.
    if (!this.engine.firstPassDone) return;
    this.deps.dispatcher.forgiveBackoff();
    this.requestPass(true, 0);
    void this.sweepReaper();
  }

  private async sweepReaper(): Promise<void> {
    if (!this.deps.reaper.enabled || this.stopping || this.deps.leading?.() === false) return;
    try {
      const result = await this.deps.reaper.sweep(this.deps.clock.now());
      if (result.removed.length > 0) this.deps.onReaped?.(result.removed);
      this.reapNext = result.nextExpiry;
      const armed = this.wake.at;
      if (result.nextExpiry !== null && (armed === null || result.nextExpiry < armed)) this.armWake(result.nextExpiry);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "reap sweep failed");
    }
  }

  /** Stops taking work, waits (bounded) for in-flight operations; containers keep running. */
  async stop(): Promise<boolean> {
    if (this.stopping) return true;
    this.stopping = true;
    this.deps.log.info({}, "controller stopping");
    this.wake.cancel();
    this.events.close();
    await this.resync?.stop();
    await this.watcher?.close();
    await this.queue.stop();
    const drained = await this.deps.dispatcher.drain(this.options.drainTimeoutMs);
    this.deps.log.info({ drained }, "controller stopped");
    return drained;
  }
}
