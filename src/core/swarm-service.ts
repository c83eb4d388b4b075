/**
 * A spec as a Swarm service (docs/swarm.md, "What maps to what"): the body of the Engine API's
 * service create and update, pure. The fields a service cannot carry were refused at validation
 * (core/swarm-fields.ts); everything else maps here, or is named in docs/swarm.md as not needed.
 *
 * The ownership labels (controller, spec, hash, expiry, source, applied, revision) go on the service only.
 * The tasks' containers carry the spec's own labels and never berth.controller: an engine-target
 * berth of the same id on a node would otherwise take them for its own containers and prune them.
 */
import { appliedLabel } from "./applied.js";
import { type EngineHealthcheck, engineHealthcheck } from "./create-request.js";
import type { Ownership } from "./ownership.js";
import type { NormalizedDnsConfig, NormalizedSpec } from "./spec.js";
import { formatTime, NEVER } from "./units.js";
import { fileEnvName, SECRET_DIR, type SecretBinding } from "./swarm-secrets.js";

/** Nanoseconds, as the service API counts durations. */
const ns = (ms: number): number => ms * 1_000_000;

export interface ServiceMount {
  readonly Type: "bind" | "volume" | "tmpfs";
  readonly Source?: string;
  readonly Target: string;
  readonly ReadOnly?: boolean;
  readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number };
}

/** A secret as a task gets it: a file under /run/secrets (core/swarm-secrets.ts). */
export interface ServiceSecret {
  readonly SecretID: string;
  readonly SecretName: string;
  readonly File: { readonly Name: string; readonly UID: string; readonly GID: string; readonly Mode: number };
}

export type ServiceMode =
  { readonly Replicated: { readonly Replicas: number } } | { readonly Global: Record<string, never> };

export interface ServicePort {
  readonly Protocol: "tcp" | "udp" | "sctp";
  readonly TargetPort: number;
  readonly PublishedPort: number;
  readonly PublishMode: "ingress" | "host";
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
      /** `IP name`, as /etc/hosts lines. */
      readonly Hosts?: readonly string[];
      readonly DNSConfig?: {
        readonly Nameservers?: readonly string[];
        readonly Search?: readonly string[];
        readonly Options?: readonly string[];
      };
      readonly StopSignal?: string;
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
      readonly Secrets?: readonly ServiceSecret[];
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
    /** Aliases: other names the service answers to on the network (a spec's canaries answer to its name). */
    readonly Networks: readonly { readonly Target: string; readonly Aliases?: readonly string[] }[];
    readonly LogDriver?: { readonly Name: string; readonly Options: Readonly<Record<string, string>> };
  };
  readonly Mode: ServiceMode;
  readonly EndpointSpec?: { readonly Ports: readonly ServicePort[] };
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
  /** secretEnv name → the keyed digest of its value (core/secrets.ts), for the applied label. */
  readonly secretDigests: Readonly<Record<string, string>>;
  /**
   * The Git revision the spec file was read at (docs/gitops.md), or null/absent: not from a Git
   * source. On the service alone, not in the hash: a commit that changes no spec updates no service.
   */
  readonly revision?: string | null;
}

/** The replicas a spec wants running: none while suspended; null for a global service (one per node). */
export function desiredReplicas(spec: NormalizedSpec): number | null {
  if (spec.global) return null;
  return spec.suspended ? 0 : spec.replicas;
}

/** A secret file's mode: readable by the task's user, whoever it is (Swarm's own default). */
const SECRET_FILE_MODE = 0o444;

function secretsOf(secrets: readonly BoundSecret[]): ServiceSecret[] {
  return secrets.map((b) => ({
    SecretID: b.id,
    SecretName: b.name,
    File: { Name: b.key, UID: "0", GID: "0", Mode: SECRET_FILE_MODE },
  }));
}

/** Published ports (a hostPort): ingress unless the spec says host. Exposed-only ports have no service form. */
function portsOf(spec: NormalizedSpec): ServicePort[] {
  return spec.ports.flatMap((p) =>
    typeof p.hostPort === "number"
      ? [
          {
            Protocol: p.protocol,
            TargetPort: p.containerPort,
            PublishedPort: p.hostPort,
            PublishMode: p.mode ?? "ingress",
          },
        ]
      : [],
  );
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

/** The resolver settings as a service's DNSConfig (each list only when given). */
function dnsConfigOf(dns: NormalizedDnsConfig): NonNullable<ServiceSpec["TaskTemplate"]["ContainerSpec"]["DNSConfig"]> {
  return {
    ...(dns.nameservers.length > 0 ? { Nameservers: [...dns.nameservers] } : {}),
    ...(dns.searches.length > 0 ? { Search: [...dns.searches] } : {}),
    ...(dns.options.length > 0 ? { Options: [...dns.options] } : {}),
  };
}

const RESTART = { Always: "any", OnFailure: "on-failure", Never: "none" } as const;

/** A secret the service points to: made already, so it has an ID. */
export type BoundSecret = SecretBinding & { readonly id: string };

/**
 * `secrets`: the spec's secretEnv entries as Swarm secrets (core/swarm-secrets.ts), each with the
 * ID the engine gave it; the service carries their names and IDs, never a value.
 */
export function serviceSpec(input: ServiceInput, owner: Ownership, secrets: readonly BoundSecret[] = []): ServiceSpec {
  const { spec, hash, source } = input;
  const k = owner.keys;
  const applied = appliedLabel(spec, input.secretDigests);
  const replicas = desiredReplicas(spec);
  const ports = portsOf(spec);
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
      ...(input.revision ? { [k.revision]: input.revision } : {}),
    },
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Labels: { ...spec.labels },
        ...(spec.entrypoint ? { Command: [...spec.entrypoint] } : {}),
        ...(spec.command ? { Args: [...spec.command] } : {}),
        ...(spec.hostname !== null ? { Hostname: spec.hostname } : {}),
        ...(spec.hostAliases.length > 0
          ? // A line per name: Docker 26's executor keeps only the first name of a line.
            { Hosts: spec.hostAliases.flatMap((a) => a.hostnames.map((name) => `${a.ip} ${name}`)) }
          : {}),
        ...(spec.dnsConfig ? { DNSConfig: dnsConfigOf(spec.dnsConfig) } : {}),
        ...(spec.stopSignal !== null ? { StopSignal: spec.stopSignal } : {}),
        Env: [
          ...Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
          ...secrets.map((b) => `${fileEnvName(b.key)}=${SECRET_DIR}/${b.key}`),
        ],
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
        ...(secrets.length > 0 ? { Secrets: secretsOf(secrets) } : {}),
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
      ...(spec.logging ? { LogDriver: { Name: spec.logging.driver, Options: { ...spec.logging.options } } } : {}),
    },
    Mode: replicas === null ? { Global: {} } : { Replicated: { Replicas: replicas } },
    ...(ports.length > 0 ? { EndpointSpec: { Ports: ports } } : {}),
    UpdateConfig: {
      Parallelism: spec.updateParallelism,
      Order: spec.updateStrategy === "StartFirst" ? "start-first" : "stop-first",
      FailureAction: "pause",
      // spec.stableFor: a task that fails within Monitor pauses the update (Swarm's default is 5s),
      // and Delay holds the next task's update until then, as the engine target waits (Swarm
      // would otherwise go on to the next task while it still watches the last).
      ...(spec.stableForMs !== null
        ? { Monitor: spec.stableForMs * 1_000_000, Delay: spec.stableForMs * 1_000_000 }
        : {}),
    },
  };
}
