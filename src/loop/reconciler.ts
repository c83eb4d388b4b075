/**
 * One reconcile pass, in named steps, each once (docs/design.md, "One pass"):
 *   desire    (re)load the spec files when asked, and build the desired state;
 *   observe   one list of berth's containers, one of images (at the same time as desire);
 *   names     the second observation: who holds the names the plan may take, when any is free;
 *   plan      pure;
 *   dispatch  hand the actions to the work queue (only when there is one: `berth run`, `apply`);
 *   volumes   without a work queue (`plan`, `status`): what the admission policy says of the
 *             named volumes a create would mount, as they exist now (with one, the audit says it);
 *   status    every spec's phase, derived.
 * Level-triggered: a pass never depends on what triggered it.
 */
import type { NormalizedSpec } from "../core/spec.js";
import type { Logger } from "pino";
import type { CapacityOptions } from "../core/capacity.js";
import { forgottenDeletions } from "../core/deleted-marks.js";
import { formatIssue } from "../core/errors.js";
import { isNetworkMode } from "../core/create-request.js";
import { isOwnInstanceVolume } from "../core/instance-volumes.js";
import type { ObservedState } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type { PortRange } from "../core/policy/types.js";
import { DEFAULT_HOST_PORT_RANGE } from "../core/host-ports.js";
import type { ClaimRecord } from "../core/pool.js";
import { namesToClaim } from "../core/plan/claims.js";
import { unkeptImages } from "../core/plan/images.js";
import { runRecords } from "../core/runs.js";
import { plan, type Plan } from "../core/plan/plan.js";
import type { Action } from "../core/plan/types.js";
import { statusReport, type StatusReport } from "../core/status.js";
import type { DockerPort } from "../docker/port.js";
import type { LoadResult } from "../manifest/loader.js";
import type { Clock } from "../util/clock.js";
import type { DesiredSnapshot, DesiredStateBuilder } from "./desired.js";
import { type Dispatcher, EMPTY_QUEUE, type QueueView, type Waiting } from "./dispatcher.js";
import type { HostPortHints } from "./host-ports.js";
import { type ForeignView, foreignView, OBSERVE_ALL, OBSERVE_FIRST, type ObserveWhat, observe } from "./observer.js";
import { ReportOnce } from "./report-once.js";
import { RunInspector } from "./runs.js";

/** Failed starts in a row after which a container is replaced rather than started again. */
export const UNSTARTABLE_AFTER = 3;

export interface ReconcilerOptions {
  readonly owner: Ownership;
  readonly forcePrune: boolean;
  readonly pruneMaxShare: number;
  /** Where `hostPort: auto` takes ports: --host-port-range within the policy's (absent: the default range). */
  readonly hostPortRanges?: readonly PortRange[];
}

export interface PassResult {
  readonly snapshot: DesiredSnapshot;
  readonly observed: ObservedState;
  readonly plan: Plan;
  /** Specs whose actions this pass started. */
  readonly started: readonly string[];
  /** Specs with actions that wait, and why. */
  readonly waiting: readonly Waiting[];
  /** Specs with operations in flight when the pass ended. */
  readonly inFlight: number;
  readonly report: StatusReport;
  /** When the host was observed (ms since the epoch). */
  readonly at: number;
  readonly durationMs: number;
}

export interface ReconcilerDeps {
  readonly loader: { load(): Promise<LoadResult> };
  readonly builder: DesiredStateBuilder;
  readonly docker: DockerPort;
  readonly clock: Clock;
  readonly log: Logger;
  /** The work queue that acts on plans; without one (one-shot commands) a pass only looks. */
  readonly dispatcher?: Dispatcher;
  /** The admission policy's verdict on a spec's named volumes as they are (loop/admission.ts). */
  readonly admission?: { volumeVerdict(spec: string, names: readonly string[]): Promise<readonly string[]> };
  /** Host ports no observation shows: creates in flight, listeners outside Docker (loop/host-ports.ts). */
  readonly hostPorts?: HostPortHints;
  /** The host capacity creates are admitted against (loop/capacity.ts); absent: none. */
  readonly capacity?: { get(): Promise<CapacityOptions> };
  /** The claims on pool members (host/claim-files.ts), read every pass; absent: none. */
  readonly claims?: { list(): Promise<{ readonly records: readonly ClaimRecord[] }> };
  /** Claims waiting for a cold member of a pool (loop/pool-demand.ts); absent: none. */
  readonly poolDemand?: { snapshot(): ReadonlyMap<string, number> };
  /** The digests the registry serves for followed tags (loop/image-check.ts); absent: none asked. */
  readonly imageCheck?: {
    digests(specs: readonly NormalizedSpec[], now: number): Promise<ReadonlyMap<string, string>>;
  };
  /** What inspects tell of runs and `die` events of exits; absent: the reconciler's own. */
  readonly runs?: RunInspector;
}

/** True when the plan gives a container a `hostPort: auto` port. */
function allocates(p: Plan): boolean {
  return p.actions.some((a) => (a.kind === "create" || a.kind === "replace") && a.hostPorts !== undefined);
}

/**
 * What is worth observing besides containers and images. Networks: while the desired state
 * declares objects or names a network (the undeclared-network check), or berth's networks were
 * just seen (to prune them). Volumes: while it declares objects, has per-instance volumes or runs
 * with a ttlAfterFinished (their records) or an activeDeadline (their deadline marks), or such a volume of berth's was just seen (to reclaim or
 * forget it; the hash key's volume is not one: a record left by a spec that no longer has a TTL is seen at the first pass, and so on).
 */
function worthObserving(snapshot: DesiredSnapshot, observed: ObservedState, owner: Ownership): ObserveWhat {
  const declares = (snapshot.input.objects ?? []).length > 0;
  const desired = snapshot.input.desired;
  const ownObject = (o: { readonly labels: Readonly<Record<string, string>> }): boolean =>
    owner.owns(o) && o.labels[owner.keys.object] !== undefined;
  return {
    networks:
      declares ||
      desired.some(
        (d) => (!isNetworkMode(d.spec.network) && d.spec.network !== "auto") || d.spec.extraNetworks.length > 0,
      ) ||
      (observed.networks ?? []).some(ownObject)
        ? "all"
        : "none",
    volumes:
      declares ||
      desired.some(
        (d) =>
          d.spec.ttlAfterFinishedMs !== null ||
          d.spec.activeDeadlineMs !== null ||
          d.spec.mounts.some((m) => m.type === "volume" && m.perInstance),
      ) ||
      (observed.volumes ?? []).some(
        (v) =>
          owner.owns(v) &&
          [owner.keys.instanceVolume, owner.keys.finished, owner.keys.deadlineStop, owner.keys.object].some(
            (k) => v.labels[k] !== undefined,
          ),
      ),
  };
}

/** The observation with what the unfiltered list saw of containers berth does not own. */
function withForeign(observed: ObservedState, foreign: ForeignView): ObservedState {
  return {
    ...observed,
    foreignHostPorts: foreign.hostPorts,
    foreignImageIds: foreign.imageIds,
    ...(foreign.names.size > 0 ? { foreignNames: foreign.names } : {}),
  };
}

export class Reconciler {
  private snapshot: DesiredSnapshot | null = null;
  /** What the next pass observes besides containers and images (observer.ts). */
  private wanted: ObserveWhat = OBSERVE_FIRST;
  private readonly problems = new ReportOnce();
  /** Specs removed on purpose, until their containers are gone (PlanInput.deleted). */
  private readonly deleted = new Set<string>();
  private readonly queue: QueueView;
  private readonly runs: RunInspector;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly options: ReconcilerOptions,
  ) {
    this.queue = deps.dispatcher ?? EMPTY_QUEUE;
    this.runs = deps.runs ?? new RunInspector(deps.docker, options.owner);
  }

  /** A spec was removed on purpose (through the API): its containers go even while pruning is paused. */
  markDeleted(spec: string): boolean {
    if (this.deleted.has(spec)) return false;
    this.deleted.add(spec);
    return true;
  }

  /** The spec was written again: the ordinary prune guard applies to it once more. */
  unmarkDeleted(spec: string): void {
    this.deleted.delete(spec);
  }

  /**
   * The engine reported a change of this container (an event; `died`: its process exited, with
   * this code when the event told it): what was cached of it is stale.
   */
  containerChanged(containerId: string, died?: { readonly code: number | null }): void {
    this.runs.forget(containerId, died);
  }

  /** The events stream opened (again): events may have been missed, nothing cached is trusted. */
  eventsOpened(): void {
    this.runs.forgetAll();
  }

  /** The last loaded desired state, if any. */
  get desired(): DesiredSnapshot | null {
    return this.snapshot;
  }

  /** `closer`: specs whose every container is inspected (restarts, last exit: `berth get`). */
  async pass(options: { readonly reload: boolean; readonly closer?: ReadonlySet<string> }): Promise<PassResult> {
    const started = this.deps.clock.now();
    const observedAt = this.queue.epoch();
    // With the epoch too: a create in flight now and not in the observation below keeps its room
    // (core/plan/capacity.ts); one that ends meanwhile is there to count.
    const inFlight = new Map(this.queue.inFlightActions());
    // Asked with the epoch: a spec idle now has its new containers in the observation below.
    const busyPorts =
      this.deps.hostPorts?.busy((spec) => this.queue.progressOf(spec)?.busy === true) ?? new Map<number, string>();
    const looked = this.wanted;
    const [snapshot, first, capacity, claims] = await Promise.all([
      this.desire(options.reload),
      observe(this.deps.docker, this.options.owner, looked),
      this.deps.capacity?.get(),
      this.deps.claims?.list(),
    ]);
    this.wanted = worthObserving(snapshot, first, this.options.owner);
    // The specs now give a reason to look at what the last pass did not: look now.
    const missed =
      (this.wanted.networks === "all" && looked.networks !== "all") || (this.wanted.volumes && !looked.volumes);
    const listed = missed ? await observe(this.deps.docker, this.options.owner, OBSERVE_ALL) : first;
    // Followed tags (Always): the registry's digests, asked only where due (loop/image-check.ts).
    const registryDigests = await this.deps.imageCheck?.digests(
      snapshot.input.desired.map((d) => d.spec),
      this.deps.clock.now(),
    );
    const ours = registryDigests ? { ...listed, registryDigests } : listed;
    const now = this.deps.clock.now();
    const claimed = new Set((claims?.records ?? []).map((r) => r.containerId));
    let observed = await this.images(
      snapshot,
      await this.names(snapshot, await this.runs.attach(ours, snapshot.records, options.closer), now, claimed),
    );
    let result = this.plan(snapshot, observed, now, { busyPorts, inFlight }, capacity, claims?.records ?? []);
    if (observed.foreignHostPorts === undefined && allocates(result)) {
      // An auto port is given: plan again knowing the ports other containers hold.
      observed = withForeign(observed, await foreignView(this.deps.docker, this.options.owner, new Set()));
      result = this.plan(snapshot, observed, now, { busyPorts, inFlight }, capacity, claims?.records ?? []);
    }
    const dispatched = this.deps.dispatcher?.dispatch({
      plan: result,
      records: snapshot.records,
      observed,
      observedAt,
    });
    for (const spec of dispatched?.started ?? [])
      this.deps.hostPorts?.dispatched(
        spec,
        result.actions.filter((a) => a.spec === spec),
      );
    const refused = dispatched ? new Map<string, string>() : await this.volumes(snapshot, result);
    const report = statusReport({
      records: snapshot.records,
      invalidSources: snapshot.invalidSources,
      observed,
      plan: result,
      refused,
      progress: (spec) => this.queue.progressOf(spec),
      keys: this.options.owner.keys,
      now,
      objects: { declared: snapshot.input.objects ?? [], controllerId: this.options.owner.controllerId },
      claims: new Map((claims?.records ?? []).map((r) => [r.containerId, r.name])),
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
      inFlight: this.deps.dispatcher?.busyCount ?? 0,
      report,
      at: now,
      durationMs,
    };
  }

  /** Desire: the specs as last loaded, (re)loaded first when asked or never loaded. */
  private async desire(reload: boolean): Promise<DesiredSnapshot> {
    if (reload || this.snapshot === null) {
      this.snapshot = await this.deps.builder.build(await this.deps.loader.load(), this.deps.clock.now());
      this.reportProblems(this.snapshot);
    }
    return this.snapshot;
  }

  /**
   * The second observation: which names the plan may take are held by containers berth does not
   * own. Only for specs free to act now; none in the steady state.
   */
  private async names(
    snapshot: DesiredSnapshot,
    ours: ObservedState,
    now: number,
    claimed: ReadonlySet<string>,
  ): Promise<ObservedState> {
    const hashes = new Map(snapshot.input.desired.map((d) => [d.spec.name, d.hash]));
    const recorded = new Set(
      runRecords(ours.volumes, this.options.owner.keys)
        .filter((r) => hashes.get(r.spec) === r.hash)
        .map((r) => r.container),
    );
    const wanted = namesToClaim(
      snapshot.input.desired,
      ours.containers,
      this.options.owner.keys,
      now,
      (spec) => this.queue.progressOf(spec)?.busy !== true,
      recorded,
      { claimed, demand: this.deps.poolDemand?.snapshot() ?? new Map<string, number>() },
    );
    if (wanted.size === 0) return ours;
    return withForeign(ours, await foreignView(this.deps.docker, this.options.owner, wanted));
  }

  /**
   * Which images containers berth does not own use, when an image berth built may be removed
   * (core/plan/images.ts): the same unfiltered list, made only then (or already made for names).
   */
  private async images(snapshot: DesiredSnapshot, observed: ObservedState): Promise<ObservedState> {
    if (observed.foreignImageIds !== undefined) return observed;
    if (unkeptImages(snapshot.input, observed, this.options.owner).length === 0) return observed;
    return withForeign(observed, await foreignView(this.deps.docker, this.options.owner, new Set()));
  }

  /**
   * The specs a create or replace would fail for, because the admission policy refuses a named
   * volume they mount as it exists now. Only specs the plan would create for: no calls otherwise.
   */
  private async volumes(snapshot: DesiredSnapshot, planned: Plan): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    const admission = this.deps.admission;
    if (!admission) return refused;
    const creating = new Set(
      planned.actions.filter((a) => a.kind === "create" || a.kind === "replace").map((a) => a.spec),
    );
    for (const spec of creating) {
      // Per-instance volumes are berth's own by construction (made, labelled, for this spec).
      const names = (snapshot.records.get(spec)?.spec?.mounts ?? []).flatMap((m) =>
        m.type === "volume" && !m.perInstance ? [m.source] : [],
      );
      const violations = await admission.volumeVerdict(spec, names);
      if (violations.length > 0)
        refused.set(spec, `the admission policy would refuse its create: ${violations.join("; ")}`);
    }
    return refused;
  }

  private plan(
    snapshot: DesiredSnapshot,
    observed: ObservedState,
    now: number,
    busy: {
      readonly busyPorts: ReadonlyMap<number, string>;
      readonly inFlight: ReadonlyMap<string, readonly Action[]>;
    },
    capacity: CapacityOptions | undefined,
    claims: readonly ClaimRecord[],
  ): Plan {
    const keys = this.options.owner.keys;
    const volumes = (observed.volumes ?? []).filter(
      (v) =>
        (isOwnInstanceVolume(v, this.options.owner) && v.labels[keys.reclaimPolicy] === "Delete") ||
        v.labels[keys.finished] !== undefined,
    );
    // What is left of a spec: its containers, per-instance volumes to reclaim and runs' records.
    const left = new Set([...observed.containers, ...volumes].map((o) => o.labels[keys.spec] ?? ""));
    const loaded = new Set(snapshot.input.desired.map((d) => d.spec.name));
    for (const spec of forgottenDeletions(this.deleted, loaded, left)) this.deleted.delete(spec);
    const result = plan(
      {
        ...snapshot.input,
        unstartable: this.queue.unstartable(UNSTARTABLE_AFTER),
        deleted: this.deleted,
        claims,
        ...(this.deps.poolDemand ? { poolDemand: this.deps.poolDemand.snapshot() } : {}),
        inFlight: busy.inFlight,
        hostPorts: { ranges: this.options.hostPortRanges ?? [DEFAULT_HOST_PORT_RANGE], busy: busy.busyPorts },
      },
      observed,
      now,
      capacity ? { ...this.options, capacity } : this.options,
    );
    return result;
  }

  /** Logs each spec problem once, when it first appears. */
  private reportProblems(snapshot: DesiredSnapshot): void {
    const problems = [
      ...snapshot.issues.map((issue) => ({
        key: formatIssue(issue),
        say: () => {
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
        },
      })),
      ...[...snapshot.records.values()].flatMap((record) =>
        record.error === null
          ? []
          : [
              {
                key: `${record.name}: ${record.error}`,
                say: () => {
                  this.deps.log.warn({ spec: record.name, err: record.error }, "spec cannot be applied");
                },
              },
            ],
      ),
    ];
    this.problems.round(
      problems,
      (p) => p.key,
      (p) => {
        p.say();
      },
    );
  }
}
