/**
 * `plan`, `apply`, `status` and `run` under `--target swarm` (docs/swarm.md): the same commands,
 * exit codes and output shapes as the engine target's, over the swarm pass (loop/swarm-reconciler.ts).
 */
import type { Logger } from "pino";
import { createSwarm } from "../app.js";
import type { Config } from "../config.js";
import { formatIssue } from "../core/errors.js";
import { renderAction, renderNote } from "../core/plan/render.js";
import { renderSwarmAction, renderSwarmChanges, renderSwarmNote, type SwarmAction } from "../core/swarm-plan.js";
import type { SwarmSpecStatus } from "../core/swarm-status.js";
import { formatDurationMs } from "../core/units.js";
import { watchSpecDirs } from "../host/watcher.js";
import type { SwarmPassResult } from "../loop/swarm-reconciler.js";
import { systemClock } from "../util/clock.js";
import { type CliIO, EXIT } from "./io.js";
import type { OutputFormat } from "./options.js";
import { formatData, isData } from "./output.js";
import { table } from "./table.js";

/** Phases that are done: nothing more will happen without a change. */
const SETTLED = new Set(["Running", "Suspended", "Expired"]);
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
  const { actions, notes } = result.plan;
  const network = result.networkPlan;
  const lines = [...network.notes.map(renderNote), ...notes.map(renderSwarmNote)];
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
    io.out(changes === 0 ? "nothing to do\n" : `${changes} change${changes === 1 ? "" : "s"} pending\n`);
  }
  if (errors.length > 0) return EXIT.failed;
  return changes > 0 ? EXIT.changes : EXIT.ok;
}

export function renderSwarmStatus(rows: readonly SwarmSpecStatus[]): string {
  return table(
    ["SPEC", "PHASE", "REPLICAS", "NODES", "MESSAGE"],
    rows.map((r) => [
      r.name,
      r.phase,
      `${r.running}/${r.desired}`,
      r.nodes.join(",") || "-",
      r.lastError !== null && r.phase !== "Running" ? `${r.message}; last task error: ${r.lastError}` : r.message,
    ]),
  );
}

export async function swarmStatusCommand(config: Config, log: Logger, output: OutputFormat | undefined, io: CliIO) {
  const result = await createSwarm(config, { log }).reconciler.pass({ act: false });
  io.out(isData(output) ? formatData(output, { specs: result.status }) : renderSwarmStatus(result.status));
  return EXIT.ok;
}

/** How soon `run` looks again after a pass that changed something. */
const FOLLOW_UP_MS = 1_000;

/** How often apply looks again while services converge: Swarm reports through its task list. */
const APPLY_POLL_MS = 500;

export async function swarmApply(config: Config, log: Logger, timeoutMs: number, io: CliIO): Promise<number> {
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
    },
    "create",
  );
  const deadline = systemClock.now() + timeoutMs;
  let first = true;
  for (;;) {
    const result = await reconciler.pass({ act: true });
    if (first) for (const e of problems(result)) io.err(`${e}\n`);
    first = false;
    const broken = result.status.filter((s) => BROKEN.has(s.phase)).length;
    const open = result.status.filter((s) => !SETTLED.has(s.phase) && !BROKEN.has(s.phase)).length;
    const changes = result.plan.actions.length + result.networkPlan.actions.length;
    const done = changes === 0 && open === 0;
    if (done || systemClock.now() >= deadline) {
      if (!done) io.err(`berth apply: not converged after ${formatDurationMs(timeoutMs)}\n`);
      io.out(`\n${renderSwarmStatus(result.status)}`);
      if (done && broken === 0 && problems(result).length === 0) {
        io.out("converged\n");
        return EXIT.ok;
      }
      io.out(`not converged: ${broken} spec(s) failed, ${open + changes} change(s) left\n`);
      return EXIT.failed;
    }
    await new Promise<void>((resolve) => systemClock.at(systemClock.now() + APPLY_POLL_MS, resolve));
  }
}

/**
 * The controller under swarm: a pass at start, at every spec change (the watch), at every resync
 * and at the next expiry; passes never overlap. Ends at SIGTERM/SIGINT after the pass in flight.
 */
export async function swarmRun(
  config: Config,
  log: Logger,
  signals: (handler: (signal: string) => void) => () => void,
): Promise<number> {
  const { reconciler } = createSwarm(
    config,
    {
      log,
      onAction: (action, error, durationMs) => {
        if (error) return;
        log.info({ spec: action.spec, action: action.kind, reason: action.reason, durationMs }, "service changed");
      },
      onObjectAction: (action, error, durationMs) => {
        if (error) return;
        log.info({ object: action.spec, action: action.kind, reason: action.reason, durationMs }, "network changed");
      },
    },
    "create",
  );
  let wake: () => void = () => undefined;
  let stopping = false;
  const poke = (): void => {
    wake();
  };
  const unsubscribe = signals(() => {
    stopping = true;
    poke();
  });
  const watcher = watchSpecDirs(config.specDirs, poke, { clock: systemClock, debounceMs: 50, log });
  const resyncMs = config.resync.kind === "every" ? config.resync.ms : 30_000;
  log.info({ target: "swarm", id: config.controllerId }, "controller started");
  try {
    while (!stopping) {
      let nextWakeAt: number | null = null;
      try {
        const result = await reconciler.pass({ act: true });
        nextWakeAt = result.plan.nextWakeAt;
        // What a pass changed may need a next step (a rotated secret goes once no service uses it):
        // look again soon, unless something failed (that waits for the resync, not a tight loop).
        if (result.plan.actions.length > 0 && result.failed === 0) nextWakeAt = systemClock.now() + FOLLOW_UP_MS;
        for (const n of result.plan.notes) log.warn({ note: renderSwarmNote(n).slice(2) }, "plan note");
        for (const n of result.networkPlan.notes) log.warn({ note: renderNote(n).slice(2) }, "plan note");
      } catch (err) {
        log.error({ err }, "reconcile pass failed");
      }
      if (stopping) break;
      const now = systemClock.now();
      const at = Math.min(now + resyncMs, nextWakeAt ?? Number.POSITIVE_INFINITY);
      await new Promise<void>((resolve) => {
        const timer = systemClock.at(at, resolve);
        wake = () => {
          timer.cancel();
          resolve();
        };
      });
    }
  } finally {
    unsubscribe();
    await watcher.close();
  }
  log.info({}, "controller stopped");
  return EXIT.ok;
}
