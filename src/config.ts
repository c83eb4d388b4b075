/**
 * Configuration: flags beat BERTH_* environment variables beat defaults (commander resolves the
 * first two); this module validates the result and freezes it. Read once, at the edge.
 */
import { type Target, TARGETS } from "./core/swarm-fields.js";
import { isIP } from "node:net";
import { isLoopbackHost } from "./core/loopback.js";
import os from "node:os";
import path from "node:path";
import { type CapacitySetting, DEFAULT_REQUEST, parseResourceList, type Resource } from "./core/capacity.js";
import { BerthError } from "./core/errors.js";
import { DEFAULT_CONTROLLER_ID, DEFAULT_LABEL_PREFIX, isValidControllerId, isValidLabelPrefix } from "./core/labels.js";
import {
  ALWAYS_FORBIDDEN,
  DEFAULT_POLICY,
  type Policy,
  LEXICAL_CONTEXT,
  type PortRange,
  PROFILES,
  secretFileAllowed,
  type Profile,
} from "./core/policy/policy.js";
import {
  advertisedUrl,
  defaultAdvertise,
  type HaTarget,
  type LeaseTiming,
  leaseTimingError,
  parseHaTarget,
} from "./core/lease.js";
import { type GitRef, parseGitPath, parseGitRef, parseGitUrl } from "./core/git-source.js";
import { ULIMIT_NAMES } from "./core/spec.js";
import {
  formatDurationMs,
  isParseError,
  MAX_TIMER_MS,
  parseBytes,
  parseDurationMs,
  parseNanoCpus,
  parseTimerMs,
} from "./core/units.js";
import { isValidCron } from "./util/cron.js";
import { LOG_LEVELS, type LogFormat, type LogLevel } from "./util/log-levels.js";

export interface Config {
  readonly specDirs: readonly string[];
  readonly controllerId: string;
  readonly labelPrefix: string;
  readonly concurrency: number;
  /** The periodic resync, as given: every so long (a timer), or on a node-cron schedule. */
  readonly resync: Resync;
  readonly forcePrune: boolean;
  readonly pruneMaxShare: number;
  readonly reapLabels: readonly string[];
  /** What `network: auto` resolves to, when set. */
  readonly network: string | null;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly dockerTimeoutMs: number;
  readonly drainTimeoutMs: number;
  /** Where the HTTP API listens; null: no HTTP server. */
  readonly listen: { readonly host: string; readonly port: number } | null;
  /** The spec directory the HTTP API writes to (also watched), or null. */
  readonly runtimeSpecs: string | null;
  /** The bearer token of the write endpoints, or null (they are off). */
  readonly apiToken: string | null;
  /** Host names besides loopback's the HTTP API answers for (--allow-host). */
  readonly allowHosts: readonly string[];
  /** Browser origins whose requests the HTTP API serves (--allow-origin). */
  readonly allowOrigins: readonly string[];
  /** How long an HTTP client may take to send a request (--request-timeout). */
  readonly requestTimeoutMs: number;
  /** The admission policy specs must satisfy. */
  readonly policy: Policy;
  /** docker-spawner compatibility routes (--compat docker-spawner), or null. */
  readonly compat: SpawnerCompatConfig | null;
  /** Artie host-manager compatibility routes (--compat artie), or null. */
  readonly artie: ArtieCompatConfig | null;
  /** Where run and apply keep their host lock (--state-dir), or null: the default (host/lock.ts). */
  readonly stateDir: string | null;
  /** Host capacity admission (--capacity, --reserve, --default-request), or null: none (docs/capacity.md). */
  readonly capacity: CapacitySetting | null;
  /** Leader election (--ha, docs/reliability.md), or null: this berth always leads. */
  readonly ha: HaConfig | null;
  /** Where pulls find registry credentials (docs/images.md). */
  readonly registryAuth: RegistryAuthConfig;
  /** --image-check: how often followed tags (imagePullPolicy Always) are asked again; null (off, 0): once per process. */
  readonly imageCheckMs: number | null;
  /** Git sources berth fetches itself (docs/gitops.md); none by default. */
  readonly git: GitConfig;
  /** Spec folders read through their link's target at each load: the Git sources' checkouts (set by app.ts). */
  readonly pinnedSpecDirs?: readonly string[];
  /** What specs become (--target): containers on this engine, or services of a Swarm (docs/swarm.md). */
  readonly target: Target;
}

export interface HaConfig {
  readonly target: HaTarget;
  readonly timing: LeaseTiming;
  /** --ha-password-file: Redis's password (beats one in the URL), or null. */
  readonly passwordFile: string | null;
  /** --ha-wait (apply, reap): how long a one-shot command waits for the lease; 0: it refuses at once. */
  readonly waitMs: number;
  /**
   * --ha-advertise (run): the URL of this berth's API that a standby's readers are sent to while
   * it leads; null: the --listen address (this host's name when it listens on every interface).
   */
  readonly advertise: string | null;
}

export interface RegistryAuthConfig {
  /** --registry-auth-file (absolute), or null. */
  readonly file: string | null;
  /** Docker's config.json: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  readonly dockerConfig: string;
}

export interface GitSourceConfig {
  readonly url: string;
  readonly ref: GitRef;
  /** As given: a branch or tag name, or the SHA. */
  readonly refText: string;
  /** A folder inside the repository ("" for its root). */
  readonly path: string;
  readonly intervalMs: number;
}

export interface GitConfig {
  readonly sources: readonly GitSourceConfig[];
  /** How long one git run may take (--git-timeout). */
  readonly timeoutMs: number;
  /** Credential files, checked to lie under the allowed secret folders (read by the run command). */
  readonly tokenFile: string | null;
  readonly sshKeyFile: string | null;
  readonly knownHostsFile: string | null;
  readonly webhookSecretFile: string | null;
}

/** `--resync 45s`: a timer every 45 s; `--resync "0 0 3 * * *"`: a node-cron schedule. */
export type Resync =
  | { readonly kind: "every"; readonly ms: number; readonly text: string }
  | { readonly kind: "cron"; readonly cron: string; readonly text: string };

export interface SpawnerCompatConfig {
  /** The agents' image (--spawn-image, else TIDEPOOL_AGENT_IMAGE, else docker-spawner's default). */
  readonly image: string;
  /** Their network (--network, else TIDEPOOL_NETWORK, else `auto`: berth's own). */
  readonly network: string;
  /** uid:gid when a spawn request gives none (--spawn-user, else HOST_UID:HOST_GID, else 1000:1000). */
  readonly user: { readonly uid: number; readonly gid: number };
  /** How long /spawn and /stop wait for the container to run or go (--spawn-timeout). */
  readonly waitMs: number;
}

export interface ArtieCompatConfig {
  /** The image of a create that names none (--artie-image; Artie's default, node:24-slim). */
  readonly image: string;
  /** The host address containers publish their ports on (--artie-host-ip), or null: the spec's default, loopback. */
  readonly hostIP: string | null;
  /** Their network (--network; default `auto`, berth's own). */
  readonly network: string;
  /** How long a create waits for its container to run, and a delete for it to go (--spawn-timeout). */
  readonly waitMs: number;
}

/** The admission policy's flags (run, apply, plan, status and validate take them). */
export interface PolicyOptions {
  readonly policy?: string;
  readonly allowBind?: readonly string[];
  readonly allowHostPorts?: readonly string[];
  readonly hostPortRange?: string;
  readonly allowHostIp?: readonly string[];
  readonly allowRuntime?: readonly string[];
  readonly allowLogDriver?: readonly string[];
  readonly allowSecretDir?: readonly string[];
  readonly maxMemory?: string;
  readonly maxCpus?: string;
  readonly maxPids?: string;
  readonly requireLimits?: boolean;
  readonly allowVolume?: readonly string[];
  readonly maxStopTimeout?: string;
  readonly maxUlimit?: readonly string[];
  /** DOCKER_HOST: a unix socket there is never bind-mounted either. */
  readonly dockerHost?: string;
  /** The API token file (--api-token-file, BERTH_API_TOKEN_FILE): never readable through secretEnv. */
  readonly apiTokenFile?: string;
  /** Registry credentials (--registry-auth-file): never readable through secretEnv either. */
  readonly registryAuthFile?: string;
  /** The Git sources' credential and webhook secret files: never readable through secretEnv either. */
  readonly gitCredentialFiles?: readonly (string | undefined)[];
  /** Redis's password for --ha (--ha-password-file): never readable through secretEnv either. */
  readonly haPasswordFile?: string;
}

export interface RawOptions extends PolicyOptions {
  readonly specs?: readonly string[];
  readonly id?: string;
  readonly labelPrefix?: string;
  readonly concurrency?: string;
  readonly resync?: string;
  readonly forcePrune?: boolean;
  readonly pruneMaxShare?: string;
  readonly reapLabel?: readonly string[];
  readonly network?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
  readonly dockerTimeout?: string;
  readonly drainTimeout?: string;
  readonly listen?: string;
  readonly runtimeSpecs?: string;
  /** The token itself (read from --api-token-file or BERTH_API_TOKEN by the CLI). */
  readonly apiToken?: string;
  readonly compat?: string;
  readonly spawnImage?: string;
  readonly spawnUser?: string;
  readonly spawnTimeout?: string;
  /** docker-spawner's own environment variables, honoured under --compat docker-spawner (its flags win). */
  readonly spawnerEnv?: SpawnerEnv;
  readonly artieImage?: string;
  readonly artieHostIp?: string;
  readonly stateDir?: string;
  readonly allowHost?: readonly string[];
  readonly allowOrigin?: readonly string[];
  readonly requestTimeout?: string;
  readonly capacity?: string;
  readonly target?: string;
  readonly reserve?: string;
  readonly defaultRequest?: string;
  readonly ha?: string;
  readonly haTtl?: string;
  readonly haRenew?: string;
  readonly haWait?: string;
  readonly haAdvertise?: string;
  /** Docker's config.json (the CLI passes $DOCKER_CONFIG/config.json or ~/.docker/config.json). */
  readonly dockerConfig?: string;
  /** A duration, or "off". */
  readonly imageCheck?: string;
  /** Git sources (docs/gitops.md): --git URL, each with the --git-ref/--git-path/--git-interval at its position. */
  readonly git?: readonly string[];
  readonly gitRef?: readonly string[];
  readonly gitPath?: readonly string[];
  readonly gitInterval?: readonly string[];
  readonly gitTimeout?: string;
  readonly gitTokenFile?: string;
  readonly gitSshKeyFile?: string;
  readonly gitKnownHosts?: string;
  readonly gitWebhookSecretFile?: string;
}

export const DEFAULTS = {
  specs: ["./specs"],
  concurrency: 4,
  resync: "30s",
  pruneMaxShare: 0.5,
  logLevel: "info" as LogLevel,
  logFormat: "auto" as LogFormat,
  dockerTimeout: "30s",
  drainTimeout: "30s",
  listen: "127.0.0.1:7435",
  spawnUser: "1000:1000",
  /** docker-spawner's default agent image (its TIDEPOOL_AGENT_IMAGE). */
  spawnImage: "tidepool-agent:latest",
  spawnTimeout: "2m",
  artieImage: "node:24-slim",
  requestTimeout: "30s",
  haTtl: "10s",
  haRenew: "2s",
  haWait: "0s",
  gitRef: "main",
  gitInterval: "1m",
  gitTimeout: "2m",
};

/** The shortest --git-interval: a remote is not polled more often than this. */
export const MIN_GIT_INTERVAL_MS = 1000;

/**
 * --git and its companions. The i-th --git-ref, --git-path and --git-interval belong to the i-th
 * --git; one given once applies to every source.
 */
export function gitConfig(raw: RawOptions, policy: Policy): GitConfig {
  const urls = raw.git ?? [];
  const nth = (flag: string, values: readonly string[] | undefined, i: number, fallback: string): string => {
    if (values === undefined || values.length === 0) return fallback;
    if (values.length !== 1 && values.length !== urls.length)
      usage(
        `${flag}: given ${values.length} times for ${urls.length} --git sources: give it once (for all) or once per --git, in the same order`,
      );
    return values.length === 1 ? (values[0] ?? fallback) : (values[i] ?? fallback);
  };
  if (urls.length === 0)
    for (const [flag, v] of [
      ["--git-ref", raw.gitRef],
      ["--git-path", raw.gitPath],
      ["--git-interval", raw.gitInterval],
    ] as const)
      if (v !== undefined && v.length > 0) usage(`${flag}: applies only with --git URL`);
  const sources = urls.map((url, i) => {
    const parsedUrl = parseGitUrl(url);
    if ("error" in parsedUrl) usage(`--git: ${parsedUrl.error}`);
    const refText = nth("--git-ref", raw.gitRef, i, DEFAULTS.gitRef);
    const ref = parseGitRef(refText);
    if ("error" in ref) usage(`--git-ref: ${ref.error}`);
    const gitPath = parseGitPath(nth("--git-path", raw.gitPath, i, ""));
    if (typeof gitPath !== "string") usage(`--git-path: ${gitPath.error}`);
    const intervalMs = duration("--git-interval", nth("--git-interval", raw.gitInterval, i, DEFAULTS.gitInterval));
    if (intervalMs < MIN_GIT_INTERVAL_MS) usage(`--git-interval: at least 1s (e.g. 30s, 1m, 5m)`);
    return Object.freeze({
      url: url.trim(),
      ref: Object.freeze(ref),
      refText: refText.trim(),
      path: gitPath,
      intervalMs,
    });
  });
  const file = (flag: string, given: string | undefined): string | null => {
    if (given === undefined || given === "") return null;
    const absolute = path.resolve(given);
    const refusal = secretFileAllowed(absolute, policy, LEXICAL_CONTEXT);
    if (refusal !== null) usage(`${flag}: ${absolute} ${refusal}`);
    return absolute;
  };
  return Object.freeze({
    sources: Object.freeze(sources),
    timeoutMs: duration("--git-timeout", raw.gitTimeout ?? DEFAULTS.gitTimeout),
    tokenFile: file("--git-token-file", raw.gitTokenFile),
    sshKeyFile: file("--git-ssh-key-file", raw.gitSshKeyFile),
    knownHostsFile: file("--git-known-hosts", raw.gitKnownHosts),
    webhookSecretFile: file("--git-webhook-secret-file", raw.gitWebhookSecretFile),
  });
}

function compatConfig(raw: RawOptions): SpawnerCompatConfig | null {
  if (raw.compat === undefined || raw.compat === "off" || raw.compat === "artie") return null;
  if (raw.compat !== "docker-spawner")
    usage(`--compat: ${JSON.stringify(raw.compat)} is not one of ${COMPAT_MODES.join(", ")}`);
  return spawnerCompatConfig(raw);
}

/** The environment variables docker-spawner reads (docs/http-api.md, "docker-spawner compatibility"). */
export const SPAWNER_ENV = ["TIDEPOOL_AGENT_IMAGE", "HOST_UID", "HOST_GID", "TIDEPOOL_NETWORK", "RUST_LOG"] as const;
export type SpawnerEnv = Readonly<Partial<Record<(typeof SPAWNER_ENV)[number], string>>>;

/** --compat docker-spawner: berth's flags (and BERTH_* variables), else docker-spawner's variables, else its defaults. */
function spawnerCompatConfig(raw: RawOptions): SpawnerCompatConfig {
  if (raw.runtimeSpecs === undefined)
    usage("--compat docker-spawner needs --runtime-specs DIR (where spawns write specs)");
  const env = raw.spawnerEnv ?? {};
  const given = (value: string | undefined): string | undefined => (value?.trim() ? value.trim() : undefined);
  const userText =
    raw.spawnUser ??
    (env.HOST_UID !== undefined || env.HOST_GID !== undefined
      ? `${given(env.HOST_UID) ?? "1000"}:${given(env.HOST_GID) ?? "1000"}`
      : DEFAULTS.spawnUser);
  const from = raw.spawnUser !== undefined ? "--spawn-user" : "HOST_UID:HOST_GID";
  const user = /^(\d{1,10}):(\d{1,10})$/.exec(userText);
  if (!user) usage(`${from}: ${JSON.stringify(userText)} is not UID:GID (e.g. 1000:1000)`);
  if ((Number(user[1]) === 0 || Number(user[2]) === 0) && raw.policy !== "privileged")
    usage(`${from}: agents run as uid or gid 0 (root) only under --policy privileged`);
  return {
    image: raw.spawnImage ?? given(env.TIDEPOOL_AGENT_IMAGE) ?? DEFAULTS.spawnImage,
    network: raw.network ?? given(env.TIDEPOOL_NETWORK) ?? "auto",
    user: { uid: Number(user[1]), gid: Number(user[2]) },
    waitMs: duration("--spawn-timeout", raw.spawnTimeout ?? DEFAULTS.spawnTimeout),
  };
}

/**
 * docker-spawner's RUST_LOG as berth's log level: its global level (`info`), or its
 * `docker_spawner=…` directive's; null when it names neither (tracing ignores what it cannot read).
 */
export function rustLogLevel(text: string | undefined): LogLevel | null {
  const levels: Readonly<Record<string, LogLevel>> = {
    off: "silent",
    error: "error",
    warn: "warn",
    info: "info",
    debug: "debug",
    trace: "trace",
  };
  let global: LogLevel | null = null;
  for (const directive of (text ?? "").split(",")) {
    const [target = "", level] = directive.trim().toLowerCase().split("=");
    if (level === undefined) global = levels[target] ?? global;
    else if (target === "docker_spawner" && levels[level]) return levels[level];
  }
  return global;
}

/** The values of --compat. */
export const COMPAT_MODES = ["docker-spawner", "artie", "off"] as const;

/**
 * --compat artie: Artie's host-manager API. It writes specs (a runtime spec folder) and has no
 * unauthenticated mode: every /api/* route needs the token, as Artie's own API_SECRET.
 */
function artieConfig(raw: RawOptions): ArtieCompatConfig | null {
  if (raw.compat !== "artie") return null;
  if (raw.runtimeSpecs === undefined)
    usage("--compat artie needs --runtime-specs DIR (where created containers are written as specs)");
  if (raw.apiToken === undefined)
    usage("--compat artie needs a token (--api-token-file or BERTH_API_TOKEN): Artie's API_SECRET");
  const hostIP = raw.artieHostIp ?? null;
  if (hostIP !== null && isIP(hostIP) === 0)
    usage(`--artie-host-ip: ${JSON.stringify(hostIP)} is not an IP address (e.g. 0.0.0.0)`);
  return {
    image: raw.artieImage ?? DEFAULTS.artieImage,
    hostIP,
    network: raw.network ?? "auto",
    waitMs: duration("--spawn-timeout", raw.spawnTimeout ?? DEFAULTS.spawnTimeout),
  };
}

/** A name as --allow-host takes it: a host name or an IP address (IPv6 with or without brackets), no port. */
export function normalizeAllowedHost(name: string): string | null {
  const text = name.trim().toLowerCase();
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (isIP(bare) === 6) return `[${bare}]`;
  if (isIP(bare) === 4) return bare;
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(text) && text.length <= 253
    ? text
    : null;
}

/** An origin as --allow-origin takes it (scheme://host[:port]), lowercased; null when it is not one. */
export function normalizeOrigin(origin: string): string | null {
  const text = origin.trim().toLowerCase();
  return /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/.test(text) ? text : null;
}

/** "127.0.0.1:7435", "[::1]:7435", ":7435" (all interfaces), or "off". */
export function parseListen(text: string): { host: string; port: number } | null {
  if (text === "off") return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535)
    usage(`--listen: ${JSON.stringify(text)} is not HOST:PORT (e.g. 127.0.0.1:7435, [::1]:7435, off)`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

function usage(message: string): never {
  throw BerthError.usage(message);
}

/** A duration berth compares with, never waits out (--max-stop-timeout): any length. */
function limit(flag: string, text: string): number {
  const ms = parseDurationMs(text);
  if (isParseError(ms)) usage(`${flag}: ${ms.error}`);
  return ms;
}

/** A duration berth waits out itself: at most the longest a timer holds (596h). */
function duration(flag: string, text: string): number {
  const ms = parseTimerMs(text);
  if (isParseError(ms)) usage(`${flag}: ${ms.error}`);
  return ms;
}

/** The shortest and longest resync interval (a Node timer holds at most 2^31 - 1 ms). */
export const RESYNC_LIMITS = { minMs: 1000, maxMs: MAX_TIMER_MS } as const;

/** "45s" → a timer every 45 s (any duration from 1s to 596h, about 24 days); a cron expression is taken as it is. */
export function parseResync(text: string): Resync {
  const trimmed = text.trim();
  if (trimmed.includes(" ")) {
    if (!isValidCron(trimmed)) {
      usage(
        `--resync: ${JSON.stringify(text)} is not a valid cron expression (five fields, or six with seconds first, e.g. "0 0 3 * * *"), nor a duration (e.g. 45s)`,
      );
    }
    return { kind: "cron", cron: trimmed, text: trimmed };
  }
  // Its own range says more than a timer's limit would.
  const ms = parseDurationMs(trimmed);
  if (isParseError(ms)) usage(`--resync: ${ms.error}`);
  if (ms < RESYNC_LIMITS.minMs || ms > RESYNC_LIMITS.maxMs) {
    usage(`--resync: ${formatDurationMs(ms)} is not from 1s to 596h (e.g. 30s, 45s, 5m), or give a cron expression`);
  }
  return { kind: "every", ms, text: trimmed };
}

/** --allow-host and --allow-origin values, normalized; a usage error for one that is not a name or origin. */
function httpNames(flag: string, values: readonly string[], normalize: (v: string) => string | null, e: string) {
  return values.map((v) => normalize(v) ?? usage(`${flag}: ${JSON.stringify(v)} is not ${e}`));
}

/**
 * Under --ha with the API on: the name the other members and CLIs are sent to (--ha-advertise, or
 * the host's name on a wildcard --listen, or the address listened on) is a name berth answers for,
 * as if given with --allow-host: it is this berth's own, not a page's re-pointed one.
 */
function withAdvertisedHost(allowed: string[], ha: HaConfig | null, listen: Config["listen"]): string[] {
  if (ha === null || listen === null) return allowed;
  const url = ha.advertise ?? defaultAdvertise(listen.host, listen.port, os.hostname());
  const host = normalizeAllowedHost(new URL(url).hostname);
  // Loopback is always served (http/access.ts).
  return host === null || isLoopbackHost(host) || allowed.includes(host) ? allowed : [...allowed, host];
}

function apiToken(token: string | undefined): string | null {
  if (token === undefined) return null;
  const trimmed = token.trim();
  if (trimmed.length < 16) usage("the API token must be at least 16 characters (e.g. openssl rand -hex 32)");
  return trimmed;
}

/** --host-port-range: one range, "10000-20000". */
export function parseHostPortRange(text: string): PortRange {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (!m || from < 1 || to > 65535 || from > to)
    usage(
      `--host-port-range: ${JSON.stringify(text)} is not a range FROM-TO of ports from 1 to 65535 (e.g. 10000-20000)`,
    );
  return { from, to };
}

/** "1024-65535", "80,443,8000-9000" → ranges. */
export function parsePortRanges(texts: readonly string[]): PortRange[] {
  return texts.map((text) => {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || from < 1 || to > 65535 || from > to) {
      usage(
        `--allow-host-ports: ${JSON.stringify(text)} is not a port or range from 1 to 65535 (e.g. 8080, 1024-65535)`,
      );
    }
    return { from, to };
  });
}

function absolutePaths(flag: string, paths: readonly string[]): string[] {
  for (const p of paths) if (!p.startsWith("/")) usage(`${flag}: ${JSON.stringify(p)} is not an absolute path`);
  return [...paths];
}

/** The admission policy from its flags. */
export function buildPolicy(raw: PolicyOptions): Policy {
  const profile = (raw.policy ?? DEFAULT_POLICY.profile) as Profile;
  if (!PROFILES.includes(profile))
    usage(`--policy: ${JSON.stringify(raw.policy)} is not one of ${PROFILES.join(", ")}`);
  const quantity = (flag: string, text: string | undefined, parse: typeof parseBytes): number | null => {
    if (text === undefined) return null;
    const parsed = parse(text);
    if (isParseError(parsed)) usage(`${flag}: ${parsed.error}`);
    return parsed;
  };
  const maxPids = raw.maxPids === undefined ? null : Number(raw.maxPids);
  if (maxPids !== null && (!Number.isInteger(maxPids) || maxPids < 1))
    usage(`--max-pids: ${JSON.stringify(raw.maxPids)} must be a whole number above 0`);
  for (const ip of raw.allowHostIp ?? [])
    if (!/^[0-9a-fA-F:.]+$/.test(ip)) usage(`--allow-host-ip: ${JSON.stringify(ip)} is not an IP address`);
  for (const pattern of raw.allowVolume ?? [])
    if (!/^[a-zA-Z0-9_.*?-]+$/.test(pattern))
      usage(
        `--allow-volume: ${JSON.stringify(pattern)} is not a volume name pattern (letters, digits, '_', '.', '-', '*', '?')`,
      );
  const maxStop =
    raw.maxStopTimeout === undefined
      ? DEFAULT_POLICY.maxStopTimeoutMs
      : limit("--max-stop-timeout", raw.maxStopTimeout);
  if (maxStop % 1000 !== 0) usage(`--max-stop-timeout: ${JSON.stringify(raw.maxStopTimeout)} must be whole seconds`);
  const maxUlimits: Record<string, number> = {};
  for (const entry of raw.maxUlimit ?? []) {
    const [name = "", value = ""] = entry.split("=");
    const n = Number(value);
    if (!(ULIMIT_NAMES as readonly string[]).includes(name) || !/^-?[0-9]+$/.test(value) || n < -1)
      usage(
        `--max-ulimit: ${JSON.stringify(entry)} is not NAME=N (N a whole number, -1 for none; NAME one of ${ULIMIT_NAMES.join(", ")})`,
      );
    maxUlimits[name] = n;
  }
  const socket = raw.dockerHost?.startsWith("unix://") ? raw.dockerHost.slice(7) : null;
  return Object.freeze({
    profile,
    allowBind: absolutePaths("--allow-bind", raw.allowBind ?? DEFAULT_POLICY.allowBind),
    allowHostPorts: raw.allowHostPorts ? parsePortRanges(raw.allowHostPorts) : DEFAULT_POLICY.allowHostPorts,
    hostPortRange: raw.hostPortRange ? parseHostPortRange(raw.hostPortRange) : DEFAULT_POLICY.hostPortRange,
    allowHostIPs: [...(raw.allowHostIp ?? DEFAULT_POLICY.allowHostIPs)],
    allowRuntimes: [...(raw.allowRuntime ?? DEFAULT_POLICY.allowRuntimes)],
    // Adds to the defaults: asking for syslog should not take json-file away.
    allowLogDrivers: [...new Set([...DEFAULT_POLICY.allowLogDrivers, ...(raw.allowLogDriver ?? [])])],
    allowSecretDirs: absolutePaths("--allow-secret-dir", raw.allowSecretDir ?? DEFAULT_POLICY.allowSecretDirs),
    ownCredentialFiles: [
      raw.apiTokenFile,
      raw.registryAuthFile,
      raw.haPasswordFile,
      ...(raw.gitCredentialFiles ?? []),
    ].flatMap((f) => (f ? [path.resolve(f)] : [])),
    forbiddenHostPaths: socket && !ALWAYS_FORBIDDEN.includes(socket) ? [...ALWAYS_FORBIDDEN, socket] : ALWAYS_FORBIDDEN,
    maxMemoryBytes: quantity("--max-memory", raw.maxMemory, parseBytes),
    maxNanoCpus: quantity("--max-cpus", raw.maxCpus, parseNanoCpus),
    maxPids,
    requireLimits: raw.requireLimits ?? false,
    allowVolumes: [...(raw.allowVolume ?? DEFAULT_POLICY.allowVolumes)],
    maxStopTimeoutMs: maxStop,
    maxUlimits,
  });
}

/** One resource list flag: its amounts, or a usage error naming the flag and what would be valid. */
function resourceList(flag: string, text: string, allowed: readonly Resource[], words: readonly string[] = []) {
  const parsed = parseResourceList(text, allowed);
  if ("error" in parsed) usage(`${flag}: ${parsed.error}`);
  const odd = parsed.words.find((w) => !words.includes(w));
  if (odd !== undefined) {
    const forms = [...words, ...allowed.map((r) => `${r}=…`)].join(", ");
    usage(`${flag}: ${JSON.stringify(odd)} is not one of ${forms} (e.g. ${flag} ${EXAMPLE[flag] ?? ""})`);
  }
  return { amounts: parsed.amounts, words: parsed.words };
}

const EXAMPLE: Readonly<Record<string, string>> = {
  "--capacity": "cpus=8,memory=14Gi,containers=100, or auto,containers=100",
  "--reserve": "memory=2Gi,cpus=0.5",
  "--default-request": "memory=256Mi,cpus=0.25",
};

/** --capacity, --reserve and --default-request (docs/capacity.md). */
export function capacitySetting(
  raw: Pick<RawOptions, "capacity" | "reserve" | "defaultRequest">,
): CapacitySetting | null {
  const reserve = raw.reserve === undefined ? {} : resourceList("--reserve", raw.reserve, ["cpus", "memory"]).amounts;
  const defaults =
    raw.defaultRequest === undefined
      ? {}
      : resourceList("--default-request", raw.defaultRequest, ["cpus", "memory"]).amounts;
  if (raw.capacity === undefined || raw.capacity.trim() === "" || raw.capacity.trim() === "off") {
    if (raw.reserve !== undefined) usage("--reserve: applies only with --capacity auto");
    return null;
  }
  const given = resourceList("--capacity", raw.capacity, ["cpus", "memory", "containers"], ["auto"]);
  const auto = given.words.includes("auto");
  if (!auto && raw.reserve !== undefined) usage("--reserve: applies only with --capacity auto");
  if (!auto && Object.keys(given.amounts).length === 0)
    usage(
      `--capacity: ${JSON.stringify(raw.capacity)} gives no resource (e.g. --capacity ${EXAMPLE["--capacity"] ?? ""})`,
    );
  return Object.freeze({
    auto,
    given: Object.freeze(given.amounts),
    reserve: Object.freeze({ cpus: reserve.cpus ?? 0, memory: reserve.memory ?? 0 }),
    defaultRequest: Object.freeze({
      cpus: defaults.cpus ?? DEFAULT_REQUEST.cpus,
      memory: defaults.memory ?? DEFAULT_REQUEST.memory,
    }),
  });
}

export function buildConfig(raw: RawOptions): Config {
  // With Git sources, ./specs is read only when named: the sources are the spec folders.
  const noLocal = raw.git !== undefined && raw.git.length > 0 ? [] : DEFAULTS.specs;
  const given = raw.specs && raw.specs.length > 0 ? [...raw.specs] : noLocal;
  // The runtime spec directory is a spec directory like the others: loaded and watched.
  const specDirs =
    raw.runtimeSpecs !== undefined && !given.includes(raw.runtimeSpecs) ? [...given, raw.runtimeSpecs] : given;
  const controllerId = raw.id ?? DEFAULT_CONTROLLER_ID;
  if (!isValidControllerId(controllerId)) {
    usage(
      `--id: ${JSON.stringify(controllerId)} must be 1–63 letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
  }
  const labelPrefix = raw.labelPrefix ?? DEFAULT_LABEL_PREFIX;
  if (!isValidLabelPrefix(labelPrefix))
    usage(`--label-prefix: ${JSON.stringify(labelPrefix)} must be lowercase letters, digits, '.' and '-'`);
  const concurrency = raw.concurrency === undefined ? DEFAULTS.concurrency : Number(raw.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    usage(`--concurrency: ${JSON.stringify(raw.concurrency)} must be a whole number from 1 to 64`);
  }
  const share = raw.pruneMaxShare === undefined ? DEFAULTS.pruneMaxShare : Number(raw.pruneMaxShare);
  if (!(share >= 0 && share <= 1))
    usage(`--prune-max-share: ${JSON.stringify(raw.pruneMaxShare)} must be a number from 0 to 1`);
  const logLevel = (raw.logLevel ?? DEFAULTS.logLevel) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    usage(`--log-level: ${JSON.stringify(raw.logLevel)} is not one of ${LOG_LEVELS.join(", ")}`);
  const logFormat = (raw.logFormat ?? DEFAULTS.logFormat) as LogFormat;
  if (!["json", "pretty", "auto"].includes(logFormat))
    usage(`--log-format: ${JSON.stringify(raw.logFormat)} is not one of json, pretty, auto`);
  const reapLabels = [...(raw.reapLabel ?? [])];
  for (const key of reapLabels)
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key)) usage(`--reap-label: ${JSON.stringify(key)} is not a label key`);
  const resyncText = raw.resync ?? DEFAULTS.resync;
  const policy = buildPolicy({
    ...raw,
    gitCredentialFiles: [raw.gitTokenFile, raw.gitSshKeyFile, raw.gitKnownHosts, raw.gitWebhookSecretFile],
  });
  const listen = parseListen(raw.listen ?? DEFAULTS.listen);
  const ha = haConfig(raw);
  return Object.freeze({
    specDirs: Object.freeze(specDirs),
    controllerId,
    labelPrefix,
    concurrency,
    resync: Object.freeze(parseResync(resyncText)),
    forcePrune: raw.forcePrune ?? false,
    pruneMaxShare: share,
    reapLabels: Object.freeze(reapLabels),
    network: raw.network ?? null,
    logLevel,
    logFormat,
    dockerTimeoutMs: duration("--docker-timeout", raw.dockerTimeout ?? DEFAULTS.dockerTimeout),
    drainTimeoutMs: duration("--drain-timeout", raw.drainTimeout ?? DEFAULTS.drainTimeout),
    listen,
    runtimeSpecs: raw.runtimeSpecs ?? null,
    apiToken: apiToken(raw.apiToken),
    allowHosts: Object.freeze(
      withAdvertisedHost(
        httpNames("--allow-host", raw.allowHost ?? [], normalizeAllowedHost, "a host name or IP address (no port)"),
        ha,
        listen,
      ),
    ),
    allowOrigins: Object.freeze(
      httpNames("--allow-origin", raw.allowOrigin ?? [], normalizeOrigin, "an origin (e.g. https://ui.example:8443)"),
    ),
    requestTimeoutMs: duration("--request-timeout", raw.requestTimeout ?? DEFAULTS.requestTimeout),
    policy,
    compat: compatConfig(raw),
    artie: artieConfig(raw),
    stateDir: raw.stateDir === undefined || raw.stateDir === "" ? null : path.resolve(raw.stateDir),
    capacity: capacitySetting(raw),
    ha,
    registryAuth: Object.freeze({
      file: raw.registryAuthFile ? path.resolve(raw.registryAuthFile) : null,
      dockerConfig: raw.dockerConfig ?? path.join(os.homedir(), ".docker", "config.json"),
    }),
    imageCheckMs:
      raw.imageCheck === undefined || raw.imageCheck === "off" || /^0+(ms|s|m|h)?$/.test(raw.imageCheck.trim())
        ? null
        : duration("--image-check", raw.imageCheck),
    git: gitConfig(raw, policy),
    target: targetOf(raw.target),
  });
}

/** --target: engine (default) or swarm. */
export function targetOf(text: string | undefined): Target {
  const target = (text ?? "engine") as Target;
  if (!TARGETS.includes(target)) usage(`--target: ${JSON.stringify(text)} is not one of ${TARGETS.join(", ")}`);
  return target;
}

/** --ha and its timings. */
function haConfig(raw: RawOptions): HaConfig | null {
  if (raw.ha === undefined || raw.ha === "" || raw.ha === "off") {
    if (raw.haAdvertise !== undefined && raw.haAdvertise !== "")
      usage("--ha-advertise says where an --ha berth's API answers: give --ha too");
    return null;
  }
  const target = parseHaTarget(raw.ha);
  if (typeof target === "string") usage(target);
  const timing: LeaseTiming = {
    ttlMs: duration("--ha-ttl", raw.haTtl ?? DEFAULTS.haTtl),
    renewMs: duration("--ha-renew", raw.haRenew ?? DEFAULTS.haRenew),
  };
  const wrong = leaseTimingError(timing);
  if (wrong !== null) usage(wrong);
  let passwordFile: string | null = null;
  if (raw.haPasswordFile !== undefined && raw.haPasswordFile !== "") {
    if (target.kind !== "redis") usage("--ha-password-file is for --ha redis://…");
    // Checked against the allowed secret folders where the file is read (cli/commands/run.ts).
    passwordFile = path.resolve(raw.haPasswordFile);
  }
  let advertise: string | null = null;
  if (raw.haAdvertise !== undefined && raw.haAdvertise !== "") {
    if ((raw.listen ?? DEFAULTS.listen) === "off")
      usage("--ha-advertise says where this berth's API answers, but --listen is off: give --listen HOST:PORT");
    advertise = advertisedUrl(raw.haAdvertise);
    if (advertise === null)
      usage(
        `--ha-advertise: ${raw.haAdvertise.includes("@") ? "the value given" : JSON.stringify(raw.haAdvertise)} is not the URL of this berth's API (http://host:port or https://host:port, no path, no user or password)`,
      );
  }
  return { target, timing, passwordFile, waitMs: duration("--ha-wait", raw.haWait ?? DEFAULTS.haWait), advertise };
}
