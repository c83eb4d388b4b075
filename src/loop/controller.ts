/**
 * The reconcile loop (DESIGN §4). Triggers only enqueue a pass; passes never overlap and
 * requests made during one collapse into one more. Triggers: the spec watch, Docker events
 * (label-filtered; on disconnect reconnect with backoff and re-list; those about a spec berth is
 * operating on wait for its settle), a cron resync that also re-reads the specs, a wake-up at the
 * next expiry, retry times of backed-off specs, and the end of every dispatched operation.
 *
 * Startup is observe-first: nothing acts before the specs are loaded and the containers listed.
 * Shutdown stops taking work, lets in-flight operations finish (bounded) and leaves the
 * containers running.
 */
import type { Logger } from "pino";
import type { Clock, Timer } from "../util/clock.js";
import type { LabelKeys } from "../core/labels.js";
import { isDockerError } from "../docker/errors.js";
import type { DockerPort, EventSubscription } from "../docker/port.js";
import type { SpecWatcher } from "../host/watcher.js";
import type { Dispatcher } from "./dispatcher.js";
import type { ReapCandidate, Reaper } from "./reaper.js";
import type { PassResult, Reconciler } from "./reconciler.js";

export interface ControllerOptions {
  readonly labels: LabelKeys;
  readonly controllerId: string;
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
  /** Reconnect backoff of the events stream and of failed passes. */
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
}

export interface ControllerDeps {
  readonly reconciler: Reconciler;
  readonly dispatcher: Dispatcher;
  readonly port: DockerPort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly reaper: Reaper;
  /** Starts the periodic resync (node-cron in the product); called once, after the first pass. */
  readonly scheduleResync: (tick: () => void) => { stop(): void | Promise<void> };
  /** Starts the spec watch; called once, after the first pass. */
  readonly watch: ((onChange: () => void) => SpecWatcher) | null;
  /** Called after every pass (status surfaces, metrics, tests). */
  readonly onPass?: (result: PassResult) => void;
  /** Called when a pass fails (metrics, the event log). */
  readonly onPassFailed?: (err: Error) => void;
  /** Called when the events stream is open again after it ended or failed (metrics). */
  readonly onEventsReconnected?: () => void;
  /** Called with what a reaper sweep removed (metrics, the event log). */
  readonly onReaped?: (removed: readonly ReapCandidate[]) => void;
}

export interface Readiness {
  readonly ready: boolean;
  readonly reason: string | null;
}

export class Controller {
  private pending: { reload: boolean } | null = null;
  private running: Promise<void> | null = null;
  private passTimer: Timer | null = null;
  private passAt = 0;
  private wakeTimer: Timer | null = null;
  private wakeAt: number | null = null;
  private events: EventSubscription | null = null;
  private eventsTimer: Timer | null = null;
  private eventsFailures = 0;
  private passFailures = 0;
  private watcher: SpecWatcher | null = null;
  private resync: { stop(): void | Promise<void> } | null = null;
  private stopping = false;
  private dockerAnswering = false;
  private firstPassDone = false;
  private lastResult: PassResult | null = null;
  private notesSeen = new Set<string>();
  private reapNext: number | null = null;

  constructor(
    private readonly deps: ControllerDeps,
    private readonly options: ControllerOptions,
  ) {}

  /** A pass is running now. */
  get passing(): boolean {
    return this.running !== null;
  }

  get last(): PassResult | null {
    return this.lastResult;
  }

  readiness(): Readiness {
    if (!this.firstPassDone)
      return { ready: false, reason: this.dockerAnswering ? "first reconcile not done" : "Docker not answering yet" };
    if (!this.dockerAnswering) return { ready: false, reason: "Docker is not answering" };
    const paused = this.lastResult?.snapshot.input.prunePaused;
    const unreadable = this.lastResult?.snapshot.directories.some((d) => !d.readable);
    if (unreadable && paused) return { ready: false, reason: paused };
    return { ready: true, reason: null };
  }

  /** Observe-first start: the first pass runs before any watch or event can trigger one. */
  async start(): Promise<void> {
    this.deps.log.info({ id: this.options.controllerId }, "controller starting");
    this.requestPass(true, 0);
    await this.idle();
    if (this.stopping) return;
    if (this.deps.watch) {
      this.watcher = this.deps.watch(() => {
        this.requestPass(true, 0);
      });
    }
    this.subscribeEvents();
    this.resync = this.deps.scheduleResync(() => {
      this.requestPass(true, 0);
      void this.sweepReaper();
    });
    void this.sweepReaper();
    this.deps.log.info({ id: this.options.controllerId }, "controller started");
  }

  /** Resolves when no pass is running or queued. */
  async idle(): Promise<void> {
    while (this.running || this.passTimer) {
      if (this.running) await this.running;
      else await new Promise<void>((resolve) => this.deps.clock.at(this.deps.clock.now() + 5, resolve));
    }
  }

  /** Asks for a pass (re-reading the specs when `reload`), after `delayMs` of coalescing. */
  requestPass(reload: boolean, delayMs = this.options.coalesceMs): void {
    if (this.stopping) return;
    this.pending = { reload: (this.pending?.reload ?? false) || reload };
    if (this.running) return;
    const at = this.deps.clock.now() + delayMs;
    // A pass already armed for later is brought forward: a request never waits out a longer delay.
    if (this.passTimer && this.passAt <= at) return;
    this.passTimer?.cancel();
    this.passAt = at;
    this.passTimer = this.deps.clock.at(at, () => {
      this.passTimer = null;
      this.running = this.runPasses().finally(() => {
        this.running = null;
      });
    });
  }

  private async runPasses(): Promise<void> {
    while (this.pending && !this.stopping) {
      const { reload } = this.pending;
      this.pending = null;
      try {
        const result = await this.deps.reconciler.pass({ reload, execute: true });
        this.passOk(result);
      } catch (err) {
        this.passFailed(err);
      }
    }
  }

  private passOk(result: PassResult): void {
    if (!this.dockerAnswering && this.firstPassDone) {
      const forgiven = this.deps.dispatcher.forgiveBackoff();
      this.deps.log.info({ backoffReset: forgiven }, "Docker answering again");
      // Retry the specs that failed while the engine was away now, not at their backoff times.
      if (forgiven > 0) this.requestPass(false);
    }
    this.dockerAnswering = true;
    this.firstPassDone = true;
    this.passFailures = 0;
    this.lastResult = result;
    this.notesSeen = this.deps.reconciler.logNotes(result.plan, this.notesSeen);
    const retry = this.deps.dispatcher.nextRetryAt();
    const candidates = [result.plan.nextWakeAt, retry, this.reapNext].filter((t): t is number => t !== null);
    this.armWake(candidates.length > 0 ? Math.min(...candidates) : null);
    this.deps.onPass?.(result);
  }

  private passFailed(err: unknown): void {
    this.deps.onPassFailed?.(err instanceof Error ? err : new Error(String(err)));
    const unavailable = isDockerError(err, "unavailable", "timeout");
    if (unavailable && this.dockerAnswering)
      this.deps.log.warn({ err: (err as Error).message }, "Docker not answering");
    else if (!unavailable || this.passFailures === 0)
      this.deps.log.error({ err: (err as Error).message }, "reconcile pass failed");
    if (unavailable) this.dockerAnswering = false;
    this.passFailures++;
    const delay = Math.min(
      this.options.reconnectMaxMs,
      this.options.reconnectBaseMs * 2 ** Math.min(this.passFailures - 1, 10),
    );
    this.armWake(this.deps.clock.now() + delay);
  }

  /** One timer for the next time-driven pass: expiry, retry, reaping, or recovery. */
  private armWake(at: number | null): void {
    if (at === this.wakeAt) return;
    this.wakeTimer?.cancel();
    this.wakeTimer = null;
    this.wakeAt = at;
    if (at === null || this.stopping) return;
    this.wakeTimer = this.deps.clock.at(at, () => {
      this.wakeTimer = null;
      this.wakeAt = null;
      if (this.reapNext !== null && this.reapNext <= this.deps.clock.now()) void this.sweepReaper();
      this.requestPass(false, 0);
    });
  }

  /** Called by the dispatcher when a spec's operations are done. */
  settled(): void {
    this.requestPass(false, this.coalesceDelay());
  }

  /** Events and settles coalesce longer while other operations still run. */
  private coalesceDelay(): number {
    return this.deps.dispatcher.busyCount > 0 ? this.options.busyCoalesceMs : this.options.coalesceMs;
  }

  private subscribeEvents(): void {
    if (this.stopping) return;
    this.events = this.deps.port.subscribeEvents(
      { labels: [`${this.options.labels.controller}=${this.options.controllerId}`] },
      {
        onOpen: () => {
          if (this.eventsFailures > 0) {
            this.deps.log.info({}, "Docker events reconnected");
            this.deps.onEventsReconnected?.();
          }
          this.eventsFailures = 0;
          // Whatever happened while disconnected: look again.
          this.requestPass(false, 0);
        },
        onEvent: (event) => {
          // berth's own work on a spec shows up as events about its containers; the spec's settle
          // asks for the pass that looks at the outcome, so only other events ask for one.
          const spec = event.labels[this.options.labels.spec];
          if (spec !== undefined && this.deps.dispatcher.runtimeOf(spec)?.busy === true) return;
          this.requestPass(false, this.coalesceDelay());
        },
        onClose: (err) => {
          this.events = null;
          if (this.stopping) return;
          this.eventsFailures++;
          const delay = Math.min(
            this.options.reconnectMaxMs,
            this.options.reconnectBaseMs * 2 ** Math.min(this.eventsFailures - 1, 10),
          );
          if (this.eventsFailures === 1) {
            this.deps.log.warn({ err: err?.message ?? "stream ended", retryInMs: delay }, "Docker events disconnected");
            // Look now: if the engine itself is gone, this pass fails and readiness says so.
            this.requestPass(false, 0);
          }
          this.eventsTimer = this.deps.clock.at(this.deps.clock.now() + delay, () => {
            this.eventsTimer = null;
            this.subscribeEvents();
          });
        },
      },
    );
  }

  private async sweepReaper(): Promise<void> {
    if (!this.deps.reaper.enabled || this.stopping) return;
    try {
      const result = await this.deps.reaper.sweep(this.deps.clock.now());
      if (result.removed.length > 0) this.deps.onReaped?.(result.removed);
      this.reapNext = result.nextExpiry;
      if (result.nextExpiry !== null && (this.wakeAt === null || result.nextExpiry < this.wakeAt))
        this.armWake(result.nextExpiry);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "reap sweep failed");
    }
  }

  /** Stops taking work, waits (bounded) for in-flight operations; containers keep running. */
  async stop(): Promise<boolean> {
    if (this.stopping) return true;
    this.stopping = true;
    this.deps.log.info({}, "controller stopping");
    this.pending = null;
    this.passTimer?.cancel();
    this.passTimer = null;
    this.wakeTimer?.cancel();
    this.eventsTimer?.cancel();
    this.events?.close();
    await this.resync?.stop();
    await this.watcher?.close();
    if (this.running) await this.running;
    const drained = await this.deps.dispatcher.drain(this.options.drainTimeoutMs);
    this.deps.log.info({ drained }, "controller stopped");
    return drained;
  }
}
