/**
 * `berth restart NAME…` under `--target swarm` (docs/swarm.md, "Rolling restarts"): each named
 * spec's service is updated with force (`docker service update --force`: TaskTemplate.ForceUpdate
 * one higher), and Swarm replaces its tasks as the service's UpdateConfig says — its order
 * (updateStrategy), parallelism (updateParallelism), and monitor and delay (stableFor). One
 * service at a time, each only once Swarm reports its update completed; an update Swarm paused
 * (a task that failed) ends the restart, and the services after it are not touched. The force
 * counter is not berth's to keep: a later update of the service from its spec sets it back, which
 * replaces nothing that the spec change does not replace anyway. A spec's canaries' service
 * (updatePartition) is restarted after its own, the held tasks keeping their version.
 */
import { BerthError } from "../core/errors.js";
import type { Ownership } from "../core/ownership.js";
import type { DesiredSpec } from "../core/plan/types.js";
import { specServices } from "../core/swarm-canary.js";
import type { ObservedService } from "../core/swarm-plan.js";
import type { SwarmPort } from "../docker/swarm-adapter.js";
import { type Clock, sleep } from "../util/clock.js";
import { formatDurationMs } from "../core/units.js";
import { restartRefusal, type ServiceRestartStep } from "./restart.js";

/** A spec to restart and its service. */
export interface SwarmRestartTarget {
  readonly spec: string;
  readonly service: ObservedService;
}

/**
 * The named specs' services, from what a pass saw; a usage error naming every spec that cannot be
 * restarted and why (as the engine target's, and: no service yet, scaled to nothing).
 */
export function swarmRestartTargets(
  names: readonly string[],
  desired: readonly DesiredSpec[],
  services: readonly ObservedService[],
  owner: Ownership,
): SwarmRestartTarget[] {
  const problems: string[] = [];
  const targets: SwarmRestartTarget[] = [];
  for (const name of names) {
    const refused = restartRefusal(name, desired.find((d) => d.spec.name === name)?.spec);
    // The spec's canaries' service (core/swarm-canary.ts) is restarted after its own.
    const { main: service, canary } = specServices(name, services, owner);
    const paused = [service, canary].find(
      (s) => s !== undefined && (s.updateState === "paused" || s.updateState === "rollback_paused"),
    );
    if (refused !== null) problems.push(refused);
    else if (!service) problems.push(`${name} has no service yet (berth apply --target swarm makes it)`);
    else if (service.replicas === 0) problems.push(`${name} is scaled to no task`);
    else if (paused)
      // A forced update rolls the spec's version onto every task, the old version's first: found
      // by the swarm e2e test, where it replaced the one task still serving with the crashing one.
      problems.push(
        `${paused.name}'s update is paused (${paused.updateFailure}): a forced update would roll the version that failed ` +
          `onto the tasks still serving the old one; change the spec or its image`,
      );
    else
      targets.push(
        { spec: name, service },
        ...(canary && canary.replicas !== 0 ? [{ spec: name, service: canary }] : []),
      );
  }
  if (problems.length > 0) throw BerthError.usage(`cannot restart: ${problems.join("; ")}`);
  return targets;
}

export interface SwarmRestartDeps {
  readonly swarm: Pick<SwarmPort, "forceUpdate" | "serviceByName">;
  readonly clock: Clock;
  /** How often the service's update status is read (default 500 ms). */
  readonly pollMs?: number;
  /** How long one service's update may take (default 10 minutes). */
  readonly timeoutMs?: number;
}

/** The manager stamps the update's start with its own clock: this much earlier still counts as ours. */
const SKEW_MS = 1_000;

/** Restarts each target's service in turn; stops at the first whose update does not complete. */
export async function rollingSwarmRestart(
  deps: SwarmRestartDeps,
  targets: readonly SwarmRestartTarget[],
  onStep: (step: ServiceRestartStep) => void = () => undefined,
): Promise<ServiceRestartStep[]> {
  const steps: ServiceRestartStep[] = [];
  for (const target of targets) {
    const asked = deps.clock.now();
    await deps.swarm.forceUpdate(target.service.id);
    const problem = await updateDone(deps, target.service.name, asked);
    const step: ServiceRestartStep = {
      spec: target.spec,
      service: target.service.name,
      outcome: problem === null ? "restarted" : "failed",
      detail: problem ?? "its tasks were replaced",
      durationMs: deps.clock.now() - asked,
    };
    steps.push(step);
    onStep(step);
    if (problem !== null) break;
  }
  return steps;
}

/** Null once Swarm says the update begun after `asked` completed; else why it did not. */
async function updateDone(deps: SwarmRestartDeps, name: string, asked: number): Promise<string | null> {
  const timeoutMs = deps.timeoutMs ?? 600_000;
  const deadline = asked + timeoutMs;
  for (;;) {
    const s = await deps.swarm.serviceByName(name);
    if (s === null) return "the service was removed meanwhile";
    const ours = (s.updateStartedAt ?? 0) >= asked - SKEW_MS;
    if (ours && s.updateFailure !== null) return s.updateFailure;
    if (ours && !s.updating && (s.updateCompletedAt ?? null) !== null) return null;
    if (deps.clock.now() >= deadline) return `its update did not finish within ${formatDurationMs(timeoutMs)}`;
    await sleep(deps.clock, deps.pollMs ?? 500);
  }
}
