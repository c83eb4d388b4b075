/**
 * The spec hash (docs/design.md, "The spec hash"): SHA-256 over a canonical JSON of the normalized spec. Keys are
 * sorted, units are canonical, fields equal to their default are omitted (so a field added in a
 * later berth version, left unset, changes no existing hash), secret values appear only as their
 * digest — HMAC-SHA256 under the controller's hash key (core/secrets.ts, loop/hash-key.ts), so
 * that the hash cannot confirm a guessed secret; plain SHA-256 where no key exists yet — and a
 * format version is included. Specs without secrets hash as they always did.
 *
 * Left out, because changing them needs no new container: replicas, suspended, expiresAt,
 * activeDeadline, ttlAfterFinished, updateStrategy, updateParallelism, stableFor, dependsOn and
 * imagePullPolicy (how berth acts, not what the container is). The name is the spec's identity,
 * not part of its content.
 */
import { sha256Hex } from "./sha256.js";
import { DEFAULTS, type NormalizedSpec } from "./spec.js";

export const HASH_FORMAT_VERSION = 1;

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined } | undefined;

/**
 * JSON with object keys sorted, `undefined` members omitted. Empty objects and arrays and null
 * are dropped from objects too: each means "the default" wherever it appears in a spec.
 */
export function canonicalJson(value: Json): string {
  if (value === undefined) return "null";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = value[key];
    if (isEmpty(member)) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${parts.join(",")}}`;
}

function isEmpty(value: Json): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.values(value).every(isEmpty);
  return false;
}

const unlessDefault = <T extends Json>(value: T, fallback: T): T | undefined =>
  value === fallback ? undefined : value;
const unlessFalse = (value: boolean): true | undefined => (value ? true : undefined);

/**
 * The object the hash is computed over. `secretDigests` maps each secretEnv name to the digest
 * (hex) of its resolved value (core/secrets.ts, SecretDigest).
 */
export function hashInput(spec: NormalizedSpec, secretDigests: Readonly<Record<string, string>>): Json {
  const secrets: Record<string, string> = {};
  for (const name of Object.keys(spec.secretEnv)) {
    const digest = secretDigests[name];
    if (digest === undefined) throw new Error(`hashInput: no digest for secret ${name}`);
    secrets[name] = digest;
  }
  const hc = spec.healthcheck;
  const d = DEFAULTS.healthcheck;
  const sec = spec.security;
  return {
    v: HASH_FORMAT_VERSION,
    labels: { ...spec.labels },
    image: spec.image,
    command: spec.command ? [...spec.command] : undefined,
    entrypoint: spec.entrypoint ? [...spec.entrypoint] : undefined,
    init: unlessFalse(spec.init),
    workingDir: spec.workingDir ?? undefined,
    user: spec.user ?? undefined,
    hostname: spec.hostname ?? undefined,
    // Each added after the first hash format: absent (empty), they change no existing hash.
    hostAliases: spec.hostAliases.map((a) => ({ ip: a.ip, hostnames: [...a.hostnames] })),
    dnsConfig: spec.dnsConfig
      ? {
          nameservers: [...spec.dnsConfig.nameservers],
          searches: [...spec.dnsConfig.searches],
          options: [...spec.dnsConfig.options],
        }
      : undefined,
    env: { ...spec.env },
    secretEnv: secrets,
    // A volume's reclaimPolicy is left out: it decides what happens after the container, not what it is.
    mounts: spec.mounts.map((m) =>
      m.type === "tmpfs"
        ? { type: m.type, target: m.target, sizeBytes: m.sizeBytes ?? undefined, mode: m.mode ?? undefined }
        : {
            type: m.type,
            source: m.source,
            target: m.target,
            readOnly: unlessFalse(m.readOnly),
            perInstance: m.type === "volume" ? unlessFalse(m.perInstance) : undefined,
          },
    ),
    shmSizeBytes: spec.shmSizeBytes ?? undefined,
    network: unlessDefault(spec.network, DEFAULTS.network),
    extraNetworks: [...spec.extraNetworks],
    ports: spec.ports.map((p) => ({
      containerPort: p.containerPort,
      protocol: unlessDefault<string>(p.protocol, DEFAULTS.protocol),
      hostPort: p.hostPort ?? undefined,
      hostIP: p.hostIP === null ? undefined : unlessDefault<string>(p.hostIP, DEFAULTS.hostIP),
      // Only under --target swarm (the engine target refuses it): absent, it changes no existing hash.
      mode: p.mode ?? undefined,
    })),
    resources: {
      nanoCpus: spec.resources.nanoCpus ?? undefined,
      memoryBytes: spec.resources.memoryBytes ?? undefined,
      memoryReservationBytes: spec.resources.memoryReservationBytes ?? undefined,
      pids: spec.resources.pids ?? undefined,
    },
    restartPolicy: unlessDefault<string>(spec.restartPolicy, DEFAULTS.restartPolicy),
    healthcheck: hc
      ? {
          command: [...hc.command],
          intervalMs: unlessDefault(hc.intervalMs, d.intervalMs),
          timeoutMs: unlessDefault(hc.timeoutMs, d.timeoutMs),
          retries: unlessDefault(hc.retries, d.retries),
          startPeriodMs: unlessDefault(hc.startPeriodMs, d.startPeriodMs),
        }
      : undefined,
    security: {
      readOnlyRootFilesystem: unlessFalse(sec.readOnlyRootFilesystem),
      noNewPrivileges: unlessFalse(sec.noNewPrivileges),
      privileged: unlessFalse(sec.privileged),
      capAdd: [...sec.capAdd],
      capDrop: [...sec.capDrop],
      seccompProfile: sec.seccompProfile ?? undefined,
      apparmorProfile: sec.apparmorProfile ?? undefined,
      selinuxOptions: [...sec.selinuxOptions],
    },
    pidMode: spec.pidMode ?? undefined,
    ipcMode: spec.ipcMode ?? undefined,
    utsMode: spec.utsMode ?? undefined,
    usernsMode: spec.usernsMode ?? undefined,
    devices: spec.devices.map((dev) => ({
      hostPath: dev.hostPath,
      containerPath: unlessDefault(dev.containerPath, dev.hostPath),
      permissions: unlessDefault<string>(dev.permissions, DEFAULTS.devicePermissions),
    })),
    deviceCgroupRules: [...spec.deviceCgroupRules],
    sysctls: { ...spec.sysctls },
    runtime: spec.runtime ?? undefined,
    stopTimeoutMs: unlessDefault(spec.stopTimeoutMs, DEFAULTS.stopTimeoutMs),
    stopSignal: spec.stopSignal ?? undefined,
    logging: spec.logging ? { driver: spec.logging.driver, options: { ...spec.logging.options } } : undefined,
    ulimits: Object.fromEntries(
      Object.entries(spec.ulimits).map(([name, u]) => [name, { soft: u.soft, hard: u.hard }]),
    ),
    // The engine's retry count: a new container. activeDeadline and ttlAfterFinished are left out
    // (the planner's business; changing them starts no new run).
    backoffLimit: spec.backoffLimit ?? undefined,
    // Only under --target swarm (the engine target refuses it): absent, it changes no existing hash.
    placement: spec.placement
      ? { constraints: [...spec.placement.constraints], spreads: [...spec.placement.spreads] }
      : undefined,
    global: unlessFalse(spec.global),
  };
}

/** The spec hash as a label value: 64 hex digits. */
export function specHash(spec: NormalizedSpec, secretDigests: Readonly<Record<string, string>> = {}): string {
  return sha256Hex(canonicalJson(hashInput(spec, secretDigests)));
}
