/**
 * `berth apply`: converge once, showing each operation as it completes, then exit: 0 when every
 * spec converged, 1 when any failed (invalid, conflict, or still failing after its retries) or a
 * spec file did not load.
 */
import { type Command, Option } from "commander";
import { type App, createApp } from "../../app.js";
import type { Config, RawOptions } from "../../config.js";
import { BerthError, formatIssue } from "../../core/errors.js";
import { renderAction } from "../../core/plan/render.js";
import { formatDurationMs, isParseError, parseTimerMs } from "../../core/units.js";
import type { PassResult } from "../../loop/reconciler.js";
import type { Leadership } from "../../loop/leadership.js";
import { type ApplyWait, applyDone, applyOutcome, isConverged, notConverged } from "../../ops/apply.js";
import { distinctExits, longRunningSpecs, renderExit, statusExits, type UnstableExit } from "../../ops/stability.js";
import { inspectExits } from "../../ops/stable-for.js";
import { DockerError } from "../../docker/errors.js";
import { APPLY_DEADLINE } from "../../docker/engine-message.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import { PROGRESS_MODES, type ProgressMode, ProgressView, shownMode } from "../progress-view.js";
import { systemClock } from "../../util/clock.js";
import { useColor } from "../../util/log.js";
import { withHostLockAlone, withLease } from "../ha.js";
import {
  addCommonOptions,
  addExamples,
  addHaOptions,
  addReconcileOptions,
  addTargetOption,
  GROUPS,
} from "../options.js";
import { setup, verdictsFor } from "../setup.js";
import { swarmApply } from "../swarm.js";
import { renderStatus } from "../status-view.js";
import type { Logger } from "pino";

type ApplyOptions = RawOptions & { timeout?: string; stableFor?: string; progress?: ProgressMode };

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("apply")
    .description(
      "Converge once, showing each operation, then exit: 0 when converged, 1 when any spec failed or a spec file does not load.",
    );
  addTargetOption(addReconcileOptions(addCommonOptions(command, { positional: true })))
    .addOption(
      new Option("--timeout <duration>", "give up after this long")
        .env("BERTH_APPLY_TIMEOUT")
        .default("5m")
        .helpGroup(GROUPS.reconcile),
    )
    .addOption(
      new Option(
        "--stable-for <duration>",
        "converged only once every long-running container has stayed up this long: one that exits after apply began fails it (a crash at start)",
      )
        .env("BERTH_STABLE_FOR")
        .helpGroup(GROUPS.reconcile),
    )
    .addOption(
      new Option(
        "--progress <mode>",
        "image pulls and builds as they happen, on stderr: auto (tty on a terminal, else plain; quiet with --log-format json), tty, plain or quiet",
      )
        .env("BERTH_PROGRESS")
        .choices(PROGRESS_MODES)
        .default("auto")
        .helpGroup(GROUPS.output),
    );
  addHaOptions(command, { oneShot: true });
  addExamples(command, [
    { command: "berth apply", what: "converge ./specs once, then exit" },
    {
      command: "berth apply -f specs/ --id ci --timeout 2m --stable-for 10s --progress plain",
      what: "in CI: one controller id, a shorter deadline, fail on a container that crashes within 10 s, a line per pull step",
    },
    { command: "berth apply -f - < web.yaml", what: "a spec from the standard input" },
  ]).action(async (_paths: string[], opts: ApplyOptions) => {
    setExit(await apply(opts, io));
  });
}

async function apply(raw: ApplyOptions, io: CliIO): Promise<number> {
  // apply reports spec problems and failed operations itself; its log adds only errors.
  const { config, log } = setup(raw, { level: "error", fd: 2 });
  const timeoutMs = raw.timeout === undefined ? 5 * 60_000 : parseTimerMs(raw.timeout);
  if (isParseError(timeoutMs)) throw BerthError.usage(`--timeout: ${timeoutMs.error}`);
  const stableForMs = raw.stableFor === undefined ? 0 : parseTimerMs(raw.stableFor);
  if (isParseError(stableForMs)) throw BerthError.usage(`--stable-for: ${stableForMs.error}`);
  if (stableForMs >= timeoutMs)
    throw BerthError.usage(
      `--stable-for ${raw.stableFor ?? ""} is not shorter than --timeout ${raw.timeout ?? "5m"}: apply could never see it`,
    );
  const wait = { timeoutMs, stableForMs, since: Date.now() };
  const progress = (): ProgressView | null => progressView(raw.progress ?? "auto", config, io);
  // With --ha: one more participant of the id's group, writing only while it holds the lease (cli/ha.ts).
  if (config.ha) {
    return withLease(config, config.ha, log, "apply", (leadership) =>
      config.target === "swarm"
        ? swarmApply(config, log, wait, io, leadership)
        : applyLocked(config, log, wait, io, progress(), leadership),
    );
  }
  // One controller per id on this host (host/lock.ts): apply acts as the controller does.
  return withHostLockAlone(config, "apply", () =>
    config.target === "swarm"
      ? swarmApply(config, log, wait, io)
      : applyLocked(config, log, wait, io, progress(), null),
  );
}

/** After its deadline, how long apply lets the controller stop before it leaves calls in flight behind. */
const STOP_GRACE_MS = 500;

/** The progress view --progress asks for on this stderr, or null (quiet). */
function progressView(mode: ProgressMode, config: Config, io: CliIO): ProgressView | null {
  const stderrTTY = io.errIsTTY ?? false;
  const shown = shownMode(mode, { stderrTTY, logFormat: config.logFormat, term: io.env.TERM });
  if (shown === "quiet") return null;
  return new ProgressView({
    mode: shown,
    write: (text) => {
      io.err(text);
    },
    clock: systemClock,
    // A pseudo-terminal without a size (under `script` with no terminal) says 0 columns.
    columns: () => {
      const columns = io.errColumns?.() ?? 0;
      return columns > 0 ? columns : 80;
    },
    color: useColor(io.env, stderrTTY),
  });
}

async function applyLocked(
  config: Config,
  log: Logger,
  wait: ApplyWait,
  io: CliIO,
  progress: ProgressView | null,
  leadership: Leadership | null,
): Promise<number> {
  const { timeoutMs } = wait;
  const mark = io.isTTY ? { ok: "\u2713", failed: "\u2717" } : { ok: "ok", failed: "failed" };
  let finish: (result: PassResult) => void = () => undefined;
  const done = new Promise<PassResult>((resolve) => {
    finish = resolve;
  });
  // --stable-for: a long-running container that exits after apply began ends the wait at once.
  let crash: (seen: Unstable) => void = () => undefined;
  const crashed = new Promise<Unstable>((resolve) => {
    crash = resolve;
  });
  let first = true;
  let lastFailure: Error | null = null;
  // Other output goes above the live progress block.
  const above = (spec: string | null, ok: boolean, write: () => void): void => {
    if (progress) progress.above(spec, ok, write);
    else write();
  };
  const app = createApp(config, {
    log,
    ...(leadership ? { leadership } : {}),
    ...verdictsFor(io, config.specDirs),
    // apply ends when converged: a periodic resync never comes due.
    scheduleResync: () => ({ stop: () => undefined }),
    hooks: {
      onAction: (action, error, durationMs) => {
        const line = `${error ? mark.failed : mark.ok} ${renderAction(action)} (${formatDurationMs(durationMs)})`;
        const write = (): void => {
          io.out(error ? `${line}\n    ${error.message}\n` : `${line}\n`);
        };
        above(action.spec, error === null, write);
      },
      ...(progress ? { onImage: progress.onImage } : {}),
      onPass: (result) => {
        // The first pass's spec problems, before any progress (the pass has just dispatched).
        if (first) {
          const issues = result.snapshot.issues.map((issue) => `${formatIssue(issue)}\n`).join("");
          if (issues !== "")
            above(null, true, () => {
              io.err(issues);
            });
        }
        first = false;
        lastFailure = null;
        if (wait.stableForMs > 0) {
          const exits = statusExits(result.report, longRunningSpecs(result.snapshot.input.desired), wait.since);
          if (exits.length > 0) crash({ result, exits });
        }
        if (applyDone(result)) finish(result);
      },
      onPassFailed: (err) => {
        lastFailure = err;
      },
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      resolve("timeout");
    }, timeoutMs);
  });
  let last: PassResult;
  let unstable: readonly UnstableExit[] = [];
  let stableTimedOut = false;
  try {
    // Is there an engine at all? No socket, no permission, no engine or no answer is said at
    // once, in one line, rather than retried until --timeout.
    const ping = app.docker.ping();
    ping.catch(() => undefined);
    if ((await Promise.race([ping, timedOut])) === "timeout") throw noPass(timeoutMs, lastFailure);
    const outcome = await Promise.race([app.controller.start().then(() => done), timedOut, crashed]);
    if (outcome === "timeout") {
      const seen = app.controller.last;
      if (!seen) throw noPass(timeoutMs, lastFailure);
      // A pass that failed since the last good one (the engine went away) is the reason.
      const why = lastFailure === null ? "" : `: ${(lastFailure as Error).message}`;
      io.err(`berth apply: not converged after ${formatDurationMs(timeoutMs)}${why}\n`);
      last = seen;
    } else if ("exits" in outcome) {
      ({ result: last, exits: unstable } = outcome);
    } else {
      last = outcome;
      if (wait.stableForMs > 0 && isConverged(applyOutcome(last))) {
        io.out(
          `converged; waiting ${formatDurationMs(wait.stableForMs)} for every container to stay up (--stable-for)\n`,
        );
        const watched = await Promise.race([stayedUp(app, wait), crashed, timedOut]);
        if (watched === "timeout") {
          io.err(`berth apply: --timeout ${formatDurationMs(timeoutMs)} passed within --stable-for\n`);
          stableTimedOut = true;
          last = app.controller.last ?? last;
        } else {
          ({ result: last, exits: unstable } = watched);
        }
      }
    }
  } finally {
    clearTimeout(timer);
    progress?.close();
    // Calls still waiting on the engine are left behind (the process ends): the next pass, of
    // apply or the controller, finishes whatever they leave half done.
    // Before any pass, nothing was dispatched: nothing to wait for.
    await Promise.race([app.controller.stop(), delay(app.controller.last ? STOP_GRACE_MS : 0)]);
  }
  io.out(`\n${renderStatus(last.report, Date.now())}`);
  const outcome = applyOutcome(last);
  if (unstable.length > 0 || stableTimedOut) {
    const exits = distinctExits(unstable);
    for (const e of exits) io.out(`${mark.failed} ${renderExit(e)}\n`);
    const why = stableTimedOut ? "--timeout passed first" : `${exits.length} container(s) exited since apply began`;
    io.out(`not stable for ${formatDurationMs(wait.stableForMs)}: ${why}\n`);
    return EXIT.failed;
  }
  if (isConverged(outcome)) {
    io.out("converged\n");
    return EXIT.ok;
  }
  io.out(notConverged(outcome));
  return EXIT.failed;
}

/** --timeout passed before any pass finished: the last pass's error, or the engine's silence. */
function noPass(timeoutMs: number, lastFailure: Error | null): Error {
  return (
    lastFailure ??
    new DockerError(
      "timeout",
      APPLY_DEADLINE,
      `berth apply: no answer within ${formatDurationMs(timeoutMs)}`,
      undefined,
      {
        timeoutMs,
      },
    )
  );
}

/** A pass, and the exits that make it unstable (--stable-for). */
interface Unstable {
  readonly result: PassResult;
  readonly exits: readonly UnstableExit[];
}

/** --stable-for, once converged: after the wait, the exits the inspects find. */
async function stayedUp(app: App, wait: ApplyWait): Promise<Unstable> {
  await new Promise<void>((resolve) => setTimeout(resolve, wait.stableForMs));
  const result = app.controller.last;
  if (!result) throw new Error("apply: no pass before --stable-for");
  return { result, exits: await inspectExits(app.docker, result, wait.since) };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
