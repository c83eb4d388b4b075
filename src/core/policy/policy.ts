/**
 * The admission policy: what a spec may ask of the host. berth holds the Docker socket (root on
 * the host) and a socket proxy cannot read request bodies, so berth refuses here, before anything
 * reaches Docker. Pure: host paths are resolved through a function the caller hands in.
 *
 * One table, CHECKS, assembled from one file per topic: each check has an id, the profile that
 * applies it, a summary (docs/policy.md lists the same ids; a test keeps the two in sync), a check
 * on the spec document (with field paths, for validation errors) and, where the create request
 * shows the same thing, a second, independent check on the Engine API create body (run again just
 * before every create, and by the property test that every accepted spec renders an acceptable
 * request). Where the engine must be asked, a check reads the mounts of a container that exists
 * (before berth starts it again) or the named volumes as the engine describes them.
 */
import type { DeclaredObject } from "../declared.js";
import type { BerthContainer } from "../document.gen.js";
import type { EngineCreateBody } from "../create-request.js";
import { DEFAULT_HOST_PORT_RANGE } from "../host-ports.js";
import type { ObservedMount } from "../observed.js";
import type { NormalizedSpec } from "../spec.js";
import { formatBytes, formatDurationMs } from "../units.js";
import type { Check, Scope } from "./check.js";
import { ISOLATION_CHECKS } from "./isolation.js";
import { KERNEL_CHECKS } from "./kernel.js";
import { LIMIT_CHECKS } from "./limits.js";
import { MOUNT_CHECKS } from "./mounts.js";
import { formatRanges, PORT_CHECKS } from "./ports.js";
import { RESTRICTED_CHECKS } from "./restricted.js";
import { SECRET_CHECKS } from "./secrets.js";
import { ULIMIT_CHECKS } from "./ulimits.js";
import { LEXICAL_CONTEXT, type Policy, type PolicyContext, type Profile, type Violation } from "./types.js";

export * from "./types.js";
export { DOCKER_DEFAULT_CAPS, SAFE_SYSCTLS } from "./kernel.js";
export { joinMessage, namespaceJoins } from "./isolation.js";
export { bindRefusal, bodyVolumes, lexicalPath, secretFileAllowed, volumeHostPath } from "./paths.js";
export { findOverlaps, type HostMount, overlapMessage, OVERLAP_ADVICE, type Overlap } from "./overlap.js";
export { globMatch } from "./restricted.js";
export { formatRanges } from "./ports.js";

/** Always refused as bind sources (with their parents and children), and the engine's socket. */
export const ALWAYS_FORBIDDEN = [
  "/",
  "/etc",
  "/proc",
  "/sys",
  "/var/lib/docker",
  "/var/run/docker.sock",
  "/run/docker.sock",
];

export const DEFAULT_POLICY: Policy = {
  profile: "baseline",
  allowBind: [],
  allowHostPorts: [{ from: 1024, to: 65535 }],
  hostPortRange: DEFAULT_HOST_PORT_RANGE,
  allowHostIPs: [],
  allowRuntimes: ["runc"],
  allowLogDrivers: ["json-file", "local", "journald", "none"],
  allowSecretDirs: ["/run/secrets"],
  ownCredentialFiles: [],
  forbiddenHostPaths: ALWAYS_FORBIDDEN,
  maxMemoryBytes: null,
  maxNanoCpus: null,
  maxPids: null,
  requireLimits: false,
  allowVolumes: [],
  maxStopTimeoutMs: 10 * 60_000,
  maxUlimits: {},
};

/** Every check, in the order docs/policy.md lists them. */
export const CHECKS: readonly Check[] = [
  ...ISOLATION_CHECKS,
  ...MOUNT_CHECKS,
  ...KERNEL_CHECKS,
  ...ULIMIT_CHECKS,
  ...PORT_CHECKS,
  ...SECRET_CHECKS,
  ...RESTRICTED_CHECKS,
  ...LIMIT_CHECKS,
];

function applies(scope: Scope, profile: Profile): boolean {
  if (scope === "limits") return true;
  if (profile === "privileged") return false;
  return scope === "baseline" || profile === "restricted";
}

function policyWord(check: Check, policy: Policy): string {
  return check.scope === "limits" ? "the resource limits" : `policy ${policy.profile}`;
}

/** The violations of a spec document under a policy, each with its field path. */
export function checkSpec(
  doc: BerthContainer,
  spec: NormalizedSpec,
  policy: Policy,
  ctx: PolicyContext = LEXICAL_CONTEXT,
): Violation[] {
  const out: Violation[] = [];
  for (const check of CHECKS) {
    if (!applies(check.scope, policy.profile)) continue;
    for (const f of check.spec?.(doc, spec, policy, ctx) ?? []) {
      out.push({ check: check.id, path: f.path, message: `${f.message} [${policyWord(check, policy)}: ${check.id}]` });
    }
  }
  return out;
}

/** The violations of a declared network or volume (`kind: Network`, `kind: Volume`) under a policy. */
export function checkObject(o: DeclaredObject, policy: Policy, ctx: PolicyContext = LEXICAL_CONTEXT): Violation[] {
  const out: Violation[] = [];
  for (const check of CHECKS) {
    if (!applies(check.scope, policy.profile)) continue;
    for (const f of check.object?.(o, policy, ctx) ?? []) {
      out.push({ check: check.id, path: f.path, message: `${f.message} [${policyWord(check, policy)}: ${check.id}]` });
    }
  }
  return out;
}

/** The violations of an Engine API create body: `check-id: what` lines; empty when acceptable. */
export function checkRequest(body: EngineCreateBody, policy: Policy, ctx: PolicyContext = LEXICAL_CONTEXT): string[] {
  const out: string[] = [];
  for (const check of CHECKS) {
    if (!applies(check.scope, policy.profile) || !check.request) continue;
    for (const what of check.request(body, policy, ctx)) out.push(`${check.id}: ${what}`);
  }
  return out;
}

/**
 * The violations of a container that exists, read off its mounts (as inspect shows them), before
 * berth starts it again: the engine resolves bind sources anew at every start.
 */
export function checkMounts(
  mounts: readonly ObservedMount[],
  policy: Policy,
  ctx: PolicyContext = LEXICAL_CONTEXT,
): string[] {
  const out: string[] = [];
  for (const check of CHECKS) {
    if (!applies(check.scope, policy.profile) || !check.mounts) continue;
    for (const what of check.mounts(mounts, policy, ctx)) out.push(`${check.id}: ${what}`);
  }
  return out;
}

/** The violations of the named volumes a container mounts, as the engine describes them (ctx.volumes). */
export function checkVolumes(names: readonly string[], policy: Policy, ctx: PolicyContext): string[] {
  const out: string[] = [];
  for (const check of CHECKS) {
    if (!applies(check.scope, policy.profile) || !check.volumes) continue;
    for (const what of check.volumes(names, policy, ctx)) out.push(`${check.id}: ${what}`);
  }
  return out;
}

/** One line for the start-up log. */
export function describePolicy(policy: Policy): Record<string, unknown> {
  return {
    profile: policy.profile,
    allowBind: policy.allowBind,
    allowHostPorts: formatRanges(policy.allowHostPorts),
    hostPortRange: formatRanges([policy.hostPortRange]),
    allowHostIPs: policy.allowHostIPs,
    allowRuntimes: policy.allowRuntimes,
    allowLogDrivers: policy.allowLogDrivers,
    allowSecretDirs: policy.allowSecretDirs,
    ...(policy.maxMemoryBytes !== null ? { maxMemory: formatBytes(policy.maxMemoryBytes) } : {}),
    ...(policy.maxNanoCpus !== null ? { maxCpus: policy.maxNanoCpus / 1e9 } : {}),
    ...(policy.maxPids !== null ? { maxPids: policy.maxPids } : {}),
    requireLimits: policy.requireLimits,
    allowVolumes: policy.allowVolumes,
    maxStopTimeout: formatDurationMs(policy.maxStopTimeoutMs),
    ...(Object.keys(policy.maxUlimits).length > 0 ? { maxUlimits: policy.maxUlimits } : {}),
  };
}
