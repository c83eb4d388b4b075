/**
 * The Docker adapter: berth's Docker port against a real engine, on dockerode's client
 * (client.ts). It speaks the Engine API, returns berth's own types, maps errors to DockerError
 * kinds (404 → not-found, 409 → conflict, "removal already in progress" → gone) and puts a
 * deadline on every call except the events stream.
 */
import type { Readable } from "node:stream";
import { type ContainerCreateOptions, Docker, type DockerOptions } from "./client.js";
import type { EngineCreateBody } from "../core/create-request.js";
import { isBuiltImage } from "../core/build.js";
import { normalizeImageRef } from "../core/image-ref.js";
import type { ImageProgress, ProgressSink } from "../core/progress.js";
import { type RegistryCredentials, registryOf } from "../core/registry.js";
import type {
  ContainerState,
  Health,
  ObservedContainer,
  ObservedImage,
  ObservedMount,
  ObservedNetwork,
  ObservedPort,
  ObservedRun,
} from "../core/observed.js";
import { DockerContainerIO } from "./container-io.js";
import { DockerSwarm, type SwarmPort } from "./swarm-adapter.js";
import { DockerError, type DockerErrorKind, mapError } from "./errors.js";
import type {
  BuildOptions,
  ContainerDetails,
  DockerPort,
  EngineInfo,
  HostResources,
  EventHandlers,
  EventSubscription,
  EventFilter,
  ListFilter,
  LocalImages,
  NetworkCreateOptions,
  VolumeDetails,
} from "./port.js";

export type CallOutcome = "ok" | DockerErrorKind;

export interface AdapterOptions {
  /** Deadline of an ordinary call. */
  readonly callTimeoutMs: number;
  /** Deadline of an image pull. */
  readonly pullTimeoutMs: number;
  /** Called after every API call (metrics, call counting in tests). */
  readonly onCall?: (operation: string, outcome: CallOutcome, durationMs: number) => void;
  /** A dockerode client to use (tests point it at a proxy); default: DOCKER_HOST or the default socket. */
  readonly docker?: Docker;
  /** Connection options for a new client, e.g. { socketPath }. */
  readonly connection?: DockerOptions;
}

export const DEFAULT_ADAPTER_OPTIONS: AdapterOptions = { callTimeoutMs: 30_000, pullTimeoutMs: 10 * 60_000 };

const STATES = new Set<ContainerState>(["created", "running", "paused", "restarting", "removing", "exited", "dead"]);

function toState(value: string | undefined): ContainerState {
  const lower = (value ?? "").toLowerCase() as ContainerState;
  return STATES.has(lower) ? lower : "dead";
}

/** "Up 3 minutes (healthy)" → healthy; "Exited (137) 2 seconds ago" → exit code 137. */
export function parseStatus(status: string): { exitCode: number | null; health: Health | null } {
  const exit = /^Exited \((-?\d+)\)/.exec(status);
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  return {
    exitCode: exit ? Number(exit[1]) : null,
    health: health ? (health[1] === "health: starting" ? "starting" : (health[1] as Health)) : null,
  };
}

interface EngineMount {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  RW?: boolean;
}

/** The list call's (and inspect's) mounts in berth's terms: a volume by its name, a bind by its host path. */
export function toMounts(mounts: readonly EngineMount[] | undefined): ObservedMount[] {
  return (mounts ?? []).map((m) => ({
    type: m.Type ?? "",
    source: m.Type === "volume" ? (m.Name ?? "") : (m.Source ?? ""),
    target: m.Destination ?? "",
    rw: m.RW === true,
  }));
}

interface EnginePort {
  IP?: string;
  PrivatePort?: number;
  PublicPort?: number;
  Type?: string;
}

/** The list call's published ports (a running container's; unpublished, exposed-only ones are left out). */
export function toPorts(ports: readonly EnginePort[] | undefined): ObservedPort[] {
  return (ports ?? []).flatMap((p) =>
    p.PublicPort !== undefined && p.PublicPort > 0 && p.PrivatePort !== undefined
      ? [{ containerPort: p.PrivatePort, protocol: p.Type ?? "tcp", hostPort: p.PublicPort, hostIP: p.IP ?? "" }]
      : [],
  );
}

interface EngineNetworkSettings {
  Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string } | null> | null;
}

/**
 * Each network's IPv4 address (`ipv6`: its global IPv6 address), as the list call carries it (no
 * inspect); a network where the container has none (stopped, `host`, `none`, no IPv6) is left out.
 */
export function toAddresses(settings: EngineNetworkSettings | undefined, ipv6 = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [network, endpoint] of Object.entries(settings?.Networks ?? {})) {
    const ip = (ipv6 ? endpoint?.GlobalIPv6Address : endpoint?.IPAddress) ?? "";
    if (ip !== "") out[network] = ip;
  }
  return out;
}

/** A network's IPAM with the given subnets, or nothing when none is given: the engine picks. */
function ipam(subnets: readonly (string | null)[]): { IPAM?: { Driver: string; Config: { Subnet: string }[] } } {
  const config = subnets.filter((s): s is string => s !== null).map((s) => ({ Subnet: s }));
  return config.length === 0 ? {} : { IPAM: { Driver: "default", Config: config } };
}

interface EngineVolume {
  Name: string;
  Driver: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
}

/** An unset engine time ("0001-01-01T00:00:00Z") is null. */
function engineTime(value: string | undefined): number | null {
  const ms = value === undefined ? Number.NaN : Date.parse(value);
  return Number.isNaN(ms) || ms <= 0 ? null : ms;
}

interface EngineRunState {
  Created: string;
  RestartCount?: number;
  State: {
    Running: boolean;
    Restarting?: boolean;
    ExitCode: number;
    OOMKilled?: boolean;
    StartedAt?: string;
    FinishedAt?: string;
  };
  HostConfig?: { RestartPolicy?: { Name?: string; MaximumRetryCount?: number } };
}

/** Inspect's account of a run (core/observed.ts, ObservedRun). */
export function toRun(c: EngineRunState): ObservedRun {
  const restartCount = c.RestartCount ?? 0;
  const policy = c.HostConfig?.RestartPolicy;
  const max = policy?.MaximumRetryCount ?? 0;
  const stopped = !c.State.Running && c.State.Restarting !== true;
  const engineRestarts =
    policy?.Name === "always" ||
    policy?.Name === "unless-stopped" ||
    (policy?.Name === "on-failure" && c.State.ExitCode !== 0 && (max === 0 || restartCount < max));
  const exitedAt = engineTime(c.State.FinishedAt);
  return {
    createdAt: Date.parse(c.Created),
    startedAt: engineTime(c.State.StartedAt),
    finishedAt: stopped ? exitedAt : null,
    oomKilled: c.State.OOMKilled === true,
    restartCount,
    // Started again, the engine's ExitCode reads 0 (it is reset at the start; while restarting,
    // Running is true too, and the code is the exit's).
    lastExit:
      exitedAt === null
        ? null
        : { code: c.State.Running && c.State.Restarting !== true ? null : c.State.ExitCode, at: exitedAt },
    settled: stopped && !engineRestarts,
  };
}

function toVolume(v: EngineVolume): VolumeDetails {
  return { name: v.Name, driver: v.Driver, labels: v.Labels ?? {}, options: v.Options ?? {} };
}

interface EngineNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
}

function toNetwork(n: EngineNetwork, containers: readonly string[]): ObservedNetwork {
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    scope: n.Scope ?? "local",
    labels: n.Labels ?? {},
    options: n.Options ?? {},
    internal: n.Internal === true,
    attachable: n.Attachable === true,
    containers,
  };
}

export function labelFilters(filter: ListFilter): string {
  return JSON.stringify({ label: filter.labels });
}

export class DockerAdapter implements DockerPort {
  private readonly docker: Docker;
  private readonly options: AdapterOptions;

  constructor(options: Partial<AdapterOptions> = {}) {
    this.options = { ...DEFAULT_ADAPTER_OPTIONS, ...options };
    this.docker = options.docker ?? new Docker(options.connection);
  }

  /** Exec and logs for the operator surfaces, on this adapter's client. */
  containerIO(): DockerContainerIO {
    return new DockerContainerIO(this.docker, this.options.callTimeoutMs);
  }

  /** Services and tasks (`--target swarm`), on this adapter's client and through its `call`. */
  swarm(): SwarmPort {
    return new DockerSwarm(this.docker, (operation, run) => this.call(operation, run));
  }

  /** Runs one API call with a deadline, mapping errors and reporting the outcome. */
  private async call<T>(
    operation: string,
    run: (signal: AbortSignal) => Promise<T>,
    timeoutMs = this.options.callTimeoutMs,
    subject?: string,
  ): Promise<T> {
    const started = performance.now();
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const result = await run(signal);
      // docker-modem hands back the raw bytes of a body that is not JSON. The engine answers every
      // call with JSON or nothing, and ping with "OK": anything else is some other server.
      if (Buffer.isBuffer(result) && result.length > 0 && (operation !== "ping" || result.toString() !== "OK"))
        throw new DockerError(
          "not-engine",
          operation,
          `Docker ${operation}: the server answered with a body that is not the engine's JSON`,
          200,
        );
      this.options.onCall?.(operation, "ok", performance.now() - started);
      return result;
    } catch (raw) {
      const err = mapError(operation, raw, subject, { timeoutMs });
      this.options.onCall?.(operation, err.kind, performance.now() - started);
      throw err;
    }
  }

  async ping(): Promise<void> {
    // dockerode honours abortSignal on ping; its types do not say so.
    await this.call("ping", (abortSignal) => (this.docker.ping as (o: object) => Promise<unknown>)({ abortSignal }));
  }

  async engine(): Promise<EngineInfo> {
    // As with ping: dockerode passes abortSignal on; its types do not say so.
    type Version = (o: object) => Promise<{ Version: string; ApiVersion: string }>;
    const v = await this.call("version", (abortSignal) => (this.docker.version as Version)({ abortSignal }));
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  async hostResources(): Promise<HostResources> {
    // As with ping: dockerode passes abortSignal on; its types do not say so.
    type Info = (o: object) => Promise<{ NCPU: number; MemTotal: number }>;
    const info = await this.call("info", (abortSignal) => (this.docker.info as Info)({ abortSignal }));
    return { nanoCpus: info.NCPU * 1e9, memoryBytes: info.MemTotal };
  }

  async listContainers(filter: ListFilter): Promise<ObservedContainer[]> {
    const list = await this.call("list", (abortSignal) =>
      this.docker.listContainers({ all: true, filters: labelFilters(filter), abortSignal }),
    );
    return list.map((c) => {
      const { exitCode, health } = parseStatus(c.Status);
      return {
        id: c.Id,
        name: (c.Names[0] ?? "").replace(/^\//, ""),
        labels: c.Labels,
        state: toState(c.State),
        exitCode,
        health,
        imageId: c.ImageID,
        image: c.Image,
        createdAt: c.Created * 1000,
        mounts: toMounts(c.Mounts),
        addresses: toAddresses(c.NetworkSettings),
        ports: toPorts(c.Ports),
        ipv6Addresses: toAddresses(c.NetworkSettings, true),
      };
    });
  }

  async listImages(): Promise<LocalImages> {
    const images = await this.call("images", (abortSignal) => this.docker.listImages({ abortSignal }));
    const ids = new Map<string, string>();
    const built: ObservedImage[] = [];
    for (const image of images) {
      for (const tag of [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])]) {
        if (!tag.startsWith("<none>")) ids.set(normalizeImageRef(tag), image.Id);
      }
      for (const tag of image.RepoTags ?? []) {
        if (isBuiltImage(tag))
          built.push({ id: image.Id, tag, labels: { ...(image.Labels ?? {}) }, createdAt: image.Created * 1000 });
      }
    }
    return { ids, built };
  }

  async removeImage(tag: string): Promise<void> {
    // By its tag, never forced: an image with other tags only loses this one.
    await this.removal("image-remove", tag, (abortSignal) =>
      this.docker.getImage(tag).remove({ abortSignal } as object),
    );
  }

  /** A removal: what is already gone (404 — for an image "no such image" — or being removed) is not an error. */
  private async removal(
    operation: string,
    subject: string,
    remove: (abortSignal: AbortSignal) => Promise<unknown>,
  ): Promise<void> {
    try {
      await this.call(operation, remove, this.options.callTimeoutMs, subject);
    } catch (err) {
      if (err instanceof DockerError && ["not-found", "gone", "image-missing"].includes(err.kind)) return;
      throw err;
    }
  }

  async inspectImage(ref: string): Promise<string | null> {
    // A filtered list rather than GET /images/{name}/json: dockerode cannot abort the latter.
    const image = normalizeImageRef(ref);
    const found = await this.call("image", (abortSignal) =>
      this.docker.listImages({ filters: JSON.stringify({ reference: [image] }), abortSignal }),
    );
    return found[0]?.Id ?? null;
  }

  async pullImage(ref: string, credentials?: RegistryCredentials | null, onProgress?: ProgressSink): Promise<void> {
    const image = normalizeImageRef(ref);
    await this.call(
      "pull",
      async (abortSignal) => {
        // dockerode sends `authconfig` as the X-Registry-Auth header (base64 JSON), never in the URL.
        const auth = credentials ? { authconfig: { ...credentials } } : {};
        const stream: NodeJS.ReadableStream = await this.docker.pull(image, { abortSignal, ...auth });
        await new Promise<void>((resolve, reject) => {
          this.docker.modem.followProgress(
            stream,
            (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[] | undefined) => {
              const failed = output?.find((o) => o.error !== undefined);
              if (err) reject(err);
              else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
              else resolve();
            },
            onProgress
              ? (message: PullMessage) => {
                  onProgress(pullProgress(image, message));
                }
              : undefined,
          );
        });
      },
      this.options.pullTimeoutMs,
      image,
    );
  }

  async buildImage(context: NodeJS.ReadableStream, options: BuildOptions, onProgress?: ProgressSink): Promise<void> {
    await this.call(
      "build",
      async (deadline) => {
        // The request body is piped from the context, and a pipe does not pass a failure on: a
        // context that fails (changed while sent) aborts the request, or the build would wait for
        // the rest of its body until the deadline.
        const failed = new AbortController();
        context.once("error", () => {
          failed.abort();
        });
        const abortSignal = AbortSignal.any([deadline, failed.signal]);
        const stream: NodeJS.ReadableStream = await this.docker.buildImage(context, {
          abortSignal,
          t: options.tag,
          dockerfile: options.dockerfile,
          buildargs: { ...options.args },
          labels: { ...options.labels },
          ...(options.target !== null ? { target: options.target } : {}),
          // dockerode moves it from the query to the X-Registry-Config header (base64 JSON). Its
          // types allow only username and password; the engine takes any AuthConfig (identitytoken too).
          ...(Object.keys(options.registryConfig).length > 0
            ? { registryconfig: { ...options.registryConfig } as Docker.RegistryConfig }
            : {}),
          // Intermediate containers go, failed steps' too.
          rm: true,
          forcerm: true,
        });
        await new Promise<void>((resolve, reject) => {
          // The engine answers 200 and reports a failed step in the stream, as {error, errorDetail}.
          this.docker.modem.followProgress(
            stream,
            (err: Error | null, output: BuildMessage[] | undefined) => {
              const failed = output?.find((o) => o.error !== undefined);
              if (err) reject(err);
              else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
              else resolve();
            },
            (message: BuildMessage) => {
              for (const line of buildLines(message))
                onProgress?.({ phase: "build", image: options.tag, status: line });
            },
          );
        });
      },
      this.options.pullTimeoutMs,
      options.tag,
    );
  }

  async registryDigest(ref: string, credentials: RegistryCredentials | null): Promise<string> {
    const image = normalizeImageRef(ref);
    // dockerode's image.distribution() cannot be aborted; the modem's dial can.
    const answer = await this.call(
      "distribution",
      (abortSignal) =>
        new Promise<unknown>((resolve, reject) => {
          this.docker.modem.dial(
            {
              path: `/distribution/${image}/json`,
              method: "GET",
              statusCodes: {
                200: true,
                401: "unauthorized",
                403: "forbidden",
                404: "no such image",
                500: "server error",
              },
              // The engine wants the header even for a registry without auth.
              authconfig: credentials ?? { serveraddress: registryOf(image) },
              abortSignal,
            },
            (err: Error | null, data: unknown) => {
              if (err) reject(err);
              else resolve(data);
            },
          );
        }),
      this.options.callTimeoutMs,
      image,
    );
    const digest = (answer as { Descriptor?: { digest?: unknown } } | null)?.Descriptor?.digest;
    if (typeof digest !== "string" || !digest.startsWith("sha256:"))
      throw new DockerError("server", "distribution", `Docker distribution ${image}: the answer names no digest`, 200);
    return digest;
  }

  async createContainer(name: string, body: EngineCreateBody): Promise<string> {
    // docker-modem copies every option into the URL's query string unless `_query` says what
    // belongs there: without it the whole body, secret environment values included, would travel
    // in the request line, which socket proxies log. Only the name goes in the URL.
    const options = { ...(body as unknown as ContainerCreateOptions), name, _query: { name } };
    const container = await this.call(
      "create",
      (abortSignal) => this.docker.createContainer({ ...options, abortSignal }),
      this.options.callTimeoutMs,
      name,
    );
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.call("start", (abortSignal) => this.docker.getContainer(id).start({ abortSignal }));
    } catch (err) {
      // 304: already started — running, or restarting under its restart policy (which inspect
      // shows as not running). Nothing to do: what runs is for the readiness check to judge.
      if (err instanceof DockerError && err.kind === "gone" && err.statusCode === 304) return;
      throw err;
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    // Always an explicit t: without it the engine waits for the container's own StopTimeout,
    // which whoever created the container chose (docs/policy.md, max-stop-timeout).
    const t = Math.max(0, Math.ceil(timeoutSeconds));
    try {
      await this.call(
        "stop",
        (abortSignal) => this.docker.getContainer(id).stop({ t, abortSignal }),
        t * 1000 + this.options.callTimeoutMs,
      );
    } catch (err) {
      // 304: already stopped. Nothing to do.
      if (err instanceof DockerError && err.kind === "gone") return;
      throw err;
    }
  }

  async removeContainer(id: string, options: { readonly force: boolean }): Promise<void> {
    try {
      await this.call("remove", (abortSignal) =>
        this.docker.getContainer(id).remove({ force: options.force, v: false, abortSignal }),
      );
    } catch (err) {
      // Removal already in progress: it is going.
      if (err instanceof DockerError && err.kind === "gone") return;
      throw err;
    }
  }

  async renameContainer(id: string, name: string): Promise<void> {
    await this.call("rename", (abortSignal) => this.docker.getContainer(id).rename({ name, abortSignal }));
  }

  async inspectContainer(idOrName: string): Promise<ContainerDetails | null> {
    try {
      const c = await this.call("inspect", (abortSignal) =>
        this.docker.getContainer(idOrName).inspect({ abortSignal }),
      );
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ""),
        labels: c.Config.Labels,
        state: toState(c.State.Status),
        // Restarting (Running too, by the engine's word): the exit it restarts after.
        exitCode: c.State.Running && !c.State.Restarting ? null : c.State.ExitCode,
        health:
          (c.State.Health?.Status as Health | "none" | undefined) === "none"
            ? null
            : ((c.State.Health?.Status as Health | undefined) ?? null),
        imageId: c.Image,
        image: c.Config.Image,
        createdAt: Date.parse(c.Created),
        mounts: toMounts(c.Mounts),
        networks: Object.keys(c.NetworkSettings.Networks),
        run: toRun(c),
      };
    } catch (err) {
      if (err instanceof DockerError && err.kind === "not-found") return null;
      throw err;
    }
  }

  async inspectVolume(name: string): Promise<VolumeDetails | null> {
    try {
      const v = await this.call("volume", (abortSignal) => this.docker.getVolume(name).inspect({ abortSignal }));
      return toVolume(v);
    } catch (err) {
      if (err instanceof DockerError && err.kind === "not-found") return null;
      throw err;
    }
  }

  async createVolume(
    name: string,
    labels: Readonly<Record<string, string>>,
    options: { driver?: string; driverOpts?: Record<string, string> } = {},
  ): Promise<VolumeDetails> {
    // dockerode answers with a handle, not the engine's description: read back what the engine
    // holds (the existing volume's, when the name was taken: creation is idempotent there).
    const body = {
      Name: name,
      Driver: options.driver ?? "local",
      DriverOpts: { ...(options.driverOpts ?? {}) },
      Labels: { ...labels },
    };
    await this.call(
      "volume-create",
      // `_query`: the body alone (docker-modem would copy every option into the URL's query string).
      (abortSignal) => this.docker.createVolume({ ...body, abortSignal, _query: {} } as object),
      this.options.callTimeoutMs,
      name,
    );
    const created = await this.inspectVolume(name);
    if (created === null)
      throw new DockerError("not-found", "volume", `Docker volume ${name}: gone right after it was created`, 404);
    return created;
  }

  async listVolumes(filter: ListFilter): Promise<VolumeDetails[]> {
    const answer = await this.call("volume-list", (abortSignal) =>
      this.docker.listVolumes({ filters: labelFilters(filter), abortSignal } as object),
    );
    return ((answer as { Volumes?: EngineVolume[] | null }).Volumes ?? []).map(toVolume);
  }

  async removeVolume(name: string): Promise<void> {
    await this.removal("volume-remove", name, (abortSignal) =>
      this.docker.getVolume(name).remove({ abortSignal } as object),
    );
  }

  async listNetworks(filter: ListFilter): Promise<ObservedNetwork[]> {
    const list = (await this.call("networks", (abortSignal) =>
      this.docker.listNetworks({ filters: labelFilters(filter), abortSignal } as object),
    )) as EngineNetwork[];
    if (list.length === 0) return [];
    // The network list leaves Containers empty, and a network's inspect names only running
    // containers: the container list shows every container's networks, stopped ones too.
    const containers = await this.call("list", (abortSignal) => this.docker.listContainers({ all: true, abortSignal }));
    const users = new Map<string, string[]>();
    for (const c of containers) {
      const name = (c.Names[0] ?? "").replace(/^\//, "");
      for (const network of Object.keys(c.NetworkSettings?.Networks ?? {})) {
        users.set(network, [...(users.get(network) ?? []), name]);
      }
    }
    return list.map((n) => toNetwork(n, users.get(n.Name) ?? []));
  }

  async createNetwork(name: string, options: NetworkCreateOptions): Promise<ObservedNetwork> {
    const body = {
      Name: name,
      Driver: options.driver,
      Internal: options.internal,
      Attachable: options.attachable,
      Options: { ...options.options },
      Labels: { ...options.labels },
      EnableIPv6: options.enableIPv6,
      ...ipam([options.subnet, options.enableIPv6 ? options.ipv6Subnet : null]),
      // Refuse a second network of the same name (older engines allow duplicates otherwise).
      CheckDuplicate: true,
    };
    await this.call(
      "network-create",
      // `_query`: the body alone (docker-modem would copy every option into the URL's query string).
      (abortSignal) => this.docker.createNetwork({ ...body, abortSignal, _query: {} } as typeof body),
      this.options.callTimeoutMs,
      name,
    );
    // dockerode's inspect takes no options in its types; it passes abortSignal on all the same.
    type Inspect = (o: object) => Promise<EngineNetwork>;
    const network = this.docker.getNetwork(name);
    const created = await this.call("network", (abortSignal) =>
      (network.inspect as unknown as Inspect).call(network, { abortSignal }),
    );
    return toNetwork(created, []);
  }

  async removeNetwork(name: string): Promise<void> {
    await this.removal("network-remove", name, (abortSignal) =>
      this.docker.getNetwork(name).remove({ abortSignal } as object),
    );
  }

  subscribeEvents(filter: EventFilter, handlers: EventHandlers): EventSubscription {
    let stream: Readable | undefined;
    let closed = false;
    const finish = (err?: Error): void => {
      if (closed) return;
      closed = true;
      handlers.onClose(err);
    };
    const started = performance.now();
    // No deadline on the stream itself; but closing the subscription aborts it, even before the
    // engine has answered (a pending request would otherwise keep the process alive).
    const abort = new AbortController();
    this.docker
      .getEvents({
        filters: JSON.stringify({
          type: filter.types ?? ["container"],
          ...(filter.labels.length > 0 ? (JSON.parse(labelFilters(filter)) as object) : {}),
        }),
        abortSignal: abort.signal,
      })
      .then(
        (s) => {
          this.options.onCall?.("events", "ok", performance.now() - started);
          stream = s as unknown as Readable;
          if (closed) {
            stream.destroy();
            return;
          }
          handlers.onOpen?.();
          let buffered = "";
          stream.setEncoding("utf8");
          stream.on("data", (chunk: string) => {
            buffered += chunk;
            let newline = buffered.indexOf("\n");
            while (newline !== -1) {
              const line = buffered.slice(0, newline).trim();
              buffered = buffered.slice(newline + 1);
              newline = buffered.indexOf("\n");
              if (line) {
                try {
                  const raw = JSON.parse(line) as {
                    Type?: string;
                    Action?: string;
                    Actor?: { ID?: string; Attributes?: Record<string, string> };
                  };
                  handlers.onEvent({
                    type: raw.Type ?? "",
                    action: raw.Action ?? "",
                    id: raw.Actor?.ID ?? "",
                    labels: raw.Actor?.Attributes ?? {},
                  });
                } catch {
                  // A malformed event line is a hint lost, not an error: the resync covers it.
                }
              }
            }
          });
          stream.on("end", () => {
            finish();
          });
          stream.on("close", () => {
            finish();
          });
          stream.on("error", (err: Error) => {
            finish(mapError("events", err));
          });
        },
        (err: unknown) => {
          const mapped = mapError("events", err);
          this.options.onCall?.("events", mapped.kind, performance.now() - started);
          finish(mapped);
        },
      );
    return {
      close: () => {
        closed = true;
        abort.abort();
        stream?.destroy();
      },
    };
  }
}

/** One message of the engine's pull stream (POST /images/create). */
interface PullMessage {
  readonly id?: string;
  readonly status?: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
}

/** One message of the engine's build stream (POST /build). */
interface BuildMessage {
  readonly stream?: string;
  readonly status?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
}

/** A build message's text as lines: output comes in pieces that may hold several lines, or none. */
export function buildLines(message: BuildMessage): string[] {
  const text = message.stream ?? message.status ?? (message.error !== undefined ? `ERROR: ${message.error}` : "");
  return text
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0);
}

function pullProgress(image: string, message: PullMessage): ImageProgress {
  const detail = message.progressDetail;
  return {
    phase: "pull",
    image,
    status: message.status ?? "",
    ...(message.id !== undefined ? { id: message.id } : {}),
    ...(detail?.current !== undefined ? { current: detail.current } : {}),
    ...(detail?.total !== undefined ? { total: detail.total } : {}),
  };
}
