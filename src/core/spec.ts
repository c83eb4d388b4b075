/**
 * The spec model: NormalizedSpec, the canonical form berth works with (normalize.ts makes it from
 * a document), in canonical units — bytes, nano-CPUs, milliseconds — with every default filled in.
 */

import type { NormalizedBuild } from "./build.js";

export type ImagePullPolicy = "IfNotPresent" | "Always" | "Never";
export type RestartPolicy = "Always" | "OnFailure" | "Never";
export type UpdateStrategy = "StartFirst" | "StopFirst";
/** What becomes of a per-instance volume when its instance goes (a PersistentVolume's reclaim policy). */
export type ReclaimPolicy = "Delete" | "Retain";

export type SecretSource =
  { readonly kind: "hostEnv"; readonly name: string } | { readonly kind: "file"; readonly path: string };

export type NormalizedMount =
  | { readonly type: "bind"; readonly source: string; readonly target: string; readonly readOnly: boolean }
  | {
      readonly type: "volume";
      readonly source: string;
      readonly target: string;
      readonly readOnly: boolean;
      /** Each container gets its own volume, `<container name>-<source>` (core/instance-volumes.ts). */
      readonly perInstance: boolean;
      /** For a per-instance volume: removed (Delete) or kept (Retain) when its instance goes. */
      readonly reclaimPolicy: ReclaimPolicy;
    }
  | {
      readonly type: "tmpfs";
      readonly target: string;
      readonly sizeBytes: number | null;
      readonly mode: number | null;
    };

/** `hostPort: auto`: the lowest free port of --host-port-range (docs/ports.md). */
export const AUTO_HOST_PORT = "auto";

export interface NormalizedPort {
  readonly containerPort: number;
  readonly protocol: "tcp" | "udp" | "sctp";
  /**
   * null: exposed only, not published. "auto": berth picks the host port (core/host-ports.ts); the
   * spec, and so its hash, keeps "auto", never the number.
   */
  readonly hostPort: number | typeof AUTO_HOST_PORT | null;
  /** null when not published. */
  readonly hostIP: string | null;
  /** Under --target swarm: how the port is published (ingress when null); the engine target refuses it. */
  readonly mode: "ingress" | "host" | null;
}

export interface NormalizedHealthcheck {
  readonly command: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

export interface NormalizedDevice {
  readonly hostPath: string;
  readonly containerPath: string;
  readonly permissions: string;
}

/** One resource limit (setrlimit); -1 is unlimited. */
export interface NormalizedUlimit {
  readonly soft: number;
  readonly hard: number;
}

/** The ulimit names Docker accepts (moby's go-units, ulimit.go). */
export const ULIMIT_NAMES = [
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
] as const;
export type UlimitName = (typeof ULIMIT_NAMES)[number];

export interface NormalizedSpec {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** For a build spec, `berth.local/<name>:<context hash>` once the context is hashed (core/build.ts). */
  readonly image: string;
  /** Built from a folder beside the spec, or null: `image` is pulled (docs/images.md, Builds). */
  readonly build: NormalizedBuild | null;
  readonly imagePullPolicy: ImagePullPolicy;
  /** The key of the registry credentials the pull uses (docs/images.md), or null: chosen by registry. */
  readonly imagePullSecret: string | null;
  readonly command: readonly string[] | null;
  readonly entrypoint: readonly string[] | null;
  readonly init: boolean;
  readonly workingDir: string | null;
  readonly user: string | null;
  readonly hostname: string | null;
  /** Extra /etc/hosts entries, in the spec's order (Kubernetes' hostAliases); empty: none. */
  readonly hostAliases: readonly NormalizedHostAlias[];
  /** Resolver settings (Kubernetes' dnsConfig); null: the engine's. */
  readonly dnsConfig: NormalizedDnsConfig | null;
  readonly env: Readonly<Record<string, string>>;
  readonly secretEnv: Readonly<Record<string, SecretSource>>;
  readonly mounts: readonly NormalizedMount[];
  /** The size of /dev/shm in bytes; null: the engine's (64Mi). */
  readonly shmSizeBytes: number | null;
  readonly network: string;
  /** Further user-defined networks joined beside `network`, in the spec's order. */
  readonly extraNetworks: readonly string[];
  readonly ports: readonly NormalizedPort[];
  readonly resources: {
    readonly nanoCpus: number | null;
    readonly memoryBytes: number | null;
    readonly memoryReservationBytes: number | null;
    readonly pids: number | null;
  };
  readonly restartPolicy: RestartPolicy;
  /** Specs whose containers must be ready before this one's are made; not in the hash. */
  readonly dependsOn: readonly NormalizedDependency[];
  readonly healthcheck: NormalizedHealthcheck | null;
  readonly security: {
    readonly readOnlyRootFilesystem: boolean;
    readonly noNewPrivileges: boolean;
    readonly privileged: boolean;
    readonly capAdd: readonly string[];
    readonly capDrop: readonly string[];
    readonly seccompProfile: string | null;
    readonly apparmorProfile: string | null;
    readonly selinuxOptions: readonly string[];
  };
  readonly pidMode: string | null;
  readonly ipcMode: string | null;
  readonly utsMode: string | null;
  readonly usernsMode: string | null;
  readonly devices: readonly NormalizedDevice[];
  readonly deviceCgroupRules: readonly string[];
  readonly sysctls: Readonly<Record<string, string>>;
  readonly runtime: string | null;
  /** Epoch milliseconds, or null for never. */
  readonly expiresAt: number | null;
  readonly replicas: number;
  /** The strategy in effect: StopFirst whenever a host port is published. */
  readonly updateStrategy: UpdateStrategy;
  /** How many replicas a rollout replaces at once (Swarm's update parallelism). Not in the hash. */
  readonly updateParallelism: number;
  /**
   * A rollout replaces only the replicas of this ordinal and above; those below keep their
   * version (a StatefulSet's partition). 0: every replica. Not in the hash.
   */
  readonly updatePartition: number;
  /**
   * How long a replacement must stay up (running, not restarted, not unhealthy) before it counts
   * as done, in ms; null: done once running (or healthy). Not in the hash.
   */
  readonly stableForMs: number | null;
  readonly stopTimeoutMs: number;
  /** The stop signal (SIGQUIT, or a number); null: the image's STOPSIGNAL, else SIGTERM. */
  readonly stopSignal: string | null;
  /** The log driver and its options; null: the engine's default driver. */
  readonly logging: NormalizedLogging | null;
  readonly suspended: boolean;
  /** By name, sorted; empty: the engine's defaults. */
  readonly ulimits: Readonly<Partial<Record<UlimitName, NormalizedUlimit>>>;
  /** A run's deadline from its container's creation (ms), or null for none (docs/runs.md). */
  readonly activeDeadlineMs: number | null;
  /** How long a finished run's container is kept (ms), or null for ever. */
  readonly ttlAfterFinishedMs: number | null;
  /** OnFailure: restarts by the engine before the run is Failed; null for no limit. */
  readonly backoffLimit: number | null;
  /** Capacity admission order, highest first (docs/capacity.md); not in the hash. */
  readonly priority: number;
  /** A warm pool (docs/pools.md), or null for a plain spec; a pool's `replicas` is its size. */
  readonly pool: NormalizedPool | null;
  /** Under --target swarm: Swarm's placement (docs/swarm.md); null: none. */
  readonly placement: NormalizedPlacement | null;
  /** Under --target swarm: one task on every eligible node instead of `replicas` (docs/swarm.md). */
  readonly global: boolean;
}

/** A dependency: the spec, and what ready means for it. */
export interface NormalizedDependency {
  readonly name: string;
  readonly condition: "Started" | "Healthy" | "Succeeded";
}

/** An /etc/hosts entry: an address (or `host-gateway`) and the names that resolve to it. */
export interface NormalizedHostAlias {
  readonly ip: string;
  readonly hostnames: readonly string[];
}

/** Resolver settings; each list as written, empty when not given. */
export interface NormalizedDnsConfig {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  /** `ndots:2`, `edns0`: as resolv.conf and the Engine API write them. */
  readonly options: readonly string[];
}

export interface NormalizedLogging {
  readonly driver: string;
  readonly options: Readonly<Record<string, string>>;
}

/** Swarm placement: constraints as written, preferences by the node label they spread over. */
export interface NormalizedPlacement {
  readonly constraints: readonly string[];
  readonly spreads: readonly string[];
}

/** A warm pool: unclaimed members kept ready; claims take them out (docs/pools.md). */
export interface NormalizedPool {
  readonly size: number;
  readonly minReady: number;
  readonly maxCreating: number;
}

/** The defaults of every optional field, in canonical units. The hash omits fields equal to these. */
export const DEFAULTS = {
  imagePullPolicy: "IfNotPresent",
  network: "bridge",
  restartPolicy: "Always",
  replicas: 1,
  updateStrategy: "StartFirst",
  updateParallelism: 1,
  updatePartition: 0,
  stopTimeoutMs: 10_000,
  suspended: false,
  hostIP: "127.0.0.1",
  protocol: "tcp",
  healthcheck: { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 },
  devicePermissions: "rwm",
  reclaimPolicy: "Delete",
  priority: 0,
  poolMaxCreating: 2,
} as const;

/** Docker refuses memory limits below 6 MiB. */
export const MIN_MEMORY_BYTES = 6 * 2 ** 20;

export type FieldPath = readonly (string | number)[];

/** Canonical capability name: upper case, without the CAP_ prefix. */
export function canonicalCapability(cap: string): string {
  const upper = cap.toUpperCase();
  return upper.startsWith("CAP_") ? upper.slice(4) : upper;
}
