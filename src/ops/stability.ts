/**
 * `berth apply --stable-for`: converged only once the containers of every long-running spec
 * (restartPolicy Always) have stayed up that long. A container of one that exits after apply
 * began (a crash at start, or a minute in) fails the apply, as an exited container fails Compose's
 * `up --wait` and a crash restarts Kubernetes' minReadySeconds. Runs (OnFailure, Never) are
 * left to their own phases: their containers are meant to exit. Pure: no I/O.
 */
import type { ObservedContainer } from "../core/observed.js";
import type { NormalizedSpec } from "../core/spec.js";
import type { StatusReport } from "../core/status.js";
import { ENDED_TASK_STATES, type SwarmSpecStatus, taskService } from "../core/swarm-status.js";
import { formatTime } from "../core/units.js";

/** An exit that makes a spec unstable: a container's (engine) or a task's (swarm). */
export interface UnstableExit {
  readonly spec: string;
  /** The container's name, or the task's as `docker service ps` shows it (`web.1`). */
  readonly name: string;
  /** What it is doing now: the container's state, or the task's. */
  readonly state: string;
  readonly exitCode: number | null;
  /** When it exited (epoch ms); null when not known. */
  readonly at: number | null;
  /** The engine's restarts of it, when known. */
  readonly restarts: number | null;
  /** The task's error, under swarm; null otherwise. */
  readonly error: string | null;
}

/** The specs whose containers are meant to keep running. */
export function longRunningSpecs(desired: readonly { readonly spec: NormalizedSpec }[]): ReadonlySet<string> {
  return new Set(desired.filter((d) => d.spec.restartPolicy === "Always").map((d) => d.spec.name));
}

/**
 * From a pass's status: current containers of long-running specs that the engine is restarting,
 * or that exited at or after `since` (known where berth inspected them: after a `die` event).
 */
export function statusExits(report: StatusReport, longRunning: ReadonlySet<string>, since: number): UnstableExit[] {
  const exits: UnstableExit[] = [];
  for (const spec of report.specs) {
    if (!longRunning.has(spec.name)) continue;
    for (const c of spec.containers) {
      if (!c.current || c.collected) continue;
      const at = c.lastExit ? Date.parse(c.lastExit.at) : null;
      if (c.state !== "restarting" && (at === null || at < since)) continue;
      exits.push({
        spec: spec.name,
        name: c.name,
        state: c.state,
        exitCode: c.lastExit?.exitCode ?? null,
        at,
        restarts: c.restarts,
        error: null,
      });
    }
  }
  return exits;
}

/**
 * From inspects of a long-running spec's current containers, at the end of the wait: any not
 * running, or whose last exit came at or after `since`. `told` is what the status knew of each
 * (by name): an inspect of a container running again reads no exit code, its `die` event told it.
 */
export function inspectedExits(
  spec: string,
  containers: readonly ObservedContainer[],
  since: number,
  told: ReadonlyMap<string, UnstableExit> = new Map(),
): UnstableExit[] {
  const exits: UnstableExit[] = [];
  for (const c of containers) {
    const exit = c.run?.lastExit ?? null;
    const recent = exit !== null && exit.at >= since;
    if (c.state === "running" && !recent) continue;
    const known = told.get(c.name);
    const code = exit?.code ?? (known && known.at === exit?.at ? known.exitCode : null);
    exits.push({
      spec,
      name: c.name,
      state: c.state,
      exitCode: code,
      at: exit?.at ?? null,
      restarts: c.run?.restartCount ?? null,
      error: null,
    });
  }
  return exits;
}

/** From a swarm pass's status: tasks of long-running specs that ended at or after `since`. */
export function swarmExits(
  status: readonly SwarmSpecStatus[],
  longRunning: ReadonlySet<string>,
  since: number,
): UnstableExit[] {
  const exits: UnstableExit[] = [];
  for (const spec of status) {
    if (!longRunning.has(spec.name)) continue;
    for (const t of spec.tasks) {
      const at = t.since === null ? null : Date.parse(t.since);
      if (!ENDED_TASK_STATES.has(t.state) || at === null || at < since) continue;
      exits.push({
        spec: spec.name,
        name: `${taskService(spec.name, t)}.${t.slot ?? t.node}`,
        state: t.state,
        exitCode: null,
        at,
        restarts: null,
        error: t.error ?? "",
      });
    }
  }
  return exits;
}

/** One line: `web-1 exited with code 3 at T, restarting (2 restarts)`. */
export function renderExit(e: UnstableExit): string {
  const when = e.at === null ? "" : ` at ${formatTime(e.at)}`;
  if (e.error !== null) {
    const what = e.state === "complete" ? "exited with code 0" : e.state;
    return `task ${e.name} ${what}${when}${e.error === "" ? "" : `: ${e.error}`}`;
  }
  const code = e.exitCode === null ? "" : ` with code ${e.exitCode}`;
  const exited = e.at === null ? `${e.name} is ${e.state}` : `${e.name} exited${code}${when}`;
  const now =
    e.at === null || e.state === "exited" ? "" : e.state === "running" ? ", running again" : `, ${e.state} now`;
  const restarts = e.restarts === null ? "" : ` (${e.restarts} restart${e.restarts === 1 ? "" : "s"})`;
  return `${exited}${now}${restarts}`;
}

/** The exits, each container once (the first seen), in a stable order. */
export function distinctExits(exits: readonly UnstableExit[]): UnstableExit[] {
  const seen = new Map<string, UnstableExit>();
  for (const e of exits) if (!seen.has(e.name)) seen.set(e.name, e);
  return [...seen.values()].sort((a, b) => a.spec.localeCompare(b.spec) || a.name.localeCompare(b.name));
}
