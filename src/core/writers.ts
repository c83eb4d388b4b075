/**
 * One writer per controller id, between `--ha` groups and the commands without `--ha`
 * (docs/reliability.md, "Commands beside an --ha group"). Pure: what a participant's answer means,
 * what a one-shot command (`apply`, `reap`) does with the election's first word, and the refusals'
 * wording. The sockets are host/ha-presence.ts's; the election is loop/leadership.ts's.
 *
 * The rule on one host, each side taking its own lock before it looks at the other's:
 * - a command without --ha holds the id's host lock, then asks every `--ha` participant registered
 *   in the state folder: one that holds the lease, sees a leader, or does not answer, refuses it;
 * - an `--ha` participant registers first, and after taking the lease asks the host lock: while a
 *   process holds it, the participant lets the lease go and does not lead.
 * Whichever comes second sees the first, so the two never both write.
 */
import { BerthError } from "./errors.js";
import { formatDurationMs } from "./units.js";

/** What an `--ha` participant says of the lease, in its presence answer. */
export interface PresenceLease {
  /** The holder this participant believes leads (itself when it holds the lease), or null. */
  readonly leader: string | null;
  /** Where that leader's API answers, when it said (--ha-advertise); absent from an older berth. */
  readonly leaderUrl?: string | null;
  readonly term: number | null;
  /** The lease store, without credentials. */
  readonly store: string;
}

/** A participant's presence answer, as a command without --ha reads it. */
export type PresenceAnswer =
  | { readonly kind: "answered"; readonly who: string; readonly lease: PresenceLease | null }
  /** It listens but does not answer: paused (SIGSTOP) or stuck, and it may hold the lease. */
  | { readonly kind: "silent"; readonly who: string };

/** The lease fields of a participant's answer (untrusted JSON), or null when it says none. */
export function presenceLease(info: Readonly<Record<string, unknown>>): PresenceLease | null {
  if (typeof info.store !== "string") return null;
  return {
    leader: typeof info.leader === "string" ? info.leader : null,
    leaderUrl: typeof info.leaderUrl === "string" ? info.leaderUrl : null,
    term: typeof info.term === "number" ? info.term : null,
    store: info.store,
  };
}

/** Whether a participant's answer keeps a command without --ha from writing. */
export function presenceBlocks(answer: PresenceAnswer): boolean {
  return answer.kind === "silent" || answer.lease?.leader != null;
}

/** The refusal of a command without --ha beside an --ha group that leads (or may). */
export function ledByGroup(controllerId: string, command: string, answer: PresenceAnswer): BerthError {
  const lease =
    answer.kind === "silent"
      ? "it does not answer (paused?) and may hold the lease"
      : `the leader is ${answer.lease?.leader ?? "?"}${answer.lease?.term != null ? ` in term ${answer.lease.term}` : ""}` +
        `${answer.lease?.leaderUrl ? `, its API at ${answer.lease.leaderUrl}` : ""}, lease in ${answer.lease?.store ?? "?"}`;
  return new BerthError(
    "BERTH_LEASE_HELD",
    `controller id ${JSON.stringify(controllerId)} is led by an --ha group on this host: ${answer.who}; ${lease}. ` +
      `${command} without --ha would write beside its leader: pass the group's --ha (or set BERTH_HA) to take the lease in turn, ` +
      "or stop the group first",
  );
}

/** What the election said after a one-shot command's first try (and each later one). */
export interface ElectionView {
  /** This process may write now. */
  readonly leading: boolean;
  /** This process holds the lease but its first term waits one TTL (a store without history). */
  readonly holdsLease: boolean;
  /** The holder seen in the store, when another holds it. */
  readonly leader: string | null;
  /** Where its API answers, when it said (--ha-advertise). */
  readonly leaderUrl?: string | null;
  readonly store: string;
  readonly storeError: string | null;
  /** Why this process may not lead although the lease was free (the host lock's holder). */
  readonly blockedBy: string | null;
}

export type OneShotVerdict =
  { readonly kind: "go" } | { readonly kind: "wait" } | { readonly kind: "refuse"; readonly error: BerthError };

/**
 * A one-shot command under --ha (`apply`, `reap`): write once it leads; keep waiting while it holds
 * the lease (a first term waits one TTL) or while --ha-wait has time left; otherwise refuse,
 * naming who holds the id.
 */
export function oneShotVerdict(
  view: ElectionView,
  controllerId: string,
  command: string,
  waitLeft: boolean,
  /** --ha-wait, when given: it was waited out, so the refusal says so instead of advising it. */
  waitMs = 0,
): OneShotVerdict {
  if (view.leading) return { kind: "go" };
  if (view.holdsLease || waitLeft) return { kind: "wait" };
  // Advice to wait only to one that did not: one that waited says how long.
  const waited = waitMs > 0 ? ` (waited --ha-wait ${formatDurationMs(waitMs)})` : "";
  const hint = waitMs > 0 ? "or try again later" : "or wait for it with --ha-wait <duration>";
  if (view.blockedBy !== null)
    return {
      kind: "refuse",
      error: new BerthError(
        "BERTH_LEASE_HELD",
        `controller id ${JSON.stringify(controllerId)}: ${command} --ha took the lease in ${view.store} but did not lead: ` +
          `${view.blockedBy} holds the id's host lock and writes without --ha${waited}; stop it first, ${hint}`,
      ),
    };
  if (view.storeError !== null)
    return {
      kind: "refuse",
      error: new BerthError(
        "BERTH_HA",
        `${command} --ha: no lease, the store does not answer${waited}: ${view.storeError}`,
      ),
    };
  return {
    kind: "refuse",
    error: new BerthError(
      "BERTH_LEASE_HELD",
      `controller id ${JSON.stringify(controllerId)}: the lease in ${view.store} is held by ${view.leader ?? "another berth"}` +
        `${view.leaderUrl ? ` (its API at ${view.leaderUrl})` : ""}${waited}; ` +
        `${command} writes only holding it. Stop that berth (SIGTERM lets the lease go at once), ${hint}`,
    ),
  };
}

/**
 * The line a one-shot command under --ha prints as it starts to wait out --ha-wait (a wait of a
 * minute in silence looks like a hang): for whom it waits.
 */
export function waitNotice(view: ElectionView, command: string, waitMs: number): string {
  const upTo = `${command} --ha: waiting up to ${formatDurationMs(waitMs)} (--ha-wait)`;
  if (view.blockedBy !== null) return `${upTo} for the id's host lock held by ${view.blockedBy}`;
  if (view.storeError !== null) return `${upTo} for the lease store to answer: ${view.storeError}`;
  return `${upTo} for the lease held by ${view.leader ?? "another berth"} in ${view.store}`;
}
