/**
 * The observed state: berth's containers as one list call shows them, the local image IDs of the
 * desired images, and names held by containers berth does not own. Our own types, never
 * dockerode's.
 */
/** The states the engine reports for a container. */
export const CONTAINER_STATES = ["created", "running", "paused", "restarting", "removing", "exited", "dead"] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];

export type Health = "healthy" | "unhealthy" | "starting";

/** A mount of a container, as the list call shows it. */
export interface ObservedMount {
  /** bind, volume, tmpfs (or another type the engine reports). */
  readonly type: string;
  /** A bind's host path; a volume's name; "" for tmpfs. */
  readonly source: string;
  readonly target: string;
  /** Writable from inside the container. */
  readonly rw: boolean;
}

/** A named volume, as the engine describes it. */
export interface ObservedVolume {
  readonly name: string;
  readonly driver: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The driver's options: for the local driver, `type`, `o` and `device` (a bind of a host path). */
  readonly options: Readonly<Record<string, string>>;
}

/** A port the engine reports published (a running container's), as the list call shows it. */
export interface ObservedPort {
  readonly containerPort: number;
  readonly protocol: string;
  readonly hostPort: number;
  /** The host address bound ("0.0.0.0", "127.0.0.1", "::"). */
  readonly hostIP: string;
}

export interface ObservedContainer {
  readonly id: string;
  /** Without Docker's leading "/". */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: ContainerState;
  /** For exited containers, when known. */
  readonly exitCode: number | null;
  readonly health: Health | null;
  /** The image ID the container was created from (sha256:…). */
  readonly imageId: string;
  /** The image reference it was created with. */
  readonly image: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly mounts: readonly ObservedMount[];
  /**
   * Network name → the container's IPv4 address on it, for the networks where it has one (a
   * stopped container, `host` and `none` have none). Absent: not reported (a fixture).
   */
  readonly addresses?: Readonly<Record<string, string>>;
  /** Network name → the container's global IPv6 address on it, where it has one (an IPv6 network). */
  readonly ipv6Addresses?: Readonly<Record<string, string>>;
  /**
   * What only an inspect tells of a run (docs/runs.md): present on containers of specs that run to
   * completion, where the observer looked (loop/runs.ts).
   */
  readonly run?: ObservedRun;
  /** Its published ports (host side), as listed: only while it runs. Absent: not reported (a fixture). */
  readonly ports?: readonly ObservedPort[];
}

/** A container's run as the engine records it (inspect's State). Times in epoch ms. */
export interface ObservedRun {
  /** When the container was made, to the millisecond (the list call gives seconds): a run's start. */
  readonly createdAt: number;
  /** The last start; null if never started. */
  readonly startedAt: number | null;
  /** The last exit; null while it never exited. */
  readonly finishedAt: number | null;
  readonly oomKilled: boolean;
  /** Restarts made by the engine's restart policy. */
  readonly restartCount: number;
  /**
   * Its last exit, kept while the engine runs it again (a restart policy): when (epoch ms), and
   * its code, null while it runs again (the engine resets the code at a start; the `die` event
   * told it: loop/runs.ts). Null while it never exited.
   */
  readonly lastExit: { readonly code: number | null; readonly at: number } | null;
  /**
   * Nothing will change it unless someone starts it: it is not running and the engine's restart
   * policy will not restart it (no policy, exit 0 under on-failure, or on-failure's retries used).
   */
  readonly settled: boolean;
  /**
   * An exited run's: whether berth stopped it for its activeDeadline (its deadline mark exists,
   * core/runs.ts). Absent: not looked at (its outcome is then read from its times).
   */
  readonly stoppedForDeadline?: boolean;
}

/** A network, as the engine lists it, with the containers attached to it. */
export interface ObservedNetwork {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  /** local (this engine's) or swarm (the cluster's: overlay networks on a manager). */
  readonly scope: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Driver options. */
  readonly options: Readonly<Record<string, string>>;
  readonly internal: boolean;
  readonly attachable: boolean;
  /** Names of the containers attached to it, running or not, berth's or not. */
  readonly containers: readonly string[];
}

/**
 * One `berth.local/…` tag of a local image (an image berth may have built), as the image list
 * shows it: every list of images carries each image's labels, so observing these costs no call.
 */
export interface ObservedImage {
  /** The image ID (sha256:…). */
  readonly id: string;
  /** The tag, `berth.local/<spec>:<12 hex>`. */
  readonly tag: string;
  readonly labels: Readonly<Record<string, string>>;
  /** When the image was made (epoch ms). */
  readonly createdAt: number;
}

export interface ObservedState {
  readonly containers: readonly ObservedContainer[];
  /** Normalized image reference (core/image-ref.ts) → local image ID, for the desired images present. */
  readonly imageIds: ReadonlyMap<string, string>;
  /** The local images' `berth.local/…` tags (absent: not observed; no image is planned for). */
  readonly builtImages?: readonly ObservedImage[];
  /**
   * The image IDs of the containers berth does not own (the unfiltered list, made when a built image
   * may be removed; absent: not observed, no image is removed).
   */
  readonly foreignImageIds?: ReadonlySet<string>;
  /**
   * For the tags berth follows (imagePullPolicy Always, loop/image-check.ts): normalized reference →
   * the digest the registry serves now. Absent or without the reference: not known.
   */
  readonly registryDigests?: ReadonlyMap<string, string>;
  /** Container names held by containers berth does not own (known conflicts) → their IDs. */
  readonly foreignNames: ReadonlyMap<string, string>;
  /** Every network of the engine (absent: not observed; nothing is planned for networks). */
  readonly networks?: readonly ObservedNetwork[];
  /** This controller's volumes (label-filtered list; absent: not observed, nothing is planned for volumes). */
  readonly volumes?: readonly ObservedVolume[];
  /**
   * Host ports published by containers that are not this controller's (an unfiltered list, made
   * only when a plan must allocate a `hostPort: auto`; absent: not observed).
   */
  readonly foreignHostPorts?: ReadonlySet<number>;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}
