/**
 * A stateful in-memory Docker engine behind berth's own DockerPort: containers with names,
 * labels, states and images; name conflicts; events; and injectable faults (a failing call, a
 * call that hangs until released, dropped events). For loop and fault-injection tests; the real
 * adapter is tested against a real engine.
 */
import type { EngineCreateBody } from "../../src/core/create-request.js";
import type { ProgressSink } from "../../src/core/progress.js";
import { isBuiltImage } from "../../src/core/build.js";
import { normalizeImageRef } from "../../src/core/image-ref.js";
import type {
  ContainerState,
  ObservedContainer,
  ObservedMount,
  ObservedNetwork,
  ObservedPort,
} from "../../src/core/observed.js";
import { DockerError, type DockerErrorKind } from "../../src/docker/errors.js";
import { tarEntries } from "./tar.js";
import type {
  BuildOptions,
  ContainerDetails,
  DockerEvent,
  DockerPort,
  EngineInfo,
  HostResources,
  EventHandlers,
  EventSubscription,
  ListFilter,
  LocalImages,
  NetworkCreateOptions,
  VolumeDetails,
} from "../../src/docker/port.js";

interface FakeContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: ContainerState;
  exitCode: number | null;
  imageId: string;
  image: string;
  createdAt: number;
  body: EngineCreateBody;
  startedAt?: number;
  finishedAt?: number;
  oomKilled?: boolean;
  /** Restarts by the engine's restart policy (`crash`), and the last exit, kept across them. */
  restartCount?: number;
  lastExit?: { code: number; at: number };
}

export type Operation =
  | "list"
  | "images"
  | "image"
  | "pull"
  | "build"
  | "image-remove"
  | "distribution"
  | "create"
  | "start"
  | "stop"
  | "remove"
  | "rename"
  | "inspect"
  | "ping"
  | "version"
  | "info"
  | "volume"
  | "volume-create"
  | "volume-list"
  | "volume-remove"
  | "networks"
  | "network-create"
  | "network-remove";

export interface Fault {
  readonly operation: Operation;
  /** Fail this many times (default 1). */
  times?: number;
  readonly kind?: DockerErrorKind;
  readonly message?: string;
  /** Only for calls about this name or ID. */
  readonly subject?: string;
}

/** Which calls a hold stops: all of its operations, or only those about one spec or one subject. */
export interface HoldScope {
  /** Calls about this spec's containers (their berth.spec label). */
  readonly spec?: string;
  /** Calls about this name, ID or image reference, as recorded in `calls`. */
  readonly subject?: string;
}

interface Gate {
  readonly operations: ReadonlySet<Operation>;
  readonly scope: HoldScope;
  readonly released: Promise<void>;
}

export interface CallRecord {
  readonly operation: Operation;
  readonly subject: string;
  readonly at: number;
}

let ids = 0;
const newId = (): string => (++ids).toString(16).padStart(12, "0").padEnd(64, "f");

function matches(labels: Record<string, string>, filter: ListFilter): boolean {
  return filter.labels.every((f) => {
    const eq = f.indexOf("=");
    return eq === -1 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
  });
}

/**
 * A running container's address on its network, as the engine would list it: one per container
 * (from its ID), none on `host` or `none`, none when it is not running.
 */
function addressesOf(c: FakeContainer): Record<string, string> {
  const network = c.body.HostConfig.NetworkMode;
  if (c.state !== "running" || network === "host" || network === "none") return {};
  return { [network]: `10.88.0.${(parseInt(c.id.slice(0, 12), 16) % 250) + 2}` };
}

/** A running container's published ports, as the engine would list them. */
function portsOf(c: FakeContainer): ObservedPort[] {
  if (c.state !== "running") return [];
  return Object.entries(c.body.HostConfig.PortBindings ?? {}).flatMap(([key, bindings]) => {
    const [port = "0", protocol = "tcp"] = key.split("/");
    return bindings.map((b) => ({
      containerPort: Number(port),
      protocol,
      hostPort: Number(b.HostPort),
      hostIP: b.HostIp,
    }));
  });
}

/** The mounts a create body asks for, as the engine would list them. */
function mountsOf(body: EngineCreateBody): ObservedMount[] {
  const binds = (body.HostConfig.Binds ?? []).map((bind) => {
    const [source = "", target = "", mode = ""] = bind.split(":");
    return { type: "bind", source, target, rw: mode !== "ro" };
  });
  const mounts = (body.HostConfig.Mounts ?? []).map((m) => ({
    type: m.Type,
    source: m.Source ?? "",
    target: m.Target,
    rw: m.ReadOnly !== true,
  }));
  return [...binds, ...mounts];
}

export class FakeDocker implements DockerPort {
  readonly containers = new Map<string, FakeContainer>();
  readonly volumes = new Map<string, VolumeDetails>();
  /** Networks by name; the engine's own three are always there. */
  readonly networks = new Map<string, Omit<ObservedNetwork, "containers">>(
    ["bridge", "host", "none"].map((name) => [
      name,
      {
        id: `net-${name}`,
        name,
        driver: name === "none" ? "null" : name,
        scope: "local",
        labels: {},
        options: {},
        internal: false,
        attachable: false,
      },
    ]),
  );
  readonly images = new Map<string, string>();
  /** Labels and creation time of images by ID (those built here; any other has none). */
  readonly imageMeta = new Map<string, { labels: Record<string, string>; createdAt: number }>();
  /** Images a pull fetches, by reference, and their IDs; a pull of any other fails (the registry has no such tag). */
  readonly registry = new Map<string, string>();
  readonly calls: CallRecord[] = [];
  /** Every stop, with the timeout it was given (seconds). */
  readonly stops: { readonly id: string; readonly timeoutSeconds: number }[] = [];
  private readonly faults: Fault[] = [];
  private readonly subscribers = new Set<{ filter: ListFilter; handlers: EventHandlers }>();
  /** Operations in flight right now, and the most ever at once (concurrency checks). */
  inFlight = 0;
  maxInFlight = 0;
  readonly inFlightBySubject = new Map<string, number>();
  maxInFlightPerSubject = 0;
  /** Holds in force: a call they cover waits until each is released (slow or hanging operations). */
  private readonly gates = new Set<Gate>();
  /** Calls waiting on a hold right now. */
  readonly held: CallRecord[] = [];
  dropEvents = false;
  /** Health to report for containers with a healthcheck, by name (default healthy once running). */
  readonly health = new Map<string, "healthy" | "unhealthy" | "starting">();
  /** Simulated duration of each write call (by operation and spec), to make overlaps observable. */
  latency: (operation: Operation, spec: string | undefined) => Promise<void> = () => Promise.resolve();

  constructor(readonly now: () => number = () => Date.now()) {
    this.images.set("berth-test/busybox:latest", "sha256:" + "1".repeat(64));
  }

  fail(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /**
   * Makes `operations` wait until the returned release function is called: every such call, or
   * with `scope` only those about one spec or subject (one spec hangs while the others proceed).
   */
  hold(operations: Operation[], scope: HoldScope = {}): () => void {
    let release: () => void = () => undefined;
    const gate: Gate = {
      operations: new Set(operations),
      scope,
      released: new Promise((resolve) => {
        release = resolve;
      }),
    };
    this.gates.add(gate);
    return () => {
      this.gates.delete(gate);
      release();
    };
  }

  count(operation?: Operation): number {
    return operation ? this.calls.filter((c) => c.operation === operation).length : this.calls.length;
  }

  writes(): CallRecord[] {
    return this.calls.filter((c) => ["create", "start", "stop", "remove", "rename", "pull"].includes(c.operation));
  }

  private async enter(operation: Operation, subject: string, spec?: string): Promise<void> {
    this.calls.push({ operation, subject, at: this.now() });
    const fault = this.faults.find(
      (f) => f.operation === operation && (f.subject === undefined || f.subject === subject),
    );
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      throw new DockerError(
        fault.kind ?? "server",
        operation,
        fault.message ?? `Docker ${operation}: injected failure`,
      );
    }
    const gates = [...this.gates].filter(
      (g) =>
        g.operations.has(operation) &&
        (g.scope.spec === undefined || g.scope.spec === spec) &&
        (g.scope.subject === undefined || g.scope.subject === subject),
    );
    if (gates.length === 0) return;
    const call: CallRecord = { operation, subject, at: this.now() };
    this.held.push(call);
    try {
      await Promise.all(gates.map((g) => g.released));
    } finally {
      this.held.splice(this.held.indexOf(call), 1);
    }
  }

  private async track<T>(operation: Operation, subject: string, spec: string | undefined, run: () => T): Promise<T> {
    await this.enter(operation, subject, spec);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (spec !== undefined) {
      const n = (this.inFlightBySubject.get(spec) ?? 0) + 1;
      this.inFlightBySubject.set(spec, n);
      this.maxInFlightPerSubject = Math.max(this.maxInFlightPerSubject, n);
    }
    try {
      await this.latency(operation, spec);
      return run();
    } finally {
      this.inFlight--;
      if (spec !== undefined) this.inFlightBySubject.set(spec, (this.inFlightBySubject.get(spec) ?? 1) - 1);
    }
  }

  private find(idOrName: string): FakeContainer | undefined {
    const byId = this.containers.get(idOrName);
    if (byId) return byId;
    for (const c of this.containers.values()) if (c.name === idOrName || c.id.startsWith(idOrName)) return c;
    return undefined;
  }

  private get(operation: string, idOrName: string): FakeContainer {
    const c = this.find(idOrName);
    if (!c) throw new DockerError("not-found", operation, `Docker ${operation}: No such container: ${idOrName}`, 404);
    return c;
  }

  /** An event about `c`; its attributes are its labels, and a `die`'s exit code (as the engine's). */
  private emit(c: FakeContainer, action: string, exitCode?: number): void {
    if (this.dropEvents) return;
    const labels = exitCode === undefined ? c.labels : { ...c.labels, exitCode: String(exitCode) };
    const event: DockerEvent = { type: "container", action, id: c.id, labels };
    for (const s of this.subscribers) if (matches(c.labels, s.filter)) s.handlers.onEvent(event);
  }

  private specOf(c: FakeContainer | undefined): string | undefined {
    return c?.labels["berth.spec"];
  }

  // --- test helpers acting as "someone else" (docker CLI, another tool) ---

  /** Adds a container directly, as another tool (or `docker run`) would. */
  add(options: {
    name: string;
    labels?: Record<string, string>;
    state?: ContainerState;
    image?: string;
    exitCode?: number;
  }): string {
    const id = newId();
    const image = options.image ?? "berth-test/busybox:latest";
    this.containers.set(id, {
      id,
      name: options.name,
      labels: options.labels ?? {},
      state: options.state ?? "running",
      exitCode: options.exitCode ?? null,
      image,
      imageId: this.images.get(normalizeImageRef(image)) ?? "sha256:unknown",
      createdAt: this.now(),
      body: {
        Image: image,
        Env: [],
        Labels: options.labels ?? {},
        StopTimeout: 10,
        HostConfig: { NetworkMode: "bridge", RestartPolicy: { Name: "no", MaximumRetryCount: 0 } },
      },
    });
    return id;
  }

  /** `docker rm -f` by someone else. */
  kill(name: string): void {
    const c = this.find(name);
    if (c) {
      this.containers.delete(c.id);
      this.emit(c, "destroy");
    }
  }

  /** `docker stop` by someone else, or the process exiting. */
  exit(name: string, code = 0, options: { readonly oomKilled?: boolean } = {}): void {
    const c = this.find(name);
    if (c) {
      c.state = "exited";
      c.exitCode = code;
      c.finishedAt = this.now();
      c.lastExit = { code, at: this.now() };
      c.oomKilled = options.oomKilled === true;
      this.emit(c, "die", code);
    }
  }

  /**
   * The process exits and the engine's restart policy restarts it, as dockerd does: a `die` event
   * (with the exit code), one more restart, and the container `restarting` (waiting out its
   * back-off) or, with `running`, already started again (a `start` event too; its inspect no
   * longer tells the code).
   */
  crash(name: string, code: number, options: { readonly running?: boolean } = {}): void {
    const c = this.find(name);
    if (!c) return;
    c.lastExit = { code, at: this.now() };
    c.restartCount = (c.restartCount ?? 0) + 1;
    c.state = "restarting";
    // Restarting: inspect tells the exit it restarts after (docker/adapter.ts); running, not.
    c.exitCode = code;
    this.emit(c, "die", code);
    if (options.running === true) {
      c.exitCode = null;
      c.state = "running";
      c.startedAt = this.now();
      this.emit(c, "start");
    }
  }

  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name);
  }

  names(): string[] {
    return [...this.containers.values()].map((c) => c.name).sort();
  }

  /** Cuts every events stream, as a proxy dropping the connection would. */
  cutEvents(): void {
    for (const s of [...this.subscribers]) {
      this.subscribers.delete(s);
      s.handlers.onClose(new DockerError("unavailable", "events", "Docker events: connection reset"));
    }
  }

  // --- DockerPort ---

  async ping(): Promise<void> {
    await this.enter("ping", "");
  }

  /** What engine() answers. */
  engineInfo: EngineInfo = { version: "26.1.5", apiVersion: "1.45" };

  async engine(): Promise<EngineInfo> {
    await this.enter("version", "");
    return this.engineInfo;
  }

  /** What hostResources() answers: 4 CPUs, 8 GiB. */
  hostInfo: HostResources = { nanoCpus: 4e9, memoryBytes: 8 * 2 ** 30 };

  async hostResources(): Promise<HostResources> {
    await this.enter("info", "");
    return this.hostInfo;
  }

  async listContainers(filter: ListFilter): Promise<ObservedContainer[]> {
    await this.enter("list", filter.labels.join(","));
    return [...this.containers.values()]
      .filter((c) => matches(c.labels, filter))
      .map((c) => ({
        id: c.id,
        name: c.name,
        labels: { ...c.labels },
        state: c.state,
        exitCode: c.exitCode,
        // As the engine's list says it in Status ("Up 3 minutes (healthy)").
        health: c.body.Healthcheck && c.state === "running" ? (this.health.get(c.name) ?? "healthy") : null,
        imageId: c.imageId,
        image: c.image,
        createdAt: c.createdAt,
        mounts: mountsOf(c.body),
        addresses: addressesOf(c),
        ports: portsOf(c),
      }));
  }

  async listImages(): Promise<LocalImages> {
    await this.enter("images", "");
    const built = [...this.images]
      .filter(([tag]) => isBuiltImage(tag))
      .map(([tag, id]) => ({ id, tag, labels: {}, createdAt: 0, ...this.imageMeta.get(id) }));
    return { ids: new Map(this.images), built };
  }

  /** As the engine: a tag gone is no error; the last tag of an image a container uses is refused (409). */
  async removeImage(tag: string): Promise<void> {
    await this.track("image-remove", tag, undefined, () => {
      const ref = normalizeImageRef(tag);
      const id = this.images.get(ref);
      if (id === undefined) return;
      const last = ![...this.images].some(([other, otherId]) => other !== ref && otherId === id);
      const user = [...this.containers.values()].find((c) => c.imageId === id);
      if (last && user) {
        throw new DockerError(
          "conflict",
          "image-remove",
          `Docker image-remove: conflict: unable to remove repository reference "${tag}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image`,
          409,
        );
      }
      this.images.delete(ref);
    });
  }

  async inspectImage(ref: string): Promise<string | null> {
    await this.enter("image", ref);
    return this.images.get(normalizeImageRef(ref)) ?? null;
  }

  async pullImage(ref: string, _credentials?: unknown, onProgress?: ProgressSink): Promise<void> {
    await this.track("pull", ref, undefined, () => {
      const image = normalizeImageRef(ref);
      const id = this.registry.get(image);
      if (id === undefined)
        throw new DockerError(
          "server",
          "pull",
          `Docker pull ${ref}: manifest for ${image} not found: manifest unknown: manifest unknown`,
          500,
        );
      this.images.set(image, id);
      // The engine's last message of a pull that fetched the image.
      onProgress?.({ phase: "pull", image, status: `Status: Downloaded newer image for ${image}` });
    });
  }

  /**
   * Builds seen: the tag, the context's entry names, in order, and the registry credentials sent
   * (X-Registry-Config). A failing build: `buildFails`.
   */
  readonly builds: {
    readonly tag: string;
    readonly entries: readonly string[];
    readonly registryConfig: BuildOptions["registryConfig"];
  }[] = [];
  /** When set, a build fails with these output lines (as a broken Dockerfile would). */
  buildFails: readonly string[] | null = null;

  async buildImage(context: NodeJS.ReadableStream, options: BuildOptions, onProgress?: ProgressSink): Promise<void> {
    const entries = (await tarEntries(context)).map((e) => e.name);
    await this.track("build", options.tag, undefined, () => {
      const lines = this.buildFails ?? [`Step 1/1 : FROM berth-test/busybox`, `Successfully tagged ${options.tag}`];
      for (const status of lines) onProgress?.({ phase: "build", image: options.tag, status });
      if (this.buildFails) throw new Error(this.buildFails.at(-1) ?? "build failed");
      this.builds.push({ tag: options.tag, entries, registryConfig: options.registryConfig });
      const id = `sha256:${String(this.builds.length).padStart(64, "b")}`;
      this.images.set(normalizeImageRef(options.tag), id);
      this.imageMeta.set(id, { labels: { ...options.labels }, createdAt: this.now() });
    });
  }

  /** What the registry's tags name: normalized reference → digest (tests set it beside `registry`). */
  readonly registryDigests = new Map<string, string>();

  async registryDigest(ref: string): Promise<string> {
    return this.track("distribution", ref, undefined, () => {
      const digest = this.registryDigests.get(normalizeImageRef(ref));
      if (digest === undefined)
        throw new DockerError("not-found", "distribution", `Docker distribution ${ref}: no such image`, 404);
      return digest;
    });
  }

  async createContainer(name: string, body: EngineCreateBody): Promise<string> {
    const spec = body.Labels["berth.spec"];
    return this.track("create", name, spec, () => {
      if (this.byName(name)) {
        throw new DockerError(
          "conflict",
          "create",
          `Docker create: Conflict. The container name "/${name}" is already in use`,
          409,
        );
      }
      const imageId = this.images.get(normalizeImageRef(body.Image));
      if (!imageId)
        throw new DockerError("image-missing", "create", `Docker create: No such image: ${body.Image}`, 404);
      const id = newId();
      const c: FakeContainer = {
        id,
        name,
        labels: { ...body.Labels },
        state: "created",
        exitCode: null,
        imageId,
        image: body.Image,
        createdAt: this.now(),
        body,
      };
      this.containers.set(id, c);
      this.emit(c, "create");
      return id;
    });
  }

  async startContainer(id: string): Promise<void> {
    await this.track("start", id, this.specOf(this.find(id)), () => {
      const c = this.get("start", id);
      c.state = "running";
      c.exitCode = null;
      c.startedAt = this.now();
      c.oomKilled = false;
      this.emit(c, "start");
    });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.stops.push({ id, timeoutSeconds });
    await this.track("stop", id, this.specOf(this.find(id)), () => {
      const c = this.get("stop", id);
      if (c.state !== "running") return;
      c.state = "exited";
      c.exitCode = 143;
      c.finishedAt = this.now();
      c.lastExit = { code: 143, at: this.now() };
      this.emit(c, "die", 143);
    });
  }

  async removeContainer(id: string): Promise<void> {
    await this.track("remove", id, this.specOf(this.find(id)), () => {
      const c = this.get("remove", id);
      this.containers.delete(c.id);
      this.emit(c, "destroy");
    });
  }

  async renameContainer(id: string, name: string): Promise<void> {
    await this.track("rename", id, this.specOf(this.find(id)), () => {
      const c = this.get("rename", id);
      if (this.byName(name))
        throw new DockerError("conflict", "rename", `Docker rename: name "${name}" is already in use`, 409);
      c.name = name;
      this.emit(c, "rename");
    });
  }

  async inspectVolume(name: string): Promise<VolumeDetails | null> {
    await this.enter("volume", name);
    return this.volumes.get(name) ?? null;
  }

  async createVolume(
    name: string,
    labels: Readonly<Record<string, string>>,
    options: { driver?: string; driverOpts?: Record<string, string> } = {},
  ): Promise<VolumeDetails> {
    return this.track("volume-create", name, undefined, () => {
      const existing = this.volumes.get(name);
      if (existing) return existing;
      const volume: VolumeDetails = {
        name,
        driver: options.driver ?? "local",
        labels: { ...labels },
        options: { ...(options.driverOpts ?? {}) },
      };
      this.volumes.set(name, volume);
      return volume;
    });
  }

  async listVolumes(filter: ListFilter): Promise<VolumeDetails[]> {
    await this.enter("volume-list", filter.labels.join(","));
    return [...this.volumes.values()].filter((v) => matches({ ...v.labels }, filter));
  }

  /** As the engine: 404 is no error here; a volume any container mounts is refused (409). */
  async removeVolume(name: string): Promise<void> {
    await this.track("volume-remove", name, undefined, () => {
      const user = [...this.containers.values()].find((c) =>
        mountsOf(c.body).some((m) => m.type === "volume" && m.source === name),
      );
      if (user) {
        throw new DockerError(
          "conflict",
          "volume-remove",
          `Docker volume-remove: remove ${name}: volume is in use - [${user.id}]`,
          409,
        );
      }
      this.volumes.delete(name);
    });
  }

  /** The containers attached to a network, as the engine's container list shows them. */
  private usersOf(network: string): string[] {
    return [...this.containers.values()]
      .filter((c) => (c.body.HostConfig.NetworkMode ?? "bridge") === network)
      .map((c) => c.name);
  }

  async listNetworks(filter: ListFilter): Promise<ObservedNetwork[]> {
    await this.enter("networks", filter.labels.join(","));
    return [...this.networks.values()]
      .filter((n) => matches({ ...n.labels }, filter))
      .map((n) => ({ ...n, containers: this.usersOf(n.name) }));
  }

  async createNetwork(name: string, options: NetworkCreateOptions): Promise<ObservedNetwork> {
    return this.track("network-create", name, undefined, () => {
      if (this.networks.has(name))
        throw new DockerError(
          "conflict",
          "network-create",
          `Docker network create: network with name ${name} already exists`,
          409,
        );
      const network = {
        id: `net-${name}`,
        name,
        driver: options.driver,
        scope: options.driver === "overlay" ? "swarm" : "local",
        labels: { ...options.labels },
        options: { ...options.options },
        internal: options.internal,
        attachable: options.attachable,
      };
      this.networks.set(name, network);
      return { ...network, containers: [] };
    });
  }

  async removeNetwork(name: string): Promise<void> {
    await this.track("network-remove", name, undefined, () => {
      if (this.usersOf(name).some((c) => this.byName(c)?.state === "running"))
        throw new DockerError(
          "conflict",
          "network-remove",
          `Docker network remove: network ${name} has active endpoints`,
          409,
        );
      this.networks.delete(name);
    });
  }

  async inspectContainer(idOrName: string): Promise<ContainerDetails | null> {
    await this.enter("inspect", idOrName);
    const c = this.find(idOrName);
    if (!c) return null;
    return {
      id: c.id,
      name: c.name,
      labels: { ...c.labels },
      state: c.state,
      exitCode: c.exitCode,
      health: c.body.Healthcheck && c.state === "running" ? (this.health.get(c.name) ?? "healthy") : null,
      imageId: c.imageId,
      image: c.image,
      createdAt: c.createdAt,
      mounts: mountsOf(c.body),
      networks: [c.body.HostConfig.NetworkMode],
      run: {
        createdAt: c.createdAt,
        startedAt: c.startedAt ?? null,
        finishedAt: c.state === "exited" ? (c.finishedAt ?? null) : null,
        oomKilled: c.oomKilled === true,
        restartCount: c.restartCount ?? 0,
        // Started again, the engine's exit code reads 0: not the last exit's (docker/adapter.ts, toRun).
        lastExit: c.lastExit ? { at: c.lastExit.at, code: c.state === "running" ? null : c.lastExit.code } : null,
        // The fake restarts nothing by itself.
        settled: c.state === "exited" || c.state === "created",
      },
    };
  }

  subscribeEvents(filter: ListFilter, handlers: EventHandlers): EventSubscription {
    const sub = { filter, handlers };
    this.subscribers.add(sub);
    queueMicrotask(() => handlers.onOpen?.());
    return {
      close: () => {
        this.subscribers.delete(sub);
      },
    };
  }
}
