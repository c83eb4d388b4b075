/**
 * One pass under `--target swarm` (docs/swarm.md): the same desired state as the engine target
 * (loader, last-known-good, cross-file checks, hashes), the services and their tasks observed
 * in two calls, the pure swarm plan, and — when acting — one service call per action at bounded
 * concurrency. Level-triggered, as the engine target's pass: it never depends on what asked for it.
 */
import type { Logger } from "pino";
import type { Ownership } from "../core/ownership.js";
import type { DesiredSpec, Plan } from "../core/plan/types.js";
import type { NormalizedSpec } from "../core/spec.js";
import { type ObservedService, planSwarm, type SwarmAction, type SwarmPlan } from "../core/swarm-plan.js";
import { planSwarmNetworks } from "../core/swarm-networks.js";
import { serviceSpec } from "../core/swarm-service.js";
import { type ObservedTask, type SwarmSpecStatus, swarmStatus } from "../core/swarm-status.js";
import type { DockerPort } from "../docker/port.js";
import type { SwarmPort } from "../docker/swarm-adapter.js";
import type { LoadResult } from "../manifest/loader.js";
import type { Clock } from "../util/clock.js";
import { Semaphore } from "../util/semaphore.js";
import type { DesiredSnapshot, DesiredStateBuilder } from "./desired.js";
import { isObjectAction, type ObjectAction, runObjectAction } from "./objects.js";
import { type ServiceImage, withImage } from "./swarm-image.js";

export interface SwarmReconcilerDeps {
  readonly loader: { load(): Promise<LoadResult> };
  readonly builder: DesiredStateBuilder;
  readonly swarm: SwarmPort;
  /** The manager's engine: berth's overlay networks (`kind: Network`) are made and listed there. */
  readonly networks: DockerPort;
  /** The image and the registry credentials of a create or update (loop/swarm-image.ts). */
  readonly images: { resolve(spec: NormalizedSpec): Promise<ServiceImage> };
  readonly clock: Clock;
  readonly log: Logger;
  /** Called after each operation, with its error when it failed. */
  readonly onAction?: (action: SwarmAction, error: Error | null, durationMs: number) => void;
  /** The same, for a network's operation. */
  readonly onObjectAction?: (action: ObjectAction, error: Error | null, durationMs: number) => void;
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
  /** berth's networks on the swarm (core/swarm-networks.ts): their actions and notes. */
  readonly networkPlan: Plan;
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
    const [snapshot, all, networks] = await Promise.all([
      this.deps.loader.load().then((load) => this.deps.builder.build(load, this.deps.clock.now())),
      this.deps.swarm.listServices({ labels: [] }),
      this.deps.networks.listNetworks({ labels: [] }),
    ]);
    // Every service is listed (one call) so that a name held by another's service is a conflict.
    const mine = all.filter((s) => owner.owns(s));
    const desiredNames = new Set(snapshot.input.desired.map((d) => d.spec.name));
    const services = all.filter((s) => owner.owns(s) || desiredNames.has(s.name));
    const tasks = await this.deps.swarm.listTasks(mine.map((s) => s.id));
    const now = this.deps.clock.now();
    const plan = planSwarm(snapshot.input, services, now, options(this.options));
    const networkPlan = planSwarmNetworks(snapshot.input, networks, all, options(this.options));
    let failed = 0;
    if (act) {
      // Networks before the services that join them; those of deleted documents after the
      // services that left them (one still named by a service is kept until a later pass).
      const objectActions = networkPlan.actions.filter(isObjectAction);
      failed += await this.runObjects(objectActions.filter((a) => a.reason !== "orphaned"));
      const desired = new Map(snapshot.input.desired.map((d) => [d.spec.name, d]));
      await Promise.all(
        plan.actions.map((action) =>
          this.slots.run(async () => {
            const started = this.deps.clock.now();
            const d = desired.get(action.spec);
            try {
              await this.execute(action, d ?? null);
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
      failed += await this.runObjects(objectActions.filter((a) => a.reason === "orphaned"));
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
    return { snapshot, services, tasks, plan, networkPlan, status, failed, at: now };
  }

  /** Network operations one at a time (a recreate is a remove, then a create); returns the failures. */
  private async runObjects(actions: readonly ObjectAction[]): Promise<number> {
    let failed = 0;
    for (const action of actions) {
      const started = this.deps.clock.now();
      try {
        await runObjectAction(action, this.deps.networks, this.options.owner);
        this.deps.onObjectAction?.(action, null, this.deps.clock.now() - started);
      } catch (raw) {
        const err = raw instanceof Error ? raw : new Error(String(raw));
        failed++;
        this.deps.log.warn({ object: action.spec, action: action.kind, err }, "network operation failed");
        this.deps.onObjectAction?.(action, err, this.deps.clock.now() - started);
      }
    }
    return failed;
  }

  /** One action, one or two service calls (the image's registry asked first); no decisions. */
  private async execute(action: SwarmAction, d: DesiredSpec | null): Promise<void> {
    const swarm = this.deps.swarm;
    switch (action.kind) {
      case "create":
      case "update": {
        if (!d) return;
        const { image, credentials } = await this.deps.images.resolve(d.spec);
        const spec = withImage(serviceSpec(d, this.options.owner), image);
        if (action.kind === "create") await swarm.createService(spec, credentials);
        else await swarm.updateService(action.service.id, action.service.version, spec, credentials);
        return;
      }
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
