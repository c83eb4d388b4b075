/**
 * One pass under `--target swarm` (docs/swarm.md): the same desired state as the engine target
 * (loader, last-known-good, cross-file checks, hashes), the services and their tasks observed
 * in two calls, the pure swarm plan, and — when acting — one service call per action at bounded
 * concurrency. Level-triggered, as the engine target's pass: it never depends on what asked for it.
 */
import type { Logger } from "pino";
import type { Ownership } from "../core/ownership.js";
import { BerthError } from "../core/errors.js";
import { forgottenDeletions } from "../core/deleted-marks.js";
import type { DesiredSpec, Plan } from "../core/plan/types.js";
import { resolveSecrets, type SecretSources } from "../core/secrets.js";
import type { NormalizedSpec } from "../core/spec.js";
import { type ObservedService, planSwarm, type SwarmAction, type SwarmPlan } from "../core/swarm-plan.js";
import { planSwarmNetworks, type SwarmNetworkStatus, swarmNetworkStatuses } from "../core/swarm-networks.js";
import { type ObservedSecret, type SecretBinding, secretLabels } from "../core/swarm-secrets.js";
import type { Policy, PolicyContext } from "../core/policy/policy.js";
import { checkService } from "../core/swarm-admission.js";
import { canaryName, canaryServiceSpec } from "../core/swarm-canary.js";
import { type BoundSecret, serviceSpec as ownServiceSpec, type ServiceSpec } from "../core/swarm-service.js";
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
  /** Where secretEnv values are read, right before their Swarm secrets are made (the builder's sources). */
  readonly secrets: SecretSources;
  /** The admission policy, checked again on every service body (core/swarm-admission.ts), and how host paths resolve. */
  readonly policy: Policy;
  readonly policyContext: PolicyContext;
  /** The manager's engine: berth's overlay networks (`kind: Network`) are made and listed there. */
  readonly networks: DockerPort;
  /** The image and the registry credentials of a create or update (loop/swarm-image.ts). */
  readonly images: { resolve(spec: NormalizedSpec): Promise<ServiceImage> };
  readonly clock: Clock;
  readonly log: Logger;
  /** The Git revision a spec file is checked out at (the berth.revision label), or null: not from a Git source. */
  readonly revisionOf?: (file: string) => string | null;
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
  readonly secrets: readonly ObservedSecret[];
  readonly tasks: readonly ObservedTask[];
  readonly plan: SwarmPlan;
  /** berth's networks on the swarm (core/swarm-networks.ts): their actions and notes. */
  readonly networkPlan: Plan;
  readonly status: readonly SwarmSpecStatus[];
  /** berth's networks on the swarm, as observed at the start of the pass. */
  readonly networks: readonly SwarmNetworkStatus[];
  /** Operations of this pass that failed. */
  readonly failed: number;
  readonly at: number;
  /** How long the pass took to load, observe and plan (ms); the operations are not counted, as for the engine target. */
  readonly durationMs: number;
}

export class SwarmReconciler {
  /** The last failure of each spec's operation, until one succeeds (or the spec changes hash). */
  private readonly failures = new Map<string, { hash: string | null; message: string }>();
  /** Network key (network:NAME) → the message of its operation that failed in the last acting pass. */
  private networkFailures = new Map<string, string>();
  private readonly slots: Semaphore;
  /** Specs removed on purpose (through the API), until their services are gone (PlanInput.deleted). */
  private readonly deleted = new Set<string>();
  private last: DesiredSnapshot | null = null;
  private watched: ReadonlySet<string> = new Set();

  constructor(
    private readonly deps: SwarmReconcilerDeps,
    private readonly options: SwarmReconcilerOptions,
  ) {
    this.slots = new Semaphore(options.concurrency);
  }

  /** The desired state the last pass loaded; null before the first. */
  get desired(): DesiredSnapshot | null {
    return this.last;
  }

  /** The services the last pass cared about: berth's, and those under a desired spec's name (loop/swarm-events.ts). */
  get watchedServices(): ReadonlySet<string> {
    return this.watched;
  }

  /** A spec was removed on purpose (through the API): its service goes even while pruning is paused. */
  markDeleted(spec: string): boolean {
    if (this.deleted.has(spec)) return false;
    this.deleted.add(spec);
    return true;
  }

  /** The spec was written again: the ordinary prune guard applies to it once more. */
  unmarkDeleted(spec: string): void {
    this.deleted.delete(spec);
  }

  /** With `act`, the plan's actions are executed before the pass returns. */
  async pass({ act }: { readonly act: boolean }): Promise<SwarmPassResult> {
    const { owner } = this.options;
    const started = this.deps.clock.now();
    const [snapshot, all, secrets, networks] = await Promise.all([
      this.deps.loader.load().then((load) => this.deps.builder.build(load, this.deps.clock.now())),
      this.deps.swarm.listServices({ labels: [] }),
      this.deps.swarm.listSecrets({ labels: [owner.filter] }),
      this.deps.networks.listNetworks({ labels: [] }),
    ]);
    // Every service is listed (one call) so that a name held by another's service is a conflict.
    const mine = all.filter((s) => owner.owns(s));
    const desiredNames = new Set(snapshot.input.desired.map((d) => d.spec.name));
    // A desired spec's name, or its canaries' (NAME_canary), held by another's service is a conflict.
    const claimed = new Set([...desiredNames].flatMap((n) => [n, canaryName(n)]));
    const services = all.filter((s) => owner.owns(s) || claimed.has(s.name));
    this.last = snapshot;
    this.watched = new Set([...desiredNames, ...mine.map((s) => s.name)]);
    const left = new Set(mine.map((s) => s.labels[owner.keys.spec] ?? s.name));
    for (const spec of forgottenDeletions(this.deleted, desiredNames, left)) this.deleted.delete(spec);
    // Swarm is asked which tasks are of each service's current spec (one more list, at once):
    // an update's progress, and which tasks of a slot's history are an older version's.
    const ids = mine.map((s) => s.id);
    const tasks = await this.deps.swarm.listTasks(ids, ids);
    const now = this.deps.clock.now();
    const plan = planSwarm(
      { ...snapshot.input, deleted: this.deleted },
      { services, secrets, tasks },
      now,
      options(this.options),
    );
    const networkPlan = planSwarmNetworks(snapshot.input, networks, all, options(this.options));
    const planned = this.deps.clock.now();
    let failed = 0;
    if (act) {
      // Networks before the services that join them; those of deleted documents after the
      // services that left them (one still named by a service is kept until a later pass).
      const objectActions = networkPlan.actions.filter(isObjectAction);
      this.networkFailures = new Map();
      failed += await this.runObjects(objectActions.filter((a) => a.reason !== "orphaned"));
      const desired = new Map(
        snapshot.input.desired.map((d) => [
          d.spec.name,
          { ...d, revision: this.deps.revisionOf?.(snapshot.records.get(d.spec.name)?.file ?? "") ?? null },
        ]),
      );
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
      invalidSources: snapshot.invalidSources,
    });
    const networkStatus = swarmNetworkStatuses(
      snapshot.input.objects,
      networks,
      all,
      networkPlan,
      owner,
      this.networkFailures,
    );
    return {
      snapshot,
      services,
      secrets,
      tasks,
      plan,
      networkPlan,
      status,
      networks: networkStatus,
      failed,
      at: now,
      durationMs: planned - started,
    };
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
        this.networkFailures.set(action.spec, err.message);
        this.deps.log.warn({ object: action.spec, action: action.kind, err }, "network operation failed");
        this.deps.onObjectAction?.(action, err, this.deps.clock.now() - started);
      }
    }
    return failed;
  }

  /**
   * One action, one or two service calls (after the image's registry is asked and the secrets it
   * names are made); no decisions.
   */
  private async execute(action: SwarmAction, d: ServiceDesired | null): Promise<void> {
    const swarm = this.deps.swarm;
    switch (action.kind) {
      case "create":
        if (!d) return;
        await swarm.createService(...(await this.body(d, action.secrets, action.canary === true)));
        return;
      case "replace": {
        if (!d) return;
        const body = await this.body(d, action.secrets);
        await swarm.removeService(action.service.id);
        await swarm.createService(...body);
        return;
      }
      case "update": {
        if (!d) return;
        const [spec, credentials] = await this.body(d, action.secrets, action.canary === true);
        await swarm.updateService(action.service.id, action.service.version, spec, credentials);
        return;
      }
      case "remove-secret":
        await swarm.removeSecret(action.secret.id);
        return;
      case "scale":
        await swarm.scaleService(action.service.id, action.to);
        return;
      case "remove":
        await swarm.removeService(action.service.id);
        return;
    }
  }

  /**
   * The service body, admitted by the policy (before any secret is made for it), with the image as
   * the registry names it and the credentials the nodes pull it with.
   */
  private async body(
    d: ServiceDesired,
    bindings: readonly SecretBinding[],
    canary = false,
  ): Promise<[ServiceSpec, ServiceImage["credentials"]]> {
    const owner = this.options.owner;
    const serviceSpec = canary ? canaryServiceSpec : ownServiceSpec;
    // The policy reads no secret reference: the body is checked before the secrets exist.
    const refused = checkService(serviceSpec(d, owner), this.deps.policy, this.deps.policyContext);
    if (refused.length > 0)
      throw BerthError.terminal(
        "BERTH_POLICY",
        `the service is refused by the policy: ${refused.join("; ")}`,
        d.spec.name,
      );
    const { image, credentials } = await this.deps.images.resolve(d.spec);
    return [withImage(serviceSpec(d, owner, await this.makeSecrets(d, bindings)), image), credentials];
  }

  /**
   * The create-time read (docs/design.md, "Secrets"): the values are read now, checked against the
   * digests the plan named them by, and the missing secrets made. A value rotated since the plan
   * fails this action (retried by the next pass, which plans the new secret) rather than putting a
   * value under another value's name.
   */
  private async makeSecrets(d: DesiredSpec, bindings: readonly SecretBinding[]): Promise<BoundSecret[]> {
    if (bindings.length === 0) return [];
    const read = await resolveSecrets(d.spec, this.deps.secrets);
    if (!read.ok) throw BerthError.retriable("BERTH_SECRET", read.error);
    const owner = this.options.owner;
    return Promise.all(
      bindings.map(async (b) => {
        const value = read.values[b.key];
        if (value === undefined || read.digests[b.key] !== b.digest)
          throw BerthError.retriable(
            "BERTH_SECRET",
            `secret ${b.key} changed since the plan; the next pass uses the new value`,
          );
        if (b.id !== null) return { ...b, id: b.id };
        const id = await this.deps.swarm.createSecret(b.name, secretLabels(owner, d.spec.name, b.key, b.digest), value);
        return { ...b, id };
      }),
    );
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

/** A desired spec with the revision its file was read at (null: not from a Git source). */
type ServiceDesired = DesiredSpec & { readonly revision: string | null };

function options(o: SwarmReconcilerOptions) {
  return { owner: o.owner, forcePrune: o.forcePrune, pruneMaxShare: o.pruneMaxShare };
}
