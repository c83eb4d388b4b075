/**
 * The composition root: wires configuration, logger, the Docker adapter, the clock, the loader
 * and the loop. It decides nothing.
 */
import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { type Clock, systemClock } from "./util/clock.js";
import type { Config } from "./config.js";
import { labelKeys } from "./core/labels.js";
import type { Action } from "./core/plan/plan.js";
import { Controller } from "./loop/controller.js";
import { DesiredStateBuilder } from "./loop/desired.js";
import { type BackoffPolicy, DEFAULT_BACKOFF, Dispatcher } from "./loop/dispatcher.js";
import { type ActionContext, Executor } from "./loop/executor.js";
import { AUTO_NETWORK, resolveAutoNetwork, selfContainerId } from "./loop/network.js";
import { Reaper } from "./loop/reaper.js";
import { type PassResult, Reconciler } from "./loop/reconciler.js";
import { hostSecretSources, type SecretSources } from "./loop/secrets.js";
import { Semaphore } from "./util/semaphore.js";
import { type CallOutcome, DockerAdapter } from "./docker/adapter.js";
import type { DockerPort } from "./docker/port.js";
import { watchSpecDirs } from "./host/watcher.js";
import type { buildServer, HttpServer } from "./http/server.js";
import { DEFAULT_LOADER_OPTIONS, SpecLoader } from "./manifest/loader.js";
import type { EngineCreateBody } from "./core/create-request.js";
import { checkRequest } from "./core/policy/policy.js";
import { hostPolicyContext } from "./host/host-paths.js";
import { EventLog } from "./ops/event-log.js";
import { findManaged } from "./ops/containers.js";
import type { ContainerIO } from "./docker/port.js";
import type { Metrics } from "./http/metrics.js";

export interface AppDeps {
  readonly log: Logger;
  readonly port?: DockerPort;
  /** Exec and logs (default: the real engine). */
  readonly io?: ContainerIO;
  readonly clock?: Clock;
  readonly secrets?: SecretSources;
  readonly backoff?: BackoffPolicy;
  /** Watch the spec directories (berth run); one-shot commands do not. */
  readonly watch?: boolean;
  /**
   * Build the HTTP server (berth run, when config.listen is set). Its modules are handed in, not
   * imported here, so that the one-shot commands never load fastify and prom-client.
   */
  readonly http?: { readonly buildServer: typeof buildServer; readonly Metrics: typeof Metrics };
  /** Every Docker API call, with its outcome (metrics, call counting). */
  readonly onDockerCall?: (operation: string, outcome: CallOutcome, durationMs: number) => void;
  /** Every executed action, with its outcome (apply's progress). */
  readonly onAction?: (action: Action, error: Error | null, durationMs: number) => void;
  readonly onPass?: (result: PassResult) => void;
  readonly healthPollMs?: number;
  /** The periodic resync's scheduler (default node-cron with config.resync). */
  readonly scheduleResync?: (tick: () => void) => { stop(): void | Promise<void> };
  readonly coalesceMs?: number;
  readonly busyCoalesceMs?: number;
  readonly debounceMs?: number;
}

export interface App {
  readonly config: Config;
  readonly port: DockerPort;
  readonly dispatcher: Dispatcher;
  readonly reconciler: Reconciler;
  readonly controller: Controller;
  readonly reaper: Reaper;
  readonly slots: Semaphore;
  /** Built, not listening; null unless asked for. */
  readonly server: HttpServer | null;
  /** The recent reconcile events (GET /v1/events). */
  readonly events: EventLog;
  /** Prometheus metrics; null without the HTTP server. */
  readonly metrics: Metrics | null;
}

/** node-cron, loaded when the first resync is scheduled (40 ms of every one-shot command otherwise). */
function scheduleCron(expression: string, tick: () => void): { stop(): void } {
  let task: { stop(): void } | null = null;
  let stopped = false;
  void import("node-cron").then(({ default: cron }) => {
    if (!stopped) task = cron.schedule(expression, tick);
  });
  return {
    stop: () => {
      stopped = true;
      task?.stop();
    },
  };
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function createApp(config: Config, deps: AppDeps): App {
  const log = deps.log;
  const clock = deps.clock ?? systemClock;
  const labels = labelKeys(config.labelPrefix);
  const events = new EventLog();
  // Filled in below, once what it reads from exists.
  let metrics: Metrics | null = null;
  const port =
    deps.port ??
    new DockerAdapter({
      callTimeoutMs: config.dockerTimeoutMs,
      onCall: (operation, outcome, durationMs) => {
        metrics?.dockerCall(operation, outcome, durationMs);
        deps.onDockerCall?.(operation, outcome, durationMs);
      },
    });
  const secrets = deps.secrets ?? hostSecretSources(config.policy);

  /** The policy's check of a create body, with host paths and container owners looked up now. */
  const audit = async (body: EngineCreateBody): Promise<readonly string[]> => {
    const h = body.HostConfig;
    const joined = [h.NetworkMode, h.PidMode, h.IpcMode, h.UTSMode, h.UsernsMode]
      .filter((mode): mode is string => mode?.startsWith("container:") === true)
      .map((mode) => mode.slice("container:".length));
    const owned = new Set<string>();
    for (const name of new Set(joined)) {
      const target = await port.inspectContainer(name);
      if (target?.labels[labels.controller] === config.controllerId) owned.add(name);
    }
    return checkRequest(body, config.policy, { ...hostPolicyContext, ownsContainer: (name) => owned.has(name) });
  };

  let autoNetwork: Promise<string> | null = null;
  const resolveNetwork = async (network: string): Promise<string> => {
    if (network !== AUTO_NETWORK) return network;
    autoNetwork ??= selfContainerId().then((self) => resolveAutoNetwork(port, config.network, self));
    try {
      return await autoNetwork;
    } catch (err) {
      autoNetwork = null;
      throw err;
    }
  };

  const slots = new Semaphore(config.concurrency);
  const executorLog = log.child({ component: "executor" });
  const executor = new Executor({
    port,
    labels,
    controllerId: config.controllerId,
    secrets,
    clock,
    log: executorLog,
    slots,
    resolveNetwork,
    readSeccompProfile: (path) => readFile(path, "utf8"),
    audit,
    ...(deps.healthPollMs !== undefined ? { healthPollMs: deps.healthPollMs } : {}),
  });
  const actionDone = (action: Action, error: Error | null, started: number): void => {
    const took = clock.now() - started;
    events.action(action, error, clock.now(), took);
    metrics?.action(action, error);
    deps.onAction?.(action, error, took);
  };
  const observedExecutor = {
    run: async (action: Action, ctx: ActionContext): Promise<void> => {
      const started = clock.now();
      try {
        await executor.run(action, ctx);
        actionDone(action, null, started);
      } catch (err) {
        actionDone(action, err as Error, started);
        throw err;
      }
    },
  };

  // The controller is created below; settled operations reach it through this indirection.
  let controller: Controller | null = null;
  const dispatcher = new Dispatcher({
    executor: observedExecutor,
    clock,
    log: log.child({ component: "dispatcher" }),
    backoff: deps.backoff ?? DEFAULT_BACKOFF,
    onSettled: () => controller?.settled(),
  });
  const loader = new SpecLoader(config.specDirs, {
    ...DEFAULT_LOADER_OPTIONS,
    labelPrefix: config.labelPrefix,
    policy: config.policy,
    policyContext: hostPolicyContext,
  });
  const reconciler = new Reconciler(
    { loader, builder: new DesiredStateBuilder(secrets, config.policy.profile), port, dispatcher, clock, log },
    { labels, controllerId: config.controllerId, forcePrune: config.forcePrune, pruneMaxShare: config.pruneMaxShare },
  );
  const reaper = new Reaper(port, config.reapLabels, log.child({ component: "reaper" }));
  controller = new Controller(
    {
      reconciler,
      dispatcher,
      port,
      clock,
      log,
      reaper,
      scheduleResync: deps.scheduleResync ?? ((tick) => scheduleCron(config.resync.cron, tick)),
      watch: deps.watch
        ? (onChange) => watchSpecDirs(config.specDirs, onChange, { debounceMs: deps.debounceMs ?? 50, clock, log })
        : null,
      onPass: (result) => {
        metrics?.pass(result);
        deps.onPass?.(result);
      },
      onPassFailed: (err) => {
        metrics?.passFailed();
        events.add({
          at: clock.now(),
          spec: null,
          kind: "pass-failed",
          reason: "error",
          text: "reconcile pass failed",
          ok: false,
          error: err.message,
          durationMs: 0,
        });
      },
      onEventsReconnected: () => metrics?.eventsReconnected(),
      onReaped: (removed) => {
        metrics?.reapedByLabel(removed.length);
        for (const c of removed) {
          events.add({
            at: clock.now(),
            spec: null,
            kind: "reap",
            reason: "expired",
            text: `reap    ${c.name}: ${c.label}=${c.value}`,
            ok: true,
            error: null,
            durationMs: 0,
          });
        }
      },
    },
    {
      labels,
      controllerId: config.controllerId,
      coalesceMs: deps.coalesceMs ?? 20,
      busyCoalesceMs: deps.busyCoalesceMs ?? 1000,
      drainTimeoutMs: config.drainTimeoutMs,
      reconnectBaseMs: 1000,
      reconnectMaxMs: 30_000,
    },
  );
  const ctl = controller;
  const http = config.listen ? deps.http : undefined;
  if (http) {
    metrics = new http.Metrics({
      last: () => ctl.last,
      queue: () => ({ queued: slots.queued, inFlight: slots.inUse }),
    });
  }
  const server =
    http && config.listen
      ? http.buildServer({
          log,
          controllerId: config.controllerId,
          readiness: () => ctl.readiness(),
          apiToken: config.apiToken,
          runtimeDir: config.runtimeSpecs,
          labelPrefix: config.labelPrefix,
          policy: config.policy,
          specFile: (name) => reconciler.desired?.records.get(name)?.file ?? null,
          specsChanged: ({ spec, removed }) => {
            if (removed) reconciler.markDeleted(spec);
            else reconciler.unmarkDeleted(spec);
            ctl.requestPass(true, 0);
          },
          status: () => {
            const last = ctl.last;
            return last ? { report: last.report, at: last.at } : null;
          },
          events,
          metrics,
          findContainer: (name) => findManaged(port, labels, config.controllerId, name),
          io:
            deps.io ??
            (port instanceof DockerAdapter
              ? port
              : new DockerAdapter({ callTimeoutMs: config.dockerTimeoutMs })
            ).containerIO(),
          loopback: LOOPBACK.has(config.listen.host),
          compat: config.compat,
          now: () => clock.now(),
        })
      : null;
  return { config, port, dispatcher, reconciler, controller, reaper, slots, server, events, metrics };
}
