/** What the composition root (app.ts) is given, and what it hands back. */
import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Action } from "./core/plan/plan.js";
import type { ImageActivity } from "./core/progress.js";
import type { SecretSources } from "./core/secrets.js";
import type { CallOutcome } from "./docker/adapter.js";
import type { WriteFence } from "./docker/fenced.js";
import type { ContainerIO, DockerPort } from "./docker/port.js";
import type { Metrics } from "./http/metrics.js";
import type { buildServer, HttpServer } from "./http/server.js";
import type { Controller } from "./loop/controller.js";
import type { Dispatcher } from "./loop/dispatcher.js";
import type { Executor } from "./loop/executor.js";
import type { Leadership } from "./loop/leadership.js";
import type { GitSources } from "./loop/git-sources.js";
import type { Pools } from "./ops/pools.js";
import type { GitCredentials } from "./host/git.js";
import type { Reaper } from "./loop/reaper.js";
import type { PassResult, Reconciler } from "./loop/reconciler.js";
import type { EventLog } from "./ops/event-log.js";
import { type BackoffPolicy, OPERATION_BACKOFF } from "./util/backoff.js";
import type { Clock } from "./util/clock.js";
import type { Semaphore } from "./util/semaphore.js";
import type { VerdictStore } from "./manifest/verdicts.js";

/** What the surfaces and tests hear of the loop's work. */
export interface AppHooks {
  /** Every Docker API call, with its outcome (call counting). */
  readonly onDockerCall?: (operation: string, outcome: CallOutcome, durationMs: number) => void;
  /** Every executed action, with its outcome (apply's progress). */
  readonly onAction?: (action: Action, error: Error | null, durationMs: number) => void;
  /** Every image pull's start, progress and end, per spec (apply's progress view). */
  readonly onImage?: (activity: ImageActivity) => void;
  readonly onPass?: (result: PassResult) => void;
  /** A pass that failed (apply's reason when none succeeds). */
  readonly onPassFailed?: (err: Error) => void;
}

/** Timings the tests shorten; the product's defaults otherwise. */
export interface Tuning {
  readonly backoff: BackoffPolicy;
  readonly healthPollMs: number;
  readonly coalesceMs: number;
  readonly busyCoalesceMs: number;
  readonly debounceMs: number;
}

export const DEFAULT_TUNING: Tuning = {
  backoff: OPERATION_BACKOFF,
  healthPollMs: 200,
  coalesceMs: 20,
  busyCoalesceMs: 1000,
  debounceMs: 50,
};

export interface InspectorDeps {
  readonly log: Logger;
  /** The engine (default: the real one at DOCKER_HOST); tests hand in the in-memory fake. */
  readonly docker?: { readonly port: DockerPort; readonly io?: ContainerIO };
  readonly clock?: Clock;
  readonly secrets?: SecretSources;
  /** False for a look that only reaps: no spec's secrets are read (loop/desired.ts). */
  readonly readSecrets?: boolean;
  readonly hooks?: AppHooks;
  readonly tuning?: Partial<Tuning>;
  /** Verdicts on spec files kept between short commands (manifest/verdicts.ts); none by default. */
  readonly verdicts?: VerdictStore;
  /** Every Docker write behind this fence (docker/fenced.ts): `reap --ha`. */
  readonly fence?: WriteFence;
}

export interface AppDeps extends InspectorDeps {
  /** berth's version (the metrics' berth_build_info). */
  readonly version?: string;
  /** Watch the spec directories (berth run); apply does not. */
  readonly watch?: boolean;
  /**
   * Build the HTTP server (berth run, when config.listen is set). Its modules are handed in, not
   * imported here, so that the other commands never load fastify and prom-client.
   */
  readonly http?: { readonly buildServer: typeof buildServer; readonly Metrics: typeof Metrics };
  /**
   * Where the Git sources keep their caches and checkouts (<state dir>/git/<id>), their
   * credentials (read from their files) and the webhook's secret; absent: config.git is ignored.
   */
  readonly git?: {
    readonly root: string;
    readonly credentials: GitCredentials;
    readonly webhookSecret: string | null;
  };
  /** The periodic resync's scheduler (default a timer, or node-cron for a cron expression: config.resync). */
  readonly scheduleResync?: (tick: () => void) => { stop(): void | Promise<void> };
  /**
   * Under --ha (docs/reliability.md): the election. Every Docker write passes its fence; while a
   * standby, the passes plan without acting and the API refuses writes. Absent: always the leader.
   */
  readonly leadership?: Leadership;
}

/** What a one-shot look at the host needs: the specs, the engine, the planner, and what acts on one action. */
export interface Inspector {
  readonly config: Config;
  readonly docker: DockerPort;
  readonly reconciler: Reconciler;
  readonly executor: Executor;
  readonly reaper: Reaper;
}

export interface App extends Inspector {
  readonly dispatcher: Dispatcher;
  readonly controller: Controller;
  readonly slots: Semaphore;
  /** Built, not listening; null unless asked for. */
  readonly server: HttpServer | null;
  /** The recent reconcile events (GET /v1/events). */
  readonly events: EventLog;
  /** Prometheus metrics; null without the HTTP server. */
  readonly metrics: Metrics | null;
  /** The Git sources (started by the run command before the controller); null: none. */
  readonly gitSources: GitSources | null;
  /** Claims on warm pools (what the HTTP API serves); null without --runtime-specs. */
  readonly pools: Pools | null;
}
