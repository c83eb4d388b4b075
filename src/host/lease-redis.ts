/**
 * The `--ha redis://…` lease store (several hosts): the lease is a key with a TTL (`SET PX` when
 * absent), its fencing numbers come from a counter (`INCR`), and each step is one Lua script, so
 * a check and its write are one atomic step in Redis. Keys: `berth:{<id>}:lease` (`<term>|<holder>`),
 * `berth:{<id>}:term`; a release is published on `berth:{<id>}:released`.
 *
 * ioredis with its offline queue off: a command while Redis is down fails at once, and no command
 * waits past `commandTimeout`, so a renewal never outlives the lease it would extend.
 *
 * What can never work is refused at start (a usage error, exit 1): a password Redis refuses, and a
 * database it refuses to SELECT — ioredis then goes on in database 0, beside whatever else uses it.
 * A Redis that does not answer at start is not: it may be starting too, and the standbys keep trying.
 */
import { readFile } from "node:fs/promises";
import type { Redis as RedisClient, RedisOptions } from "ioredis";
import { BerthError } from "../core/errors.js";
import {
  type AcquireResult,
  decodeLease,
  encodeLease,
  type LeaseHolder,
  type LeaseStore,
  type LeaseTiming,
  redactUrl,
} from "../core/lease.js";

const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current then return {0, current} end
local counter = redis.call('INCR', KEYS[2])
local term = counter
local seen = tonumber(ARGV[3])
if counter <= seen then
  term = seen + 1
  redis.call('SET', KEYS[2], term)
end
redis.call('SET', KEYS[1], term .. '|' .. ARGV[1], 'PX', ARGV[2])
return {1, term, counter}
`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], ARGV[1])
  return 1
end
return 0
`;

const AUTH_REFUSED = /NOAUTH|WRONGPASS|invalid password/i;

export interface RedisLeaseOptions {
  readonly url: string;
  readonly controllerId: string;
  readonly timing: LeaseTiming;
  /** A file holding the password (beats one in the URL). */
  readonly passwordFile: string | null;
}

export class RedisLeaseStore implements LeaseStore {
  readonly where: string;
  private readonly keys: { lease: string; term: string; released: string };
  private subscriber: RedisClient | null = null;
  private readonly released: (() => void)[] = [];
  /** The last connection error, until the connection is ready again. */
  connectionError: string | null = null;
  /**
   * Redis's answer to the SELECT of the URL's database on the current connection, or null: the
   * connection then works in database 0, so no command may use it. Cleared by a new connection.
   */
  selectError: string | null = null;

  private constructor(
    private readonly connect: (options: RedisOptions) => RedisClient,
    private readonly client: RedisClient,
    options: RedisLeaseOptions,
    private readonly redisOptions: RedisOptions,
  ) {
    this.where = redactUrl(options.url);
    const base = `berth:{${options.controllerId}}`;
    this.keys = { lease: `${base}:lease`, term: `${base}:term`, released: `${base}:released` };
  }

  /** Loads ioredis (only --ha redis needs it) and connects lazily: the first command connects. */
  static async create(options: RedisLeaseOptions): Promise<RedisLeaseStore> {
    const { Redis } = await import("ioredis");
    let password: string | undefined;
    if (options.passwordFile !== null) {
      try {
        password = (await readFile(options.passwordFile, "utf8")).trim();
      } catch (err) {
        throw BerthError.usage(`--ha-password-file: cannot read ${options.passwordFile}: ${(err as Error).message}`);
      }
    }
    const retry = Math.min(1000, options.timing.renewMs);
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(500, options.timing.renewMs),
      commandTimeout: Math.max(250, Math.min(1000, options.timing.renewMs)),
      retryStrategy: () => retry,
      ...(password !== undefined ? { password } : {}),
    };
    let store: RedisLeaseStore | null = null;
    const connect = (o: RedisOptions): RedisClient => {
      const client = new Redis(options.url, o);
      // Why the connection failed (refused, a wrong password): the commands then fail only with
      // "not connected", so the store keeps the reason to say.
      client.on("error", (err: Error) => {
        if (store) store.connectionError = redactUrl(err.message);
      });
      client.on("ready", () => {
        if (store) store.connectionError = null;
      });
      return client;
    };
    const client = connect(redisOptions);
    // The commands' connection only: pub/sub, the subscriber's work, is the same in every database.
    client.on("connect", () => {
      if (store) store.selectError = null;
    });
    client.on("error", (err: Error & { command?: { name?: string } }) => {
      if (store && err.command?.name === "select") store.selectError = redactUrl(err.message);
    });
    store = new RedisLeaseStore(connect, client, options, redisOptions);
    await client.connect().catch(() => undefined);
    const never = store.startRefusal(options.url);
    if (never !== null) {
      client.disconnect();
      throw BerthError.usage(never);
    }
    return store;
  }

  /** What makes the store unusable for good, as the connection at start found it, or null. */
  private startRefusal(url: string): string | null {
    if (this.selectError !== null) {
      const db = new URL(url).pathname.replace(/^\//, "");
      return `--ha ${this.where}: Redis refused database ${db} (${this.selectError}); name one it has (redis://host:port/0)`;
    }
    if (this.connectionError !== null && AUTH_REFUSED.test(this.connectionError))
      return `--ha ${this.where}: Redis refused the password (${this.connectionError}); give it in the URL or --ha-password-file`;
    return null;
  }

  async acquire(holder: string, ttlMs: number, highestSeen: number): Promise<AcquireResult> {
    const reply = (await this.call(() =>
      this.client.eval(ACQUIRE, 2, this.keys.lease, this.keys.term, holder, ttlMs, highestSeen),
    )) as [number, string | number, number?];
    if (reply[0] === 0) return { acquired: false, current: decodeLease(String(reply[1])) };
    const term = Number(reply[1]);
    const counter = Number(reply[2]);
    // No record of earlier terms: a first start, or Redis came back empty under a living leader.
    return { acquired: true, term, fresh: counter === 1 || counter <= highestSeen };
  }

  async renew(lease: LeaseHolder, ttlMs: number): Promise<boolean> {
    const reply = await this.call(() => this.client.eval(RENEW, 1, this.keys.lease, encodeLease(lease), ttlMs));
    return Number(reply) === 1;
  }

  async release(lease: LeaseHolder): Promise<void> {
    await this.call(() => this.client.eval(RELEASE, 2, this.keys.lease, this.keys.released, encodeLease(lease)));
  }

  onReleased(fn: () => void): void {
    this.released.push(fn);
    if (this.subscriber) return;
    // A subscriber waits for messages: no command timeout, and it queues its SUBSCRIBE until connected.
    const options: RedisOptions = { ...this.redisOptions, lazyConnect: false, enableOfflineQueue: true };
    delete options.commandTimeout;
    const subscriber = this.connect(options);
    subscriber.on("message", () => {
      for (const f of this.released) f();
    });
    void subscriber.subscribe(this.keys.released).catch(() => undefined);
    this.subscriber = subscriber;
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.client.disconnect();
    return Promise.resolve();
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.selectError !== null)
      throw new BerthError("BERTH_HA", `--ha ${this.where}: Redis refused the URL's database (${this.selectError})`);
    try {
      return await fn();
    } catch (err) {
      const raw = redactUrl((err as Error).message);
      const message = /Stream isn't writeable|Connection is closed/.test(raw)
        ? `not connected (${this.connectionError ?? "Redis is down or unreachable"})`
        : raw;
      const auth = AUTH_REFUSED.test(message);
      throw new BerthError(
        "BERTH_HA",
        auth
          ? `--ha ${this.where}: Redis refused the password (${message}); give it in the URL or --ha-password-file`
          : `--ha ${this.where}: ${message}`,
      );
    }
  }
}
