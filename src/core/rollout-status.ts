/**
 * `berth rollout status` (docs/cli.md): whether a spec's rollout is done, still under way, or
 * will not finish without a change, from one look at its status, as `kubectl rollout status`
 * reads a Deployment's. The version waited for is the spec's hash in the files the command read:
 * until the status carries that hash, the controller has not read the change yet (Kubernetes'
 * observedGeneration). Under swarm, Swarm's update state decides (its phase: Updating while
 * Swarm rolls the service, Failed once it paused the update). Pure.
 */
import { andList } from "./plan/render.js";
import { type ContainerStatus, isReplica, type Phase, type SpecStatus } from "./status.js";
import {
  ENDED_TASK_STATES,
  isWantedTask,
  taskService,
  type SwarmSpecStatus,
  type SwarmTaskStatus,
} from "./swarm-status.js";
import { formatDurationMs, formatTime } from "./units.js";

export type RolloutState =
  /** The version runs as declared (or is deliberately not running: suspended, expired). */
  | { readonly kind: "complete"; readonly line: string }
  /** Under way, or failing in a way that is retried. */
  | { readonly kind: "waiting"; readonly line: string }
  /** It will not finish without a change: held, refused, invalid, a run that failed. */
  | { readonly kind: "failed"; readonly line: string };

/**
 * Of a spec's status, what the rollout's state is read from (a live controller's or a pass's):
 * under the engine target its replicas (core/status.ts), under swarm its service's tasks
 * (core/swarm-status.ts; Swarm's own update state is in its phase).
 */
export type RolloutView = Pick<SpecStatus, "name" | "phase" | "message" | "hash" | "retryAt"> &
  (
    | { readonly replicas: SpecStatus["replicas"] }
    | { readonly tasks: { readonly running: number; readonly desired: number; readonly updated: number } }
  );

function counts(s: RolloutView): string {
  if ("tasks" in s) return `${s.tasks.updated} of ${s.tasks.desired} tasks updated, ${s.tasks.running} running`;
  const r = s.replicas;
  return `${r.updated} of ${r.desired} updated, ${r.ready} ready, ${r.available} available`;
}

/** A service's status as a rollout is read from it: its message only where it says more than its phase. */
export function swarmRolloutView(s: SwarmSpecStatus): RolloutView {
  return {
    name: s.name,
    phase: s.phase,
    // Running's message only counts tasks, but what an updatePartition holds back is worth saying.
    message: s.phase === "Running" ? (s.partition ?? null) : s.message,
    hash: s.hash,
    retryAt: null,
    tasks: { running: s.running, desired: s.desired, updated: s.updated },
  };
}

/**
 * The rollout of `name` as `status` shows it. `expectedHash`: the spec's hash in the files this
 * command read; null when they do not hold it (a controller reading a Git source): the status's
 * own version is then the one waited for.
 */
export function rolloutState(name: string, status: RolloutView | undefined, expectedHash: string | null): RolloutState {
  if (status === undefined)
    return expectedHash === null
      ? { kind: "failed", line: `${name}: no spec of that name` }
      : { kind: "waiting", line: `${name}: waiting for the controller to read it` };
  if (expectedHash !== null && status.hash !== expectedHash)
    return { kind: "waiting", line: `${name}: waiting for the controller to read its new version` };
  const why = status.message === null ? "" : `: ${status.message}`;
  switch (status.phase) {
    case "Running":
      // As far as an updatePartition lets it: the message names the replicas it keeps.
      return { kind: "complete", line: `${name}: rolled out: ${counts(status)}${why}` };
    case "Succeeded":
      return { kind: "complete", line: `${name}: rolled out: its run succeeded` };
    case "Suspended":
      return { kind: "complete", line: `${name}: suspended (spec.suspended): nothing of it runs` };
    case "Expired":
      return { kind: "complete", line: `${name}: expired (spec.expiresAt): its containers are reaped` };
    case "Pending":
    case "Updating":
      return { kind: "waiting", line: `${name}: waiting for the rollout: ${counts(status)}${why}` };
    case "Failed":
      // A failure retried with backoff may yet pass (a pull that failed, a port taken for now).
      return status.retryAt !== null
        ? { kind: "waiting", line: `${name}: waiting for the rollout: ${counts(status)}${why}` }
        : { kind: "failed", line: `${name}: rollout failed: ${counts(status)}${why}` };
    case "Invalid":
    case "Conflict":
      return { kind: "failed", line: `${name}: rollout failed (${status.phase})${why}` };
  }
}

/**
 * Whether `--stable-for` looks at a spec whose rollout is in this state: rolled out and Running;
 * under swarm also Pending, as a service is while Swarm replaces a task that ended (a restart).
 */
export function judgedForStability(state: RolloutState, phase: Phase | null, target: "engine" | "swarm"): boolean {
  if (state.kind === "complete") return phase === "Running";
  return target === "swarm" && state.kind === "waiting" && phase === "Pending";
}

/** A rollout's state once its version's replicas were judged (`stable`): a spec still rolling out only fails. */
export function withStability(state: RolloutState, stable: RolloutState): RolloutState {
  if (state.kind === "complete" || stable.kind === "failed") return stable;
  return state;
}

/**
 * `berth rollout status --stable-for D` (docs/cli.md): of a spec rolled out (Running), whether
 * every replica of its version (under an updatePartition, the canaries) has stayed up D: running,
 * not unhealthy, its last start at least D ago. One the engine restarted within D, or that is down
 * or unhealthy, fails it at once: a version that did not stay up is not one to promote (Argo
 * Rollouts' and Flagger's analysis, kept to what the engine records). A replica restarted longer
 * ago than D has stayed up since. `containers`: the spec's, each inspected (restarts, last start).
 */
export function stabilityState(
  name: string,
  containers: readonly ContainerStatus[],
  stableForMs: number,
  now: number,
): RolloutState {
  const replicas = containers.filter((c) => isReplica(c) && c.current).sort((a, b) => a.replica - b.replica);
  const span = formatDurationMs(stableForMs);
  if (replicas.length === 0) return { kind: "complete", line: `${name}: stable: it has no replicas` };
  for (const c of replicas) {
    const problem = unstable(c, stableForMs, now);
    if (problem !== null) return { kind: "failed", line: `${name}: not stable for ${span}: ${c.name} ${problem}` };
  }
  const unknown = replicas.filter((c) => c.startedAt === null);
  if (unknown.length > 0)
    return {
      kind: "waiting",
      line: `${name}: rolled out; waiting to learn when ${andList(unknown.map((c) => c.name))} started`,
    };
  const starts = replicas.map((c) => ({ name: c.name, until: Date.parse(c.startedAt ?? "") + stableForMs }));
  const young = starts.filter((s) => s.until > now);
  if (young.length > 0) {
    // To the second it is over by: the line stays the same from one look to the next.
    const until = Math.ceil(Math.max(...young.map((s) => s.until)) / 1000) * 1000;
    const who = andList(young.map((s) => s.name));
    return {
      kind: "waiting",
      line: `${name}: rolled out; waiting until ${who} ${young.length === 1 ? "has" : "have"} stayed up ${span} (${formatTime(until)})`,
    };
  }
  const who = andList(replicas.map((c) => c.name));
  return {
    kind: "complete",
    line: `${name}: stable: ${who} ${replicas.length === 1 ? "has" : "have"} run ${span} or longer without a restart`,
  };
}

/** Why a replica of the version has not stayed up, or null. */
function unstable(c: ContainerStatus, stableForMs: number, now: number): string | null {
  const restarts = c.restarts ?? 0;
  const code = c.lastExit?.exitCode ?? null;
  const exit =
    c.lastExit === null ? "" : `, its last exit ${code === null ? "at" : `code ${code} at`} ${c.lastExit.at}`;
  const counted = `${restarts} restart${restarts === 1 ? "" : "s"}${exit}`;
  const started = c.startedAt === null ? null : Date.parse(c.startedAt);
  // Listed running, inspected just after it died: its last exit is later than its last start.
  const died = c.lastExit !== null && started !== null && Date.parse(c.lastExit.at) > started;
  if (c.state === "restarting" || (c.state === "running" && died))
    return `is being restarted by the engine (${counted})`;
  if (c.state !== "running") return `is ${c.state}${code === null ? "" : ` (exit code ${code})`}`;
  if (c.health === "unhealthy") return "is unhealthy";
  if (restarts > 0 && started !== null && now - started < stableForMs)
    return `was restarted by the engine ${formatDurationMs(Math.max(0, Math.round((now - started) / 1000) * 1000))} ago (${counted})`;
  return null;
}

/**
 * `--stable-for` under swarm: stabilityState's judgement read from a service's task history. A
 * replica is a slot (a global service's: a node); Swarm restarts one by starting a new task in it,
 * so a task of the version (`tasks` must say which are not: `outdated`, as Swarm's `_up-to-date`
 * filter tells) that ended is a restart. Each slot's wanted task must be running, since at least
 * D ago; one that ended within D of its successor's start, or a slot whose task is being replaced
 * after one ended, fails it at once. A slot restarted longer ago than D has stayed up since.
 */
export function swarmStabilityState(
  name: string,
  tasks: readonly SwarmTaskStatus[],
  stableForMs: number,
  now: number,
): RolloutState {
  const span = formatDurationMs(stableForMs);
  const slots = new Map<string, SwarmTaskStatus[]>();
  for (const t of tasks) {
    if (t.outdated === true) continue;
    const label = `${taskService(name, t)}.${t.slot ?? t.node}`;
    slots.set(label, [...(slots.get(label) ?? []), t]);
  }
  const replicas = [...slots.entries()]
    .map(([label, group]) => ({
      label,
      slot: group[0]?.slot ?? null,
      wanted: group.filter((t) => isWantedTask(t.desiredState)).sort(newestFirst)[0] ?? null,
      ended: group.filter((t) => ENDED_TASK_STATES.has(t.state)).sort(newestFirst),
    }))
    .filter((r) => r.wanted !== null)
    .sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0) || a.label.localeCompare(b.label));
  if (replicas.length === 0) return { kind: "complete", line: `${name}: stable: it has no tasks` };
  const waiting: string[] = [];
  const unknown: string[] = [];
  const young: { label: string; until: number }[] = [];
  for (const r of replicas) {
    const task = r.wanted as SwarmTaskStatus;
    const last = r.ended[0];
    const started = task.state === "running" && task.since !== null ? Date.parse(task.since) : null;
    const fail = (why: string): RolloutState => ({
      kind: "failed",
      line: `${name}: not stable for ${span}: ${r.label} ${why}`,
    });
    if (task.state !== "running") {
      if (last !== undefined)
        return fail(`is being restarted by Swarm (${endedTasks(r.ended)}; it is ${task.state} now)`);
      waiting.push(r.label);
    } else if (started === null) unknown.push(r.label);
    else if (last !== undefined && now - started < stableForMs)
      return fail(
        `was restarted by Swarm ${formatDurationMs(Math.max(0, Math.round((now - started) / 1000) * 1000))} ago (${endedTasks(r.ended)})`,
      );
    else if (started + stableForMs > now) young.push({ label: r.label, until: started + stableForMs });
  }
  if (waiting.length > 0)
    return { kind: "waiting", line: `${name}: rolled out; waiting for ${andList(waiting)} to run` };
  if (unknown.length > 0)
    return { kind: "waiting", line: `${name}: rolled out; waiting to learn when ${andList(unknown)} started` };
  if (young.length > 0) {
    const until = Math.ceil(Math.max(...young.map((s) => s.until)) / 1000) * 1000;
    return {
      kind: "waiting",
      line: `${name}: rolled out; waiting until ${andList(young.map((y) => y.label))} ${young.length === 1 ? "has" : "have"} stayed up ${span} (${formatTime(until)})`,
    };
  }
  const who = andList(replicas.map((r) => r.label));
  return {
    kind: "complete",
    line: `${name}: stable: ${who} ${replicas.length === 1 ? "has" : "have"} run ${span} or longer without a restart`,
  };
}

const newestFirst = (a: SwarmTaskStatus, b: SwarmTaskStatus): number =>
  (b.since === null ? 0 : Date.parse(b.since)) - (a.since === null ? 0 : Date.parse(a.since));

/** `1 task of the version ended; the last, abc123def456, failed at T: task: non-zero exit (3)` */
function endedTasks(ended: readonly SwarmTaskStatus[]): string {
  const last = ended[0] as SwarmTaskStatus;
  const what = last.state === "complete" ? "exited with code 0" : last.state;
  const when = last.since === null ? "" : ` at ${formatTime(Date.parse(last.since))}`;
  const count = `${ended.length} task${ended.length === 1 ? "" : "s"} of the version ended`;
  return `${count}; the last, ${last.id.slice(0, 12)}, ${what}${when}${last.error === null ? "" : `: ${last.error}`}`;
}
