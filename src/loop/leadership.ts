/**
 * Leader election under `--ha` (docs/reliability.md): one leader per controller id, the others
 * standbys. The leader renews its lease every renewMs; a standby tries to take it as often, and at
 * once when the leader says it let go. The fence (`admit`, docker/fenced.ts) lets a Docker write
 * through only while this process leads and its local deadline (core/lease.ts writeDeadline) has
 * not passed — checked on every write, so a process paused past its lease (SIGSTOP, a stalled VM)
 * writes nothing when it resumes, whatever its timers do next.
 *
 * A lease taken while a process without --ha holds the id's host lock is let go at once
 * (`blockedBy`, core/writers.ts): one writer per id also beside `berth run` and `apply` without --ha.
 *
 * A term whose store had no record of the terms before (a first start, or Redis restarted empty)
 * waits one TTL before its first write: a leader from before the loss may still hold a lease it
 * believes valid, and learns otherwise at its next renewal.
 */
import type { Logger } from "pino";
import { BerthError } from "../core/errors.js";
import {
  holderAddress,
  holderWithAddress,
  type LeaseHolder,
  type LeaseStore,
  type LeaseTiming,
  writeDeadline,
} from "../core/lease.js";

export type { AcquireResult, LeaseStore } from "../core/lease.js";
import type { WriteFence } from "../docker/fenced.js";
import { notLeader } from "../docker/fenced.js";

export type Role = "leader" | "standby";

export interface LeadershipStatus {
  readonly role: Role;
  /** The fencing number of this process's term, while it leads. */
  readonly term: number | null;
  /** The holder last seen in the store (this process when it leads), by its name. */
  readonly leader: string | null;
  /** Where the leader's API answers, as it advertised it (--ha-advertise), or null. */
  readonly leaderUrl: string | null;
  /** The leader's term as this process last saw it (its own while it leads), or null. */
  readonly leaderTerm: number | null;
  /**
   * While this process holds a first term that waits one TTL (a store without earlier terms):
   * how long until it may write; else null.
   */
  readonly firstWriteInMs: number | null;
  readonly store: string;
  /** Why the store could not be used at the last try, or null. */
  readonly storeError: string | null;
  /** Who keeps this process from leading although the lease is free (a host lock's holder), or null. */
  readonly blockedBy: string | null;
  readonly transitions: number;
}

export interface LeadershipDeps {
  readonly store: LeaseStore;
  readonly timing: LeaseTiming;
  /** This process's name in the store: host, pid and a random part. */
  readonly holder: string;
  readonly log: Logger;
  /** Monotonic milliseconds (performance.now in the product). */
  readonly monotonic: () => number;
  /** setTimeout, or the tests' fake. */
  readonly schedule: (ms: number, fn: () => void) => { cancel(): void };
  /** Told of every change of role, after it happened. */
  readonly onRole: (role: Role, term: number | null) => void;
  /**
   * Asked before taking the lease and again right after: who else writes for this id (a process
   * without --ha holding the host lock), or null. While someone does, this process does not lead.
   */
  readonly writerBeside?: () => Promise<string | null>;
}

type State =
  | { readonly kind: "standby" }
  /** Holds the lease but may not write before `writableAt` (a term without history). */
  | { readonly kind: "waiting"; readonly lease: LeaseHolder; readonly writableAt: number }
  | { readonly kind: "leader"; readonly lease: LeaseHolder };

export class Leadership implements WriteFence {
  private state: State = { kind: "standby" };
  /** This process's holder in the store: its name, and its API's address once advertised. */
  private holder: string;
  private started = false;
  /** Until when the lease lets this process write (monotonic ms). */
  private deadline = 0;
  private highestSeen = 0;
  /** The holder and term last seen leading (this process's own while it leads). */
  private leaderSeen: LeaseHolder | null = null;
  private storeError: string | null = null;
  private blockedBy: string | null = null;
  private transitions = 0;
  private timer: { cancel(): void } | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly deps: LeadershipDeps) {
    this.holder = deps.holder;
    deps.store.onReleased(() => {
      // A standby kept out by the host lock waits its period: a release it made itself would wake it again.
      if (this.state.kind === "standby" && this.blockedBy === null) this.tickSoon(0);
    });
  }

  get role(): Role {
    return this.state.kind === "leader" ? "leader" : "standby";
  }

  /** Where this process's API answers, written with its name in the store; before start() only. */
  advertise(url: string): void {
    if (this.started) throw new Error("advertise() after start()");
    this.holder = holderWithAddress(this.deps.holder, url);
  }

  status(): LeadershipStatus {
    const state = this.state;
    const seen = state.kind === "standby" ? (this.leaderSeen?.holder ?? null) : this.holder;
    const leader = seen === null ? null : holderAddress(seen);
    const waiting = state.kind === "waiting";
    return {
      role: this.role,
      term: state.kind === "leader" ? state.lease.term : null,
      leader: leader?.name ?? null,
      // Not while its first term waits: it serves no write yet, and sends no one to itself.
      leaderUrl: waiting ? null : (leader?.url ?? null),
      leaderTerm:
        state.kind === "leader" ? state.lease.term : state.kind === "standby" ? (this.leaderSeen?.term ?? null) : null,
      firstWriteInMs: waiting ? Math.max(0, Math.ceil(state.writableAt - this.deps.monotonic())) : null,
      store: this.deps.store.where,
      storeError: this.storeError,
      blockedBy: this.blockedBy,
      transitions: this.transitions,
    };
  }

  /** The fence: the term to log a write with, or BERTH_NOT_LEADER. */
  admit(operation: string, target: string): number {
    const state = this.state;
    if (state.kind !== "leader") throw notLeader(state.kind === "waiting" ? "its first term waits one TTL" : "standby");
    const now = this.deps.monotonic();
    if (now >= this.deadline) {
      this.stepDown("lease not renewed in time");
      throw notLeader("its lease was not renewed in time");
    }
    this.deps.log.debug({ operation, target, term: state.lease.term }, "docker write");
    return state.lease.term;
  }

  currentTerm(): number | null {
    return this.state.kind === "leader" ? this.state.lease.term : null;
  }

  /** True while this process holds the lease (leading, or a first term waiting one TTL). */
  holdsLease(): boolean {
    return this.state.kind !== "standby";
  }

  /** True while this process may write. */
  mayWrite(): boolean {
    return this.state.kind === "leader" && this.deps.monotonic() < this.deadline;
  }

  /** Starts campaigning: resolves after the first try. */
  async start(): Promise<void> {
    await this.tick();
  }

  /** Stops campaigning; a leader releases its lease (after the caller stopped writing). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.ticking;
    const state = this.state;
    if (state.kind !== "standby") {
      this.state = { kind: "standby" };
      this.deadline = 0;
      try {
        await this.deps.store.release(state.lease);
        this.deps.log.info({ term: state.lease.term }, "lease released");
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message, store: this.deps.store.where }, "lease not released");
      }
    }
    await this.deps.store.close();
  }

  private tickSoon(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.deps.schedule(ms, () => {
      void this.tick();
    });
  }

  private async tick(): Promise<void> {
    this.started = true;
    if (this.ticking) return this.ticking;
    this.ticking = this.once().finally(() => {
      this.ticking = null;
    });
    await this.ticking;
    if (!this.stopped) this.tickSoon(this.nextDelay());
  }

  /** The next try: the renewal period, sooner when a waiting term may start writing or a lease runs out. */
  private nextDelay(): number {
    const now = this.deps.monotonic();
    let delay = this.deps.timing.renewMs;
    if (this.state.kind === "waiting") delay = Math.min(delay, Math.max(0, this.state.writableAt - now));
    if (this.state.kind === "leader") delay = Math.min(delay, Math.max(0, this.deadline - now));
    return delay;
  }

  private async once(): Promise<void> {
    const { store, timing } = this.deps;
    const holder = this.holder;
    const state = this.state;
    const sent = this.deps.monotonic();
    try {
      if (state.kind === "standby") {
        if (await this.blocked()) return;
        const result = await store.acquire(holder, timing.ttlMs, this.highestSeen);
        this.storeOk();
        if (!result.acquired) {
          this.follow(result.current);
          if (result.current) this.highestSeen = Math.max(this.highestSeen, result.current.term);
          return;
        }
        const lease = { holder, term: result.term };
        this.highestSeen = Math.max(this.highestSeen, lease.term);
        // Asked again now that the lease is taken: a writer that started since the first look
        // found no lease yet, and it looks after taking its lock (core/writers.ts).
        if (await this.blocked()) {
          await store.release(lease);
          return;
        }
        this.deadline = writeDeadline(sent, timing.ttlMs);
        if (result.fresh) {
          this.state = { kind: "waiting", lease, writableAt: sent + timing.ttlMs };
          this.deps.log.warn(
            { term: lease.term, store: store.where, waitMs: timing.ttlMs },
            "lease taken in a store without earlier terms; first write after one TTL",
          );
          return;
        }
        this.lead(lease);
        return;
      }
      const renewed = await store.renew(state.lease, timing.ttlMs);
      this.storeOk();
      if (!renewed) {
        this.stepDown("lease held by another or gone");
        return;
      }
      this.deadline = writeDeadline(sent, timing.ttlMs);
      if (state.kind === "waiting" && this.deps.monotonic() >= state.writableAt) this.lead(state.lease);
    } catch (err) {
      const message = err instanceof BerthError ? err.message : `${store.where}: ${(err as Error).message}`;
      if (this.storeError !== message)
        this.deps.log.warn({ err: message, role: this.role }, "lease store not answering");
      this.storeError = message;
      // Who leads is not known while the store does not answer: a leader that cannot renew steps down.
      if (state.kind === "standby") this.leaderSeen = null;
      if (state.kind !== "standby" && this.deps.monotonic() >= this.deadline)
        this.stepDown("lease not renewed in time");
    }
  }

  /** Whether a writer without --ha keeps this process from leading (and says so once). */
  private async blocked(): Promise<boolean> {
    const by = (await this.deps.writerBeside?.()) ?? null;
    if (by !== null && by !== this.blockedBy)
      this.deps.log.warn({ holder: by }, "not leading while a berth without --ha holds this id's host lock");
    if (by === null && this.blockedBy !== null) this.deps.log.info({}, "host lock free again; campaigning");
    this.blockedBy = by;
    return by !== null;
  }

  private storeOk(): void {
    if (this.storeError !== null) this.deps.log.info({ store: this.deps.store.where }, "lease store answering again");
    this.storeError = null;
  }

  private lead(lease: LeaseHolder): void {
    this.state = { kind: "leader", lease };
    this.leaderSeen = lease;
    this.transitions++;
    const { name, url } = holderAddress(lease.holder);
    this.deps.log.info({ term: lease.term, holder: name, url, store: this.deps.store.where }, "leading");
    this.deps.onRole("leader", lease.term);
  }

  /** A standby notes who leads, and says so when that changed (its log then names the leader and where it answers). */
  private follow(current: LeaseHolder | null): void {
    if (current !== null && current.holder !== this.leaderSeen?.holder) {
      const { name, url } = holderAddress(current.holder);
      this.deps.log.info({ leader: name, url, term: current.term }, "standby; following the leader");
      if (url !== null && url === holderAddress(this.holder).url)
        this.deps.log.warn(
          { leader: name, url },
          "the leader advertises this berth's own --ha-advertise: give each berth its own, or the CLI is sent in circles",
        );
    }
    this.leaderSeen = current;
  }

  private stepDown(reason: string): void {
    const state = this.state;
    if (state.kind === "standby") return;
    this.state = { kind: "standby" };
    this.deadline = 0;
    this.leaderSeen = null;
    if (state.kind === "waiting") return;
    this.transitions++;
    this.deps.log.warn({ term: state.lease.term, reason }, "stepped down; standby");
    this.deps.onRole("standby", null);
  }
}
