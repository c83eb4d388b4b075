/**
 * Warm pools and their claims (docs/pools.md). Pure: the claim record's shape, which members are
 * ready, and which replica slots a pool keeps.
 *
 * A claim is a small JSON file in the runtime spec folder's `.claims/` (host/claim-files.ts),
 * written before the claim is answered; it names the member by container id. A member named by a
 * claim record is the claim's: not the pool's, never replaced or pruned, removed when the claim
 * expires or is released (release removes the container first, then the record).
 */
import type { LabelKeys } from "./labels.js";
import type { ObservedContainer } from "./observed.js";
import type { NormalizedPool } from "./spec.js";
import { imageUnavailable, type SpecStatus } from "./status.js";

/** One claim as recorded (its file's content). */
export interface ClaimRecord {
  /** The claim's name: a DNS label, unique within its pool. */
  readonly name: string;
  readonly pool: string;
  readonly containerId: string;
  /** The member's container name when it was claimed. */
  readonly container: string;
  /** Epoch ms, or null for until released. */
  readonly expiresAt: number | null;
  /** Labels the consumer asked to report with the claim (not put on the container: labels cannot change). */
  readonly labels: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly claimedAt: number;
}

/** A claim record's file name in the claims folder: `<pool>.<claim>.json` (both DNS labels: no dot inside). */
export function claimFileName(pool: string, claim: string): string {
  return `${pool}.${claim}.json`;
}

const isString = (v: unknown): v is string => typeof v === "string";

/** A record from a file's text; null when it is not one (a foreign or torn file: ignored, reported). */
export function parseClaimRecord(text: string): ClaimRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const r = v as Record<string, unknown>;
  const labels = r.labels;
  if (
    !isString(r.name) ||
    !isString(r.pool) ||
    !isString(r.containerId) ||
    !isString(r.container) ||
    !(r.expiresAt === null || typeof r.expiresAt === "number") ||
    typeof r.claimedAt !== "number" ||
    typeof labels !== "object" ||
    labels === null ||
    !Object.values(labels).every(isString)
  )
    return null;
  return {
    name: r.name,
    pool: r.pool,
    containerId: r.containerId,
    container: r.container,
    expiresAt: r.expiresAt,
    labels: labels as Record<string, string>,
    claimedAt: r.claimedAt,
  };
}

/** A member's container name: always `<pool>-<n>`, whatever the size. */
export function memberName(pool: string, replica: number): string {
  return `${pool}-${replica}`;
}

/** Ready to hand out: running, healthy where it has a healthcheck, made from the spec as it is now. */
export function isReadyMember(c: ObservedContainer, keys: LabelKeys, hash: string): boolean {
  return c.state === "running" && (c.health === null || c.health === "healthy") && c.labels[keys.hash] === hash;
}

function replicaOf(c: ObservedContainer, keys: LabelKeys): number | null {
  const label = c.labels[keys.replica] ?? "";
  return /^(0|[1-9][0-9]*)$/.test(label) ? Number(label) : null;
}

/**
 * The replica slots a pool plans this pass, given its unclaimed containers and the replicas its
 * claimed members hold: the members it has (at most `size`, lowest first) and, for the missing
 * ones, the lowest free slots, at most `maxCreating` minus the members not yet ready. Members are
 * never renumbered: a refill after a claim of `web-0` makes `web-3`, and `web-0`'s slot is free
 * again once its claimed container is gone.
 *
 * `demand` counts claims waiting now for a member when none was ready: each adds a slot beyond
 * `size` and may be created beyond `maxCreating` (a cold create for a waiting consumer). Once the
 * claims are served or gone, the pool is back to `size` and a surplus member goes, highest first.
 */
export function poolSlots(
  pool: NormalizedPool,
  unclaimed: readonly ObservedContainer[],
  claimedReplicas: ReadonlySet<number>,
  keys: LabelKeys,
  hash: string,
  demand = 0,
): number[] {
  const target = pool.size + demand;
  const held = new Set<number>(claimedReplicas);
  const existing = new Set<number>();
  for (const c of unclaimed) {
    const r = replicaOf(c, keys);
    if (r === null) continue;
    held.add(r);
    if (!claimedReplicas.has(r)) existing.add(r);
  }
  const keep = [...existing].sort((a, b) => a - b).slice(0, target);
  const kept = new Set(keep);
  const notReady = new Set(
    unclaimed.filter((c) => kept.has(replicaOf(c, keys) ?? -1) && !isReadyMember(c, keys, hash)).map((c) => c.id),
  ).size;
  let allowed = Math.min(target - keep.length, Math.max(0, pool.maxCreating - notReady) + demand);
  const slots = [...keep];
  for (let r = 0; allowed > 0; r++) {
    if (held.has(r)) continue;
    slots.push(r);
    allowed--;
  }
  return slots.sort((a, b) => a - b);
}

/**
 * Whether a claim waiting for a member made cold for it should stop waiting (answer 503 with what
 * blocks), from its pool's status. Since the claim began (`since`, epoch ms), a create for it failed in a way
 * waiting does not mend: its image cannot be had, or no retry is coming (a refused create). Or the
 * host has no room for it, as a pass that planned with the claim's demand saw it (`planned`: the
 * status is of a pass that began after the demand was held), and no member is on its way that
 * could be the claim's (`coming`: a refill being made or started). A failure the loop retries with
 * backoff (an engine's hiccup, a race) is waited through, within the claim's wait.
 */
export function claimStuck(s: SpecStatus | undefined, since: number, planned: boolean, coming = false): boolean {
  if (s === undefined) return false;
  const failed =
    s.lastAction !== null &&
    !s.lastAction.ok &&
    Date.parse(s.lastAction.at) >= since &&
    (imageUnavailable(s) || s.retryAt === null);
  const unschedulable = planned && !coming && s.phase === "Pending" && s.message !== null;
  return failed || unschedulable;
}
