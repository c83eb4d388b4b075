/**
 * Execute: one planned action → one or a few Docker calls. No decisions beyond classifying a
 * failure as terminal (not retried until something changes) or retriable (backed off).
 *
 * Container operations hold one of the bounded slots; image pulls and health waits do not, so a
 * slow pull or a slow-to-become-healthy container never delays other specs.
 */
import type { Logger } from "pino";
import type { Clock } from "../util/clock.js";
import { buildCreateBody, type EngineCreateBody } from "../core/create-request.js";
import { specHash } from "../core/hash.js";
import { normalizeImageRef } from "../core/image-ref.js";
import type { LabelKeys } from "../core/labels.js";
import { tempName } from "../core/names.js";
import { shortId } from "../core/observed.js";
import type { Action, ContainerRef } from "../core/plan/plan.js";
import type { NormalizedSpec } from "../core/spec.js";
import { isDockerError } from "../docker/errors.js";
import type { DockerPort } from "../docker/port.js";
import type { SpecRecord } from "./desired.js";
import { resolveSecrets, type SecretSources } from "./secrets.js";
import { Semaphore } from "../util/semaphore.js";

/** What must change before a terminal failure is worth another try. */
export type Unblock =
  { readonly kind: "image"; readonly ref: string } | { readonly kind: "name"; readonly name: string };

export class ActionError extends Error {
  constructor(
    message: string,
    readonly terminal: boolean,
    readonly phase: "Failed" | "Conflict" = "Failed",
    readonly unblock: Unblock | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ActionError";
  }
}

export interface ExecutorDeps {
  readonly port: DockerPort;
  readonly labels: LabelKeys;
  readonly controllerId: string;
  readonly secrets: SecretSources;
  readonly clock: Clock;
  readonly log: Logger;
  /** Bounds concurrent container operations. */
  readonly slots: Semaphore;
  /** Resolves spec.network (`auto`) to the network to join. */
  readonly resolveNetwork: (network: string) => Promise<string>;
  /** Reads a seccomp profile file. */
  readonly readSeccompProfile?: (path: string) => Promise<string>;
  /**
   * The admission policy's last word on a create body: the violations (empty when acceptable).
   * Run just before each create, on what is actually sent (e.g. `network: auto` resolved, bind
   * sources resolved on the host as they are now).
   */
  readonly audit?: (body: EngineCreateBody) => Promise<readonly string[]>;
  /** How often to look at a new container's health while waiting for it. */
  readonly healthPollMs?: number;
  /** Concurrent image pulls. */
  readonly pullConcurrency?: number;
}

export interface ActionContext {
  /** The spec the action is for; absent for orphans. */
  readonly record: SpecRecord | undefined;
  /** The spec's image was present at the last observation. */
  readonly imagePresent: boolean;
}

/** Longest wait for a new container to become healthy. */
const MAX_HEALTH_WAIT_MS = 10 * 60_000;

export class Executor {
  private readonly pulls = new Map<string, Promise<void>>();
  private readonly pullSlots: Semaphore;

  constructor(private readonly deps: ExecutorDeps) {
    this.pullSlots = new Semaphore(deps.pullConcurrency ?? 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.clock.at(this.deps.clock.now() + ms, resolve));
  }

  private slot<T>(task: () => Promise<T>): Promise<T> {
    return this.deps.slots.run(task);
  }

  async run(action: Action, ctx: ActionContext): Promise<void> {
    const started = this.deps.clock.now();
    switch (action.kind) {
      case "create": {
        const { spec, hash, source } = this.specOf(ctx);
        await this.ensureImage(spec, ctx.imagePresent);
        await this.createStarted(spec, hash, source, action.replica, action.name);
        break;
      }
      case "replace":
        await this.replace(action, ctx);
        break;
      case "finish":
        await this.finish(action.next, action.old, action.name, this.specOf(ctx).spec);
        break;
      case "start":
        await this.ignoreGone(() => this.slot(() => this.deps.port.startContainer(action.container.id)));
        break;
      case "stop":
        await this.ignoreGone(() => this.slot(() => this.deps.port.stopContainer(action.container.id)));
        break;
      case "remove":
        await this.remove(action.container, action.reason === "expired");
        break;
      case "rename":
        await this.rename(action.container.id, action.to);
        break;
    }
    this.deps.log.info(
      {
        spec: action.spec,
        action: action.kind,
        reason: action.reason,
        container: "name" in action ? action.name : action.container.name,
        durationMs: this.deps.clock.now() - started,
      },
      "action completed",
    );
  }

  private specOf(ctx: ActionContext): { spec: NormalizedSpec; hash: string; source: string } {
    const r = ctx.record;
    if (!r?.spec || r.hash === null) throw new ActionError("the spec is not available any more", false);
    return { spec: r.spec, hash: r.hash, source: r.source ?? "" };
  }

  private async ignoreGone(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (err) {
      if (isDockerError(err, "not-found", "gone")) return;
      throw this.classify(err);
    }
  }

  /** Docker errors → retriable ActionErrors, keeping the engine's message. */
  private classify(err: unknown): Error {
    if (err instanceof ActionError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (isDockerError(err, "bad-request")) {
      return new ActionError(`Docker refused the container: ${message}`, true, "Failed", null, { cause: err });
    }
    return new ActionError(message, false, "Failed", null, { cause: err });
  }

  private async ensureImage(spec: NormalizedSpec, presentAtObservation: boolean): Promise<void> {
    const ref = normalizeImageRef(spec.image);
    if (spec.imagePullPolicy !== "Always") {
      if (presentAtObservation) return;
      if ((await this.deps.port.inspectImage(ref)) !== null) return;
      if (spec.imagePullPolicy === "Never") {
        throw new ActionError(
          `image ${spec.image} is not present on this host and imagePullPolicy is Never: build or load it ` +
            `(docker build -t ${spec.image} . or docker load), or set imagePullPolicy: IfNotPresent`,
          true,
          "Failed",
          { kind: "image", ref },
        );
      }
    }
    let pull = this.pulls.get(ref);
    if (!pull) {
      pull = this.pullSlots.run(() => this.deps.port.pullImage(ref)).finally(() => this.pulls.delete(ref));
      this.pulls.set(ref, pull);
    }
    try {
      await pull;
    } catch (err) {
      throw new ActionError(
        `pulling image ${spec.image} failed (${err instanceof Error ? err.message : String(err)}); ` +
          `berth retries with backoff. If the image exists only on this host, build it there ` +
          `(docker build -t ${spec.image} .) or set imagePullPolicy: Never`,
        false,
        "Failed",
        null,
        { cause: err },
      );
    }
  }

  /** Creates (and starts, unless the spec is suspended) a container; returns its ID. */
  private async createStarted(
    spec: NormalizedSpec,
    hash: string,
    source: string,
    replica: number,
    name: string,
  ): Promise<string> {
    const secrets = await resolveSecrets(spec, this.deps.secrets);
    if (!secrets.ok) throw new ActionError(secrets.error, false);
    // Recomputed with the values read now: a secret rotated since planning labels the container truthfully.
    const labelHash = Object.keys(spec.secretEnv).length > 0 ? specHash(spec, secrets.digests) : hash;
    const seccomp = spec.security.seccompProfile;
    const seccompProfileJson =
      seccomp !== null && seccomp.startsWith("/") && this.deps.readSeccompProfile
        ? await this.deps.readSeccompProfile(seccomp)
        : undefined;
    const body = buildCreateBody(spec, {
      labels: this.deps.labels,
      controllerId: this.deps.controllerId,
      replica,
      hash: labelHash,
      source,
      secretValues: secrets.values,
      network: await this.deps.resolveNetwork(spec.network),
      ...(seccompProfileJson !== undefined ? { seccompProfileJson } : {}),
    });
    const violations = this.deps.audit ? await this.deps.audit(body) : [];
    if (violations.length > 0) {
      throw new ActionError(
        `refused by the admission policy just before creating ${name}: ${violations.join("; ")}`,
        false,
      );
    }
    // One slot for the create and the start: each container runs as soon as it can, rather than
    // every queued create going first.
    return this.slot(async () => {
      let id: string;
      try {
        id = await this.deps.port.createContainer(name, body);
      } catch (err) {
        if (isDockerError(err, "conflict")) await this.nameTaken(name);
        if (isDockerError(err, "image-missing")) {
          throw new ActionError(`image ${spec.image} disappeared before the container was created; retrying`, false);
        }
        throw this.classify(err);
      }
      if (!spec.suspended) {
        try {
          await this.deps.port.startContainer(id);
        } catch (err) {
          throw new ActionError(
            `container ${name} was created but did not start: ${err instanceof Error ? err.message : String(err)}`,
            false,
            "Failed",
            null,
            { cause: err },
          );
        }
      }
      return id;
    });
  }

  /** After a 409 on a name: a conflict if a container berth does not own holds it; else retry. */
  private async nameTaken(name: string): Promise<never> {
    const holder = await this.deps.port.inspectContainer(name);
    if (holder && holder.labels[this.deps.labels.controller] !== this.deps.controllerId) {
      throw new ActionError(
        `the name ${name} is held by container ${shortId(holder.id)}, which berth does not own; ` +
          `remove or rename that container (docker rm ${name}), or rename the spec`,
        true,
        "Conflict",
        { kind: "name", name },
      );
    }
    throw new ActionError(`the name ${name} was taken while berth worked; planning again`, false);
  }

  private async replace(action: Extract<Action, { kind: "replace" }>, ctx: ActionContext): Promise<void> {
    const { spec, hash, source } = this.specOf(ctx);
    await this.ensureImage(spec, ctx.imagePresent);
    if (action.strategy === "StopFirst") {
      await this.remove(action.old, false);
      await this.createStarted(spec, hash, source, action.replica, action.name);
      return;
    }
    const next = await this.createStarted(spec, hash, source, action.replica, tempName(action.name));
    await this.finish({ id: next, name: tempName(action.name) }, action.old, action.name, spec);
  }

  /** Brings a replacement under its temporary name to completion: running (healthy), old gone, renamed. */
  private async finish(
    next: ContainerRef,
    old: ContainerRef | null,
    name: string,
    spec: NormalizedSpec,
  ): Promise<void> {
    const details = await this.deps.port.inspectContainer(next.id);
    if (!details) throw new ActionError(`the new container ${next.name} vanished; planning again`, false);
    if (details.state !== "running" && !spec.suspended) {
      await this.slot(() => this.deps.port.startContainer(next.id));
    }
    if (!spec.suspended) {
      const problem = await this.waitReady(next.id, spec);
      if (problem !== null) {
        await this.ignoreGone(() => this.slot(() => this.deps.port.removeContainer(next.id, { force: true })));
        throw new ActionError(
          `the new container for ${name} ${problem}; the old one keeps running. Fix the spec or the image`,
          false,
        );
      }
    }
    if (old) await this.remove(old, false);
    await this.rename(next.id, name);
  }

  /** Null when the container is running (and healthy, if it has a healthcheck); else what went wrong. */
  private async waitReady(id: string, spec: NormalizedSpec): Promise<string | null> {
    const hc = spec.healthcheck;
    const deadline =
      this.deps.clock.now() +
      (hc
        ? Math.min(MAX_HEALTH_WAIT_MS, hc.startPeriodMs + (hc.intervalMs + hc.timeoutMs) * (hc.retries + 1) + 5000)
        : 0);
    for (;;) {
      const d = await this.deps.port.inspectContainer(id);
      if (!d) return "vanished";
      if (d.state !== "running") return `exited at once (exit code ${d.exitCode ?? "unknown"})`;
      if (!hc || d.health === "healthy") return null;
      if (d.health === "unhealthy") return "became unhealthy";
      if (this.deps.clock.now() >= deadline) return "did not become healthy in time";
      await this.sleep(this.deps.healthPollMs ?? 200);
    }
  }

  /** Expired containers are killed at once (expiry is a deadline); others get their stop timeout. */
  private async remove(container: ContainerRef, kill: boolean): Promise<void> {
    const port = this.deps.port;
    await this.ignoreGone(() =>
      this.slot(async () => {
        if (!kill) await port.stopContainer(container.id);
        await port.removeContainer(container.id, { force: true });
      }),
    );
  }

  private async rename(id: string, name: string): Promise<void> {
    try {
      await this.slot(() => this.deps.port.renameContainer(id, name));
    } catch (err) {
      // Already renamed (a rename whose answer was lost when the engine restarted): done.
      if (isDockerError(err, "bad-request", "conflict") && /same name as its current name/i.test(err.message)) return;
      if (isDockerError(err, "conflict")) await this.nameTaken(name);
      throw this.classify(err);
    }
  }
}
