/**
 * `berth apply`: converge once, showing each operation as it completes, then exit: 0 when every
 * spec converged, 1 when any failed (invalid, conflict, or still failing after its retries).
 */
import { createApp } from "../../app.js";
import type { RawOptions } from "../../config.js";
import { BerthError, formatIssue } from "../../core/errors.js";
import { renderAction } from "../../core/plan/render.js";
import type { PassResult } from "../../loop/reconciler.js";
import { formatDurationMs, isParseError, parseDurationMs } from "../../core/units.js";
import { EXIT, type CliIO } from "../io.js";
import { setup } from "../setup.js";
import { renderStatus } from "../status-view.js";

/** Failed attempts of one spec after which apply stops waiting for it. */
export const APPLY_MAX_ATTEMPTS = 3;

const FAILED_PHASES = new Set(["Failed", "Invalid", "Conflict"]);

export async function applyCommand(raw: RawOptions & { timeout?: string }, io: CliIO): Promise<number> {
  // apply reports spec problems and failed operations itself; its log adds only errors.
  const { config, log } = setup(raw, { level: "error", fd: 2 });
  const mark = io.isTTY ? { ok: "\u2713", failed: "\u2717" } : { ok: "ok", failed: "failed" };
  let finish: (result: PassResult) => void = () => undefined;
  const done = new Promise<PassResult>((resolve) => {
    finish = resolve;
  });
  let first = true;
  const app = createApp(config, {
    log,
    // apply ends when converged: a periodic resync never comes due.
    scheduleResync: () => ({ stop: () => undefined }),
    onAction: (action, error, durationMs) => {
      const line = `${error ? mark.failed : mark.ok} ${renderAction(action)} (${formatDurationMs(durationMs)})`;
      io.out(error ? `${line}\n    ${error.message}\n` : `${line}\n`);
    },
    onPass: (result) => {
      // The first pass's spec problems, before any progress (the pass has just dispatched).
      if (first) for (const issue of result.snapshot.issues) io.err(`${formatIssue(issue)}\n`);
      first = false;
      if (app.dispatcher.busyCount > 0 || result.started.length > 0) return;
      const stuck = result.waiting.every(
        (w) =>
          w.why === "terminal" ||
          (w.why === "backoff" && (app.dispatcher.runtimeOf(w.spec)?.attempts ?? 0) >= APPLY_MAX_ATTEMPTS),
      );
      // Converged means running (and healthy): wait while a spec is still Pending or Updating.
      const settling = result.report.specs.some((spec) => spec.phase === "Pending" || spec.phase === "Updating");
      if ((result.plan.actions.length === 0 && !settling) || (stuck && result.waiting.length > 0)) finish(result);
    },
  });
  const timeoutMs = raw.timeout === undefined ? 5 * 60_000 : parseDurationMs(raw.timeout);
  if (isParseError(timeoutMs)) throw new BerthError("BERTH_USAGE", `--timeout: ${timeoutMs.error}`);
  const timer = setTimeout(() => {
    io.err(`berth apply: not converged after ${formatDurationMs(timeoutMs)}\n`);
    const last = app.controller.last;
    if (last) finish(last);
  }, timeoutMs);
  await app.controller.start();
  const last = await done;
  clearTimeout(timer);
  await app.controller.stop();
  io.out(`\n${renderStatus(last.report, Date.now())}`);
  const failed = last.report.specs.filter((s) => FAILED_PHASES.has(s.phase));
  const pending =
    last.plan.actions.length + last.report.specs.filter((s) => s.phase === "Pending" || s.phase === "Updating").length;
  if (failed.length === 0 && pending === 0) {
    io.out("converged\n");
    return EXIT.ok;
  }
  io.out(`not converged: ${failed.length} spec(s) failed, ${pending} change(s) left\n`);
  return EXIT.failed;
}
