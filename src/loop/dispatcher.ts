/**
 * The work queue's guarantees, per spec: never two operations for one spec at once; a failed
 * spec backs off (exponential, jittered, 1 s → 5 min) and a new version of it is never blocked
 * behind the retries of an old one; a terminal failure (conflict, image missing under Never,
 * Docker refusing the spec) is not retried until something changes. Concurrency across specs is
 * bounded by the executor's slots.
 */
import type { Logger } from "pino";
import type { Clock } from "../util/clock.js";
import { normalizeImageRef } from "../core/image-ref.js";
import type { ObservedState } from "../core/observed.js";
import type { Action, ActionKind, Plan } from "../core/plan/plan.js";
import type { SpecRecord } from "./desired.js";
import { ActionError, type Executor, type Unblock } from "./executor.js";

export interface SpecRuntime {
  busy: boolean;
  /** Failures in a row of the current generation. */
  attempts: number;
  /** When a backed-off spec may act again (epoch ms). */
  retryAt: number | null;
  /** The generation (spec content) the failure state belongs to. */
  generation: string;
  terminal: {
    readonly message: string;
    readonly phase: "Failed" | "Conflict";
    readonly unblock: Unblock | null;
  } | null;
  lastError: string | null;
  lastAction: { readonly kind: ActionKind; readonly reason: string; readonly at: number; readonly ok: boolean } | null;
}

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** [0, 1): the jitter source (Math.random, or a seeded one in tests). */
  readonly random: () => number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 5 * 60_000, random: Math.random };

/** The delay before retry number `attempt` (1-based): base·2^(attempt-1), ±25 % jitter, capped. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const exact = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.min(policy.maxMs, Math.round(exact * (0.75 + 0.5 * policy.random())));
}

/** What identifies a version of a spec: any change resets its backoff and terminal failure. */
export function generationOf(record: SpecRecord | undefined): string {
  if (!record?.spec) return "none";
  const s = record.spec;
  return `${record.hash ?? "-"}|${s.replicas}|${s.suspended}|${s.expiresAt ?? "never"}|${record.error ?? ""}`;
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
}

export interface DispatcherDeps {
  readonly executor: Pick<Executor, "run">;
  readonly clock: Clock;
  readonly log: Logger;
  readonly backoff: BackoffPolicy;
  /** Called when a spec's actions are done (successfully or not): time to observe again. */
  readonly onSettled: (spec: string) => void;
}

export class Dispatcher {
  private readonly runtime = new Map<string, SpecRuntime>();
  private readonly running = new Set<Promise<void>>();
  /** Counts settles; settledAt says when each spec last settled. */
  private settles = 0;
  private readonly settledAt = new Map<string, number>();
  /** Containers whose start failed, and how many times in a row. */
  private readonly startFailures = new Map<string, number>();

  constructor(private readonly deps: DispatcherDeps) {}

  /** Take it before observing; hand it to dispatch() with the plan made from that observation. */
  epoch(): number {
    return this.settles;
  }

  /** Containers that failed to start this many times in a row or more. */
  unstartable(times: number): Set<string> {
    return new Set([...this.startFailures].filter(([, n]) => n >= times).map(([id]) => id));
  }

  runtimeOf(spec: string): Readonly<SpecRuntime> | undefined {
    return this.runtime.get(spec);
  }

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

  /** The earliest retry time of a backed-off spec. */
  nextRetryAt(): number | null {
    let next: number | null = null;
    for (const rt of this.runtime.values()) {
      if (rt.retryAt !== null && !rt.busy && (next === null || rt.retryAt < next)) next = rt.retryAt;
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
    const now = this.deps.clock.now();
    const bySpec = new Map<string, Action[]>();
    for (const action of input.plan.actions) {
      const list = bySpec.get(action.spec);
      if (list) list.push(action);
      else bySpec.set(action.spec, [action]);
    }
    const started: string[] = [];
    const waiting: Waiting[] = [];

    for (const [spec, actions] of bySpec) {
      const record = input.records.get(spec);
      const generation = generationOf(record);
      let rt = this.runtime.get(spec);
      if (!rt) {
        rt = { busy: false, attempts: 0, retryAt: null, generation, terminal: null, lastError: null, lastAction: null };
        this.runtime.set(spec, rt);
      }
      if (rt.busy || (this.settledAt.get(spec) ?? -1) >= input.observedAt) {
        // Busy, or finished since the observation this plan comes from: plan it again first.
        waiting.push({ spec, why: "busy", until: null });
        continue;
      }
      if (rt.generation !== generation) {
        // A new version of the spec: forget the old one's failures.
        rt.generation = generation;
        rt.attempts = 0;
        rt.retryAt = null;
        rt.terminal = null;
      }
      if (rt.terminal) {
        if (!this.unblocked(rt.terminal.unblock, input.observed)) {
          waiting.push({ spec, why: "terminal", until: null });
          continue;
        }
        rt.terminal = null;
      }
      if (rt.retryAt !== null && now < rt.retryAt) {
        waiting.push({ spec, why: "backoff", until: rt.retryAt });
        continue;
      }
      const imagePresent = record?.spec ? input.observed.imageIds.has(normalizeImageRef(record.spec.image)) : false;
      this.start(spec, rt, actions, record, imagePresent);
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

  private start(
    spec: string,
    rt: SpecRuntime,
    actions: readonly Action[],
    record: SpecRecord | undefined,
    imagePresent: boolean,
  ): void {
    rt.busy = true;
    let current: Action | undefined;
    const task = (async () => {
      for (const action of actions) {
        current = action;
        try {
          await this.deps.executor.run(action, { record, imagePresent });
        } catch (err) {
          if (action.kind === "start") {
            const id = action.container.id;
            this.startFailures.set(id, (this.startFailures.get(id) ?? 0) + 1);
          }
          throw err;
        }
        if (action.kind === "start") this.startFailures.delete(action.container.id);
        rt.lastAction = { kind: action.kind, reason: action.reason, at: this.deps.clock.now(), ok: true };
      }
    })()
      .then(
        () => {
          rt.attempts = 0;
          rt.retryAt = null;
          rt.lastError = null;
        },
        (err: unknown) => {
          const now = this.deps.clock.now();
          const message = err instanceof Error ? err.message : String(err);
          if (current) rt.lastAction = { kind: current.kind, reason: current.reason, at: now, ok: false };
          rt.lastError = message;
          if (err instanceof ActionError && err.terminal) {
            rt.terminal = { message, phase: err.phase, unblock: err.unblock };
            rt.retryAt = null;
            this.deps.log.warn(
              { spec, action: current?.kind, reason: current?.reason, err: message },
              "action failed; not retried until something changes",
            );
          } else {
            rt.attempts++;
            const delay = backoffDelay(rt.attempts, this.deps.backoff);
            rt.retryAt = now + delay;
            this.deps.log.warn(
              {
                spec,
                action: current?.kind,
                reason: current?.reason,
                err: message,
                attempt: rt.attempts,
                retryInMs: delay,
              },
              "action failed; retrying with backoff",
            );
          }
        },
      )
      .finally(() => {
        rt.busy = false;
        this.running.delete(task);
        this.settledAt.set(spec, this.settles++);
        this.deps.onSettled(spec);
      });
    this.running.add(task);
  }

  /** Waits for in-flight operations, at most `timeoutMs`; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
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
