/**
 * The Docker port: what berth needs from a Docker engine, in berth's own types. The adapter
 * (adapter.ts, the only module that loads dockerode) implements it against a real engine; the
 * tests' in-memory fake implements it for loop and fault-injection tests.
 */
import type { EngineCreateBody } from "../core/create-request.js";
import type { ObservedContainer, ObservedImage, ObservedNetwork, ObservedVolume } from "../core/observed.js";
import type { ProgressSink } from "../core/progress.js";
import type { RegistryCredentials } from "../core/registry.js";

export type { ObservedContainer };

/** A container as inspected: what a listing shows, and its networks. */
export interface ContainerDetails extends ObservedContainer {
  /** Names of the networks the container is attached to. */
  readonly networks: readonly string[];
}

export interface DockerEvent {
  readonly type: string;
  readonly action: string;
  readonly id: string;
  /** The actor's attributes: a container's labels (with its name and image); a service's name. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Which events a subscription gets. */
export interface EventFilter extends ListFilter {
  /** The engine's event types (`container`, `service`, …): containers' when absent. */
  readonly types?: readonly string[];
}

export interface EventHandlers {
  /** The stream is open: events from here on arrive. */
  onOpen?(): void;
  onEvent(event: DockerEvent): void;
  /** The stream ended or failed; the subscriber reconnects. */
  onClose(err?: Error): void;
}

export interface EventSubscription {
  close(): void;
}

export interface ListFilter {
  /** Label filters, Docker syntax: "key" or "key=value"; all must match. */
  readonly labels: readonly string[];
}

/** A volume as the engine describes it. */
export type VolumeDetails = ObservedVolume;

/** What a network is created with (docker network create). */
export interface NetworkCreateOptions {
  readonly driver: string;
  readonly internal: boolean;
  readonly attachable: boolean;
  /** Driver options. */
  readonly options: Readonly<Record<string, string>>;
  /** IPv4 subnet (IPAM), or null: the engine picks one. */
  readonly subnet: string | null;
  /** IPv6 besides IPv4. */
  readonly enableIPv6: boolean;
  /** IPv6 subnet (IPAM), or null: the engine picks one. */
  readonly ipv6Subnet: string | null;
  readonly labels: Readonly<Record<string, string>>;
}

/** What an image is built with (POST /build). */
export interface BuildOptions {
  /** The tag the image gets. */
  readonly tag: string;
  /** The Dockerfile's path inside the context. */
  readonly dockerfile: string;
  readonly args: Readonly<Record<string, string>>;
  /** The stage to build, or null: the last. */
  readonly target: string | null;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * X-Registry-Config: the credentials of the registries its FROM images come from, by server
   * address (Docker Hub's as `https://index.docker.io/v1/`), as `docker build` sends them. Never
   * logged; empty: the engine pulls without credentials.
   */
  readonly registryConfig: Readonly<Record<string, RegistryCredentials>>;
}

/** The local images, as one list call shows them. */
export interface LocalImages {
  /** Normalized reference (every tag and digest) → image ID. */
  readonly ids: Map<string, string>;
  /** Each `berth.local/…` tag, with its image's labels and age (core/plan/images.ts). */
  readonly built: ObservedImage[];
}

/** What the engine says it is. */
export interface EngineInfo {
  readonly version: string;
  readonly apiVersion: string;
}

/** The host's totals as the engine reports them (`docker info`: NCPU, MemTotal). */
export interface HostResources {
  readonly nanoCpus: number;
  readonly memoryBytes: number;
}

export interface DockerPort {
  ping(): Promise<void>;
  engine(): Promise<EngineInfo>;
  /** The host's CPUs and memory (`--capacity auto`, docs/capacity.md). */
  hostResources(): Promise<HostResources>;
  listContainers(filter: ListFilter): Promise<ObservedContainer[]>;
  /** Every local image: normalized reference → image ID, and the `berth.local/…` tags with their labels. */
  listImages(): Promise<LocalImages>;
  /** The local image ID of a reference, or null when the image is not present. */
  inspectImage(ref: string): Promise<string | null>;
  /** Pulls with these credentials (X-Registry-Auth), or none. */
  pullImage(ref: string, credentials?: RegistryCredentials | null, onProgress?: ProgressSink): Promise<void>;
  /**
   * The digest (sha256:…) the registry serves for a tag now, asked through the engine
   * (GET /distribution/{name}/json) with these credentials; nothing is pulled.
   */
  registryDigest(ref: string, credentials: RegistryCredentials | null): Promise<string>;
  /**
   * Builds and tags an image from a tar of its context (POST /build, the engine's classic builder),
   * its output lines to `onProgress`; rejects with the build's error.
   */
  buildImage(context: NodeJS.ReadableStream, options: BuildOptions, onProgress?: ProgressSink): Promise<void>;
  /**
   * Removes one tag (never forced): the image goes with its last tag. A tag already gone is not
   * an error; the engine refuses (a conflict) when the tag is the image's last and a container uses it.
   */
  removeImage(tag: string): Promise<void>;
  /** Returns the new container's ID. */
  createContainer(name: string, body: EngineCreateBody): Promise<string>;
  startContainer(id: string): Promise<void>;
  /**
   * Signals the container and waits up to `timeoutSeconds` before killing it. Always explicit: the
   * container's own StopTimeout was chosen by whoever created it.
   */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string, options: { readonly force: boolean }): Promise<void>;
  renameContainer(id: string, name: string): Promise<void>;
  /** null when there is no such container. */
  inspectContainer(idOrName: string): Promise<ContainerDetails | null>;
  /** null when there is no such volume. */
  inspectVolume(name: string): Promise<VolumeDetails | null>;
  /**
   * Creates a volume with these labels (local unless a driver is given); the existing one when the
   * name is taken (the engine's own rule).
   */
  createVolume(
    name: string,
    labels: Readonly<Record<string, string>>,
    options?: { driver?: string; driverOpts?: Record<string, string> },
  ): Promise<VolumeDetails>;
  listVolumes(filter: ListFilter): Promise<ObservedVolume[]>;
  /** A volume already gone is not an error; one in use is refused by the engine (a conflict). */
  removeVolume(name: string): Promise<void>;
  /** Networks with the containers attached to each (running or not). */
  listNetworks(filter: ListFilter): Promise<ObservedNetwork[]>;
  createNetwork(name: string, options: NetworkCreateOptions): Promise<ObservedNetwork>;
  /** A network already gone is not an error. */
  removeNetwork(name: string): Promise<void>;
  subscribeEvents(filter: EventFilter, handlers: EventHandlers): EventSubscription;
}

/** What runs in an exec, and as whom. */
export interface ExecCommand {
  readonly cmd: readonly string[];
  readonly workdir?: string;
  /** KEY=VALUE entries added to the container's environment. */
  readonly env?: readonly string[];
  readonly user?: string;
}

export interface ExecRequest extends ExecCommand {
  /** The exec is killed after this long. */
  readonly timeoutMs: number;
  /** Output kept per stream; the rest is read and dropped. */
  readonly maxOutputBytes: number;
}

export interface ExecResult {
  /** null when the command did not finish (timed out). */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Output went past maxOutputBytes and was cut. */
  readonly truncated: boolean;
  readonly timedOut: boolean;
  /** After a timeout: the process was killed (false: berth could not reach it; see docs). */
  readonly killed: boolean;
  readonly durationMs: number;
}

export interface LogLine {
  readonly stream: "stdout" | "stderr";
  /** RFC 3339 with nanoseconds, as the engine stamps it. */
  readonly time: string | null;
  readonly line: string;
  /** A service's line: the task it came from (its ID). */
  readonly task?: string;
}

export interface LogOptions {
  readonly follow: boolean;
  /** Lines from the end to start with; null: all. */
  readonly tail: number | null;
  /** Only lines after this time (seconds since the epoch). */
  readonly since: number | null;
}

export interface LogHandlers {
  onLine(line: LogLine): void;
  /** The stream ended: the container stopped, no follow, the caller closed it, or an error. */
  onEnd(err?: Error): void;
}

/** An interactive exec: a command with its standard input attached, under a TTY or not. */
export interface TerminalRequest extends ExecCommand {
  /** A pseudo-terminal (one output stream, the terminal's own echo and line editing), as docker exec -t. */
  readonly tty: boolean;
  /** The standard input is attached (docker exec -i); without, the command reads nothing. */
  readonly stdin: boolean;
  /** The terminal's first size, when it has one. */
  readonly size?: TerminalSize;
}

export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

export interface TerminalHandlers {
  /** Output as it comes; under a TTY everything is "stdout". */
  onOutput(stream: "stdout" | "stderr", data: Buffer): void;
}

/** A running interactive exec. */
export interface TerminalSession {
  /** Bytes for the command's standard input. */
  write(data: Buffer): void;
  /** Ends the standard input (EOF). */
  endInput(): void;
  resize(size: TerminalSize): Promise<void>;
  /** Hangs up: the connection to the exec is closed (a shell under a TTY gets SIGHUP). */
  close(): void;
  /** The command's exit code once its output has ended; null when the engine could not say. */
  readonly exited: Promise<number | null>;
}

/**
 * What the operator surfaces need beyond the loop: running a command in a container and reading
 * its logs. The adapter implements it against a real engine; callers check ownership first.
 */
export interface ContainerIO {
  exec(id: string, request: ExecRequest): Promise<ExecResult>;
  /**
   * The user a container's processes run as, as the engine reports it (`Config.User`: "" for the
   * image's default, root). Absent on engines that cannot say: the user is then not known.
   */
  user?(id: string): Promise<string>;
  logs(id: string, options: LogOptions, handlers: LogHandlers): Promise<{ close(): void }>;
  /** Absent on engines without interactive exec (the tests' fake). */
  terminal?(id: string, request: TerminalRequest, handlers: TerminalHandlers): Promise<TerminalSession>;
}

/** Which Docker API calls write (for counting no-op passes). */
export const WRITE_OPERATIONS = new Set([
  "create",
  "start",
  "stop",
  "remove",
  "rename",
  "pull",
  "build",
  "image-remove",
  "volume-create",
  "volume-remove",
  "network-create",
  "network-remove",
]);
