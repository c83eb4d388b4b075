/**
 * The work queue's guarantees, per spec: never two operations for one spec at once (within one,
 * the actions run in order, but consecutive creates side by side, and consecutive replaces
 * spec.updateParallelism at a time); a failed
 * spec backs off (util/backoff.ts) and a new version of it is never blocked behind the retries of
 * an old one; a terminal failure (conflict, image missing under Never, Docker refusing the spec)
 * is not retried until something changes. Concurrency across specs is bounded by the executor's
 * slots.
 */
import type { Logger } from "pino";
import { BerthError } from "../core/errors.js";
import { normalizeImageRef } from "../core/image-ref.js";
import type { ObservedState } from "../core/observed.js";
import type { Action, Plan } from "../core/plan/plan.js";
import { generationOf, type SpecRecord } from "../core/record.js";
import type { SpecProgress } from "../core/status.js";
import { type BackoffPolicy, backoffDelay } from "../util/backoff.js";
import type { Clock } from "../util/clock.js";
import type { ActionContext } from "./executor.js";

/** What must change before a terminal failure is worth another try. */
export type Unblock =
  { readonly kind: "image"; readonly ref: string } | { readonly kind: "name"; readonly name: string };

export interface SpecRuntime extends SpecProgress {
  busy: boolean;
  /** Failures in a row of the current generation. */
  attempts: number;
  retryAt: number | null;
  /** The generation (spec content) the failure state belongs to. */
  generation: string;
  terminal: {
    readonly message: string;
    readonly phase: "Failed" | "Conflict";
    readonly unblock: Unblock | null;
  } | null;
  lastError: string | null;
  lastErrorCode: string | null;
  lastAction: SpecProgress["lastAction"];
}

/**
 * A spec's actions in the order they run: each alone, but consecutive creates together (they make
 * distinct containers; a replica set's or a pool's refill runs side by side), and consecutive
 * replaces `parallelism` at a time (spec.updateParallelism: each replaces its own replica).
 */
function batches(actions: readonly Action[], parallelism = 1): Action[][] {
  const out: Action[][] = [];
  for (const action of actions) {
    const last = out[out.length - 1];
    const kind = last?.[0]?.kind;
    if (action.kind === "create" && kind === "create") last?.push(action);
    else if (action.kind === "replace" && kind === "replace" && (last?.length ?? 0) < parallelism) last?.push(action);
    else out.push([action]);
  }
  return out;
}

/** The container an action takes away: a removal's, a replacement's old one. */
function goneWith(action: Action): string | null {
  return action.kind === "remove" ? action.container.id : action.kind === "replace" ? action.old.id : null;
}

/** A terminal failure as the queue keeps it: its phase, and what would unblock it. */
function terminalOf(err: BerthError): NonNullable<SpecRuntime["terminal"]> {
  const unblock: Unblock | null =
    err.subject === null
      ? null
      : err.code === "BERTH_IMAGE_MISSING"
        ? { kind: "image", ref: err.subject }
        : err.code === "BERTH_NAME_CONFLICT"
          ? { kind: "name", name: err.subject }
          : null;
  return { message: err.message, phase: err.code === "BERTH_NAME_CONFLICT" ? "Conflict" : "Failed", unblock };
}

export interface DispatchInput {
  readonly plan: Plan;
  readonly records: ReadonlyMap<string, SpecRecord>;
  readonly observed: ObservedState;
  /**
   * The dispatcher's epoch (epoch()) when the observation began. A spec whose operations settled
   * after it was observed by a stale observation: its plan is not acted on (the settle already
   * asked for a fresh pass).
   */
  readonly observedAt: number;
}

export interface Waiting {
  readonly spec: string;
  readonly why: "busy" | "backoff" | "terminal";
  readonly until: number | null;
  /** Failed attempts of its current version so far. */
  readonly attempts: number;
}

/** What a pass reads of the queue: its epoch, its memory of each spec, and which starts keep failing. */
export interface QueueView {
  epoch(): number;
  progressOf(spec: string): SpecProgress | undefined;
  /** Containers that failed to start this many times in a row or more. */
  unstartable(times: number): Set<string>;
  /** The actions in flight, by spec. */
  inFlightActions(): ReadonlyMap<string, readonly Action[]>;
}

/** The view of a queue that has never run anything (one-shot commands). */
export const EMPTY_QUEUE: QueueView = {
  epoch: () => 0,
  progressOf: () => undefined,
  unstartable: () => new Set(),
  inFlightActions: () => new Map(),
};

export interface DispatcherDeps {
  readonly executor: { run(action: Action, ctx: ActionContext): Promise<void> };
  readonly clock: Clock;
  readonly log: Logger;
  readonly backoff: BackoffPolicy;
  /** Every executed action, with its outcome and how long it took (events, metrics, apply's progress). */
  readonly onAction?: (action: Action, error: Error | null, durationMs: number) => void;
}

/** A spec's failures are its old version's: the new one starts with none. */
function forgetFailures(rt: SpecRuntime, generation: SpecRuntime["generation"]): void {
  rt.generation = generation;
  rt.attempts = 0;
  rt.retryAt = null;
  rt.terminal = null;
}

export class Dispatcher implements QueueView {
  private readonly runtime = new Map<string, SpecRuntime>();
  private readonly running = new Set<Promise<void>>();
  private readonly settleListeners: ((spec: string) => void)[] = [];
  private readonly progressListeners: ((spec: string) => void)[] = [];
  /** Counts settles; settledAt says when each spec last settled. */
  private settles = 0;
  private readonly settledAt = new Map<string, number>();
  /** Containers whose start failed, and how many times in a row. */
  private readonly startFailures = new Map<string, number>();
  /** The actions in flight, by spec. */
  private readonly inFlight = new Map<string, readonly Action[]>();
  /** Specs a claim holds (exclusive()): no pass acts on them meanwhile. */
  private readonly held = new Set<string>();
  /** Held specs a plan had actions for: a pass is asked for when the hold ends. */
  private readonly heldBack = new Set<string>();

  /** A standby's (--ha): plans are made for the status, none is acted on. */
  private paused = false;
  /** Shutting down (drain()): no further batch of a spec's actions begins. */
  private draining = false;

  constructor(private readonly deps: DispatcherDeps) {}

  /** Under --ha: paused while this berth is a standby (operations already running finish or meet the fence). */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /** Calls `listener` whenever a spec's operations are done (successfully or not): time to observe again. */
  onSettled(listener: (spec: string) => void): void {
    this.settleListeners.push(listener);
  }

  /**
   * Calls `listener` when a batch of a spec's actions is done and more follow (a rollout's next
   * replica): a pass then observes it, so status follows the rollout batch by batch. The spec is
   * still busy: that pass acts on none of it.
   */
  onProgress(listener: (spec: string) => void): void {
    this.progressListeners.push(listener);
  }

  /** Take it before observing; hand it to dispatch() with the plan made from that observation. */
  epoch(): number {
    return this.settles;
  }

  unstartable(times: number): Set<string> {
    return new Set([...this.startFailures].filter(([, n]) => n >= times).map(([id]) => id));
  }

  progressOf(spec: string): SpecProgress | undefined {
    return this.runtime.get(spec);
  }

  inFlightActions(): ReadonlyMap<string, readonly Action[]> {
    return this.inFlight;
  }

  /** The spec has an operation in flight. */
  isBusy(spec: string): boolean {
    return this.runtime.get(spec)?.busy === true;
  }

  /** Specs with operations in flight. */
  get busyCount(): number {
    return this.running.size;
  }

  /**
   * The engine answers again after an outage: what failed while it was away was not the specs'
   * fault, so their backoff starts over and they are retried at the next pass.
   */
  forgiveBackoff(): number {
    let forgiven = 0;
    for (const rt of this.runtime.values()) {
      if (rt.busy || rt.retryAt === null) continue;
      rt.retryAt = null;
      rt.attempts = 0;
      forgiven++;
    }
    return forgiven;
  }

  /**
   * The earliest retry time still ahead of a backed-off spec. One already past was either retried
   * by the pass at it or had nothing planned then (its rollout held): no pass is owed to it.
   */
  nextRetryAt(): number | null {
    const now = this.deps.clock.now();
    let next: number | null = null;
    for (const rt of this.runtime.values()) {
      if (rt.retryAt === null || rt.busy || rt.retryAt <= now) continue;
      if (next === null || rt.retryAt < next) next = rt.retryAt;
    }
    return next;
  }

  private unblocked(unblock: Unblock | null, observed: ObservedState): boolean {
    if (unblock === null) return false;
    if (unblock.kind === "image") return observed.imageIds.has(normalizeImageRef(unblock.ref));
    return !observed.foreignNames.has(unblock.name);
  }

  /** Starts the actions of every spec free to act. */
  dispatch(input: DispatchInput): { started: string[]; waiting: Waiting[] } {
    if (this.paused || this.draining) return { started: [], waiting: [] };
    const now = this.deps.clock.now();
    const bySpec = new Map<string, Action[]>();
    for (const action of input.plan.actions) {
      const list = bySpec.get(action.spec);
      if (list) list.push(action);
      else bySpec.set(action.spec, [action]);
    }
    const started: string[] = [];
    const waiting: Waiting[] = [];

    // A spec with nothing left to do whose version changed since its failure (a broken edit
    // reverted: its containers are the good version's already) has no failure any more.
    for (const [spec, rt] of this.runtime) {
      if (rt.busy || bySpec.has(spec) || this.held.has(spec)) continue;
      const generation = generationOf(input.records.get(spec));
      if (rt.generation !== generation) forgetFailures(rt, generation);
    }

    for (const [spec, actions] of bySpec) {
      const record = input.records.get(spec);
      const generation = generationOf(record);
      let rt = this.runtime.get(spec);
      if (!rt) {
        rt = {
          busy: false,
          attempts: 0,
          retryAt: null,
          generation,
          terminal: null,
          lastError: null,
          lastErrorCode: null,
          lastAction: null,
        };
        this.runtime.set(spec, rt);
      }
      if (this.held.has(spec)) this.heldBack.add(spec);
      if (rt.busy || this.held.has(spec) || (this.settledAt.get(spec) ?? -1) >= input.observedAt) {
        // Busy, or finished since the observation this plan comes from: plan it again first.
        waiting.push({ spec, why: "busy", until: null, attempts: rt.attempts });
        continue;
      }
      // A new version of the spec: forget the old one's failures.
      if (rt.generation !== generation) forgetFailures(rt, generation);
      if (rt.terminal) {
        if (!this.unblocked(rt.terminal.unblock, input.observed)) {
          waiting.push({ spec, why: "terminal", until: null, attempts: rt.attempts });
          continue;
        }
        rt.terminal = null;
      }
      if (rt.retryAt !== null && now < rt.retryAt) {
        waiting.push({ spec, why: "backoff", until: rt.retryAt, attempts: rt.attempts });
        continue;
      }
      const imagePresent = record?.spec ? input.observed.imageIds.has(normalizeImageRef(record.spec.image)) : false;
      this.start(spec, rt, actions, { record, imagePresent, containers: input.observed.containers });
      started.push(spec);
    }

    // Forget idle specs and containers that no longer exist, so memory stays bounded.
    for (const [spec, rt] of this.runtime) {
      if (!rt.busy && !input.records.has(spec) && !bySpec.has(spec)) {
        this.runtime.delete(spec);
        this.settledAt.delete(spec);
      }
    }
    const present = new Set(input.observed.containers.map((c) => c.id));
    for (const id of this.startFailures.keys()) if (!present.has(id)) this.startFailures.delete(id);
    return { started, waiting };
  }

  /** Runs one action, reporting its outcome and duration. */
  private async runAction(action: Action, ctx: ActionContext): Promise<void> {
    const startedAt = this.deps.clock.now();
    try {
      await this.deps.executor.run(action, ctx);
    } catch (err) {
      this.deps.onAction?.(action, err as Error, this.deps.clock.now() - startedAt);
      throw err;
    }
    this.deps.onAction?.(action, null, this.deps.clock.now() - startedAt);
  }

  /**
   * Runs `fn` while no pass acts on `spec` (a claim on a pool, ops/pools.ts): it waits until the
   * spec has no operation in flight other than those `harmless` allows (a refill's creates touch
   * no existing member) and no other holder; afterwards the spec counts as settled, so a plan made
   * from an observation before it is not acted on, and a pass is asked for — unless `changed`
   * says `fn` changed nothing (a claim that found no member): then a plan made meanwhile still
   * holds. Claims that look again after every pass would otherwise void every plan between them,
   * and the member they wait for would never be made.
   */
  async exclusive<T>(
    spec: string,
    harmless: (action: Action) => boolean,
    fn: () => Promise<T>,
    changed: (result: T) => boolean = () => true,
  ): Promise<T> {
    for (;;) {
      const busy = this.inFlight.get(spec);
      if (!this.held.has(spec) && (busy === undefined || busy.every(harmless))) break;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
      });
    }
    this.held.add(spec);
    let result: { readonly value: T } | null = null;
    try {
      result = { value: await fn() };
      return result.value;
    } finally {
      this.held.delete(spec);
      if (result === null || changed(result.value) || this.heldBack.has(spec)) this.settle(spec);
      else for (const wake of this.waiters.splice(0)) wake();
    }
  }

  private readonly waiters: (() => void)[] = [];

  /** The spec's operations (or its holder) are done: wake who waits, and ask for a pass. */
  private settle(spec: string): void {
    this.heldBack.delete(spec);
    this.settledAt.set(spec, this.settles++);
    for (const wake of this.waiters.splice(0)) wake();
    for (const listener of this.settleListeners) listener(spec);
  }

  private start(spec: string, rt: SpecRuntime, actions: readonly Action[], ctx: ActionContext): void {
    rt.busy = true;
    this.inFlight.set(spec, actions);
    let current: Action | undefined;
    const task = (async () => {
      let seen = ctx;
      for (const [n, batch] of batches(actions, ctx.record?.spec?.updateParallelism).entries()) {
        if (n > 0 && this.draining) {
          this.deps.log.info(
            { spec, left: actions.length - actions.indexOf(batch[0] as Action) },
            "shutting down: the rest of the spec's actions are left for the next start",
          );
          break;
        }
        if (n > 0) for (const listener of this.progressListeners) listener(spec);
        if (batch.length > 1) {
          // Creates of distinct containers, and replacements of distinct replicas, touch nothing
          // of each other's: side by side (each through the executor's slots), as a ReplicaSet
          // makes its pods. Every one is seen through before a failure ends the spec's actions.
          const results = await Promise.allSettled(batch.map((action) => this.runAction(action, seen)));
          for (const [i, r] of results.entries()) {
            const action = batch[i] as Action;
            if (r.status === "fulfilled")
              rt.lastAction = { kind: action.kind, reason: action.reason, at: this.deps.clock.now(), ok: true };
          }
          const failed = results.findIndex((r) => r.status === "rejected");
          if (failed >= 0) {
            current = batch[failed];
            throw (results[failed] as PromiseRejectedResult).reason;
          }
          const gone = new Set(batch.map(goneWith));
          seen = { ...seen, containers: seen.containers?.filter((c) => !gone.has(c.id)) };
          continue;
        }
        const action = batch[0] as Action;
        current = action;
        try {
          await this.runAction(action, seen);
        } catch (err) {
          if (action.kind === "start") {
            const id = action.container.id;
            this.startFailures.set(id, (this.startFailures.get(id) ?? 0) + 1);
          }
          throw err;
        }
        if (action.kind === "start") this.startFailures.delete(action.container.id);
        // A container this spec's own actions removed is no longer among those its next ones audit against.
        const gone = goneWith(action);
        if (gone !== null) seen = { ...seen, containers: seen.containers?.filter((c) => c.id !== gone) };
        rt.lastAction = { kind: action.kind, reason: action.reason, at: this.deps.clock.now(), ok: true };
      }
    })()
      .then(
        () => {
          rt.attempts = 0;
          rt.retryAt = null;
          rt.lastError = null;
          rt.lastErrorCode = null;
        },
        (err: unknown) => {
          this.failed(spec, rt, current, err);
        },
      )
      .finally(() => {
        rt.busy = false;
        this.inFlight.delete(spec);
        this.running.delete(task);
        this.settle(spec);
      });
    this.running.add(task);
  }

  /** A terminal failure waits for a change; any other backs off. */
  private failed(spec: string, rt: SpecRuntime, action: Action | undefined, err: unknown): void {
    const now = this.deps.clock.now();
    const message = err instanceof Error ? err.message : String(err);
    if (action) rt.lastAction = { kind: action.kind, reason: action.reason, at: now, ok: false };
    rt.lastError = message;
    const code = err instanceof BerthError ? err.code : undefined;
    rt.lastErrorCode = code ?? null;
    const fields = { spec, action: action?.kind, reason: action?.reason, code, err: message };
    if (err instanceof BerthError && !err.retriable) {
      rt.terminal = terminalOf(err);
      rt.retryAt = null;
      this.deps.log.warn(fields, "action failed; not retried until something changes");
      return;
    }
    rt.attempts++;
    const delay = backoffDelay(rt.attempts, this.deps.backoff);
    rt.retryAt = now + delay;
    this.deps.log.warn({ ...fields, attempt: rt.attempts, retryInMs: delay }, "action failed; retrying with backoff");
  }

  /** Waits for in-flight operations, at most `timeoutMs`; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    // The operations in flight finish; the batches after them (a rollout's next replicas) wait
    // for the next start, or the next leader, which plans them again from what it observes.
    this.draining = true;
    if (this.running.size === 0) return true;
    let cancel = (): void => undefined;
    const timedOut = new Promise<false>((resolve) => {
      const timer = this.deps.clock.at(this.deps.clock.now() + timeoutMs, () => {
        resolve(false);
      });
      cancel = () => {
        timer.cancel();
      };
    });
    const done = (async () => {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      return true as const;
    })();
    const finished = await Promise.race([done, timedOut]);
    cancel();
    return finished;
  }
}
