/**
 * The composition root: wires configuration, the logger, the Docker adapter, the clock, the
 * loader and the loop. It decides nothing. `createApp` builds the controller (`berth run`,
 * `apply`); `createInspector` the narrower set a one-shot look needs (`plan`, `status`, `reap`).
 */
import type { Logger } from "pino";
import { type App, type AppDeps, DEFAULT_TUNING, type Inspector, type InspectorDeps } from "./app-deps.js";
import type { Config, Resync } from "./config.js";
import { autoHostPortRanges } from "./core/host-ports.js";
import { labelKeys } from "./core/labels.js";
import { type Ownership, ownership } from "./core/ownership.js";
import type { SecretSources } from "./core/secrets.js";
import { connectDocker, connectSwarm } from "./docker/connect.js";
import { engineContext } from "./docker/engine-context.js";
import { engineMessage } from "./docker/engine-message.js";
import { isEngineError } from "./docker/errors.js";
import { fencedIO, fencedPort, fencedSwarm, type WriteFence } from "./docker/fenced.js";
import type { ContainerIO, DockerPort } from "./docker/port.js";
import type { SwarmPort } from "./docker/swarm-adapter.js";
import path from "node:path";
import { sourceId } from "./core/git-source.js";
import { BuildContexts } from "./host/build-context.js";
import { BuildLogs } from "./host/build-logs.js";
import { ClaimFiles } from "./host/claim-files.js";
import { GitCheckout } from "./host/git-checkout.js";
import { hostPolicyContext } from "./host/host-paths.js";
import { hostRegistryAuth } from "./host/registry-auth.js";
import { hostSecretSources } from "./host/secrets.js";
import { readSeccompProfile, selfContainerId } from "./host/self-container.js";
import { watchSpecDirs } from "./host/watcher.js";
import type { Metrics } from "./http/metrics.js";
import type { HttpServer } from "./http/server.js";
import { Admission } from "./loop/admission.js";
import { HostCapacity } from "./loop/capacity.js";
import { Controller } from "./loop/controller.js";
import { type DesiredSnapshot, DesiredStateBuilder } from "./loop/desired.js";
import { Dispatcher } from "./loop/dispatcher.js";
import { Executor } from "./loop/executor.js";
import { GitSources, type GitSourcesDeps } from "./loop/git-sources.js";
import { HashKey, type HashKeyMode } from "./loop/hash-key.js";
import { HostPortHints } from "./loop/host-ports.js";
import { ImageCheck } from "./loop/image-check.js";
import { AutoNetwork } from "./loop/network.js";
import { PoolDemand } from "./loop/pool-demand.js";
import { Reaper } from "./loop/reaper.js";
import { Reconciler } from "./loop/reconciler.js";
import { RunInspector } from "./loop/runs.js";
import { SwarmImages } from "./loop/swarm-image.js";
import { SwarmPasses } from "./loop/swarm-passes.js";
import { type SwarmPassResult, SwarmReconciler, type SwarmReconcilerDeps } from "./loop/swarm-reconciler.js";
import { DEFAULT_LOADER_OPTIONS, SpecLoader } from "./manifest/loader.js";
import { DEFAULT_PARSE_OPTIONS, type ParseOptions } from "./manifest/parse.js";
import { STDIN_SOURCE } from "./manifest/stdin.js";
import type { VerdictStore } from "./manifest/verdicts.js";
import { ManagedContainers } from "./ops/containers.js";
import { EventLog } from "./ops/event-log.js";
import { Pools } from "./ops/pools.js";
import { PassMarks } from "./loop/pass-marks.js";
import type { Action } from "./core/plan/types.js";
import { controllerRestart } from "./ops/restart.js";
import { controllerRetry } from "./ops/rollout-retry.js";
import { rolloutVerdict, swarmRolloutVerdict } from "./ops/rollout-verdict.js";
import { removeCollectedRuns, RuntimeSpecs } from "./ops/runtime-specs.js";
import { OriginalAgents } from "./ops/spawner-agents.js";
import { RECONNECT_BACKOFF } from "./util/backoff.js";
import { sleep, systemClock } from "./util/clock.js";
import { scheduleCron, scheduleEvery } from "./util/cron.js";
import { Semaphore } from "./util/semaphore.js";

export type { App, AppDeps, AppHooks, Inspector, InspectorDeps, Tuning } from "./app-deps.js";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
/** How long a pass of the controller waits for a registry to say which digest a followed tag names. */
const IMAGE_CHECK_WAIT_MS = 2000;

/** How spec text is parsed and admitted, by the loader and the API alike. */
function parseOptions(config: Config): ParseOptions {
  return {
    ...DEFAULT_PARSE_OPTIONS,
    labelPrefix: config.labelPrefix,
    policy: config.policy,
    policyContext: hostPolicyContext,
    target: config.target,
  };
}

/**
 * The API's spec writes in the runtime folder (ops/runtime-specs.ts), over either target's
 * reconciler: checked against the specs it loaded last; a spec to remove is marked deleted before
 * its file goes (its containers or service go past the prune guard), and a pass is asked for.
 */
function runtimeSpecsOf(
  config: Config,
  reconciler: {
    readonly desired: DesiredSnapshot | null;
    markDeleted(spec: string): boolean;
    unmarkDeleted(spec: string): void;
  },
  log: Logger,
  requestPass: () => void,
): RuntimeSpecs | null {
  if (config.runtimeSpecs === null) return null;
  return new RuntimeSpecs({
    dir: config.runtimeSpecs,
    parse: parseOptions(config),
    specFile: (name) => reconciler.desired?.records.get(name)?.file ?? null,
    loaded: () => (reconciler.desired ? [...reconciler.desired.records.values()] : null),
    removing: (spec) => {
      const marked = reconciler.markDeleted(spec);
      // Not removed: a mark made here goes; one an earlier DELETE made stays.
      return () => {
        if (marked) reconciler.unmarkDeleted(spec);
      };
    },
    // A removed spec was marked at `removing`; one written again goes back under the prune guard.
    changed: ({ spec, removed }) => {
      if (!removed) reconciler.unmarkDeleted(spec);
      requestPass();
    },
    log,
  });
}

/**
 * The engine and what acts on it: every wiring's first parts. The controller (`create`) makes the
 * hash key when a secret first needs it; a one-shot look (`read`) only reads it.
 */
function engineParts(
  config: Config,
  deps: InspectorDeps,
  slots: Semaphore,
  metrics: Metrics | null,
  hashKeyMode: HashKeyMode,
  fence?: WriteFence,
  revisionOf?: (file: string) => string | null,
) {
  const clock = deps.clock ?? systemClock;
  const owner = ownership(labelKeys(config.labelPrefix), config.controllerId);
  const engine =
    deps.docker ??
    connectDocker(config.dockerTimeoutMs, (operation, outcome, durationMs) => {
      metrics?.dockerCall(operation, outcome, durationMs);
      deps.hooks?.onDockerCall?.(operation, outcome, durationMs);
    });
  // Under --ha every write asks the election first (docker/fenced.ts).
  const docker = fence
    ? { port: fencedPort(engine.port, fence), ...(engine.io ? { io: fencedIO(engine.io, fence) } : {}) }
    : engine;
  const admission = new Admission(docker.port, config.policy, owner, hostPolicyContext);
  const sources = deps.secrets ?? hostSecretSources(config.policy);
  // One digest for the desired state and the create-time read, so that both agree.
  const hashKey = new HashKey(docker.port, owner, config.labelPrefix, hashKeyMode);
  const secrets: SecretSources = sources.digest ? sources : { ...sources, digest: hashKey.digest };
  const hostPorts = new HostPortHints(clock);
  const registryAuth = hostRegistryAuth({
    authFile: config.registryAuth.file,
    dockerConfig: config.registryAuth.dockerConfig,
    policy: config.policy,
  });
  const imageCheck = new ImageCheck(docker.port, registryAuth, deps.log.child({ component: "image-check" }), {
    intervalMs: config.imageCheckMs,
  });
  const builds = new BuildContexts();
  const runs = new RunInspector(docker.port, owner);
  const executor = new Executor({
    docker: docker.port,
    builds,
    buildLogs: new BuildLogs(config.stateDir, config.controllerId),
    owner,
    secrets,
    clock,
    log: deps.log.child({ component: "executor" }),
    slots,
    network: new AutoNetwork(docker.port, config.network, selfContainerId),
    readSeccompProfile,
    admission,
    healthPollMs: deps.tuning?.healthPollMs ?? DEFAULT_TUNING.healthPollMs,
    exits: runs,
    hostPorts,
    ...(fence ? { term: () => fence.currentTerm() } : {}),
    registryAuth,
    tagDigests: imageCheck,
    ...(deps.hooks?.onImage ? { onImage: deps.hooks.onImage } : {}),
    ...(revisionOf ? { revisionOf } : {}),
  });
  const reaper = new Reaper(docker.port, config.reapLabels, deps.log.child({ component: "reaper" }));
  return { clock, owner, docker, secrets, executor, reaper, admission, hostPorts, imageCheck, builds, runs };
}

/** The spec folders' loader, under either target. */
function specLoader(config: Config, verdicts?: VerdictStore): SpecLoader {
  return new SpecLoader(config.specDirs, {
    ...DEFAULT_LOADER_OPTIONS,
    ...parseOptions(config),
    // A Git source's files are read from one checkout per load (docs/gitops.md).
    pinnedRoots: new Set((config.pinnedSpecDirs ?? []).map((d) => path.resolve(d))),
    ...(verdicts ? { verdicts } : {}),
  });
}

/** The specs and the planner; with a dispatcher, the passes act on their plans. */
function reconcilerOf(
  config: Config,
  deps: InspectorDeps,
  engine: ReturnType<typeof engineParts>,
  dispatcher?: Dispatcher,
  poolDemand?: PoolDemand,
): Reconciler {
  return new Reconciler(
    {
      loader: specLoader(config, deps.verdicts),
      builder: new DesiredStateBuilder(
        engine.secrets,
        config.policy.profile,
        hostPolicyContext,
        deps.readSecrets ?? true,
        engine.builds,
      ),
      docker: engine.docker.port,
      clock: engine.clock,
      log: deps.log,
      admission: engine.admission,
      hostPorts: engine.hostPorts,
      imageCheck: engine.imageCheck,
      ...(config.capacity
        ? { capacity: new HostCapacity(engine.docker.port, config.capacity, deps.log.child({ component: "capacity" })) }
        : {}),
      ...(dispatcher ? { dispatcher } : {}),
      ...(config.runtimeSpecs !== null ? { claims: new ClaimFiles(config.runtimeSpecs) } : {}),
      ...(poolDemand ? { poolDemand } : {}),
      runs: engine.runs,
    },
    {
      owner: engine.owner,
      forcePrune: config.forcePrune,
      pruneMaxShare: config.pruneMaxShare,
      hostPortRanges: autoHostPortRanges(config.policy.hostPortRange, config.policy.allowHostPorts),
    },
  );
}

/** The periodic resync: a timer for a duration, node-cron for a schedule. */
function scheduleResync(resync: Resync, tick: () => void): { stop(): void } {
  return resync.kind === "every" ? scheduleEvery(resync.ms, tick) : scheduleCron(resync.cron, tick);
}

export function createInspector(config: Config, deps: InspectorDeps): Inspector {
  const engine = engineParts(config, deps, new Semaphore(config.concurrency), null, "read", deps.fence);
  const reconciler = reconcilerOf(config, deps, engine);
  return { config, docker: engine.docker.port, reconciler, executor: engine.executor, reaper: engine.reaper };
}

/**
 * The Git sources of `berth run` (docs/gitops.md), each in its own folder under deps.git.root;
 * their spec folders (links to the current checkouts) join the spec directories. Under either target.
 */
function gitSourcesOf(
  config: Config,
  deps: Pick<AppDeps, "git">,
  hooks: GitSourcesDeps,
): { config: Config; sources: GitSources | null } {
  const git = deps.git;
  if (!git || config.git.sources.length === 0) return { config, sources: null };
  const settings = config.git.sources.map((s) => {
    const name = sourceId(s.url, s.refText, s.path);
    const checkout = new GitCheckout({
      root: path.join(git.root, name),
      url: s.url,
      ref: s.ref,
      gitPath: s.path,
      credentials: git.credentials,
      timeoutMs: config.git.timeoutMs,
    });
    return { name, url: s.url, ref: s.refText, path: s.path, intervalMs: s.intervalMs, checkout };
  });
  const pinned = settings.map((s) => s.checkout.specDir);
  return {
    config: Object.freeze({ ...config, specDirs: [...config.specDirs, ...pinned], pinnedSpecDirs: pinned }),
    sources: new GitSources(settings, hooks),
  };
}

export function createApp(given: Config, deps: AppDeps): App {
  const log = deps.log;
  const leadership = deps.leadership;
  const leading = (): boolean => !leadership || leadership.mayWrite();
  const clock0 = deps.clock ?? systemClock;
  const git = gitSourcesOf(given, deps, {
    clock: clock0,
    log: log.child({ component: "git" }),
    onRevision: (source, previous) => {
      events.revision(source, previous, clock0.now());
      controller.requestPass(true, 0);
    },
    onFetch: (source, error) => metrics?.gitFetch(source, error, clock0.now()),
  });
  const config = git.config;
  const tuning = { ...DEFAULT_TUNING, ...deps.tuning };
  const slots = new Semaphore(config.concurrency);
  const http = config.listen ? deps.http : undefined;
  const metrics = http
    ? new http.Metrics({
        version: deps.version ?? "unknown",
        queue: () => ({ queued: slots.queued, inFlight: slots.inUse }),
        ...(leadership ? { leadership: () => leadership.status() } : {}),
        gitSources: git.sources?.list().map((s) => s.name) ?? [],
      })
    : null;
  const events = new EventLog();
  const engine = engineParts(
    config,
    deps,
    slots,
    metrics,
    "create",
    leadership,
    git.sources ? (f) => git.sources?.revisionOf(f) ?? null : undefined,
  );
  const { clock, owner, docker, executor, reaper } = engine;
  /** Every action done: the events, the metrics, the hooks (the dispatcher's, and a retry's removals). */
  const told = (action: Action, error: Error | null, durationMs: number): void => {
    events.action(action, error, clock.now(), durationMs);
    metrics?.action(action, error);
    deps.hooks?.onAction?.(action, error, durationMs);
  };
  const dispatcher = new Dispatcher({
    executor,
    clock,
    log: log.child({ component: "dispatcher" }),
    backoff: tuning.backoff,
    onAction: told,
  });
  dispatcher.setPaused(!leading());
  const poolDemand = new PoolDemand();
  const reconciler = reconcilerOf(config, deps, engine, dispatcher, poolDemand);
  const runtimeSpecs = runtimeSpecsOf(config, reconciler, log, () => {
    controller.requestPass(true, 0);
  });
  const passMarks = new PassMarks(clock);
  const pools =
    config.runtimeSpecs === null
      ? null
      : new Pools({
          claims: new ClaimFiles(config.runtimeSpecs),
          docker: docker.port,
          owner,
          desired: (name) => reconciler.desired?.input.desired.find((d) => d.spec.name === name) ?? null,
          poolSpecs: () => (reconciler.desired?.input.desired ?? []).flatMap((d) => (d.spec.pool ? [d.spec] : [])),
          status: (name) => controller.last?.report.specs.find((s) => s.name === name),
          busy: (spec) => dispatcher.isBusy(spec),
          exclusive: (spec, harmless, fn, changed) => dispatcher.exclusive(spec, harmless, fn, changed),
          demand: poolDemand,
          requestPass: () => {
            controller.requestPass(false, 0);
          },
          passes: passMarks,
          clock,
          log: log.child({ component: "pools" }),
        });
  const controller = new Controller(
    {
      reconciler,
      dispatcher,
      docker: docker.port,
      clock,
      log,
      reaper,
      scheduleResync: deps.scheduleResync ?? ((tick) => scheduleResync(config.resync, tick)),
      watch: deps.watch
        ? (onChange) =>
            // The standard input (`-f -`) is read once; only files and folders are watched.
            watchSpecDirs(
              config.specDirs.filter((d) => d !== STDIN_SOURCE),
              onChange,
              { debounceMs: tuning.debounceMs, clock, log },
            )
        : null,
      onPassBegin: () => {
        passMarks.begin();
      },
      onPass: (result) => {
        events.runsFinished(result.report, result.at);
        for (const e of events.restarts(result.report, result.at))
          log.warn({ spec: e.spec, event: e.text }, "container restarted by the engine");
        for (const e of events.waiting(result.plan.notes, result.at))
          log.info({ spec: e.spec, event: e.text }, "spec waits for room");
        // A standby changes nothing: not the runtime spec folder, not the claim records.
        if (runtimeSpecs && leading()) void removeCollectedRuns(runtimeSpecs, result.report);
        if (pools && leading())
          void pools.collect(result.observed.containers).catch((err: unknown) => {
            log.warn({ err: (err as Error).message }, "claim records not collected");
          });
        passMarks.complete();
        git.sources?.noteInvalid(result.snapshot.issues.map((i) => i.file));
        metrics?.pass(result);
        deps.hooks?.onPass?.(result);
      },
      onPassFailed: (err) => {
        metrics?.passFailed();
        events.passFailed(err, clock.now());
        deps.hooks?.onPassFailed?.(err);
      },
      onEventsReconnected: () => metrics?.eventsReconnected(),
      onReaped: (removed) => {
        metrics?.reapedByLabel(removed.length);
        for (const c of removed) events.reaped(c, clock.now());
      },
      explainEngine: (err) => (isEngineError(err) ? engineMessage(err, engineContext(process.env)) : err.message),
      leading,
    },
    {
      owner,
      coalesceMs: tuning.coalesceMs,
      busyCoalesceMs: tuning.busyCoalesceMs,
      drainTimeoutMs: config.drainTimeoutMs,
      reconnect: RECONNECT_BACKOFF,
    },
  );
  // The controller waits only a moment for a registry's answer about a followed tag; a later
  // answer asks for a pass of its own (loop/image-check.ts). A one-shot apply waits for it.
  if (deps.watch)
    engine.imageCheck.answerLate(
      IMAGE_CHECK_WAIT_MS,
      (ms) => sleep(clock, ms),
      () => {
        controller.requestPass(false, 0);
      },
    );
  const server =
    http && config.listen
      ? http.buildServer({
          log,
          controllerId: config.controllerId,
          readiness: () => controller.readiness(),
          ...(leadership ? { leadership: () => leadership.status() } : {}),
          apiToken: config.apiToken,
          loopback: LOOPBACK.has(config.listen.host),
          status: () => {
            const last = controller.last;
            return last ? { report: last.report, at: last.at } : null;
          },
          events,
          metrics,
          specs: runtimeSpecs,
          pools,
          restart: (name) =>
            controllerRestart(
              {
                docker: docker.port,
                clock,
                exits: engine.runs,
                keys: owner.keys,
                view: () => {
                  const last = controller.last;
                  return last ? { desired: last.snapshot.input.desired, containers: last.observed.containers } : null;
                },
                exclusive: (spec, fn) => dispatcher.exclusive(spec, () => false, fn),
              },
              name,
            ),
          rollout: (spec, stableForMs) =>
            rolloutVerdict({ docker: docker.port, now: () => clock.now() }, spec, stableForMs),
          retry: (name) =>
            controllerRetry(
              {
                docker: docker.port,
                executor,
                told,
                keys: owner.keys,
                view: () => {
                  const last = controller.last;
                  return last
                    ? { desired: last.snapshot.input.desired, records: last.snapshot.records, observed: last.observed }
                    : null;
                },
                exclusive: (spec, fn) => dispatcher.exclusive(spec, () => false, fn),
              },
              name,
            ),
          containers: new ManagedContainers(docker.port, docker.io ?? unavailableIO, owner, log, config.policy.profile),
          compat: config.compat,
          originalAgents: config.compat ? new OriginalAgents(docker.port, owner, log) : null,
          artie: config.artie,
          now: () => clock.now(),
          allowHosts: config.allowHosts,
          allowOrigins: config.allowOrigins,
          policyProfile: config.policy.profile,
          limits: { requestTimeoutMs: config.requestTimeoutMs },
          gitSources: git.sources,
          gitWebhookSecret: deps.git?.webhookSecret ?? null,
        })
      : null;
  return {
    config,
    docker: docker.port,
    dispatcher,
    reconciler,
    executor,
    controller,
    reaper,
    slots,
    server,
    events,
    metrics,
    gitSources: git.sources,
    pools,
  };
}

/** For a fake engine handed in without exec and logs. */
const unavailableIO: ContainerIO = {
  exec: () => Promise.reject(new Error("exec is not available on this engine")),
  logs: () => Promise.reject(new Error("logs are not available on this engine")),
};

/** What `createSwarm` makes: the pass, and for `berth run` the HTTP API and what it reads. */
export interface SwarmApp {
  /** The configuration given, with the Git sources' spec folders among the spec directories. */
  readonly config: Config;
  readonly docker: DockerPort;
  /** Services and tasks, through the write fence under --ha. */
  readonly swarm: SwarmPort;
  readonly owner: Ownership;
  readonly reconciler: SwarmReconciler;
  /** With deps.http and --listen: the HTTP API (not listening yet). */
  readonly server: HttpServer | null;
  readonly events: EventLog;
  readonly metrics: Metrics | null;
  /** The Git sources (started by `berth run` before its first pass); null: none. */
  readonly gitSources: GitSources | null;
  /** What a pass of `berth run` gives the API: its status, or why it failed (the readiness). */
  passed(result: SwarmPassResult): void;
  failed(err: Error): void;
}

/** Under --target swarm (docs/swarm.md): the same specs and desired state, converged to services. */
export function createSwarm(
  given: Config,
  deps: Pick<InspectorDeps, "log" | "clock"> &
    Pick<SwarmReconcilerDeps, "onAction" | "onObjectAction"> &
    Pick<AppDeps, "http" | "version" | "leadership" | "git"> & {
      /** A Git source is at a new revision: `berth run` makes a pass at once. */
      readonly onGitRevision?: () => void;
      /** A spec was written or removed through the API (--runtime-specs): `berth run` makes a pass at once. */
      readonly onSpecWritten?: () => void;
    },
  /** `create` for apply and run, which make the hash key when a secret first needs it; `read` for plan and status. */
  hashKeyMode: HashKeyMode = "read",
): SwarmApp {
  const clock = deps.clock ?? systemClock;
  const git = gitSourcesOf(given, deps, {
    clock,
    log: deps.log.child({ component: "git" }),
    onRevision: (source, previous) => {
      events.revision(source, previous, clock.now());
      deps.onGitRevision?.();
    },
    onFetch: (source, error) => metrics?.gitFetch(source, error, clock.now()),
  });
  const config = git.config;
  const http = config.listen ? deps.http : undefined;
  const leadership = deps.leadership;
  const metrics = http
    ? new http.Metrics({
        version: deps.version ?? "unknown",
        target: "swarm",
        gitSources: git.sources?.list().map((s) => s.name) ?? [],
        ...(leadership ? { leadership: () => leadership.status() } : {}),
      })
    : null;
  const connected = connectSwarm(config.dockerTimeoutMs, (operation, outcome, durationMs) => {
    metrics?.dockerCall(operation, outcome, durationMs);
  });
  // Under --ha every write asks the election first (docker/fenced.ts): services, secrets, networks, the hash key.
  const engine = leadership
    ? { port: fencedPort(connected.port, leadership), swarm: fencedSwarm(connected.swarm, leadership) }
    : connected;
  const owner = ownership(labelKeys(config.labelPrefix), config.controllerId);
  // The hash key lives on the manager berth talks to, as for the engine target (loop/hash-key.ts).
  const hashKey = new HashKey(engine.port, owner, config.labelPrefix, hashKeyMode);
  const secrets: SecretSources = { ...hostSecretSources(config.policy), digest: hashKey.digest };
  const registryAuth = hostRegistryAuth({
    authFile: config.registryAuth.file,
    dockerConfig: config.registryAuth.dockerConfig,
    policy: config.policy,
  });
  const events = new EventLog();
  const passes = new SwarmPasses();
  const reconciler = new SwarmReconciler(
    {
      loader: specLoader(config),
      builder: new DesiredStateBuilder(secrets, config.policy.profile, hostPolicyContext),
      swarm: engine.swarm,
      secrets,
      policy: config.policy,
      policyContext: hostPolicyContext,
      networks: engine.port,
      images: new SwarmImages(engine.port, registryAuth, deps.log.child({ component: "swarm-image" })),
      clock,
      log: deps.log.child({ component: "swarm" }),
      ...(git.sources ? { revisionOf: (f: string) => git.sources?.revisionOf(f) ?? null } : {}),
      onAction: (action, error, durationMs) => {
        events.swarmAction(action, error, clock.now(), durationMs);
        metrics?.swarmAction(action, error);
        deps.onAction?.(action, error, durationMs);
      },
      onObjectAction: (action, error, durationMs) => {
        events.action(action, error, clock.now(), durationMs);
        metrics?.action(action, error);
        deps.onObjectAction?.(action, error, durationMs);
      },
    },
    {
      owner,
      forcePrune: config.forcePrune,
      pruneMaxShare: config.pruneMaxShare,
      concurrency: config.concurrency,
    },
  );
  // The API's spec writes: the next pass loads the folder, as any file change.
  const runtimeSpecs = runtimeSpecsOf(config, reconciler, deps.log, () => deps.onSpecWritten?.());
  const server =
    http && config.listen
      ? http.buildServer({
          target: "swarm",
          specs: runtimeSpecs,
          log: deps.log,
          controllerId: config.controllerId,
          readiness: () => passes.readiness(),
          ...(leadership ? { leadership: () => leadership.status() } : {}),
          apiToken: config.apiToken,
          loopback: LOOPBACK.has(config.listen.host),
          swarmStatus: () => passes.status(),
          rollout: (spec, stableForMs) =>
            swarmRolloutVerdict({ swarm: engine.swarm, now: () => clock.now() }, spec, stableForMs),
          gitSources: git.sources,
          gitWebhookSecret: deps.git?.webhookSecret ?? null,
          events,
          metrics,
          now: () => clock.now(),
          allowHosts: config.allowHosts,
          allowOrigins: config.allowOrigins,
          limits: { requestTimeoutMs: config.requestTimeoutMs },
        })
      : null;
  return {
    config,
    docker: engine.port,
    swarm: engine.swarm,
    owner,
    reconciler,
    server,
    events,
    metrics,
    gitSources: git.sources,
    passed: (result) => {
      passes.passed(result);
      git.sources?.noteInvalid(result.snapshot.issues.map((i) => i.file));
      metrics?.swarmPass(result);
    },
    failed: (err) => {
      const message = isEngineError(err) ? engineMessage(err, engineContext(process.env)) : err.message;
      passes.failed(message);
      metrics?.passFailed();
      events.passFailed(err, clock.now());
    },
  };
}
