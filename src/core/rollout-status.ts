/**
 * `berth rollout status` (docs/cli.md): whether a spec's rollout is done, still under way, or
 * will not finish without a change, from one look at its status, as `kubectl rollout status`
 * reads a Deployment's. The version waited for is the spec's hash in the files the command read:
 * until the status carries that hash, the controller has not read the change yet (Kubernetes'
 * observedGeneration). Under swarm, Swarm's update state decides (its phase: Updating while
 * Swarm rolls the service, Failed once it paused the update). Pure.
 */
import type { SpecStatus } from "./status.js";
import type { SwarmSpecStatus } from "./swarm-status.js";

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
