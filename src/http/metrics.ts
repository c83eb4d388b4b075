/**
 * Prometheus metrics (prom-client, a registry of berth's own). Counters and histograms are fed
 * by the loop's hooks as things happen; gauges are read from the last pass when scraped. Label
 * values are identifiers (`hash_changed`, `not_found`, `volume_create`), never prose; the process
 * and Node.js metrics keep their standard names (`process_cpu_seconds_total`), so that dashboards
 * made for any Node service work.
 */
import { RESOURCES } from "../core/capacity.js";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { CONTAINER_STATES } from "../core/observed.js";
import type { Action } from "../core/plan/plan.js";
import { reasonCode } from "../core/plan/reasons.js";
import { type Phase, PHASES } from "../core/status.js";
import type { SwarmAction } from "../core/swarm-plan.js";
import type { PassResult } from "../loop/reconciler.js";
import type { SwarmPassResult } from "../loop/swarm-reconciler.js";

export interface MetricsSources {
  /** berth's version, for berth_build_info. */
  readonly version: string;
  /** Operations waiting for a concurrency slot, and holding one. */
  queue?(): { readonly queued: number; readonly inFlight: number };
  /** Under --ha: the role, term and transitions (loop/leadership.ts). Absent: always the leader. */
  leadership?(): { readonly role: string; readonly term: number | null; readonly transitions: number };
  /** The Git sources' names: their failure counters exist from the start, at 0. */
  readonly gitSources?: readonly string[];
  /**
   * swarm (`berth run --target swarm`): the series of services (berth_managed_services,
   * berth_service_replicas) instead of the containers', the capacity's and the queue's.
   */
  readonly target?: "engine" | "swarm";
}

/** What the gauges read when scraped, from the last successful pass of either target. */
interface LastPass {
  readonly phases: readonly Phase[];
  readonly specErrors: number;
  readonly engine: PassResult | null;
  readonly swarm: SwarmPassResult | null;
}

/** The counts of a spec's replicas in its status (core/status.ts), each a state of berth_spec_replicas. */
const REPLICA_COUNTS = ["desired", "updated", "ready", "available"] as const;

/** "volume-create" → "volume_create", "image-missing" → "image_missing". */
function identifier(value: string): string {
  return value.replace(/[^A-Za-z0-9_]/g, "_");
}

export class Metrics {
  readonly registry = new Registry();
  private readonly passes: Counter<"result">;
  private readonly passSeconds: Histogram;
  private readonly actions: Counter<"kind" | "reason" | "outcome">;
  private readonly dockerCalls: Counter<"operation" | "outcome">;
  private readonly dockerSeconds: Histogram<"operation">;
  private readonly reaped: Counter<"by">;
  private readonly reconnects: Counter;
  private readonly sourceFetched: Gauge<"source">;
  private readonly sourceFailures: Counter<"source">;
  /** The last successful pass, which the gauges read when scraped. */
  private lastPass: LastPass | null = null;

  constructor(sources: MetricsSources) {
    const lastPass = (): LastPass | null => this.lastPass;
    const last = (): PassResult | null => this.lastPass?.engine ?? null;
    const registers = [this.registry];
    // Each target's own series; the rest are common, with the same names under both.
    const swarm = sources.target === "swarm";
    const engineOnly = swarm ? [] : registers;
    const swarmOnly = swarm ? registers : [];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "berth_build_info",
      help: "Always 1; its version label is the running berth's version.",
      labelNames: ["version"],
      registers,
    }).set({ version: sources.version }, 1);
    const leadership = sources.leadership?.bind(sources);
    new Gauge({
      name: "berth_leader",
      help: "1 while this berth leads (makes Docker writes), 0 while it is a standby (--ha); always 1 without --ha.",
      registers,
      collect() {
        this.set(leadership ? (leadership().role === "leader" ? 1 : 0) : 1);
      },
    });
    new Gauge({
      name: "berth_leader_term",
      help: "The fencing number of this berth's term while it leads under --ha, else 0.",
      registers,
      collect() {
        this.set(leadership?.().term ?? 0);
      },
    });
    new Counter({
      name: "berth_leader_transitions_total",
      help: "Times this berth became leader or stepped down (--ha).",
      registers,
      collect() {
        this.reset();
        this.inc(leadership?.().transitions ?? 0);
      },
    });
    this.passes = new Counter({
      name: "berth_reconciles_total",
      help: "Reconcile passes, by result (ok or error).",
      labelNames: ["result"],
      registers,
    });
    this.passSeconds = new Histogram({
      name: "berth_reconcile_duration_seconds",
      help: "Duration of a reconcile pass: load, observe, plan, dispatch (not the operations themselves).",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.actions = new Counter({
      name: "berth_actions_total",
      help: "Executed actions, by kind, reason and outcome (ok or error).",
      labelNames: ["kind", "reason", "outcome"],
      registers,
    });
    this.dockerCalls = new Counter({
      name: "berth_docker_calls_total",
      help: "Docker Engine API calls, by operation and outcome (ok or an error kind).",
      labelNames: ["operation", "outcome"],
      registers,
    });
    this.dockerSeconds = new Histogram({
      name: "berth_docker_call_duration_seconds",
      help: "Duration of Docker Engine API calls, by operation.",
      labelNames: ["operation"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.reaped = new Counter({
      name: "berth_reaped_containers_total",
      help: "Containers removed because they expired: berth's own (by=spec) and other tools' (by=label).",
      labelNames: ["by"],
      registers: engineOnly,
    });
    this.reconnects = new Counter({
      name: "berth_events_reconnects_total",
      help: "Times the Docker events stream (under --target swarm: the manager's service events) was re-opened after it ended or failed.",
      registers,
    });
    this.sourceFetched = new Gauge({
      name: "berth_source_last_fetch_timestamp_seconds",
      help: "When each Git source was last fetched successfully (seconds since the epoch).",
      labelNames: ["source"],
      registers,
    });
    this.sourceFailures = new Counter({
      name: "berth_source_fetch_failures_total",
      help: "Failed fetches of each Git source (unreachable remote, bad credentials, a ref that is gone).",
      labelNames: ["source"],
      registers,
    });
    for (const source of sources.gitSources ?? []) this.sourceFailures.inc({ source }, 0);
    // The series alerts watch exist from the start, at 0: rate() of an absent series is nothing.
    for (const result of ["ok", "error"]) this.passes.inc({ result }, 0);
    for (const by of ["spec", "label"]) this.reaped.inc({ by }, 0);
    new Gauge({
      name: "berth_managed_containers",
      help: "Containers carrying this controller's labels, by state, as of the last pass.",
      labelNames: ["state"],
      registers: engineOnly,
      collect() {
        // Every state's series exists, at 0 when no container is in it, so that alerts see it.
        for (const state of CONTAINER_STATES) this.set({ state }, 0);
        for (const c of last()?.observed.containers ?? []) this.inc({ state: c.state });
      },
    });
    new Gauge({
      name: "berth_container_restarts",
      help: "Restarts by the engine's restart policy of each spec's containers, summed over those berth has inspected (after a die), as of the last pass; specs with none are absent.",
      labelNames: ["spec"],
      registers: engineOnly,
      collect() {
        this.reset();
        for (const s of last()?.report.specs ?? []) {
          const restarts = s.containers.reduce((sum, c) => sum + (c.restarts ?? 0), 0);
          if (restarts > 0) this.set({ spec: s.name }, restarts);
        }
      },
    });
    new Gauge({
      name: "berth_spec_replicas",
      help: "Each spec's replicas as its status counts them, as of the last pass: desired, updated (of its version), ready (of its version and up), available (up, of any version); kube-state-metrics' kube_deployment_status_replicas_*.",
      labelNames: ["spec", "state"],
      registers: engineOnly,
      collect() {
        this.reset();
        for (const s of last()?.report.specs ?? [])
          for (const state of REPLICA_COUNTS) this.set({ spec: s.name, state }, s.replicas[state]);
      },
    });
    new Gauge({
      name: "berth_specs",
      help: "Specs by phase, as of the last pass; every phase is present, at 0 when no spec is in it.",
      labelNames: ["phase"],
      registers,
      collect() {
        const phases = lastPass()?.phases ?? [];
        for (const phase of PHASES) this.set({ phase }, phases.filter((p) => p === phase).length);
      },
    });
    new Gauge({
      name: "berth_spec_errors",
      help: "Problems in spec files (each invalid file, document or field), as of the last load.",
      registers,
      collect() {
        this.set(lastPass()?.specErrors ?? 0);
      },
    });
    // With --capacity: per resource (cpus in CPUs, memory in bytes, containers); absent without one,
    // and no total for a resource that is not limited.
    new Gauge({
      name: "berth_capacity_total",
      help: "What berth's containers may hold in all (--capacity), by resource: cpus, memory (bytes), containers.",
      labelNames: ["resource"],
      registers: engineOnly,
      collect() {
        this.reset();
        const node = last()?.report.node;
        for (const resource of RESOURCES) {
          const total = node?.capacity[resource];
          if (total !== undefined && total !== null) this.set({ resource }, total);
        }
      },
    });
    new Gauge({
      name: "berth_capacity_requested",
      help: "What berth's containers hold of the capacity, with the creates the last pass admitted, by resource.",
      labelNames: ["resource"],
      registers: engineOnly,
      collect() {
        this.reset();
        const node = last()?.report.node;
        if (node) for (const resource of RESOURCES) this.set({ resource }, node.requested[resource]);
      },
    });
    new Gauge({
      name: "berth_capacity_waiting_specs",
      help: "Specs with containers waiting for room on the host (Unschedulable), as of the last pass (--capacity).",
      registers: engineOnly,
      collect() {
        this.reset();
        const node = last()?.report.node;
        if (node) this.set(node.pending.length);
      },
    });
    new Gauge({
      name: "berth_managed_services",
      help: "Swarm services carrying this controller's labels, as of the last pass (--target swarm).",
      registers: swarmOnly,
      collect() {
        const result = lastPass()?.swarm;
        this.set(result?.status.filter((s) => s.serviceId !== null).length ?? 0);
      },
    });
    new Gauge({
      name: "berth_service_replicas",
      help: "Tasks of berth's services, desired, running and updated (of the service's current spec), summed over the specs, as of the last pass (--target swarm).",
      labelNames: ["state"],
      registers: swarmOnly,
      collect() {
        const status = lastPass()?.swarm?.status ?? [];
        this.set(
          { state: "desired" },
          status.reduce((n, s) => n + s.desired, 0),
        );
        this.set(
          { state: "running" },
          status.reduce((n, s) => n + s.running, 0),
        );
        this.set(
          { state: "updated" },
          status.reduce((n, s) => n + s.updated, 0),
        );
      },
    });
    new Gauge({
      name: "berth_queue_depth",
      help: "Container operations waiting for a concurrency slot.",
      registers: engineOnly,
      collect() {
        this.set(sources.queue?.().queued ?? 0);
      },
    });
    new Gauge({
      name: "berth_operations_in_flight",
      help: "Container operations running now.",
      registers: engineOnly,
      collect() {
        this.set(sources.queue?.().inFlight ?? 0);
      },
    });
  }

  pass(result: PassResult): void {
    const phases = result.report.specs.map((s) => s.phase);
    this.lastPass = { phases, specErrors: result.snapshot.issues.length, engine: result, swarm: null };
    this.passes.inc({ result: "ok" });
    this.passSeconds.observe(result.durationMs / 1000);
  }

  /** A pass under --target swarm. */
  swarmPass(result: SwarmPassResult): void {
    const phases = result.status.map((s) => s.phase);
    this.lastPass = { phases, specErrors: result.snapshot.issues.length, engine: null, swarm: result };
    this.passes.inc({ result: "ok" });
    this.passSeconds.observe(result.durationMs / 1000);
  }

  passFailed(): void {
    this.passes.inc({ result: "error" });
  }

  action(action: Action, error: Error | null): void {
    this.actions.inc({
      kind: action.kind,
      reason: reasonCode(action.reason),
      outcome: error === null ? "ok" : "error",
    });
    if (error === null && action.kind === "remove" && action.reason === "expired") this.reaped.inc({ by: "spec" });
  }

  /** A service operation under --target swarm; its reason as an identifier ("replicas changed" → replicas_changed). */
  swarmAction(action: SwarmAction, error: Error | null): void {
    this.actions.inc({
      kind: identifier(action.kind),
      reason: identifier(action.reason),
      outcome: error === null ? "ok" : "error",
    });
  }

  dockerCall(operation: string, outcome: string, durationMs: number): void {
    const op = identifier(operation);
    this.dockerCalls.inc({ operation: op, outcome: identifier(outcome) });
    this.dockerSeconds.observe({ operation: op }, durationMs / 1000);
  }

  reapedByLabel(count: number): void {
    if (count > 0) this.reaped.inc({ by: "label" }, count);
  }

  /** A Git source's fetch, at `atMs`: failed when `error` is not null. */
  gitFetch(source: string, error: string | null, atMs: number): void {
    if (error === null) this.sourceFetched.set({ source }, atMs / 1000);
    else this.sourceFailures.inc({ source });
  }

  eventsReconnected(): void {
    this.reconnects.inc();
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
