/** The admission policy's settings and what checks are given and give back. */
import type { ObservedMount, ObservedVolume } from "../observed.js";
import type { FieldPath } from "../spec.js";

export type Profile = "baseline" | "restricted" | "privileged";
export const PROFILES: readonly Profile[] = ["baseline", "restricted", "privileged"];

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface Policy {
  readonly profile: Profile;
  /** Host path prefixes bind mounts may use (none by default). */
  readonly allowBind: readonly string[];
  /** Host ports that may be published. */
  readonly allowHostPorts: readonly PortRange[];
  /** Where `hostPort: auto` takes its ports (--host-port-range), within allowHostPorts. */
  readonly hostPortRange: PortRange;
  /** Host addresses besides loopback that ports may be published on (e.g. 0.0.0.0). */
  readonly allowHostIPs: readonly string[];
  /** OCI runtimes a spec may name. */
  readonly allowRuntimes: readonly string[];
  /** Log drivers a spec may name (logging.driver). */
  readonly allowLogDrivers: readonly string[];
  /** Folders secretEnv fromFile may read. */
  readonly allowSecretDirs: readonly string[];
  /**
   * Files berth reads for its own credentials (the API token file; later Git and registry
   * credentials), as absolute paths: secretEnv fromFile may never be, or resolve to, one of them.
   */
  readonly ownCredentialFiles: readonly string[];
  /** Host paths never bind-mounted under baseline or restricted, whatever --allow-bind says. */
  readonly forbiddenHostPaths: readonly string[];
  readonly maxMemoryBytes: number | null;
  readonly maxNanoCpus: number | null;
  readonly maxPids: number | null;
  /** Memory and pids limits are mandatory. */
  readonly requireLimits: boolean;
  /** Volume name patterns (globs: `*`, `?`) restricted admits besides the volumes berth made. */
  readonly allowVolumes: readonly string[];
  /** The longest stopTimeout a spec may ask for, in milliseconds (whole seconds). */
  readonly maxStopTimeoutMs: number;
  /** ulimit name → the highest hard limit a spec may ask for (-1: unlimited), replacing baseline's ceiling. */
  readonly maxUlimits: Readonly<Record<string, number>>;
}

/** The mounts of one container, and how messages name it. */
export interface MountsOf {
  /** `container "web"`, as messages show it. */
  readonly by: string;
  readonly mounts: readonly ObservedMount[];
}

export interface PolicyContext {
  /** Resolves symbolic links in a host path (as far as it exists). Identity: lexical checks only. */
  readonly realpath: (p: string) => string;
  /** Whether two host paths are one file (the same inode: a hard link); absent: not known here. */
  readonly sameFile?: (a: string, b: string) => boolean;
  /**
   * Whether a container name belongs to berth (a spec's container). Undefined: not known here
   * (one file parsed alone); the cross-file checks look at namespace joins across files instead.
   */
  readonly ownsContainer?: (name: string) => boolean;
  /**
   * The mounts of the other containers berth manages, as last observed (bind-inside-writable).
   * Undefined: not known here (a spec read alone); the checks across files compare specs instead.
   */
  readonly otherMounts?: readonly MountsOf[];
  /**
   * Named volumes as the engine describes them; null: missing (berth creates it, labelled).
   * Undefined: not known here (no engine at hand): the volume checks are made just before create.
   */
  readonly volumes?: ReadonlyMap<string, ObservedVolume | null>;
  /** Whether berth made this volume for the spec being checked (its labels say so). */
  readonly berthVolume?: (volume: ObservedVolume) => boolean;
}

export const LEXICAL_CONTEXT: PolicyContext = { realpath: (p) => p };

export interface Violation {
  readonly check: string;
  readonly path: FieldPath;
  readonly message: string;
}
