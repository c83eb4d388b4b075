/**
 * `berth rollout status` (docs/cli.md): whether a spec's rollout is done, still under way, or
 * will not finish without a change, from one look at its status, as `kubectl rollout status`
 * reads a Deployment's. The version waited for is the spec's hash in the files the command read:
 * until the status carries that hash, the controller has not read the change yet (Kubernetes'
 * observedGeneration). Under swarm, Swarm's update state decides (its phase: Updating while
 * Swarm rolls the service, Failed once it paused the update). Pure.
 */
import { andList } from "./plan/render.js";
import { type ContainerStatus, isReplica, type SpecStatus } from "./status.js";
import type { SwarmSpecStatus } from "./swarm-status.js";
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
    message: s.phase === "Running" ? null : s.message,
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
