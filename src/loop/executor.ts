/**
 * Execute: one planned action → one or a few Docker calls. No decisions beyond classifying a
 * failure as terminal (not retried until something changes) or retriable (backed off): every
 * failure leaves here as a BerthError.
 *
 * Container operations hold one of the bounded slots; image pulls, health waits and stops do not,
 * so a slow pull, a slow-to-become-healthy container or a process that ignores SIGTERM never
 * delays other specs. (A stop is one engine call that signals, waits up to its explicit timeout
 * and kills: the wait is the call, and a kill-then-wait in berth would trip the restart policy,
 * which restarts a container that exits without being stopped.)
 */
import type { Logger } from "pino";
import { buildCreateBody, type EngineCreateBody } from "../core/create-request.js";
import { baseImages, isBuiltImage, type NormalizedBuild } from "../core/build.js";
import { BerthError } from "../core/errors.js";
import { followsTag, normalizeImageRef } from "../core/image-ref.js";
import { autoPortKeys, type HostPortMap } from "../core/host-ports.js";
import { instanceVolumeLabels, instanceVolumes, isInstanceVolumeFor } from "../core/instance-volumes.js";
import { rejectedName, tempName } from "../core/names.js";
import { formatDurationMs } from "../core/units.js";
import { type ObservedContainer, shortId } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type { Action, ContainerRef } from "../core/plan/plan.js";
import { isRolloutReason } from "../core/plan/rollout.js";
import type { ImageActivity, ImageProgress, ProgressSink } from "../core/progress.js";
import type { SpecRecord } from "../core/record.js";
import {
  type CredentialLookup,
  DOCKER_HUB,
  DOCKER_HUB_SERVER,
  isDeniedPull,
  isImageNotFound,
  isUnreachableRegistry,
  type RegistryAuth,
  type RegistryCredentials,
  registryOf,
} from "../core/registry.js";
import { type SecretSources, secretsForCreate } from "../core/secrets.js";
import { DEFAULTS, type ImagePullPolicy, type NormalizedSpec } from "../core/spec.js";
import { isDockerError } from "../docker/errors.js";
import type { DockerPort } from "../docker/port.js";
import type { Clock } from "../util/clock.js";
import { Semaphore } from "../util/semaphore.js";
import { isObjectAction, runObjectAction } from "./objects.js";
import { type ReadinessDeps, stayedUp, waitReady } from "./readiness.js";

/** With how often a new container is looked at, and the exit codes `die` events told (loop/readiness.ts). */
export interface ExecutorDeps extends ReadinessDeps {
  readonly docker: DockerPort;
  readonly owner: Ownership;
  readonly secrets: SecretSources;
  readonly clock: Clock;
  readonly log: Logger;
  /** Bounds concurrent container operations. */
  readonly slots: Semaphore;
  /** Resolves spec.network (`auto`) to the network to join (loop/network.ts). */
  readonly network: { resolve(network: string): Promise<string> };
  /** Reads a seccomp profile file. */
  readonly readSeccompProfile?: (path: string) => Promise<string>;
  /**
   * The admission policy's last word where the engine must be asked (loop/admission.ts): on a
   * create body just before the create (given berth's containers as last observed), on its
   * volumes once the container holds them, and on a container's mounts before berth starts it.
   */
  readonly admission?: AdmissionAudit;
  /** Concurrent image pulls. */
  readonly pullConcurrency?: number;
  /**
   * For a followed tag (Always), the digest the registry serves, asked just before the pull
   * (loop/image-check.ts): the container's digest label. Absent: no label.
   */
  readonly tagDigests?: { resolve(spec: NormalizedSpec, now: number): Promise<string | null> };
  /** The tar of a build spec's context, as hashed into its image (host/build-context.ts); absent: no builds. */
  readonly builds?: {
    pack(spec: string, image: string): Promise<NodeJS.ReadableStream>;
    /** The text of the Dockerfile the image was hashed from (for its FROM lines' registries). */
    dockerfile?(spec: string, image: string): Promise<string>;
  };
  /** Keeps each spec's last build output (host/build-logs.ts, `berth logs --build`). */
  readonly buildLogs?: { save(spec: string, text: string): Promise<void> };
  /** Finds the registry credentials of a pull (host/registry-auth.ts); absent: pulls go without. */
  readonly registryAuth?: RegistryAuth;
  /** Told of a `hostPort: auto` port a program outside Docker holds, so that the next plan skips it. */
  readonly hostPorts?: { avoid(port: number): void };
  /** Under --ha: the fencing number of the term the writes were made in, logged with each action. */
  readonly term?: () => number | null;
  /** Told of each image pull as it starts, progresses and ends (apply's progress view). */
  readonly onImage?: (activity: ImageActivity) => void;
  /** The Git revision a spec file is checked out at (the berth.revision label), or null: not from a Git source. */
  readonly revisionOf?: (file: string) => string | null;
}

export interface AdmissionAudit {
  audit(
    body: EngineCreateBody,
    containers: readonly ObservedContainer[],
  ): Promise<{ readonly violations: readonly string[]; readonly missingVolumes: readonly string[] }>;
  pinned(body: EngineCreateBody): Promise<readonly string[]>;
  beforeStart(container: ObservedContainer, containers: readonly ObservedContainer[]): Promise<readonly string[]>;
}

export interface ActionContext {
  /** The spec the action is for; absent for orphans. */
  readonly record: SpecRecord | undefined;
  /** The spec's image was present at the last observation. */
  readonly imagePresent: boolean;
  /**
   * berth's containers as last observed, with their mounts (the admission audit compares bind
   * mounts across containers). Absent: listed when an audit needs them.
   */
  readonly containers?: readonly ObservedContainer[];
}

/** The grace a container without a spec gets when stopped (Docker's own default). */
const ORPHAN_STOP_SECONDS = DEFAULTS.stopTimeoutMs / 1000;

/** The log messages of an image's pull or build (constant, with fields). */
const IMAGE_LOG = {
  pull: { started: "image pull started", finished: "image pulled" },
  build: { started: "image build started", finished: "image built" },
} as const;

/** Lines of a build's output kept for its log, and shown in a failed build's error. */
const KEPT_BUILD_LINES = 2000;
const BUILD_ERROR_LINES = 10;

/**
 * A replacement that did not stay up for spec.stableFor, and what became of it (`then`). Retried
 * with backoff; under StopFirst the planner holds the rest of the rollout (core/plan/rollout.ts).
 */
function notStable(name: string, forMs: number, problem: string, then: string): BerthError {
  return BerthError.retriable(
    "BERTH_NOT_STABLE",
    `the new container for ${name} ${problem}, within stableFor ${formatDurationMs(forMs)}; ${then}. Fix the spec or the image`,
  );
}

/**
 * The host port in an engine's refusal to start: "listen tcp4 127.0.0.1:10000: bind: address
 * already in use" (a listener outside Docker) or "Bind for 0.0.0.0:10000 failed: port is already
 * allocated" (another container's); null for any other failure.
 */
export function heldPort(message: string): number | null {
  const m =
    /listen \w+ \S*:(\d+): bind: address already in use|Bind for \S*:(\d+) failed: port is already allocated/.exec(
      message,
    );
  const port = Number(m?.[1] ?? m?.[2]);
  return m ? port : null;
}

/**
 * A failed pull in the user's terms: a refusal names the registry and where berth looked for
 * credentials; an unreachable registry says so (and, under Always, that a local image is not
 * used); a missing image hints at building it on the host. `policy`: the spec's imagePullPolicy.
 */
export function pullError(
  image: string,
  err: unknown,
  auth: CredentialLookup | null,
  policy: ImagePullPolicy = "IfNotPresent",
): BerthError {
  const message = err instanceof Error ? err.message : String(err);
  if (!isDeniedPull(message)) {
    const failed = `pulling image ${image} failed (${message}); berth retries with backoff`;
    let hint = "";
    if (isUnreachableRegistry(message)) {
      const registry = auth?.registry ?? registryOf(image);
      hint =
        policy === "Always"
          ? `. The registry ${registry} could not be reached: under imagePullPolicy: Always berth pulls before every ` +
            "create, even when the image is on this host (IfNotPresent would use the local image)"
          : `. The registry ${registry} could not be reached: check that it is up and that this host can reach it`;
    } else if (isImageNotFound(message)) {
      hint =
        `. If the image exists only on this host, build it there (docker build -t ${image} .) or set ` +
        "imagePullPolicy: Never";
    }
    return BerthError.retriable("BERTH_PULL_FAILED", `${failed}${hint}`, err);
  }
  const registry = auth?.registry ?? registryOf(image);
  const looked = auth ? ` (berth looked in ${auth.searched.join(", ")})` : "";
  const what =
    auth?.from != null
      ? `berth sent the credentials of ${auth.from}: check them (docker login ${registry}), or choose another entry with imagePullSecret`
      : `berth found no credentials for ${registry}${looked}: run docker login ${registry}, or add an auths entry for it to --registry-auth-file`;
  // The shape of BERTH_PULL_FAILED's message, so that docker-spawner's answer drops the retry the same way.
  return BerthError.retriable(
    "BERTH_PULL_DENIED",
    `the registry ${registry} refused the pull of ${image} (${message}); berth retries with backoff. ${what}`,
    err,
  );
}

export class Executor {
  private readonly pulls = new Map<string, Promise<void>>();
  private readonly pullSlots: Semaphore;

  constructor(private readonly deps: ExecutorDeps) {
    this.pullSlots = new Semaphore(deps.pullConcurrency ?? 2);
  }

  private slot<T>(task: () => Promise<T>): Promise<T> {
    return this.deps.slots.run(task);
  }

  async run(action: Action, ctx: ActionContext): Promise<void> {
    const started = this.deps.clock.now();
    switch (action.kind) {
      case "create": {
        const { spec, hash, source } = this.specOf(ctx);
        // A first create (or one of a spec whose containers are all gone) has nothing to keep.
        const digest = await this.ensureImage(spec, ctx.imagePresent, () => this.runsSome(spec.name, ctx));
        await this.createStarted(spec, hash, source, action.replica, action.name, ctx, [], action.hostPorts, digest);
        break;
      }
      case "replace":
        await this.replace(action, ctx);
        break;
      case "finish":
        // Its reason is not known: with an old container to keep, it is held to a rollout's rule.
        await this.finish(action.next, action.old, action.name, this.specOf(ctx).spec, ctx, true);
        break;
      case "start":
        await this.ignoreGone(async () => {
          try {
            await this.startAudited(action.container, ctx);
          } catch (err) {
            // Its port taken meanwhile: once it is replaced (start failing), an auto port moves on.
            const port = heldPort(err instanceof Error ? err.message : String(err));
            if (port !== null) this.deps.hostPorts?.avoid(port);
            throw err;
          }
        });
        break;
      case "stop":
        // A deadline's mark first: the stopped run is never without it, so its reason holds.
        if (action.mark) {
          const mark = action.mark;
          await this.slot(() => this.deps.docker.createVolume(mark.volume, mark.labels));
        }
        // No slot: the stop is a wait (see the top of this file).
        await this.ignoreGone(() => this.deps.docker.stopContainer(action.container.id, this.stopSeconds(ctx)));
        break;
      case "remove":
        await this.remove(action.container, action.reason === "expired", ctx);
        break;
      case "rename":
        await this.rename(action.container.id, action.to);
        break;
      case "reclaim-volume":
        await this.removeVolume(action.volume);
        break;
      case "remove-image":
        await this.removeImage(action.spec, action.image);
        break;
      case "collect":
        // The record first: the run is never without one, so a pass between the two never starts it again.
        await this.slot(() => this.deps.docker.createVolume(action.record.volume, action.record.labels));
        await this.remove(action.container, true, ctx);
        break;
      case "forget":
        await this.ignoreGone(() => this.slot(() => this.deps.docker.removeVolume(action.name)));
        break;
      case "create-network":
      case "create-volume":
      case "remove-network":
      case "remove-volume":
        await this.slot(() => runObjectAction(action, this.deps.docker, this.deps.owner));
        break;
    }
    this.deps.log.info(
      {
        spec: action.spec,
        action: action.kind,
        reason: action.reason,
        ...(action.kind === "reclaim-volume"
          ? { volume: action.volume }
          : action.kind === "remove-image"
            ? { image: action.image }
            : {
                container: isObjectAction(action) ? undefined : "name" in action ? action.name : action.container.name,
              }),
        ...((action.kind === "create" || action.kind === "replace") && action.hostPorts
          ? { hostPorts: action.hostPorts }
          : {}),
        durationMs: this.deps.clock.now() - started,
        ...(this.deps.term ? { term: this.deps.term() } : {}),
      },
      "action completed",
    );
  }

  /** The stop timeout in seconds: the spec's (bounded by max-stop-timeout), Docker's default for an orphan. */
  private stopSeconds(ctx: ActionContext): number {
    const spec = ctx.record?.spec;
    return spec ? Math.ceil(spec.stopTimeoutMs / 1000) : ORPHAN_STOP_SECONDS;
  }

  /** Whether any container of the spec runs, as last observed (or listed, when not observed). */
  private async runsSome(spec: string, ctx: ActionContext): Promise<boolean> {
    const key = this.deps.owner.keys.spec;
    return (await this.containersOf(ctx)).some((c) => c.labels[key] === spec && c.state === "running");
  }

  /** berth's containers as last observed, but those this action removed already. */
  private async containersOf(ctx: ActionContext, removed: readonly string[] = []): Promise<ObservedContainer[]> {
    const all = ctx.containers ?? (await this.deps.docker.listContainers({ labels: [this.deps.owner.filter] }));
    return all.filter((c) => !removed.includes(c.id));
  }

  /**
   * Starts a container that exists, after auditing its mounts again: the engine resolves bind
   * sources anew at every start. A refusal is terminal: starting it again would mount the same.
   */
  private async startAudited(container: ContainerRef, ctx: ActionContext): Promise<void> {
    if (this.deps.admission) {
      const details = await this.deps.docker.inspectContainer(container.id);
      if (!details) return;
      const violations = await this.deps.admission.beforeStart(details, await this.containersOf(ctx));
      if (violations.length > 0) {
        throw BerthError.terminal(
          "BERTH_POLICY",
          `refused by the admission policy before starting ${container.name}: ${violations.join("; ")}`,
        );
      }
    }
    await this.slot(() => this.deps.docker.startContainer(container.id));
  }

  private specOf(ctx: ActionContext): { spec: NormalizedSpec; hash: string; source: string } {
    const r = ctx.record;
    if (!r?.spec || r.hash === null) throw BerthError.retriable("BERTH_RACE", "the spec is not available any more");
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

  /** Docker's errors keep their message; a request the engine refused as invalid is terminal. */
  private classify(err: unknown): Error {
    if (isDockerError(err, "bad-request")) {
      return BerthError.terminal(
        "BERTH_DOCKER_REFUSED",
        `Docker refused the container: ${err.message}`,
        undefined,
        err,
      );
    }
    if (err instanceof BerthError) return err;
    return BerthError.retriable("BERTH_DOCKER", err instanceof Error ? err.message : String(err), err);
  }

  /**
   * Pulls when the policy says so. Returns, for a followed tag, the digest the registry served just
   * before the pull (the container's digest label); else null.
   */
  private async ensureImage(
    spec: NormalizedSpec,
    presentAtObservation: boolean,
    keepsRunning: () => Promise<boolean>,
  ): Promise<string | null> {
    const ref = normalizeImageRef(spec.image);
    const build = spec.build;
    if (build !== null) {
      // Built, never pulled: the tag holds the context's hash, so a present tag is the right image.
      if (presentAtObservation || (await this.deps.docker.inspectImage(ref)) !== null) return null;
      await this.once(ref, () => this.build(spec, build, keepsRunning));
      return null;
    }
    if (spec.imagePullPolicy !== "Always") {
      if (presentAtObservation) return null;
      if ((await this.deps.docker.inspectImage(ref)) !== null) return null;
      if (spec.imagePullPolicy === "Never") {
        throw BerthError.terminal(
          "BERTH_IMAGE_MISSING",
          `image ${spec.image} is not present on this host and imagePullPolicy is Never: build or load it ` +
            `(docker build -t ${spec.image} . or docker load), or set imagePullPolicy: IfNotPresent`,
          ref,
        );
      }
    }
    const digest =
      followsTag(spec) && this.deps.tagDigests ? await this.deps.tagDigests.resolve(spec, this.deps.clock.now()) : null;
    const auth = (await this.deps.registryAuth?.lookup(spec.image, spec.imagePullSecret)) ?? null;
    try {
      // Two specs of one image share the pull: its progress is told as the first one's.
      await this.once(`${ref}\0${spec.imagePullSecret ?? ""}`, () =>
        this.tracked("pull", spec.name, ref, (sink) =>
          this.deps.docker.pullImage(ref, auth?.credentials ?? null, sink),
        ),
      );
    } catch (err) {
      throw pullError(spec.image, err, auth, spec.imagePullPolicy);
    }
    return digest;
  }

  /** One pull or build per key at a time, under the pull slots: a second caller waits for the first. */
  private once(key: string, task: () => Promise<void>): Promise<void> {
    let running = this.pulls.get(key);
    if (!running) {
      running = this.pullSlots.run(task).finally(() => this.pulls.delete(key));
      this.pulls.set(key, running);
    }
    return running;
  }

  /**
   * Builds a spec's image from its context. A failure keeps whatever runs (the caller has removed
   * nothing yet) and says why with the build's last lines; the output is kept for `berth logs --build`.
   */
  private async build(
    spec: NormalizedSpec,
    build: NormalizedBuild,
    keepsRunning: () => Promise<boolean>,
  ): Promise<void> {
    const builds = this.deps.builds;
    if (!builds) throw BerthError.terminal("BERTH_BUILD_CONTEXT", `this berth cannot build ${spec.image}`);
    const lines: string[] = [];
    const keys = this.deps.owner.keys;
    // The tar fails (BERTH_RACE) when the files changed since they were hashed.
    const sent: { error: Error | null } = { error: null };
    let failure: Error | null = null;
    try {
      await this.tracked("build", spec.name, spec.image, async (progress) => {
        const registryConfig = await this.buildCredentials(spec, build);
        const context = await builds.pack(spec.name, spec.image);
        context.on("error", (err: Error) => {
          sent.error = err;
        });
        await this.deps.docker.buildImage(
          context,
          {
            tag: spec.image,
            dockerfile: build.dockerfile,
            args: build.args,
            target: build.target,
            labels: { [keys.builtBy]: this.deps.owner.controllerId, [keys.builtFor]: spec.name },
            registryConfig,
          },
          (event) => {
            lines.push(event.status);
            if (lines.length > KEPT_BUILD_LINES) lines.shift();
            progress?.(event);
          },
        );
      });
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    const outcome = failure === null ? "built" : `failed: ${failure.message}`;
    await this.deps.buildLogs
      ?.save(spec.name, `${lines.join("\n")}\n# ${spec.image} ${outcome}\n`)
      .catch((err: unknown) => {
        this.deps.log.warn({ spec: spec.name, err }, "build log not saved");
      });
    if (failure === null) return;
    // The context changed while it was sent, or could not be read: said as it is.
    if (sent.error instanceof BerthError) throw sent.error;
    if (failure instanceof BerthError && !isDockerError(failure)) throw failure;
    const last = lines.slice(-BUILD_ERROR_LINES).map((line) => `  | ${line}`);
    // Only when there are some: on a spec's first create, nothing runs to keep.
    const kept = (await keepsRunning().catch(() => false)) ? "the last good containers keep running and " : "";
    throw BerthError.retriable(
      "BERTH_BUILD_FAILED",
      `building image ${spec.image} for ${spec.name} failed (${failure.message}); ` +
        `${kept}berth retries with backoff (berth logs --build ${spec.name} has the whole output)` +
        (last.length > 0 ? `. The build's last lines:\n${last.join("\n")}` : ""),
      failure,
    );
  }

  /**
   * The credentials of the registries a build's FROM (and COPY --from) images come from, found as
   * a pull's are, by server address. As `docker build` does, a registry berth finds none for, or
   * whose lookup fails (logged, without the credentials), is left out: the engine pulls without,
   * and a refusal then fails the build in the engine's words.
   */
  private async buildCredentials(
    spec: NormalizedSpec,
    build: NormalizedBuild,
  ): Promise<Record<string, RegistryCredentials>> {
    const { registryAuth: auth, builds } = this.deps;
    if (!auth || !builds?.dockerfile) return {};
    let text: string;
    try {
      text = await builds.dockerfile(spec.name, spec.image);
    } catch {
      // The tar reads the same folder and says what is wrong with it.
      return {};
    }
    const config: Record<string, RegistryCredentials> = {};
    for (const image of baseImages(text, build.args)) {
      if (isBuiltImage(image)) continue;
      const registry = registryOf(image);
      const server = registry === DOCKER_HUB ? DOCKER_HUB_SERVER : registry;
      if (Object.hasOwn(config, server)) continue;
      try {
        const found = await auth.lookup(image, null);
        if (found.credentials) config[server] = found.credentials;
      } catch (err) {
        this.deps.log.warn({ spec: spec.name, image, err }, "build base image credentials not found");
      }
    }
    return config;
  }

  /**
   * Runs one image pull or build of a spec, logging its start and end and telling onImage of its
   * start, every progress event (through the sink handed to `task`) and its end.
   */
  private async tracked<T>(
    phase: ImageProgress["phase"],
    spec: string,
    image: string,
    task: (sink: ProgressSink | undefined) => Promise<T>,
  ): Promise<T> {
    const { clock, log, onImage } = this.deps;
    const started = clock.now();
    log.info({ spec, image }, IMAGE_LOG[phase].started);
    onImage?.({ kind: "started", spec, phase, image });
    const sink: ProgressSink | undefined =
      onImage &&
      ((event) => {
        onImage({ kind: "progress", spec, event });
      });
    const end = (ok: boolean): void => {
      onImage?.({ kind: "finished", spec, phase, image, ok, durationMs: clock.now() - started });
    };
    let result: T;
    try {
      result = await task(sink);
    } catch (err) {
      end(false);
      throw err;
    }
    log.info({ spec, image, durationMs: clock.now() - started }, IMAGE_LOG[phase].finished);
    end(true);
    return result;
  }

  /**
   * Creates (and starts, unless the spec is suspended) a container; returns its ID. `removed`:
   * containers this action already removed (they are no longer among the observed ones).
   */
  private async createStarted(
    spec: NormalizedSpec,
    hash: string,
    source: string,
    replica: number,
    name: string,
    ctx: ActionContext,
    removed: readonly string[] = [],
    hostPorts?: HostPortMap,
    imageDigest: string | null = null,
  ): Promise<string> {
    if (autoPortKeys(spec).some((key) => hostPorts?.[key] === undefined)) {
      // Planned for an older version of the spec, without auto ports.
      throw BerthError.retriable("BERTH_RACE", `the host ports of ${name} were not planned; planning again`);
    }
    // The create-time read of the secrets (core/secrets.ts says why there are two).
    const secrets = await secretsForCreate(spec, hash, this.deps.secrets);
    const seccomp = spec.security.seccompProfile;
    const seccompProfileJson =
      seccomp !== null && seccomp.startsWith("/") && this.deps.readSeccompProfile
        ? await this.deps.readSeccompProfile(seccomp)
        : undefined;
    const body = buildCreateBody(spec, {
      owner: this.deps.owner,
      replica,
      hash: secrets.labelHash,
      source,
      revision: this.deps.revisionOf?.(ctx.record?.file ?? "") ?? null,
      secretValues: secrets.values,
      labelDigests: secrets.labelDigests,
      network: await this.deps.network.resolve(spec.network),
      ...(seccompProfileJson !== undefined ? { seccompProfileJson } : {}),
      ...(hostPorts ? { hostPorts } : {}),
      ...(imageDigest !== null ? { imageDigest } : {}),
    });
    const admission = this.deps.admission;
    const verdict = admission
      ? await admission.audit(body, await this.containersOf(ctx, removed))
      : { violations: [], missingVolumes: [] };
    if (verdict.violations.length > 0) {
      throw BerthError.retriable(
        "BERTH_POLICY",
        `refused by the admission policy just before creating ${name}: ${verdict.violations.join("; ")}`,
      );
    }
    // One slot for the volumes, the create and the start: each container runs as soon as it can,
    // rather than every queued create going first.
    return this.slot(async () => {
      const keys = this.deps.owner.keys;
      const own = await this.ensureInstanceVolumes(spec, replica, source);
      for (const volume of verdict.missingVolumes.filter((v) => !own.has(v))) {
        // berth makes the volumes it mounts, labelled: restricted admits those (volume-origin).
        await this.deps.docker.createVolume(volume, {
          [keys.controller]: this.deps.owner.controllerId,
          [keys.spec]: spec.name,
        });
      }
      let id: string;
      try {
        id = await this.deps.docker.createContainer(name, body);
      } catch (err) {
        if (isDockerError(err, "conflict")) await this.nameTaken(name);
        if (isDockerError(err, "image-missing")) {
          throw BerthError.retriable(
            "BERTH_RACE",
            `image ${spec.image} disappeared before the container was created; retrying`,
          );
        }
        throw this.classify(err);
      }
      // The container now holds its volumes (a volume in use cannot be removed): what they are
      // now is what it will mount. One made or swapped since the audit is caught here.
      let pinned: readonly string[];
      try {
        pinned = admission ? await admission.pinned(body) : [];
      } catch (err) {
        // Unchecked: never left behind to be started later.
        await this.ignoreGone(() => this.deps.docker.removeContainer(id, { force: true }));
        throw this.classify(err);
      }
      if (pinned.length > 0) {
        await this.ignoreGone(() => this.deps.docker.removeContainer(id, { force: true }));
        throw BerthError.retriable(
          "BERTH_POLICY",
          `refused by the admission policy once ${name} was created (it was removed unstarted): ${pinned.join("; ")}`,
        );
      }
      if (!spec.suspended) {
        try {
          await this.deps.docker.startContainer(id);
        } catch (err) {
          await this.hostPortHeld(err, id, name, hostPorts);
          throw BerthError.retriable(
            "BERTH_START_FAILED",
            `container ${name} was created but did not start: ${err instanceof Error ? err.message : String(err)}`,
            err,
          );
        }
      }
      return id;
    });
  }

  /**
   * The replica's per-instance volumes (core/instance-volumes.ts): made, labelled, when missing; an
   * existing one only if berth made it for this spec's mount. Returns their names.
   */
  private async ensureInstanceVolumes(spec: NormalizedSpec, replica: number, source: string): Promise<Set<string>> {
    const { docker, owner } = this.deps;
    const names = new Set<string>();
    for (const volume of instanceVolumes(spec, replica)) {
      names.add(volume.name);
      const existing =
        (await docker.inspectVolume(volume.name)) ??
        (await docker.createVolume(volume.name, instanceVolumeLabels(spec, replica, volume, owner, source)));
      if (!isInstanceVolumeFor(existing, spec.name, volume, owner)) {
        throw BerthError.retriable(
          "BERTH_VOLUME_CONFLICT",
          `the volume ${volume.name} exists but berth did not make it for ${spec.name}'s per-instance mount ` +
            `of ${JSON.stringify(volume.source)}; berth never adopts it: remove or rename it (docker volume rm ${volume.name}), or rename the spec or the mount`,
        );
      }
    }
    return names;
  }

  /** Removes a per-instance volume; one a container still uses stays, for a later pass. */
  private async removeVolume(name: string): Promise<void> {
    try {
      await this.slot(() => this.deps.docker.removeVolume(name));
    } catch (err) {
      if (isDockerError(err, "conflict")) {
        throw BerthError.retriable(
          "BERTH_VOLUME_IN_USE",
          `the volume ${name} is still used by a container; berth removes it once nothing uses it`,
          err,
        );
      }
      throw this.classify(err);
    }
  }

  /**
   * A built image's tag. One a container took up since the observation is refused by the engine
   * (409): kept, and no error: the next pass sees who uses it and plans nothing for it.
   */
  private async removeImage(spec: string, image: string): Promise<void> {
    try {
      await this.slot(() => this.deps.docker.removeImage(image));
    } catch (err) {
      if (!isDockerError(err, "conflict")) throw this.classify(err);
      this.deps.log.info({ spec, image, err: err.message }, "image in use, kept");
    }
  }

  /**
   * A start refused because a program outside Docker holds one of the auto ports (the engine does
   * not list such listeners): the container goes, unstarted, and the port is avoided from now on.
   */
  private async hostPortHeld(
    err: unknown,
    id: string,
    name: string,
    hostPorts: HostPortMap | undefined,
  ): Promise<void> {
    const port = heldPort(err instanceof Error ? err.message : String(err));
    if (port === null || !Object.values(hostPorts ?? {}).includes(port)) return;
    this.deps.hostPorts?.avoid(port);
    await this.ignoreGone(() => this.deps.docker.removeContainer(id, { force: true }));
    throw BerthError.retriable(
      "BERTH_HOST_PORT_IN_USE",
      `host port ${port} is held by a program outside Docker; ${name} was removed unstarted and gets the next free port`,
      err,
    );
  }

  /** After a 409 on a name: a conflict if a container berth does not own holds it; else retry. */
  private async nameTaken(name: string): Promise<never> {
    const holder = await this.deps.docker.inspectContainer(name);
    if (holder && !this.deps.owner.owns(holder)) {
      throw BerthError.terminal(
        "BERTH_NAME_CONFLICT",
        `the name ${name} is held by container ${shortId(holder.id)}, which berth does not own; ` +
          `remove or rename that container (docker rm ${name}), or rename the spec`,
        name,
      );
    }
    throw BerthError.retriable("BERTH_RACE", `the name ${name} was taken while berth worked; planning again`);
  }

  private async replace(action: Extract<Action, { kind: "replace" }>, ctx: ActionContext): Promise<void> {
    const { spec, hash, source } = this.specOf(ctx);
    // Nothing is removed before the image is there: the old container keeps running.
    const digest = await this.ensureImage(spec, ctx.imagePresent, () => Promise.resolve(true));
    if (action.strategy === "StopFirst") {
      await this.remove(action.old, false, ctx);
      const id = await this.createStarted(
        spec,
        hash,
        source,
        action.replica,
        action.name,
        ctx,
        [action.old.id],
        action.hostPorts,
        digest,
      );
      // A rollout's replacement must stay up before the next one goes; a repair (dead, start
      // failing) is not held to it. There is no old container to keep: this one stays, and the
      // rollout holds on it (core/plan/rollout.ts).
      if (spec.stableForMs !== null && !spec.suspended && isRolloutReason(action.reason)) {
        const problem = (await waitReady(this.deps, id, spec)) ?? (await this.stayedUp(id, spec.stableForMs));
        if (problem !== null)
          throw notStable(
            action.name,
            spec.stableForMs,
            problem,
            "it stays (the old one is gone) and the rest of the rollout holds until the spec changes",
          );
      }
      return;
    }
    const next = await this.createStarted(
      spec,
      hash,
      source,
      action.replica,
      tempName(action.name),
      ctx,
      [],
      action.hostPorts,
      digest,
    );
    const rollout = isRolloutReason(action.reason);
    await this.finish({ id: next, name: tempName(action.name) }, action.old, action.name, spec, ctx, rollout);
  }

  /**
   * Brings a replacement under its temporary name to completion: running (healthy), old gone,
   * renamed. Under spec.stableFor a rollout's replacement that does not come up and stay up is
   * kept stopped as its version's record (reject), which holds the rollout (core/plan/rollout.ts).
   */
  private async finish(
    next: ContainerRef,
    old: ContainerRef | null,
    name: string,
    spec: NormalizedSpec,
    ctx: ActionContext,
    rollout: boolean,
  ): Promise<void> {
    const details = await this.deps.docker.inspectContainer(next.id);
    if (!details) throw BerthError.retriable("BERTH_RACE", `the new container ${next.name} vanished; planning again`);
    if (details.state !== "running" && !spec.suspended) await this.startAudited(next, ctx);
    if (!spec.suspended) {
      // The old container keeps running until the new one has stayed up (spec.stableFor). With
      // no old one left (a replacement interrupted after its removal) there is nothing to keep.
      const stableFor = old && spec.stableForMs !== null ? spec.stableForMs : null;
      const held = rollout && stableFor !== null;
      const problem = await waitReady(this.deps, next.id, spec);
      if (problem !== null) {
        const then = held ? await this.reject(next, name) : await this.discard(next, "the old one keeps running");
        throw BerthError.retriable(
          "BERTH_START_FAILED",
          `the new container for ${name} ${problem}; ${then}. Fix the spec or the image`,
        );
      }
      if (stableFor !== null) {
        const unstable = await this.stayedUp(next.id, stableFor);
        if (unstable !== null) {
          const then = held
            ? await this.reject(next, name)
            : await this.discard(next, "it was removed and the old one keeps running");
          throw notStable(name, stableFor, unstable, then);
        }
      }
    }
    if (old) await this.remove(old, false, ctx);
    await this.rename(next.id, name);
  }

  /** A replacement that failed, removed; `said`: what became of it, in words. */
  private async discard(next: ContainerRef, said: string): Promise<string> {
    await this.ignoreGone(() => this.slot(() => this.deps.docker.removeContainer(next.id, { force: true })));
    return said;
  }

  /**
   * A rollout's replacement that did not stay up, kept stopped under its record name (web-0.rejected)
   * for its logs: the record that holds the rollout until the spec or its image changes. A record
   * of another version under that name goes first; a container berth does not own there is left
   * alone, and the replacement is removed instead. Says what became of it.
   */
  private async reject(next: ContainerRef, name: string): Promise<string> {
    const record = rejectedName(name);
    const docker = this.deps.docker;
    await this.ignoreGone(() => docker.stopContainer(next.id, 0));
    const holder = await docker.inspectContainer(record);
    if (holder && holder.id !== next.id) {
      if (!this.deps.owner.owns(holder))
        return this.discard(
          next,
          `it was removed (the name ${record} is held by a container berth does not own) and the old one keeps running`,
        );
      await this.ignoreGone(() => this.slot(() => docker.removeContainer(holder.id, { force: true })));
    }
    await this.rename(next.id, record);
    this.deps.log.info({ container: next.id, name: record }, "replacement rejected; kept stopped");
    return (
      `it is kept stopped as ${record} for its logs, the old one keeps running, and this version is not ` +
      `tried again until the spec or its image changes`
    );
  }

  private stayedUp(id: string, forMs: number): Promise<string | null> {
    this.deps.log.info({ container: id, stableForMs: forMs }, "replacement running; waiting for it to stay up");
    return stayedUp(this.deps, id, forMs);
  }

  /**
   * Expired containers are killed at once (expiry is a deadline); others get their stop timeout,
   * always explicit. The stop holds no slot (it is a wait); the removal does.
   */
  private async remove(container: ContainerRef, kill: boolean, ctx: ActionContext): Promise<void> {
    const docker = this.deps.docker;
    if (!kill) await this.ignoreGone(() => docker.stopContainer(container.id, this.stopSeconds(ctx)));
    await this.ignoreGone(() => this.slot(() => docker.removeContainer(container.id, { force: true })));
  }

  private async rename(id: string, name: string): Promise<void> {
    try {
      await this.slot(() => this.deps.docker.renameContainer(id, name));
    } catch (err) {
      // Already renamed (a rename whose answer was lost when the engine restarted): done.
      if (isDockerError(err, "bad-request", "conflict") && /same name as its current name/i.test(err.message)) return;
      if (isDockerError(err, "conflict")) await this.nameTaken(name);
      throw this.classify(err);
    }
  }
}
