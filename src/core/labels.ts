/**
 * The labels berth puts on its containers: the only state it keeps (docs/design.md, "Invariants"). Every key is
 * built here from the configurable prefix (default "berth").
 */
export const DEFAULT_LABEL_PREFIX = "berth";
export const DEFAULT_CONTROLLER_ID = "default";

export interface LabelKeys {
  /** The controller instance id; berth only touches containers whose value is its own. */
  readonly controller: string;
  /** metadata.name of the spec. */
  readonly spec: string;
  /** Replica index, "0" … "n-1". */
  readonly replica: string;
  /** Spec hash (core/hash.ts). */
  readonly hash: string;
  /** RFC 3339 time or "never", as the container was created. */
  readonly expiresAt: string;
  /** The spec file's path relative to its directory, for humans. */
  readonly source: string;
  /** The Git commit the spec file was checked out at, when it came from a Git source (docs/gitops.md). */
  readonly revision: string;
  /**
   * What the container was made from, for `berth plan` to say what a replace changes: the spec
   * hash's input and the secrets' references, never a secret value (core/applied.ts).
   */
  readonly applied: string;
  /** On a per-instance volume (core/instance-volumes.ts): the mount source it was made for, e.g. "data". */
  readonly instanceVolume: string;
  /** On a per-instance volume: its reclaim policy when it was made, Delete or Retain. */
  readonly reclaimPolicy: string;
  /** On a run's record volume (core/runs.ts): the outcome of a finished run whose container was removed. */
  readonly finished: string;
  /**
   * On a run's deadline mark (core/runs.ts): the id of the container berth stopped for its
   * activeDeadline, so that its outcome stays DeadlineExceeded whatever the spec says later.
   */
  readonly deadlineStop: string;
  /** On a network or volume berth made from a `kind: Network`/`kind: Volume` document: that kind. */
  readonly object: string;
  /** The host ports berth allocated for `hostPort: auto` (core/host-ports.ts): "3000/tcp=10000". */
  readonly hostPorts: string;
  /** The registry digest the image was pulled by, for specs whose tag berth follows (docs/images.md). */
  readonly imageDigest: string;
  /**
   * On an image berth built: the controller id that built it. Not the controller key: a container
   * inherits its image's labels, so one made by hand from a built image must not read as berth's.
   */
  readonly builtBy: string;
  /** On an image berth built: the spec it was built for. */
  readonly builtFor: string;
  /** On a Swarm secret berth made from a secretEnv entry (core/swarm-secrets.ts): the entry's name. */
  readonly secretKey: string;
  /** On a Swarm secret: the keyed digest of its value (never the value). */
  readonly secretDigest: string;
  /** On a service that runs a spec's canaries under --target swarm (core/swarm-canary.ts): "true". */
  readonly canary: string;
}

export function labelKeys(prefix: string = DEFAULT_LABEL_PREFIX): LabelKeys {
  return {
    controller: `${prefix}.controller`,
    spec: `${prefix}.spec`,
    replica: `${prefix}.replica`,
    hash: `${prefix}.hash`,
    expiresAt: `${prefix}.expires_at`,
    source: `${prefix}.source`,
    revision: `${prefix}.revision`,
    applied: `${prefix}.applied`,
    instanceVolume: `${prefix}.instance_volume`,
    reclaimPolicy: `${prefix}.reclaim_policy`,
    finished: `${prefix}.finished`,
    deadlineStop: `${prefix}.deadline_stop`,
    object: `${prefix}.object`,
    hostPorts: `${prefix}.host_ports`,
    imageDigest: `${prefix}.image_digest`,
    builtBy: `${prefix}.built_by`,
    builtFor: `${prefix}.built_for`,
    secretKey: `${prefix}.secret_key`,
    secretDigest: `${prefix}.secret_digest`,
    canary: `${prefix}.canary`,
  };
}

/** True when a user label key falls under the reserved namespace. */
export function isReservedLabel(key: string, prefix: string = DEFAULT_LABEL_PREFIX): boolean {
  return key === prefix || key.startsWith(`${prefix}.`);
}

const LABEL_PREFIX_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const CONTROLLER_ID_RE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,62})$/;

export function isValidLabelPrefix(prefix: string): boolean {
  return LABEL_PREFIX_RE.test(prefix) && prefix.length <= 63;
}

export function isValidControllerId(id: string): boolean {
  return CONTROLLER_ID_RE.test(id);
}
