/**
 * High availability's arithmetic (docs/reliability.md): what `--ha` names, how long a lease lets
 * its holder write, and the fencing number of a new term. Pure; the stores (host/lease-file.ts,
 * host/lease-redis.ts) and the campaign (loop/leadership.ts) do the I/O.
 *
 * The guarantee rests on one inequality. A holder sends its acquire or renew at local monotonic
 * time `sent`; the store starts the TTL when it handles the request, later than `sent`. So the
 * lease cannot expire in the store before `sent + ttl` (clock rates agree to far better than the
 * margin). The holder starts no Docker write after `sent + ttl − margin`: the margin is the room
 * left for an event-loop turn between the check and the request leaving, and for clock-rate drift.
 */

import { scrubUrls } from "./git-source.js";

export type HaTarget =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "redis"; readonly url: string; readonly tls: boolean };

export interface LeaseTiming {
  /** How long a lease lasts in the store after each renew. */
  readonly ttlMs: number;
  /** How often the leader renews, and a standby tries to take the lease. */
  readonly renewMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 10_000, renewMs: 2_000 };

/** The shortest TTL berth accepts (the tests run 2 s). */
export const MIN_TTL_MS = 1_000;

/**
 * Parses `--ha`: `file:/run/berth/web.lock` (one host) or `redis://[:password@]host:port/db`
 * (`rediss://` for TLS). Returns an error message for anything else.
 */
export function parseHaTarget(text: string): HaTarget | string {
  const trimmed = text.trim();
  if (trimmed.startsWith("file:")) {
    const file = trimmed.slice("file:".length);
    if (!file.startsWith("/"))
      return `--ha file: needs an absolute path (file:/run/berth/<id>.lock), not ${JSON.stringify(file)}`;
    return { kind: "file", path: file };
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    const port = REDIS_PORT.exec(trimmed)?.[1];
    if (port !== undefined && Number(port) > 65535)
      return `--ha: the redis URL's port ${port} is out of range (1 to 65535)`;
    // Not echoed: it may hold a password.
    return "--ha: the value given is neither file:/PATH nor redis://host:port/db";
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    return `--ha: ${url.protocol} is not file:, redis: or rediss:`;
  if (url.hostname === "") return "--ha: the redis URL names no host (redis://host:6379/0)";
  if (url.port === "0") return "--ha: the redis URL's port 0 is out of range (1 to 65535)";
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,2}$/.test(db))
    return `--ha: the database ${JSON.stringify(db)} is not a number (redis://host:6379/0)`;
  return { kind: "redis", url: trimmed, tls: url.protocol === "rediss:" };
}

/** The host and port of a redis URL, to say why new URL() refused it. */
const REDIS_PORT = /^rediss?:\/\/(?:[^@/]*@)?(?:\[[^\]/]*\]|[^:/@[\]]+):(\d+)(?:[/?#]|$)/;

/**
 * Whether two stores (as `LeaseStore.where` says them, without credentials) are surely not one:
 * a lock file and a Redis, two lock paths, or two databases of one Redis address. Two berths of
 * one id on two stores would each elect a leader. Two Redis addresses may be one server (a name
 * and its IP, a proxy): not known to differ.
 */
export function differentStores(a: string, b: string): boolean {
  const [x, y] = [storeIdentity(a), storeIdentity(b)];
  if (x === y) return false;
  if (x.startsWith("file:") || y.startsWith("file:")) return true;
  const address = (id: string): string => id.replace(/\/[0-9]+$/, "");
  return address(x) === address(y);
}

function storeIdentity(where: string): string {
  if (where.startsWith("file:"))
    return `file:${where
      .slice("file:".length)
      .replace(/\/(\.\/)+/g, "/")
      .replace(/\/{2,}/g, "/")
      .replace(/(.)\/$/, "$1")}`;
  try {
    const url = new URL(where);
    const db = Number(url.pathname.replace(/^\//, "") || "0");
    return `${url.protocol}//${url.hostname.toLowerCase()}:${url.port || "6379"}/${db}`;
  } catch {
    return where;
  }
}

/** A text with every URL's password (and user) replaced by `***`, for messages and logs. */
export function redactUrl(text: string): string {
  return scrubUrls(text, "***@");
}

/** Where the target is, in words a log may carry (no credentials). */
export function describeHaTarget(target: HaTarget): string {
  return target.kind === "file" ? `file:${target.path}` : redactUrl(target.url);
}

/** Checks --ha-ttl and --ha-renew together; an error message, or null. */
export function leaseTimingError(timing: LeaseTiming): string | null {
  if (timing.ttlMs < MIN_TTL_MS) return `--ha-ttl: ${timing.ttlMs} ms is below the minimum of ${MIN_TTL_MS} ms`;
  if (timing.renewMs <= 0) return "--ha-renew must be above 0";
  if (timing.renewMs * 3 > timing.ttlMs - leaseMargin(timing.ttlMs))
    return (
      `--ha-renew: ${timing.renewMs} ms leaves fewer than three renewals inside the lease's ` +
      `${timing.ttlMs - leaseMargin(timing.ttlMs)} ms (--ha-ttl less its margin); renew more often or lengthen the TTL`
    );
  return null;
}

/** The margin a holder keeps before its lease could expire in the store: a fifth of the TTL, at least 200 ms. */
export function leaseMargin(ttlMs: number): number {
  return Math.max(200, Math.floor(ttlMs / 5));
}

/** Until when (local monotonic ms) a lease acquired or renewed by a request sent at `sentAt` lets its holder write. */
export function writeDeadline(sentAt: number, ttlMs: number): number {
  return sentAt + ttlMs - leaseMargin(ttlMs);
}

/**
 * The fencing number of a new term: the store's counter after its increment, unless a holder
 * seen earlier had a higher one (the store lost its data: its counter started again), then one
 * above that. Terms only grow, for the holders that saw each other.
 */
export function nextTerm(counter: number, highestSeen: number): number {
  return counter > highestSeen ? counter : highestSeen + 1;
}

/** A lease's value in the store: who holds it and in which term. */
export interface LeaseHolder {
  readonly holder: string;
  readonly term: number;
}

export function encodeLease(lease: LeaseHolder): string {
  return `${lease.term}|${lease.holder}`;
}

export function decodeLease(value: string | null | undefined): LeaseHolder | null {
  if (!value) return null;
  const bar = value.indexOf("|");
  if (bar <= 0) return null;
  const term = Number(value.slice(0, bar));
  if (!Number.isSafeInteger(term) || term < 1) return null;
  return { term, holder: value.slice(bar + 1) };
}

/**
 * A holder's name in the store, with where its API answers when it gives one
 * (`--ha-advertise`): `host/1234/run/ab12cd@http://10.0.0.5:7435`. A standby tells its readers
 * (a refused write, /readyz, `berth status`) where the leader is; a CLI sent to a standby follows
 * to that address. The name never holds `@` (host, pid, command and a random part).
 */
export function holderWithAddress(name: string, url: string | null): string {
  return url === null ? name : `${name}@${url}`;
}

/** A holder as it reads in the store: its name, and its API's address or null (an older berth, or none given). */
export function holderAddress(holder: string): { readonly name: string; readonly url: string | null } {
  const at = holder.indexOf("@");
  if (at < 0) return { name: holder, url: null };
  const url = holder.slice(at + 1);
  return { name: holder.slice(0, at), url: advertisedUrl(url) === url ? url : null };
}

/**
 * `--ha-advertise`: an http(s) URL with a host and nothing after its port, without a trailing
 * slash; null when the text is not one.
 */
export function advertisedUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.hostname === "" || url.username !== "" || url.password !== "") return null;
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "") return null;
  return `${url.protocol}//${url.host}`;
}

/**
 * Where this berth's API is reached from the other members, when `--ha-advertise` is not given:
 * the address it listens on, or this host's name when it listens on every interface.
 */
export function defaultAdvertise(listenHost: string, port: number, hostname: string): string {
  const wildcard = listenHost === "0.0.0.0" || listenHost === "::" || listenHost === "";
  const host = wildcard ? hostname : listenHost;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export type AcquireResult =
  | { readonly acquired: true; readonly term: number; readonly fresh: boolean }
  | { readonly acquired: false; readonly current: LeaseHolder | null };

/** A lease store (a port): a lock file on one host (host/lease-file.ts) or Redis (host/lease-redis.ts). */
export interface LeaseStore {
  /** Where it is, without credentials. */
  readonly where: string;
  /** Takes the lease if no one holds it, in a term above `highestSeen` (core/lease.ts nextTerm). */
  acquire(holder: string, ttlMs: number, highestSeen: number): Promise<AcquireResult>;
  /** Extends the lease if it is still this holder's in this term; false when it is not. */
  renew(lease: LeaseHolder, ttlMs: number): Promise<boolean>;
  /** Lets go of the lease (if still held) and tells the standbys. */
  release(lease: LeaseHolder): Promise<void>;
  /** Calls `fn` when a holder lets go (best effort: the standbys also poll). */
  onReleased(fn: () => void): void;
  close(): Promise<void>;
}
