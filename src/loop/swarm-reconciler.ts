/**
 * One pass under `--target swarm` (docs/swarm.md): the same desired state as the engine target
 * (loader, last-known-good, cross-file checks, hashes), the services and their tasks observed
 * in two calls, the pure swarm plan, and — when acting — one service call per action at bounded
 * concurrency. Level-triggered, as the engine target's pass: it never depends on what asked for it.
 */
import type { Logger } from "pino";
import type { Ownership } from "../core/ownership.js";
import { type ObservedService, planSwarm, type SwarmAction, type SwarmPlan } from "../core/swarm-plan.js";
import { serviceSpec } from "../core/swarm-service.js";
import { type ObservedTask, type SwarmSpecStatus, swarmStatus } from "../core/swarm-status.js";
import type { SwarmPort } from "../docker/swarm-adapter.js";
import type { LoadResult } from "../manifest/loader.js";
import type { Clock } from "../util/clock.js";
import { Semaphore } from "../util/semaphore.js";
import type { DesiredSnapshot, DesiredStateBuilder } from "./desired.js";

export interface SwarmReconcilerDeps {
  readonly loader: { load(): Promise<LoadResult> };
  readonly builder: DesiredStateBuilder;
  readonly swarm: SwarmPort;
  readonly clock: Clock;
  readonly log: Logger;
  /** Called after each operation, with its error when it failed. */
  readonly onAction?: (action: SwarmAction, error: Error | null, durationMs: number) => void;
}

export interface SwarmReconcilerOptions {
  readonly owner: Ownership;
  readonly forcePrune: boolean;
  readonly pruneMaxShare: number;
  /** Service operations at once (--concurrency). */
  readonly concurrency: number;
}

export interface SwarmPassResult {
  readonly snapshot: DesiredSnapshot;
  readonly services: readonly ObservedService[];
  readonly tasks: readonly ObservedTask[];
  readonly plan: SwarmPlan;
  readonly status: readonly SwarmSpecStatus[];
  /** Operations of this pass that failed. */
  readonly failed: number;
  readonly at: number;
}

export class SwarmReconciler {
  /** The last failure of each spec's operation, until one succeeds (or the spec changes hash). */
  private readonly failures = new Map<string, { hash: string | null; message: string }>();
  private readonly slots: Semaphore;

  constructor(
    private readonly deps: SwarmReconcilerDeps,
    private readonly options: SwarmReconcilerOptions,
  ) {
    this.slots = new Semaphore(options.concurrency);
  }

  /** With `act`, the plan's actions are executed before the pass returns. */
  async pass({ act }: { readonly act: boolean }): Promise<SwarmPassResult> {
    const { owner } = this.options;
    const [snapshot, all] = await Promise.all([
      this.deps.loader.load().then((load) => this.deps.builder.build(load, this.deps.clock.now())),
      this.deps.swarm.listServices({ labels: [] }),
    ]);
    // Every service is listed (one call) so that a name held by another's service is a conflict.
    const mine = all.filter((s) => owner.owns(s));
    const desiredNames = new Set(snapshot.input.desired.map((d) => d.spec.name));
    const services = all.filter((s) => owner.owns(s) || desiredNames.has(s.name));
    const tasks = await this.deps.swarm.listTasks(mine.map((s) => s.id));
    const now = this.deps.clock.now();
    const plan = planSwarm(snapshot.input, services, now, options(this.options));
    let failed = 0;
    if (act) {
      const desired = new Map(snapshot.input.desired.map((d) => [d.spec.name, d]));
      await Promise.all(
        plan.actions.map((action) =>
          this.slots.run(async () => {
            const started = this.deps.clock.now();
            const d = desired.get(action.spec);
            try {
              await this.execute(action, d ? serviceSpec(d, owner) : null);
              this.failures.delete(action.spec);
              this.deps.onAction?.(action, null, this.deps.clock.now() - started);
            } catch (raw) {
              const err = raw instanceof Error ? raw : new Error(String(raw));
              failed++;
              this.failures.set(action.spec, { hash: d?.hash ?? null, message: err.message });
              this.deps.log.warn({ spec: action.spec, action: action.kind, err }, "service operation failed");
              this.deps.onAction?.(action, err, this.deps.clock.now() - started);
            }
          }),
        ),
      );
    }
    const status = swarmStatus({
      records: snapshot.records,
      services,
      tasks,
      plan,
      failures: this.currentFailures(snapshot),
      owner,
      now,
    });
    return { snapshot, services, tasks, plan, status, failed, at: now };
  }

  /** One action, one or two service calls; no decisions. */
  private async execute(action: SwarmAction, spec: ReturnType<typeof serviceSpec> | null): Promise<void> {
    const swarm = this.deps.swarm;
    switch (action.kind) {
      case "create":
        if (spec) await swarm.createService(spec);
        return;
      case "update":
        if (spec) await swarm.updateService(action.service.id, action.service.version, spec);
        return;
      case "scale":
        await swarm.scaleService(action.service.id, action.to);
        return;
      case "remove":
        await swarm.removeService(action.service.id);
        return;
    }
  }

  /** Failures of the spec versions still desired: a changed spec starts over. */
  private currentFailures(snapshot: DesiredSnapshot): Map<string, string> {
    const out = new Map<string, string>();
    for (const [spec, f] of this.failures) {
      if (snapshot.records.get(spec)?.hash === f.hash) out.set(spec, f.message);
      else this.failures.delete(spec);
    }
    return out;
  }
}

function options(o: SwarmReconcilerOptions) {
  return { owner: o.owner, forcePrune: o.forcePrune, pruneMaxShare: o.pruneMaxShare };
}
