/**
 * A spec as a Swarm service (docs/swarm.md, "What maps to what"): the body of the Engine API's
 * service create and update, pure. The fields a service cannot carry were refused at validation
 * (core/swarm-fields.ts); everything else maps here, or is named in docs/swarm.md as not needed.
 *
 * The ownership labels (controller, spec, hash, expiry, source, applied) go on the service only.
 * The tasks' containers carry the spec's own labels and never berth.controller: an engine-target
 * berth of the same id on a node would otherwise take them for its own containers and prune them.
 */
import { appliedLabel } from "./applied.js";
import { type EngineHealthcheck, engineHealthcheck } from "./create-request.js";
import type { Ownership } from "./ownership.js";
import type { NormalizedSpec } from "./spec.js";
import { formatTime, NEVER } from "./units.js";

/** Nanoseconds, as the service API counts durations. */
const ns = (ms: number): number => ms * 1_000_000;

export interface ServiceMount {
  readonly Type: "bind" | "volume" | "tmpfs";
  readonly Source?: string;
  readonly Target: string;
  readonly ReadOnly?: boolean;
  readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number };
}

/** The Engine API's ServiceSpec, as much of it as berth writes. */
export interface ServiceSpec {
  readonly Name: string;
  readonly Labels: Readonly<Record<string, string>>;
  readonly TaskTemplate: {
    readonly ContainerSpec: {
      readonly Image: string;
      readonly Labels: Readonly<Record<string, string>>;
      readonly Command?: readonly string[];
      readonly Args?: readonly string[];
      readonly Hostname?: string;
      readonly Env: readonly string[];
      readonly Dir?: string;
      readonly User?: string;
      readonly Init?: boolean;
      readonly ReadOnly?: boolean;
      readonly Mounts: readonly ServiceMount[];
      readonly StopGracePeriod: number;
      readonly Healthcheck?: EngineHealthcheck;
      readonly CapabilityAdd?: readonly string[];
      readonly CapabilityDrop?: readonly string[];
      readonly Sysctls?: Readonly<Record<string, string>>;
      readonly Ulimits?: readonly { readonly Name: string; readonly Soft: number; readonly Hard: number }[];
    };
    readonly Resources: {
      readonly Limits: { readonly NanoCPUs?: number; readonly MemoryBytes?: number; readonly Pids?: number };
      readonly Reservations: { readonly MemoryBytes?: number };
    };
    readonly RestartPolicy: { readonly Condition: "any" | "on-failure" | "none"; readonly MaxAttempts?: number };
    readonly Placement: {
      readonly Constraints: readonly string[];
      readonly Preferences: readonly { readonly Spread: { readonly SpreadDescriptor: string } }[];
    };
    readonly Networks: readonly { readonly Target: string }[];
  };
  readonly Mode: { readonly Replicated: { readonly Replicas: number } };
  readonly UpdateConfig: {
    readonly Parallelism: number;
    readonly Order: "start-first" | "stop-first";
    readonly FailureAction: "pause";
  };
}

/** What a service is made from: the spec, its hash and where it came from. */
export interface ServiceInput {
  readonly spec: NormalizedSpec;
  readonly hash: string;
  readonly source: string;
}

/** The replicas a spec wants running: none while suspended. */
export function desiredReplicas(spec: NormalizedSpec): number {
  return spec.suspended ? 0 : spec.replicas;
}

/** Networks a service joins: bridge and auto (this host's defaults) are no swarm network. */
function networksOf(spec: NormalizedSpec): { Target: string }[] {
  const primary = spec.network === "bridge" || spec.network === "auto" ? [] : [spec.network];
  return [...primary, ...spec.extraNetworks].map((Target) => ({ Target }));
}

function mountsOf(spec: NormalizedSpec): ServiceMount[] {
  return spec.mounts.map((m) =>
    m.type === "tmpfs"
      ? {
          Type: "tmpfs",
          Target: m.target,
          TmpfsOptions: {
            ...(m.sizeBytes !== null ? { SizeBytes: m.sizeBytes } : {}),
            ...(m.mode !== null ? { Mode: m.mode } : {}),
          },
        }
      : { Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly },
  );
}

const RESTART = { Always: "any", OnFailure: "on-failure", Never: "none" } as const;

export function serviceSpec(input: ServiceInput, owner: Ownership): ServiceSpec {
  const { spec, hash, source } = input;
  const k = owner.keys;
  const applied = appliedLabel(spec, {});
  const hc = spec.healthcheck;
  const sec = spec.security;
  const r = spec.resources;
  return {
    Name: spec.name,
    Labels: {
      ...spec.labels,
      [k.controller]: owner.controllerId,
      [k.spec]: spec.name,
      [k.hash]: hash,
      [k.expiresAt]: spec.expiresAt === null ? NEVER : formatTime(spec.expiresAt),
      [k.source]: source,
      ...(applied !== null ? { [k.applied]: applied } : {}),
    },
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Labels: { ...spec.labels },
        ...(spec.entrypoint ? { Command: [...spec.entrypoint] } : {}),
        ...(spec.command ? { Args: [...spec.command] } : {}),
        ...(spec.hostname !== null ? { Hostname: spec.hostname } : {}),
        Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
        ...(spec.workingDir !== null ? { Dir: spec.workingDir } : {}),
        ...(spec.user !== null ? { User: spec.user } : {}),
        ...(spec.init ? { Init: true } : {}),
        ...(sec.readOnlyRootFilesystem ? { ReadOnly: true } : {}),
        Mounts: mountsOf(spec),
        StopGracePeriod: ns(spec.stopTimeoutMs),
        ...(hc ? { Healthcheck: engineHealthcheck(hc) } : {}),
        ...(sec.capAdd.length > 0 ? { CapabilityAdd: sec.capAdd.map((c) => `CAP_${c}`) } : {}),
        ...(sec.capDrop.length > 0 ? { CapabilityDrop: sec.capDrop.map((c) => (c === "ALL" ? c : `CAP_${c}`)) } : {}),
        ...(Object.keys(spec.sysctls).length > 0 ? { Sysctls: { ...spec.sysctls } } : {}),
        ...(Object.keys(spec.ulimits).length > 0
          ? {
              Ulimits: Object.entries(spec.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
            }
          : {}),
      },
      Resources: {
        Limits: {
          ...(r.nanoCpus !== null ? { NanoCPUs: r.nanoCpus } : {}),
          ...(r.memoryBytes !== null ? { MemoryBytes: r.memoryBytes } : {}),
          ...(r.pids !== null ? { Pids: r.pids } : {}),
        },
        Reservations: r.memoryReservationBytes !== null ? { MemoryBytes: r.memoryReservationBytes } : {},
      },
      RestartPolicy: {
        Condition: RESTART[spec.restartPolicy],
        ...(spec.restartPolicy === "OnFailure" && spec.backoffLimit !== null ? { MaxAttempts: spec.backoffLimit } : {}),
      },
      Placement: {
        Constraints: [...(spec.placement?.constraints ?? [])],
        Preferences: (spec.placement?.spreads ?? []).map((s) => ({ Spread: { SpreadDescriptor: s } })),
      },
      Networks: networksOf(spec),
    },
    Mode: { Replicated: { Replicas: desiredReplicas(spec) } },
    UpdateConfig: {
      Parallelism: 1,
      Order: spec.updateStrategy === "StartFirst" ? "start-first" : "stop-first",
      FailureAction: "pause",
    },
  };
}
