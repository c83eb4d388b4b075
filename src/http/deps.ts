/** What the HTTP edge is given: the use cases it serves, and how it is reached. */
import type { Logger } from "pino";
import type { ArtieCompatConfig, SpawnerCompatConfig } from "../config.js";
import type { Profile } from "../core/policy/policy.js";
import type { RolloutState } from "../core/rollout-status.js";
import type { SpecStatus, StatusReport } from "../core/status.js";
import type { SwarmSpecStatus } from "../core/swarm-status.js";
import type { SwarmStatusView } from "../loop/swarm-passes.js";
import type { Readiness } from "../loop/controller.js";
import type { LeadershipStatus } from "../loop/leadership.js";
import type { GitSourceStatus } from "../loop/git-sources.js";
import type { ManagedContainers } from "../ops/containers.js";
import type { EventLog } from "../ops/event-log.js";
import type { Pools } from "../ops/pools.js";
import type { RestartAnswer } from "../ops/restart.js";
import type { RetryAnswer } from "../ops/rollout-retry.js";
import type { RuntimeSpecs } from "../ops/runtime-specs.js";
import type { OriginalAgents } from "../ops/spawner-agents.js";
import type { Metrics } from "./metrics.js";

/** The status as of the last reconcile pass. */
export interface StatusSnapshot {
  readonly report: StatusReport;
  /** When the pass observed the host (ms since the epoch). */
  readonly at: number;
}

/** Under --target swarm (docs/swarm.md): the services and networks as of the last pass. */
export type SwarmStatusSnapshot = SwarmStatusView;

/** What both targets' servers are given: the probes, metrics, events, and how the API is reached. */
interface CommonServerDeps {
  readonly log: Logger;
  /** This controller's --id (status answers carry it, so the CLI knows whose status it reads). */
  readonly controllerId: string;
  readiness(): Readiness;
  /**
   * Under --ha: this process's role (docs/reliability.md). A standby serves reads and answers 503
   * to every write; absent: this berth always leads.
   */
  leadership?(): LeadershipStatus;
  /** The bearer token of the write endpoints; null turns them off. */
  readonly apiToken: string | null;
  /** The listen address is loopback only (the compat API may then run without a token). */
  readonly loopback: boolean;
  readonly events: EventLog;
  /** null: no /metrics. */
  readonly metrics: Metrics | null;
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Host names besides loopback's that requests may name in their Host header (--allow-host):
   * the names other containers call berth by. None by default.
   */
  readonly allowHosts?: readonly string[];
  /** Browser origins whose requests are served (--allow-origin). None by default. */
  readonly allowOrigins?: readonly string[];
  /** Timeouts and the connection cap; DEFAULT_HTTP_LIMITS where not given. */
  readonly limits?: Partial<HttpLimits>;
  /** The Git sources (GET /v1/sources, the webhook); null or absent: none. */
  readonly gitSources?: { list(): GitSourceStatus[]; syncAll(): Promise<void> } | null;
  /** The webhook's secret (--git-webhook-secret-file); null or absent: POST /v1/hooks/git answers 404. */
  readonly gitWebhookSecret?: string | null;
  /** Writes in the runtime spec directory; null: there is none (the write endpoints answer 403). */
  readonly specs: RuntimeSpecs | null;
}

/** The engine target's server (the default): containers on this host. */
export interface EngineServerDeps extends CommonServerDeps {
  readonly target?: "engine";
  /** The status of the last pass; null before the first. */
  status(): StatusSnapshot | null;
  /** Claims on warm pools (docs/pools.md); null or absent: no runtime spec directory to record them in. */
  readonly pools?: Pools | null;
  /** A rolling restart of a spec's containers (ops/restart.ts, `berth restart`); absent: 501. */
  readonly restart?: (name: string) => Promise<RestartAnswer>;
  /**
   * A spec's rollout verdict (ops/rollout-verdict.ts, GET /v1/specs/{name}/rollout); stableForMs:
   * also how long its version's replicas have run, inspected now. Absent: 501.
   */
  readonly rollout?: (spec: SpecStatus, stableForMs: number | null) => Promise<RolloutState>;
  /** Releases a rollout held by a rejected version (ops/rollout-retry.ts, `berth rollout retry`); absent: 501. */
  readonly retry?: (name: string) => Promise<RetryAnswer>;
  /** berth's own containers: find, exec, logs. */
  readonly containers: ManagedContainers;
  /** null: no docker-spawner compatibility routes. */
  readonly compat: SpawnerCompatConfig | null;
  /** The agents docker-spawner itself started (compat routes only); null or absent: none reachable. */
  readonly originalAgents?: OriginalAgents | null;
  /** null or absent: no Artie host-manager compatibility routes. */
  readonly artie?: ArtieCompatConfig | null;
  /** The admission policy's profile: only under `privileged` may /spawn ask for uid or gid 0. Default baseline. */
  readonly policyProfile?: Profile;
}

/**
 * `berth run --target swarm`'s server: the same probes, metrics, events, spec writes and rules; the
 * services' status instead of the containers'; the routes that reach this host's containers answer 501.
 */
export interface SwarmServerDeps extends CommonServerDeps {
  readonly target: "swarm";
  /** The status of the last pass; null before the first. */
  swarmStatus(): SwarmStatusSnapshot | null;
  /**
   * A spec's rollout verdict (ops/rollout-verdict.ts, GET /v1/specs/{name}/rollout); stableForMs:
   * its tasks listed now and judged by how long they have run. Absent: 501.
   */
  readonly rollout?: (spec: SwarmSpecStatus, stableForMs: number | null) => Promise<RolloutState>;
}

export type ServerDeps = EngineServerDeps | SwarmServerDeps;

/** How long a client may take, and how many may be connected at once. */
export interface HttpLimits {
  /** A request's headers and body must have arrived within this (node's requestTimeout). */
  readonly requestTimeoutMs: number;
  /** Its headers within this (node's headersTimeout; at most requestTimeoutMs). Also bounds a silent new connection. */
  readonly headersTimeoutMs: number;
  /**
   * A connection with no traffic either way for this long is closed (fastify's connectionTimeout),
   * except while a route that waits for the engine answers (exec, logs, spawn, stop).
   */
  readonly idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Connections at once (node's server.maxConnections); more are closed as they arrive. */
  readonly maxConnections: number;
}
