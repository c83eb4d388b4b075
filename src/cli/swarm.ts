/**
 * `plan`, `apply`, `status` and `run` under `--target swarm` (docs/swarm.md): the same commands,
 * exit codes and output shapes as the engine target's, over the swarm pass (loop/swarm-reconciler.ts).
 */
import type { Logger } from "pino";
import { type AppDeps, createSwarm } from "../app.js";
import type { Config } from "../config.js";
import { formatIssue } from "../core/errors.js";
import { renderAction, renderPlanSummary } from "../core/plan/render.js";
import { canaryName } from "../core/swarm-canary.js";
import { renderSwarmAction, renderSwarmChanges, type SwarmAction } from "../core/swarm-plan.js";
import type { SwarmNetworkStatus } from "../core/swarm-networks.js";
import { type SwarmReport, type SwarmSpecStatus, taskService } from "../core/swarm-status.js";
import { formatDurationMs } from "../core/units.js";
import { resolveStateDir } from "../host/lock.js";
import { type ApplyWait, isConverged, notConverged } from "../ops/apply.js";
import { distinctExits, longRunningSpecs, renderExit, swarmExits } from "../ops/stability.js";
import { watchSpecDirs } from "../host/watcher.js";
import type { Leadership, Role } from "../loop/leadership.js";
import { ReportOnce } from "../loop/report-once.js";
import { swarmNoteLines, swarmNotes } from "../loop/swarm-passes.js";
import { watchServiceEvents } from "../loop/swarm-events.js";
import { SettleBackoff, SwarmWake } from "../loop/swarm-wake.js";
import type { SwarmPassResult } from "../loop/swarm-reconciler.js";
import { RECONNECT_BACKOFF } from "../util/backoff.js";
import { systemClock } from "../util/clock.js";
import type { Participation } from "./ha.js";
import { listenApi } from "./listen.js";
import { type CliIO, EXIT } from "./io.js";
import { liveFrom, liveSwarmStatus } from "./live.js";
import type { OutputFormat } from "./options.js";
import { formatData, isData } from "./output.js";
import { printable, printableDeep } from "./sanitize.js";
import { type GitSecrets, gitCheckouts } from "./git-sources.js";
import { detailLine, renderSources } from "./status-view.js";
import { age, table } from "./table.js";
import { VERSION } from "./version.js";

/** Phases that are done: nothing more will happen without a change. */
const SETTLED = new Set(["Running", "Succeeded", "Suspended", "Expired"]);
const BROKEN = new Set(["Failed", "Invalid", "Conflict"]);

function problems(result: SwarmPassResult): string[] {
  return [
    ...result.snapshot.issues.map(formatIssue),
    ...[...result.snapshot.records.values()].flatMap((r) => (r.error === null ? [] : [`${r.name}: ${r.error}`])),
  ];
}

export async function swarmPlan(config: Config, log: Logger, output: OutputFormat | undefined, io: CliIO) {
  const result = await createSwarm(config, { log }).reconciler.pass({ act: false });
  const errors = problems(result);
  const { actions } = result.plan;
  const network = result.networkPlan;
  const lines = swarmNoteLines(result);
  const changes = actions.length + network.actions.length;
  if (isData(output)) {
    io.out(
      formatData(output, {
        actions: [...network.actions, ...actions],
        notes: lines.map((n) => n.slice(2)),
        errors,
      }),
    );
  } else {
    for (const e of errors) io.err(`${e}\n`);
    for (const a of network.actions) io.out(`${renderAction(a)}\n`);
    for (const a of actions) io.out(`${[renderSwarmAction(a), ...renderSwarmChanges(a)].join("\n")}\n`);
    for (const n of lines) io.out(`${n}\n`);
    io.out(renderPlanSummary(changes, errors.length));
  }
  if (errors.length > 0) return EXIT.failed;
  return changes > 0 ? EXIT.changes : EXIT.ok;
}

export function renderSwarmStatus(
  rows: readonly SwarmSpecStatus[],
  networks: readonly SwarmNetworkStatus[] = [],
): string {
  let out = table(
    ["SPEC", "PHASE", "REPLICAS", "NODES", "EXPIRES", "MESSAGE"],
    rows.map((r) => [
      r.name,
      r.phase,
      `${r.running}/${r.desired}`,
      r.nodes.join(",") || "-",
      r.expiresAt ?? "never",
      r.lastError !== null && r.phase !== "Running" ? `${r.message}; last task error: ${r.lastError}` : r.message,
    ]),
  );
  if (networks.length > 0)
    out += `\n${table(
      ["NETWORK", "STATE", "DRIVER", "SCOPE", "IN USE", "MESSAGE"],
      networks.map((n) => [
        n.name,
        n.state,
        n.driver,
        n.scope ?? "-",
        n.inUse ? n.usedBy.join(" ") : "no",
        n.message ?? "",
      ]),
    )}`;
  return out;
}

/**
 * The status `berth status --target swarm` and `berth get --target swarm` print: a running swarm
 * controller's when one with this --id answers at --server (its failures and last task errors are
 * the freshest), else a pass of its own that changes nothing.
 */
export async function swarmStatusReport(
  config: Config,
  log: Logger,
  output: OutputFormat | undefined,
  server: string,
  io: CliIO,
): Promise<SwarmReport> {
  const live = await liveSwarmStatus(server, config.controllerId);
  if (live && !isData(output)) io.err(printable(liveFrom(live)) + "\n");
  if (live) return printableDeep(live.report);
  const result = await createSwarm(config, { log }).reconciler.pass({ act: false });
  return printableDeep({
    specs: result.status,
    networks: result.networks,
    notes: swarmNoteLines(result).map((n) => n.slice(2)),
  });
}

/** `berth status --target swarm`. */
export async function swarmStatusCommand(
  config: Config,
  log: Logger,
  output: OutputFormat | undefined,
  server: string,
  io: CliIO,
) {
  const report = await swarmStatusReport(config, log, output, server, io);
  if (isData(output)) io.out(formatData(output, report));
  else {
    io.out(renderSwarmStatus(report.specs, report.networks) + renderSources(report.sources ?? [], systemClock.now()));
    for (const note of report.notes) io.out(`! ${note}\n`);
  }
  return EXIT.ok;
}

/** `berth get --target swarm NAME`: the service's status and its tasks, as `docker service ps` lists them. */
export function renderSwarmSpec(s: SwarmSpecStatus, now: number): string {
  let out =
    detailLine("Name", s.name) +
    detailLine("Phase", s.phase) +
    detailLine("Message", s.message) +
    detailLine("File", s.file) +
    detailLine("Hash", s.hash) +
    detailLine("Service", s.serviceId) +
    (s.canaryServiceId !== null ? detailLine("Canaries", `${canaryName(s.name)} (${s.canaryServiceId})`) : "") +
    detailLine("Replicas", `${s.running}/${s.desired} running, ${s.updated} up to date${s.global ? " (global)" : ""}`) +
    detailLine("Expires", s.expiresAt ?? "never") +
    (s.lastError ? detailLine("Last error", s.lastError) : "");
  if (s.tasks.length === 0) return out;
  out += "Tasks:\n";
  out += table(
    ["  TASK", "ID", "NODE", "DESIRED", "STATE", "UP TO DATE", "SINCE", "ERROR"],
    s.tasks.map((t, i) => {
      const service = taskService(s.name, t);
      const name = t.slot !== null ? `${service}.${t.slot}` : service;
      const prev = s.tasks[i - 1];
      // An older task of the same slot (a global service's: of the same node), as docker service ps marks it.
      const older =
        prev !== undefined &&
        prev.canary === t.canary &&
        prev.slot === t.slot &&
        (t.slot !== null || prev.node === t.node);
      return [
        older ? `   \\_ ${name}` : `  ${name}`,
        t.id.slice(0, 12),
        t.node || "-",
        t.desiredState,
        t.state,
        // Of the spec's version (Swarm's word on its service's spec): no for an older version's
        // task, and for those updatePartition holds back.
        t.outdated === true ? "no" : "yes",
        t.since === null ? "-" : `${age(Date.parse(t.since), now)} ago`,
        t.error ?? "",
      ];
    }),
  );
  return out;
}

/** How soon `run` looks again after a pass that changed something, or saw a service settling. */
const FOLLOW_UP_MS = 1_000;
/** The longest wait between looks at a service that settles (loop/swarm-wake.ts, SettleBackoff). */
const SETTLE_MAX_MS = 30_000;

/** How often apply looks again while services converge: Swarm reports through its task list. */
const APPLY_POLL_MS = 500;

export async function swarmApply(
  config: Config,
  log: Logger,
  wait: ApplyWait,
  io: CliIO,
  /** Under --ha: the lease this apply holds (cli/ha.ts withLease); its writes pass the fence. */
  leadership?: Leadership,
): Promise<number> {
  const mark = io.isTTY ? { ok: "\u2713", failed: "\u2717" } : { ok: "ok", failed: "failed" };
  const report = (rendered: string, error: Error | null, durationMs: number): void => {
    const line = `${error ? mark.failed : mark.ok} ${rendered} (${formatDurationMs(durationMs)})`;
    io.out(error ? `${line}\n    ${error.message}\n` : `${line}\n`);
  };
  const { reconciler } = createSwarm(
    config,
    {
      log,
      onAction: (action: SwarmAction, error, durationMs) => {
        report(renderSwarmAction(action), error, durationMs);
      },
      onObjectAction: (action, error, durationMs) => {
        report(renderAction(action), error, durationMs);
      },
      ...(leadership ? { leadership } : {}),
    },
    "create",
  );
  const deadline = systemClock.now() + wait.timeoutMs;
  let first = true;
  // --stable-for: when the specs first converged; the tasks must then stay up that long.
  let convergedAt: number | null = null;
  for (;;) {
    const result = await reconciler.pass({ act: true });
    if (first) for (const e of problems(result)) io.err(`${e}\n`);
    first = false;
    const broken = result.status.filter((s) => BROKEN.has(s.phase)).length;
    const open = result.status.filter((s) => !SETTLED.has(s.phase) && !BROKEN.has(s.phase)).length;
    const changes = result.plan.actions.length + result.networkPlan.actions.length;
    const exits =
      wait.stableForMs > 0
        ? swarmExits(result.status, longRunningSpecs(result.snapshot.input.desired), wait.since)
        : [];
    const converged = changes === 0 && open === 0;
    if (converged && wait.stableForMs > 0 && convergedAt === null && exits.length === 0) {
      convergedAt = systemClock.now();
      io.out(`converged; waiting ${formatDurationMs(wait.stableForMs)} for every task to stay up (--stable-for)\n`);
    }
    const stable = convergedAt === null || systemClock.now() - convergedAt >= wait.stableForMs;
    const done = (converged && stable) || exits.length > 0;
    if (done || systemClock.now() >= deadline) {
      if (!done) io.err(`berth apply: not converged after ${formatDurationMs(wait.timeoutMs)}\n`);
      io.out(`\n${renderSwarmStatus(result.status, result.networks)}`);
      if (exits.length > 0 || (converged && !stable)) {
        const shown = distinctExits(exits);
        for (const e of shown) io.out(`${mark.failed} ${renderExit(e)}\n`);
        const why = shown.length > 0 ? `${shown.length} task(s) ended since apply began` : "--timeout passed first";
        io.out(`not stable for ${formatDurationMs(wait.stableForMs)}: ${why}\n`);
        return EXIT.failed;
      }
      const outcome = { failed: broken, pending: open + changes, problems: problems(result).length };
      if (done && isConverged(outcome)) {
        io.out("converged\n");
        return EXIT.ok;
      }
      io.out(notConverged(outcome));
      return EXIT.failed;
    }
    await new Promise<void>((resolve) => systemClock.at(systemClock.now() + APPLY_POLL_MS, resolve));
  }
}

/**
 * The controller under swarm: a pass at start (after the first fetch of each Git source), at every
 * spec change (the watch, the API's writes), at every new revision, at every event of one of its
 * services, while a service settles, at every resync and at the next expiry; passes never
 * overlap. With --listen, the HTTP API (docs/swarm.md, "HTTP API") serves the last pass's status,
 * the events, the metrics and the spec writes. Ends at SIGTERM/SIGINT after the pass in flight.
 * Under --ha (`join`), only a leader's pass acts; a standby's plans and reports, and a new leader
 * passes at once.
 */
export async function swarmRun(
  config: Config,
  log: Logger,
  signals: (handler: (signal: string) => void) => () => void,
  lock: { setListen(address: string): void } | null,
  /** The HTTP edge, handed in by `run` so that plan, apply and status never load fastify. */
  http: NonNullable<AppDeps["http"]>,
  /** The Git sources' credentials and webhook secret (cli/commands/run.ts, readGitSecrets). */
  gitSecrets: GitSecrets,
  /** Under --ha: joins the id's group (cli/ha.ts participate), told of every change of role. */
  join?: (onRole: (role: Role) => void) => Promise<Participation>,
): Promise<number> {
  const wake = new SwarmWake(systemClock);
  const poke = (): void => {
    wake.request();
  };
  const group = join
    ? await join((role) => {
        if (role === "leader") poke();
      })
    : null;
  const leadership = group?.leadership;
  // Under --ha each change is logged with its term (docs/reliability.md, fencing numbers).
  const term = (): { term?: number | null } => (leadership ? { term: leadership.currentTerm() } : {});
  const git = gitCheckouts(config, await resolveStateDir(config.stateDir), gitSecrets);
  const app = createSwarm(
    config,
    {
      log,
      version: VERSION,
      http,
      ...git.deps,
      onGitRevision: poke,
      onSpecWritten: poke,
      onAction: (action, error, durationMs) => {
        if (error) return;
        log.info(
          {
            spec: action.spec,
            action: action.kind,
            reason: action.reason,
            ...("canary" in action && action.canary === true ? { service: canaryName(action.spec) } : {}),
            durationMs,
            ...term(),
          },
          "service changed",
        );
      },
      onObjectAction: (action, error, durationMs) => {
        if (error) return;
        log.info(
          { object: action.spec, action: action.kind, reason: action.reason, durationMs, ...term() },
          "network changed",
        );
      },
      ...(leadership ? { leadership } : {}),
    },
    "create",
  );
  const { reconciler } = app;
  let stopping = false;
  let signalled: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (signalled = resolve));
  const unsubscribe = signals(() => {
    stopping = true;
    signalled();
    poke();
  });
  const watcher = watchSpecDirs(app.config.specDirs, poke, { clock: systemClock, debounceMs: 50, log });
  const serviceEvents = watchServiceEvents({
    docker: app.docker,
    clock: systemClock,
    log,
    backoff: RECONNECT_BACKOFF,
    watched: () => reconciler.watchedServices,
    onChange: poke,
    onReconnected: () => app.metrics?.eventsReconnected(),
  });
  const resyncMs = config.resync.kind === "every" ? config.resync.ms : 30_000;
  const settling = new SettleBackoff(FOLLOW_UP_MS, Math.min(resyncMs, SETTLE_MAX_MS));
  const notes = new ReportOnce();
  if (app.server && config.listen) {
    await listenApi(app.server, config, config.listen, lock, leadership, log);
  }
  if (leadership) {
    // The first try at the lease before the first pass: a berth that can lead at once does.
    await leadership.start();
  }
  log.info({ target: "swarm", id: config.controllerId }, "controller started");
  try {
    await git.firstFetch(app.gitSources, stopped);
    while (!stopping) {
      wake.passing();
      let nextWakeAt: number | null = null;
      try {
        // A standby plans without acting (its status and metrics stay current); the fence stops
        // any write of a leader whose lease lapses during its pass.
        const act = leadership?.mayWrite() ?? true;
        const result = await reconciler.pass({ act });
        app.passed(result);
        nextWakeAt = result.plan.nextWakeAt;
        // What a pass changed may need a next step (a rotated secret goes once no service uses it):
        // look again soon, unless something failed (that waits for the resync, not a tight loop).
        if (act && result.plan.actions.length > 0 && result.failed === 0) nextWakeAt = systemClock.now() + FOLLOW_UP_MS;
        // A service whose tasks are not all running yet, or that rolls: look again soon, less often as it lasts.
        const settleMs = settling.after(result.status.some((s) => s.phase === "Pending" || s.phase === "Updating"));
        if (settleMs !== null)
          nextWakeAt = Math.min(nextWakeAt ?? Number.POSITIVE_INFINITY, systemClock.now() + settleMs);
        // Each note once while it holds, as the engine target's; a partition is information.
        notes.round(
          swarmNotes(result),
          (n) => n.line,
          (n) => {
            log[n.info ? "info" : "warn"]({ note: n.line.slice(2) }, "plan note");
          },
        );
      } catch (raw) {
        const err = raw instanceof Error ? raw : new Error(String(raw));
        app.failed(err);
        log.error({ err }, "reconcile pass failed");
      }
      if (stopping) break;
      await wake.until(Math.min(systemClock.now() + resyncMs, nextWakeAt ?? Number.POSITIVE_INFINITY));
    }
  } finally {
    app.gitSources?.stop();
    unsubscribe();
    // Stop listening; requests still open are cut (a pass in flight has ended).
    const serverClosed = app.server?.close();
    app.server?.server.closeAllConnections();
    await serverClosed;
    serviceEvents.close();
    await watcher.close();
    // Nothing writes any more: let go of the lease, so that a standby takes over at once.
    await group?.stop();
  }
  log.info({}, "controller stopped");
  return EXIT.ok;
}
