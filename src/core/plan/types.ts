/**
 * The planner's data: what it is given (the desired specs, what must be left alone) and what it
 * returns (actions, each with a reason, and notes on what it deliberately did not do).
 */
import type { Amounts, CapacityOptions, CapacityTotals } from "../capacity.js";
import type { DeclaredObject } from "../declared.js";
import type { Ownership } from "../ownership.js";
import type { ClaimRecord } from "../pool.js";
import type { FieldChange } from "../spec-diff.js";
import type { HostPortMap } from "../host-ports.js";
import type { PortRange } from "../policy/types.js";
import type { NormalizedSpec, UpdateStrategy } from "../spec.js";

export interface DesiredSpec {
  readonly spec: NormalizedSpec;
  /**
   * The spec hash (secrets resolved); empty for an expired spec with secrets, which is desired
   * absent and whose secrets are not read.
   */
  readonly hash: string;
  /** The spec file's path relative to its directory. */
  readonly source: string;
  /**
   * secretEnv name → the digest its value entered the hash with (core/secrets.ts): compared with a
   * container's applied label to tell a rotated secret, never shown.
   */
  readonly secretDigests: Readonly<Record<string, string>>;
}

export interface PlanInput {
  readonly desired: readonly DesiredSpec[];
  /**
   * Specs whose containers must be left alone: named in a file that is currently invalid, or
   * whose secrets cannot be resolved. Never pruned, never changed.
   */
  readonly protectedSpecs: ReadonlySet<string>;
  /** Source paths (relative) of invalid files: containers created from them are never pruned. */
  readonly protectedSources: ReadonlySet<string>;
  /** Why pruning is paused (a spec directory empty, missing or unreadable), or null. */
  readonly prunePaused: string | null;
  /**
   * Containers whose start keeps failing (the engine's state for them is broken, e.g. a stale
   * runtime directory after a daemon crash): replaced instead of started again.
   */
  readonly unstartable?: ReadonlySet<string>;
  /**
   * Specs removed on purpose (DELETE through the API, a docker-spawner stop): their containers
   * are removed even while pruning is paused or past its share, since nothing about them is in
   * doubt.
   */
  readonly deleted?: ReadonlySet<string>;
  /**
   * Claims on pool members (docs/pools.md): the containers they name are the claims', not the
   * pools'. Absent: none.
   */
  readonly claims?: readonly ClaimRecord[];
  /**
   * Claims waiting now for a member of a pool none of whose members was ready, by pool: each asks
   * for one member beyond the pool's size, created cold (core/pool.ts, poolSlots). Absent: none.
   */
  readonly poolDemand?: ReadonlyMap<string, number>;
  /**
   * The actions in flight, by spec (the dispatcher's). A create or replace among them was admitted
   * when it began and keeps its room until it ends: the capacity gate counts it first (core/plan/
   * capacity.ts). Absent: none.
   */
  readonly inFlight?: ReadonlyMap<string, readonly Action[]>;
  /** Declared networks and volumes (`kind: Network`, `kind: Volume` documents); absent: none. */
  readonly objects?: readonly DesiredObject[];
  /**
   * Declared objects that must be left alone (objectKey: declared twice, so neither is applied):
   * never pruned, never changed. Those of invalid files are covered by protectedSources.
   */
  readonly protectedObjects?: ReadonlySet<string>;
  /** Where `hostPort: auto` ports come from (core/host-ports.ts); absent: the default range, nothing else known. */
  readonly hostPorts?: HostPortInput;
}

/** What the planner needs to allocate `hostPort: auto` ports besides the observation. */
export interface HostPortInput {
  /** The ports auto may take: --host-port-range within the policy's allowed ports. */
  readonly ranges: readonly PortRange[];
  /**
   * Ports known to be taken that no observed container shows, and by whom: "" for a program
   * outside Docker (found when a start failed), `reservedBy(spec)` for a create still in flight.
   */
  readonly busy: ReadonlyMap<number, string>;
}

/** A declared network or volume, with its config hash and where it was declared. */
export interface DesiredObject {
  readonly object: DeclaredObject;
  /** objectHash(object): what cannot change in place. */
  readonly hash: string;
  /** The spec file's path relative to its directory. */
  readonly source: string;
}

/** A network or volume that exists, as an action names it. */
export interface ObjectRef {
  readonly kind: DeclaredObject["kind"];
  readonly name: string;
}

export interface PlanOptions {
  /** Whose containers these are: only the controller's own are ever acted on. */
  readonly owner: Ownership;
  /** Prune even past the share limit. */
  readonly forcePrune: boolean;
  /** A pass that would prune more than this share of the managed containers prunes nothing. */
  readonly pruneMaxShare: number;
  /** The host capacity containers are admitted against (docs/capacity.md); absent: no limit. */
  readonly capacity?: CapacityOptions;
}

export type RemoveReason =
  | "orphaned"
  | "deleted"
  | "expired"
  | "scaled down"
  | "invalid replica label"
  | "duplicate"
  | "leftover temporary"
  | "name needed"
  /** A claimed pool member whose claim expired (docs/pools.md). */
  | "claim expired"
  /** The record of a rejected version that no longer holds a rollout (core/plan/rollout.ts). */
  | "old rejection"
  /** The record of a rejected version removed by `berth rollout retry`, so the version is tried again (ops/rollout-retry.ts). */
  | "retried";

/** Why a per-instance volume is removed: its instance went (core/plan/volumes.ts). */
export type VolumeRemoveReason = "orphaned" | "deleted" | "expired" | "scaled down" | "ttl expired";

/**
 * Why an image berth built is removed: its spec now names a newer one and it is older than the one
 * kept for a revert, or its spec is gone (from the folder, or deleted through the API).
 */
export type ImageRemoveReason = "superseded build" | "orphaned" | "deleted";

/** Why a run's record volume goes: its spec starts a new run, or is gone. */
/** container gone: a run's deadline mark (core/runs.ts) whose container is no more. */
export type ForgetReason = "new run" | "orphaned" | "deleted" | "container gone";

export interface ContainerRef {
  readonly id: string;
  readonly name: string;
}

interface ActionBase {
  /** The name of the spec the action is for (the key that serializes operations). */
  readonly spec: string;
}

export type Action =
  | (ActionBase & {
      readonly kind: "create";
      readonly replica: number;
      readonly name: string;
      readonly reason: "not found";
      /** Per-instance volumes berth makes for it first (absent: volumes were not observed). */
      readonly newVolumes?: readonly string[];
      /** The host ports allocated for its `hostPort: auto` ports (absent: it has none). */
      readonly hostPorts?: HostPortMap;
    })
  | (ActionBase & {
      readonly kind: "replace";
      readonly replica: number;
      readonly name: string;
      readonly old: ContainerRef;
      readonly strategy: UpdateStrategy;
      /** `retried`: a StopFirst replica of a held rollout made again by `berth rollout retry` (ops/rollout-retry.ts). */
      readonly reason: "hash changed" | "image updated" | "dead" | "start failing" | "retried";
      /**
       * For `hash changed`: the fields that changed since the container was made (from its applied
       * label, core/applied.ts), or null when it has none that can be believed.
       */
      readonly changes?: readonly FieldChange[] | null;
      /**
       * For `image updated` of a followed tag: the digest the container was pulled by (null: not
       * known) and the one the registry serves now.
       */
      readonly imageDigests?: { readonly from: string | null; readonly to: string };
      /** Per-instance volumes berth makes for the new container first (absent: volumes were not observed). */
      readonly newVolumes?: readonly string[];
      /** The host ports allocated for the new container's `hostPort: auto` ports (absent: it has none). */
      readonly hostPorts?: HostPortMap;
    })
  | (ActionBase & {
      readonly kind: "finish";
      readonly replica: number;
      readonly name: string;
      readonly next: ContainerRef;
      readonly old: ContainerRef | null;
      readonly reason: "interrupted replacement";
    })
  | (ActionBase & {
      readonly kind: "start";
      readonly container: ContainerRef;
      readonly reason: "exited" | "failed" | "never started";
    })
  | (ActionBase & {
      readonly kind: "stop";
      readonly container: ContainerRef;
      readonly reason: "suspended" | "deadline exceeded";
      /** For `deadline exceeded`: the run's deadline mark (core/runs.ts), made before the stop. */
      readonly mark?: { readonly volume: string; readonly labels: Readonly<Record<string, string>> };
    })
  | (ActionBase & { readonly kind: "remove"; readonly container: ContainerRef; readonly reason: RemoveReason })
  | (ActionBase & {
      readonly kind: "rename";
      readonly container: ContainerRef;
      readonly to: string;
      readonly reason: "replicas changed";
    })
  | (ActionBase & {
      readonly kind: "reclaim-volume";
      /** A per-instance volume of this controller's, no longer mounted by any container. */
      readonly volume: string;
      readonly reason: VolumeRemoveReason;
    })
  /** An image berth built (core/plan/images.ts): its tag is removed; the image goes with its last tag. */
  | (ActionBase & {
      readonly kind: "remove-image";
      /** The tag, `berth.local/<spec>:<12 hex>`. */
      readonly image: string;
      /** The image ID it named when observed. */
      readonly imageId: string;
      readonly reason: ImageRemoveReason;
    })
  /** A finished run past its ttlAfterFinished: its record volume is made, then its container removed. */
  | (ActionBase & {
      readonly kind: "collect";
      readonly container: ContainerRef;
      /** The record volume's name and labels (core/runs.ts). */
      readonly record: { readonly volume: string; readonly labels: Readonly<Record<string, string>> };
      readonly reason: "ttl expired";
    })
  /** A run's record volume that no longer stands for anything: removed. */
  | (ActionBase & { readonly kind: "forget"; readonly name: string; readonly reason: ForgetReason })
  /** Declared objects: `spec` is their objectKey (network:NAME), which serializes their operations. */
  | (ActionBase & {
      readonly kind: "create-network" | "create-volume";
      readonly object: DesiredObject;
      readonly reason: "not found" | "config changed";
    })
  | (ActionBase & {
      readonly kind: "remove-network" | "remove-volume";
      readonly target: ObjectRef;
      readonly reason: "orphaned" | "config changed";
    });

export type ActionKind = Action["kind"];

export type Note =
  | { readonly kind: "prune-paused"; readonly message: string; readonly containers: readonly ContainerRef[] }
  | {
      readonly kind: "conflict";
      readonly spec: string;
      readonly name: string;
      readonly holder: string;
      /** foreign: a container berth does not own; protected: berth's, from a file that is invalid. */
      readonly by: "foreign" | "protected";
    }
  | { readonly kind: "update-pending"; readonly spec: string; readonly message: string }
  /** spec.updatePartition keeps these replicas (container names) on their version. */
  | {
      readonly kind: "partitioned";
      readonly spec: string;
      readonly partition: number;
      readonly kept: readonly string[];
    }
  | { readonly kind: "volume-prune-paused"; readonly message: string; readonly volumes: readonly string[] }
  /**
   * A declared network or volume berth leaves as it is, and why: held by an object berth does not
   * own, drifted but in use, without a document but in use, or pruning paused.
   */
  | {
      readonly kind: "object";
      /** The objectKey (network:NAME), or "" for a note on several. */
      readonly object: string;
      readonly message: string;
    }
  /**
   * A container spec whose containers are not created yet: a network or volume it needs is being
   * created (failed: false, Pending), or is neither declared nor present (failed: true, Failed).
   */
  | { readonly kind: "blocked"; readonly spec: string; readonly message: string; readonly failed: boolean }
  /** Containers of a spec that do not fit in what is left of the host's capacity (Pending): why. */
  | { readonly kind: "unschedulable"; readonly spec: string; readonly message: string };

/** What berth's containers hold of the host's capacity (docs/capacity.md). */
export interface NodeUsage {
  readonly total: CapacityTotals;
  /** What berth's containers hold, and what this plan admitted. */
  readonly requested: Amounts;
  /** Each container of berth's that holds capacity, and what it holds. */
  readonly holdings: readonly { readonly name: string; readonly spec: string; readonly amounts: Amounts }[];
}

export interface Plan {
  readonly actions: readonly Action[];
  readonly notes: readonly Note[];
  /** When the next expiry falls (epoch ms): plan again then. */
  readonly nextWakeAt: number | null;
  /** With a capacity (PlanOptions.capacity): what is held and requested. */
  readonly capacity?: NodeUsage;
}
