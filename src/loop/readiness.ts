/**
 * Waiting on a container berth just started: until it runs (and is healthy, if it has a
 * healthcheck), and — for spec.stableFor — until it has stayed up (core/stable-for.ts decides).
 * Shared by a replacement (loop/executor.ts) and a rolling restart (ops/restart.ts). The waits
 * poll inspects on the clock and hold no slot.
 */
import { stableProblem, stableWindow } from "../core/stable-for.js";
import type { NormalizedSpec } from "../core/spec.js";
import type { DockerPort } from "../docker/port.js";
import { type Clock, sleep } from "../util/clock.js";

/** Longest wait for a new container to become healthy. */
const MAX_HEALTH_WAIT_MS = 10 * 60_000;

/** How often a container is looked at while it must stay up. */
export const STABLE_POLL_MS = 500;

export interface ReadinessDeps {
  readonly docker: Pick<DockerPort, "inspectContainer">;
  readonly clock: Clock;
  /** How often to look at its health while waiting for it. */
  readonly healthPollMs?: number;
  /** How often to look at it while it must stay up. */
  readonly stablePollMs?: number;
  /** The exit code a container's `die` event told (an inspect of one restarted reads none). */
  readonly exits?: { exitCodeOf(containerId: string): number | null };
}

/** Null when the container is running (and healthy, if it has a healthcheck); else what went wrong. */
export async function waitReady(deps: ReadinessDeps, id: string, spec: NormalizedSpec): Promise<string | null> {
  const hc = spec.healthcheck;
  const deadline =
    deps.clock.now() +
    (hc
      ? Math.min(MAX_HEALTH_WAIT_MS, hc.startPeriodMs + (hc.intervalMs + hc.timeoutMs) * (hc.retries + 1) + 5000)
      : 0);
  for (;;) {
    const d = await deps.docker.inspectContainer(id);
    if (!d) return "vanished";
    if (d.state === "restarting")
      return `exited at once and is restarting under its restart policy (exit code ${d.exitCode ?? "unknown"})`;
    if (d.state !== "running") return `exited at once (exit code ${d.exitCode ?? "unknown"})`;
    if (!hc || d.health === "healthy") return null;
    if (d.health === "unhealthy") return "became unhealthy";
    if (deps.clock.now() >= deadline) return "did not become healthy in time";
    await sleep(deps.clock, deps.healthPollMs ?? 200);
  }
}

/**
 * Null when the container stayed up (running, not restarted, not unhealthy) for `forMs` from its
 * start; else what happened (core/stable-for.ts).
 */
export async function stayedUp(deps: ReadinessDeps, id: string, forMs: number): Promise<string | null> {
  let d = await deps.docker.inspectContainer(id);
  if (!d) return "vanished";
  const window = stableWindow(d, forMs, deps.clock.now());
  for (;;) {
    const problem = stableProblem(d, window, deps.exits?.exitCodeOf(id) ?? null);
    if (problem !== null) return problem;
    const now = deps.clock.now();
    if (now >= window.until) return null;
    await sleep(deps.clock, Math.min(window.until - now, deps.stablePollMs ?? STABLE_POLL_MS));
    d = await deps.docker.inspectContainer(id);
    if (!d) return "vanished";
  }
}
