/**
 * A normalized spec → the body of the Engine API's POST /containers/create (API 1.41). Pure: the
 * secret values, the resolved network and any seccomp profile text are handed in by the caller.
 * Kept here rather than in the Docker adapter so that what berth asks of the engine can be
 * checked (golden tests now, the admission policy later) without an engine.
 */
import { appliedLabel } from "./applied.js";
import { autoPortKeys, formatHostPortsLabel, type HostPortMap } from "./host-ports.js";
import { instanceVolumeName } from "./instance-volumes.js";
import { containerName } from "./names.js";
import type { Ownership } from "./ownership.js";
import {
  AUTO_HOST_PORT,
  type NormalizedDnsConfig,
  type NormalizedHealthcheck,
  type NormalizedSpec,
  type RestartPolicy,
} from "./spec.js";
import { formatTime, NEVER } from "./units.js";

export interface EngineMount {
  readonly Type: "volume" | "tmpfs";
  readonly Target: string;
  readonly Source?: string;
  readonly ReadOnly?: boolean;
  readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number };
}

export interface EngineCreateBody {
  readonly Image: string;
  readonly Cmd?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly Env: readonly string[];
  readonly User?: string;
  readonly WorkingDir?: string;
  readonly Hostname?: string;
  readonly Labels: Readonly<Record<string, string>>;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  readonly StopTimeout: number;
  readonly StopSignal?: string;
  readonly Healthcheck?: EngineHealthcheck;
  readonly HostConfig: {
    readonly Binds?: readonly string[];
    readonly Mounts?: readonly EngineMount[];
    readonly NetworkMode: string;
    readonly PortBindings?: Readonly<Record<string, readonly { HostIp: string; HostPort: string }[]>>;
    readonly Memory?: number;
    readonly MemoryReservation?: number;
    readonly NanoCpus?: number;
    readonly PidsLimit?: number;
    readonly RestartPolicy: {
      readonly Name: "unless-stopped" | "on-failure" | "no";
      readonly MaximumRetryCount: number;
    };
    readonly Init?: boolean;
    readonly ReadonlyRootfs?: boolean;
    readonly Privileged?: boolean;
    readonly CapAdd?: readonly string[];
    readonly CapDrop?: readonly string[];
    readonly SecurityOpt?: readonly string[];
    readonly PidMode?: string;
    readonly IpcMode?: string;
    readonly UTSMode?: string;
    readonly UsernsMode?: string;
    readonly Devices?: readonly { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
    readonly DeviceCgroupRules?: readonly string[];
    readonly Sysctls?: Readonly<Record<string, string>>;
    readonly Runtime?: string;
    readonly ShmSize?: number;
    readonly ExtraHosts?: readonly string[];
    readonly Dns?: readonly string[];
    readonly DnsSearch?: readonly string[];
    readonly DnsOptions?: readonly string[];
    readonly LogConfig?: { readonly Type: string; readonly Config: Readonly<Record<string, string>> };
    readonly Ulimits?: readonly { readonly Name: string; readonly Soft: number; readonly Hard: number }[];
  };
  readonly NetworkingConfig?: {
    readonly EndpointsConfig: Readonly<Record<string, { readonly Aliases?: readonly string[] }>>;
  };
}

export interface CreateContext {
  /** The controller the container is labelled for. */
  readonly owner: Ownership;
  readonly replica: number;
  readonly hash: string;
  /** The spec file's path relative to its directory. */
  readonly source: string;
  /** The Git revision the spec file came from (docs/gitops.md), or null/absent: not from a Git source. Not in the hash. */
  readonly revision?: string | null;
  /** secretEnv name → resolved value. */
  readonly secretValues: Readonly<Record<string, string>>;
  /**
   * secretEnv name → the keyed digest its value entered the hash label with (secretsForCreate), for
   * the applied label; null: a spec with secrets gets none. Absent: no applied label at all (a body
   * built to be checked, not created).
   */
  readonly labelDigests?: Readonly<Record<string, string>> | null;
  /** The network the container joins (spec.network with `auto` resolved). */
  readonly network: string;
  /** The text of spec.security.seccompProfile when it is a file path. */
  readonly seccompProfileJson?: string;
  /** The host ports planned for the spec's `hostPort: auto` ports (core/host-ports.ts). */
  readonly hostPorts?: HostPortMap;
  /** The registry digest the image was pulled by, when berth follows the spec's tag (docs/images.md). */
  readonly imageDigest?: string | null;
}

const RESTART: Readonly<Record<RestartPolicy, "unless-stopped" | "on-failure" | "no">> = {
  // unless-stopped, not always: a container berth stops (suspended) stays stopped when the daemon restarts.
  Always: "unless-stopped",
  OnFailure: "on-failure",
  Never: "no",
};

/**
 * The engine's restart policy. A backoffLimit becomes on-failure's maximum retry count, which the
 * engine counts (docs/runs.md); 0 is "no", since the engine reads a maximum of 0 as no limit.
 */
function restartPolicy(spec: NormalizedSpec): EngineCreateBody["HostConfig"]["RestartPolicy"] {
  const limit = spec.restartPolicy === "OnFailure" ? spec.backoffLimit : null;
  if (limit === 0) return { Name: "no", MaximumRetryCount: 0 };
  return { Name: RESTART[spec.restartPolicy], MaximumRetryCount: limit ?? 0 };
}

const NS_PER_MS = 1_000_000;

/** A healthcheck as the Engine API takes it, durations in nanoseconds (containers and Swarm services alike). */
export interface EngineHealthcheck {
  readonly Test: readonly string[];
  readonly Interval: number;
  readonly Timeout: number;
  readonly Retries: number;
  readonly StartPeriod: number;
}

export function engineHealthcheck(hc: NormalizedHealthcheck): EngineHealthcheck {
  return {
    Test: ["CMD", ...hc.command],
    Interval: hc.intervalMs * NS_PER_MS,
    Timeout: hc.timeoutMs * NS_PER_MS,
    Retries: hc.retries,
    StartPeriod: hc.startPeriodMs * NS_PER_MS,
  };
}

/**
 * The networks joined at create: the primary one (a user-defined network gets the spec's name as
 * an alias; a mode gets no endpoint) and every extra network, each with the alias.
 */
function endpoints(spec: NormalizedSpec, network: string): Pick<EngineCreateBody, "NetworkingConfig"> {
  const alias = { Aliases: [spec.name] };
  const joined: Record<string, { readonly Aliases?: readonly string[] }> = isNetworkMode(network)
    ? {}
    : { [network]: alias };
  for (const n of spec.extraNetworks) joined[n] = alias;
  if (Object.keys(joined).length === 0) return {};
  if (spec.extraNetworks.length > 0 && network === "bridge") joined.bridge = {};
  return { NetworkingConfig: { EndpointsConfig: joined } };
}

/** Networks that are modes rather than user-defined networks (no endpoint aliases). */
export function isNetworkMode(network: string): boolean {
  return network === "bridge" || network === "none" || network === "host" || network.startsWith("container:");
}

/** The labels berth puts on a container of this spec. */
export function containerLabels(
  spec: NormalizedSpec,
  ctx: Omit<CreateContext, "secretValues" | "network">,
): Record<string, string> {
  const keys = ctx.owner.keys;
  const applied = ctx.labelDigests === undefined ? null : appliedLabel(spec, ctx.labelDigests);
  return {
    ...spec.labels,
    [keys.controller]: ctx.owner.controllerId,
    [keys.spec]: spec.name,
    [keys.replica]: String(ctx.replica),
    [keys.hash]: ctx.hash,
    [keys.expiresAt]: spec.expiresAt === null ? NEVER : formatTime(spec.expiresAt),
    [keys.source]: ctx.source,
    ...(ctx.revision ? { [keys.revision]: ctx.revision } : {}),
    ...(applied !== null ? { [keys.applied]: applied } : {}),
    // What auto ports it was given: read back to keep them, and counted as taken while it is stopped.
    ...(autoPortKeys(spec).length > 0 ? { [keys.hostPorts]: formatHostPortsLabel(ctx.hostPorts ?? {}) } : {}),
    ...(ctx.imageDigest ? { [keys.imageDigest]: ctx.imageDigest } : {}),
  };
}

function securityOpts(spec: NormalizedSpec, ctx: CreateContext): string[] {
  const sec = spec.security;
  const opts: string[] = [];
  if (sec.noNewPrivileges) opts.push("no-new-privileges");
  if (sec.seccompProfile === "unconfined") opts.push("seccomp=unconfined");
  else if (sec.seccompProfile !== null && sec.seccompProfile !== "default" && ctx.seccompProfileJson !== undefined) {
    opts.push(`seccomp=${ctx.seccompProfileJson}`);
  }
  if (sec.apparmorProfile !== null) opts.push(`apparmor=${sec.apparmorProfile}`);
  for (const option of sec.selinuxOptions) opts.push(`label=${option}`);
  return opts;
}

const nonEmpty = <T>(list: readonly T[]): readonly T[] | undefined => (list.length > 0 ? list : undefined);

export function buildCreateBody(spec: NormalizedSpec, ctx: CreateContext): EngineCreateBody {
  const env = [
    ...Object.entries(spec.env),
    ...Object.keys(spec.secretEnv).map((name) => [name, ctx.secretValues[name] ?? ""] as const),
  ]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);

  const binds: string[] = [];
  const mounts: EngineMount[] = [];
  for (const m of spec.mounts) {
    if (m.type === "bind") {
      // The Binds form creates a missing host directory, as `docker run -v` does.
      binds.push(`${m.source}:${m.target}${m.readOnly ? ":ro" : ""}`);
    } else if (m.type === "volume") {
      // A per-instance volume is named after the final container name, never the temporary one.
      const source = m.perInstance
        ? instanceVolumeName(containerName(spec.name, ctx.replica, spec.replicas), m.source)
        : m.source;
      mounts.push({ Type: "volume", Source: source, Target: m.target, ...(m.readOnly ? { ReadOnly: true } : {}) });
    } else {
      const tmpfs = {
        ...(m.sizeBytes !== null ? { SizeBytes: m.sizeBytes } : {}),
        ...(m.mode !== null ? { Mode: m.mode } : {}),
      };
      mounts.push({
        Type: "tmpfs",
        Target: m.target,
        ...(Object.keys(tmpfs).length > 0 ? { TmpfsOptions: tmpfs } : {}),
      });
    }
  }

  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposed[key] = {};
    // An auto port without a planned number is left out; the executor refuses such a body first.
    const hostPort = p.hostPort === AUTO_HOST_PORT ? ctx.hostPorts?.[key] : p.hostPort;
    if (hostPort !== null && hostPort !== undefined) {
      (bindings[key] ??= []).push({ HostIp: p.hostIP ?? "127.0.0.1", HostPort: String(hostPort) });
    }
  }

  const r = spec.resources;
  const sec = spec.security;
  const hc = spec.healthcheck;
  const secOpts = securityOpts(spec, ctx);

  return {
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Env: env,
    ...(spec.user !== null ? { User: spec.user } : {}),
    ...(spec.workingDir !== null ? { WorkingDir: spec.workingDir } : {}),
    ...(spec.hostname !== null ? { Hostname: spec.hostname } : {}),
    Labels: containerLabels(spec, ctx),
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    StopTimeout: Math.ceil(spec.stopTimeoutMs / 1000),
    ...(spec.stopSignal !== null ? { StopSignal: spec.stopSignal } : {}),
    ...(hc ? { Healthcheck: engineHealthcheck(hc) } : {}),
    HostConfig: {
      ...(binds.length > 0 ? { Binds: binds } : {}),
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      NetworkMode: ctx.network,
      ...(Object.keys(bindings).length > 0 ? { PortBindings: bindings } : {}),
      ...(r.memoryBytes !== null ? { Memory: r.memoryBytes } : {}),
      ...(r.memoryReservationBytes !== null ? { MemoryReservation: r.memoryReservationBytes } : {}),
      ...(r.nanoCpus !== null ? { NanoCpus: r.nanoCpus } : {}),
      ...(r.pids !== null ? { PidsLimit: r.pids } : {}),
      RestartPolicy: restartPolicy(spec),
      ...(spec.init ? { Init: true } : {}),
      ...(sec.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
      ...(sec.privileged ? { Privileged: true } : {}),
      ...(nonEmpty(sec.capAdd) ? { CapAdd: sec.capAdd } : {}),
      ...(nonEmpty(sec.capDrop) ? { CapDrop: sec.capDrop } : {}),
      ...(secOpts.length > 0 ? { SecurityOpt: secOpts } : {}),
      ...(spec.pidMode !== null ? { PidMode: spec.pidMode } : {}),
      ...(spec.ipcMode !== null ? { IpcMode: spec.ipcMode } : {}),
      ...(spec.utsMode !== null ? { UTSMode: spec.utsMode } : {}),
      ...(spec.usernsMode !== null ? { UsernsMode: spec.usernsMode } : {}),
      ...(spec.devices.length > 0
        ? {
            Devices: spec.devices.map((d) => ({
              PathOnHost: d.hostPath,
              PathInContainer: d.containerPath,
              CgroupPermissions: d.permissions,
            })),
          }
        : {}),
      ...(nonEmpty(spec.deviceCgroupRules) ? { DeviceCgroupRules: spec.deviceCgroupRules } : {}),
      ...(Object.keys(spec.sysctls).length > 0 ? { Sysctls: spec.sysctls } : {}),
      ...(spec.runtime !== null ? { Runtime: spec.runtime } : {}),
      ...(spec.shmSizeBytes !== null ? { ShmSize: spec.shmSizeBytes } : {}),
      ...(spec.hostAliases.length > 0
        ? { ExtraHosts: spec.hostAliases.flatMap((a) => a.hostnames.map((name) => `${name}:${a.ip}`)) }
        : {}),
      ...(spec.dnsConfig ? dnsFields(spec.dnsConfig) : {}),
      ...(spec.logging ? { LogConfig: { Type: spec.logging.driver, Config: { ...spec.logging.options } } } : {}),
      ...(Object.keys(spec.ulimits).length > 0
        ? {
            Ulimits: Object.entries(spec.ulimits).map(([name, u]) => ({ Name: name, Soft: u.soft, Hard: u.hard })),
          }
        : {}),
    },
    ...endpoints(spec, ctx.network),
  };
}

/** The resolver settings as HostConfig's Dns, DnsSearch and DnsOptions (each only when given). */
function dnsFields(dns: NormalizedDnsConfig): { Dns?: string[]; DnsSearch?: string[]; DnsOptions?: string[] } {
  return {
    ...(dns.nameservers.length > 0 ? { Dns: [...dns.nameservers] } : {}),
    ...(dns.searches.length > 0 ? { DnsSearch: [...dns.searches] } : {}),
    ...(dns.options.length > 0 ? { DnsOptions: [...dns.options] } : {}),
  };
}
