/**
 * Claims on warm pools (docs/pools.md), shared by the HTTP API and the CLI through it. A claim
 * takes a ready member while no pass acts on the pool (Dispatcher.exclusive), records it in the
 * claims folder (host/claim-files.ts) and only then answers; a release removes the member's
 * container first and the record last, so that a member is never returned to its pool and a
 * crash at any step leaves either a claim (the member stays claimed) or nothing.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { isDnsLabel } from "../core/names.js";
import type { ObservedContainer } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type { Action } from "../core/plan/types.js";
import { type ClaimRecord, claimStuck, isReadyMember, memberName } from "../core/pool.js";
import type { NormalizedSpec } from "../core/spec.js";
import type { SpecStatus } from "../core/status.js";
import type { DockerPort } from "../docker/port.js";
import type { ClaimListing } from "../host/claim-files.js";
import type { PassMarks } from "../loop/pass-marks.js";
import type { SpecFileFailure } from "../host/spec-writer.js";
import type { Clock } from "../util/clock.js";

export type ClaimExpiry = { readonly at: number } | { readonly afterMs: number } | null;

export interface ClaimRequest {
  /** The claim's name; generated when absent. */
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * When the claim ends: at a time (epoch ms), a time after the member is claimed (a ttl counts
   * from the claim, not from the request, which may wait for a member), or null: until released.
   */
  readonly expires: ClaimExpiry;
  /**
   * How long to wait for a member when none is ready now (ms): meanwhile one is created cold for
   * this claim. 0: only a member ready now.
   */
  readonly waitMs: number;
}

/** A claim as reported: its record, and whether its container still exists. */
export interface ClaimView {
  readonly claim: string;
  readonly pool: string;
  readonly container: string;
  readonly name: string;
  /** Bound: its member exists; Lost: the member's container is gone (removed by someone, or the engine lost it). */
  readonly phase: "Bound" | "Lost";
  readonly hostPorts: readonly HostPort[];
  readonly labels: Readonly<Record<string, string>>;
  /** RFC 3339, or null for until released. */
  readonly expiresAt: string | null;
  readonly claimedAt: string;
}

export interface HostPort {
  readonly containerPort: number;
  readonly protocol: string;
  readonly hostIP: string;
  readonly hostPort: number;
}

export type ClaimOutcome =
  | { readonly kind: "claimed"; readonly claim: ClaimView }
  /** No such spec, or it is not a pool: why. */
  | { readonly kind: "not-a-pool"; readonly pool: string; readonly reason: string }
  | { readonly kind: "bad-name"; readonly name: string }
  | { readonly kind: "exists"; readonly claim: ClaimView }
  /** No ready member within the wait: what blocks. */
  | { readonly kind: "unavailable"; readonly pool: string; readonly reason: string }
  | { readonly kind: "failed"; readonly message: string };

export type ReleaseOutcome =
  | { readonly kind: "released"; readonly claim: string; readonly removedContainer: boolean }
  | { readonly kind: "absent"; readonly pool: string; readonly claim: string }
  | { readonly kind: "failed"; readonly message: string };

export interface PoolsDeps {
  readonly claims: {
    list(): Promise<ClaimListing>;
    write(record: ClaimRecord): Promise<{ readonly ok: true } | SpecFileFailure>;
    remove(pool: string, claim: string): Promise<{ readonly ok: true; readonly removed: boolean } | SpecFileFailure>;
  };
  readonly docker: Pick<DockerPort, "listContainers" | "removeContainer">;
  readonly owner: Ownership;
  /** The desired spec of that name and its hash, as last loaded; null when there is none. */
  readonly desired: (name: string) => { readonly spec: NormalizedSpec; readonly hash: string } | null;
  /** Every loaded spec that is a pool; absent: none is offered (the CLI's one-shot wiring). */
  readonly poolSpecs?: () => readonly NormalizedSpec[];
  /** The spec's status as of the last pass (what blocks a pool), if any. */
  readonly status: (name: string) => SpecStatus | undefined;
  /** Whether the spec has an operation in flight (loop/dispatcher.ts); absent: not known. */
  readonly busy?: (spec: string) => boolean;
  /** Runs `fn` while no pass acts on the spec (loop/dispatcher.ts); `changed`: whether its result changed anything. */
  readonly exclusive: <T>(
    spec: string,
    harmless: (a: Action) => boolean,
    fn: () => Promise<T>,
    changed?: (result: T) => boolean,
  ) => Promise<T>;
  /** The passes as a claim waits on them (loop/pass-marks.ts). */
  readonly passes: Pick<PassMarks, "mark" | "after" | "completedSince">;
  /** Claims waiting for a cold member (loop/pool-demand.ts): the passes create one per claim. */
  readonly demand: { hold(pool: string): () => void };
  /** Asks for a pass soon (after a claim starts waiting). */
  readonly requestPass: () => void;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The states of a member on its way to ready. */
const COMING: ReadonlySet<string> = new Set(["created", "running", "restarting"]);

/** A refill's creates touch no member that exists: a claim need not wait for them. */
const onlyCreates = (a: Action): boolean => a.kind === "create";

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export class Pools {
  constructor(private readonly deps: PoolsDeps) {}

  /** The claim as reported; `member` is its container as the engine lists it, or undefined when gone. */
  private view(record: ClaimRecord, member: ObservedContainer | undefined): ClaimView {
    return {
      claim: record.name,
      pool: record.pool,
      container: record.containerId,
      name: record.container,
      phase: member ? "Bound" : "Lost",
      // As the engine publishes them (a `hostPort: auto` port included): what a consumer connects to.
      hostPorts: (member?.ports ?? []).map((p) => ({
        containerPort: p.containerPort,
        protocol: p.protocol,
        hostIP: p.hostIP,
        hostPort: p.hostPort,
      })),
      labels: record.labels,
      expiresAt: iso(record.expiresAt),
      claimedAt: new Date(record.claimedAt).toISOString(),
    };
  }

  private async members(pool: string): Promise<ObservedContainer[]> {
    const keys = this.deps.owner.keys;
    return this.deps.docker.listContainers({ labels: [this.deps.owner.filter, `${keys.spec}=${pool}`] });
  }

  /** Why a claim on `pool` cannot be made at all (not a pool), or null. */
  private notAPool(pool: string): string | null {
    const d = this.deps.desired(pool);
    if (d === null) return `no spec named ${pool} is loaded`;
    if (d.spec.pool === null)
      return `spec ${pool} is not a pool (it has no pool: field); only pool members can be claimed`;
    return null;
  }

  async claim(pool: string, request: ClaimRequest): Promise<ClaimOutcome> {
    const name = request.name ?? `c-${randomBytes(5).toString("hex")}`;
    if (!isDnsLabel(name) || !isDnsLabel(pool) || name.length + pool.length > 200) return { kind: "bad-name", name };
    const since = this.deps.clock.now();
    // A claim with a time to end waits no longer than that: a member claimed then would be reaped.
    const endsAt = request.expires !== null && "at" in request.expires ? request.expires.at : Infinity;
    const deadline = Math.min(since + request.waitMs, endsAt);
    // Set when no member was ready: this claim then asks the passes for a member made cold.
    // `began`: the passes begun when its demand was held (a later one plans with it).
    let waiting: { readonly end: () => void; readonly began: number } | null = null;
    try {
      for (;;) {
        const why = this.notAPool(pool);
        if (why !== null) return { kind: "not-a-pool", pool, reason: why };
        // Taken before looking: a pass that completes while the claim looks wakes it again.
        const seen = this.deps.passes.mark();
        // Looked at first without holding the pool: claims waiting for a member look again after
        // every pass, and a hold at each look would keep the passes from making the member.
        // A look under the hold that found nothing (or the claim made) changed nothing either.
        const found = await this.look(pool, name);
        const outcome =
          found.kind === "none"
            ? null
            : await this.deps.exclusive(
                pool,
                onlyCreates,
                () => this.tryClaim(pool, name, request),
                (o) => o !== null && o.kind !== "exists",
              );
        if (outcome !== null) return outcome;
        const left = deadline - this.deps.clock.now();
        if (left <= 0) {
          const expired = this.deps.clock.now() >= endsAt ? "; the claim's expiresAt came while it waited" : "";
          return { kind: "unavailable", pool, reason: this.blocking(pool) + expired };
        }
        if (waiting === null) {
          waiting = { end: this.deps.demand.hold(pool), began: this.deps.passes.mark().began };
          this.deps.requestPass();
        } else {
          const planned = this.deps.passes.completedSince(waiting.began);
          // A member on its way (a refill the host has room for) may yet be this claim's.
          const coming = found.kind === "none" && found.coming;
          if (claimStuck(this.deps.status(pool), since, planned, coming))
            return { kind: "unavailable", pool, reason: this.blocking(pool) };
        }
        await this.deps.passes.after(seen.completed, left);
      }
    } finally {
      waiting?.end();
    }
  }

  /**
   * What a claim of `name` on `pool` finds now: the claim of that name if it exists, else the
   * first ready member no claim holds; null when neither. Read-only: a claim looks without holding
   * the pool, and holds it only to take what it found (tryClaim looks again under the hold).
   */
  private async look(
    pool: string,
    name: string,
  ): Promise<
    | { readonly kind: "exists"; readonly record: ClaimRecord; readonly container: ObservedContainer | undefined }
    | { readonly kind: "ready"; readonly member: ObservedContainer }
    | { readonly kind: "none"; readonly coming: boolean }
  > {
    const d = this.deps.desired(pool);
    if (d === null) return { kind: "none", coming: false };
    const { records } = await this.deps.claims.list();
    const taken = records.find((r) => r.pool === pool && r.name === name);
    const containers = await this.members(pool);
    if (taken) return { kind: "exists", record: taken, container: containers.find((c) => c.id === taken.containerId) };
    const claimed = new Set(records.map((r) => r.containerId));
    const keys = this.deps.owner.keys;
    const free = containers.filter(
      (c) => !claimed.has(c.id) && c.name === memberName(pool, Number(c.labels[keys.replica])),
    );
    const member = free
      .filter((c) => isReadyMember(c, keys, d.hash))
      .sort((a, b) => Number(a.labels[keys.replica]) - Number(b.labels[keys.replica]))[0];
    if (member !== undefined) return { kind: "ready", member };
    // A member of this version on its way (made, started, not yet healthy), or one being made now.
    const coming =
      free.some((c) => c.labels[keys.hash] === d.hash && COMING.has(c.state)) || this.deps.busy?.(pool) === true;
    return { kind: "none", coming };
  }

  /** One attempt, under the pool's exclusivity: a claim, or null when no member is ready. */
  private async tryClaim(pool: string, name: string, request: ClaimRequest): Promise<ClaimOutcome | null> {
    const found = await this.look(pool, name);
    if (found.kind === "none") return null;
    if (found.kind === "exists") return { kind: "exists", claim: this.view(found.record, found.container) };
    const member = found.member;
    const claimedAt = this.deps.clock.now();
    const record: ClaimRecord = {
      name,
      pool,
      containerId: member.id,
      container: member.name,
      expiresAt: expiryOf(request.expires, claimedAt),
      labels: request.labels ?? {},
      claimedAt,
    };
    const written = await this.deps.claims.write(record);
    if (!written.ok) return { kind: "failed", message: written.message };
    this.deps.log.info({ pool, claim: name, container: member.name }, "pool member claimed");
    return { kind: "claimed", claim: this.view(record, member) };
  }

  /** What keeps a pool without a ready member, from its last status. */
  private blocking(pool: string): string {
    const s = this.deps.status(pool);
    const what = s?.lastError ?? s?.message;
    // None is ready as the claim just looked: the status, a pass old, may count one since claimed.
    const ready = s ? `0 of ${s.replicas.desired} members ready` : "no status yet";
    return what ? `no ready member of pool ${pool} (${ready}): ${what}` : `no ready member of pool ${pool} (${ready})`;
  }

  async get(pool: string, claim: string): Promise<ClaimView | null> {
    const record = (await this.deps.claims.list()).records.find((r) => r.pool === pool && r.name === claim);
    if (!record) return null;
    return this.view(
      record,
      (await this.members(pool)).find((c) => c.id === record.containerId),
    );
  }

  async list(pool: string): Promise<ClaimView[]> {
    const records = (await this.deps.claims.list()).records.filter((r) => r.pool === pool);
    if (records.length === 0) return [];
    const members = new Map((await this.members(pool)).map((c) => [c.id, c]));
    return records.map((r) => this.view(r, members.get(r.containerId)));
  }

  /** Every claim on every pool. */
  async all(): Promise<ClaimView[]> {
    const { records } = await this.deps.claims.list();
    if (records.length === 0) return [];
    const containers = await this.deps.docker.listContainers({ labels: [this.deps.owner.filter] });
    const byId = new Map(containers.map((c) => [c.id, c]));
    return records.map((r) => this.view(r, byId.get(r.containerId)));
  }

  /** The loaded pool specs (docs/pools.md), for a compat API that serves creates from a pool. */
  specs(): readonly NormalizedSpec[] {
    return this.deps.poolSpecs?.() ?? [];
  }

  /** Removes the claim's container, then its record (so a crash between leaves a Lost claim, never a dirty member). */
  async release(pool: string, claim: string): Promise<ReleaseOutcome> {
    if (!isDnsLabel(pool) || !isDnsLabel(claim)) return { kind: "absent", pool, claim };
    return this.deps.exclusive(pool, onlyCreates, async () => {
      const record = (await this.deps.claims.list()).records.find((r) => r.pool === pool && r.name === claim);
      if (!record) return { kind: "absent", pool, claim } as const;
      const present = (await this.members(pool)).some((c) => c.id === record.containerId);
      try {
        if (present) await this.deps.docker.removeContainer(record.containerId, { force: true });
      } catch (err) {
        return { kind: "failed", message: (err as Error).message } as const;
      }
      const removed = await this.deps.claims.remove(pool, claim);
      if (!removed.ok) return { kind: "failed", message: removed.message } as const;
      this.deps.log.info({ pool, claim, container: record.container }, "claim released");
      return { kind: "released", claim, removedContainer: present } as const;
    });
  }

  /**
   * After a pass: the records of claims whose container is gone and whose time is up are removed
   * (an expired claim's member was removed by the plan). A Lost claim without expiry stays until
   * it is released, so its consumer can learn what happened.
   */
  async collect(observed: readonly ObservedContainer[]): Promise<void> {
    const now = this.deps.clock.now();
    const present = new Set(observed.map((c) => c.id));
    const { records } = await this.deps.claims.list();
    for (const r of records) {
      if (present.has(r.containerId) || r.expiresAt === null || r.expiresAt > now) continue;
      const removed = await this.deps.claims.remove(r.pool, r.name);
      if (removed.ok) this.deps.log.info({ pool: r.pool, claim: r.name }, "expired claim forgotten");
    }
  }
}

/** A claim's end (epoch ms, or null: until released), as it is claimed at `claimedAt`. */
function expiryOf(expires: ClaimExpiry, claimedAt: number): number | null {
  if (expires === null) return null;
  return "at" in expires ? expires.at : claimedAt + expires.afterMs;
}
