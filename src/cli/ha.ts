/**
 * One writer per controller id, for every command that writes (docs/reliability.md, "Commands
 * beside an --ha group"; the rule in core/writers.ts):
 * - `participate`: an --ha participant (`run --ha`, `apply --ha`, `reap --ha`) — its lease store,
 *   its election, which does not lead while a process without --ha holds the host lock, and its
 *   presence in the state folder;
 * - `withLease`: a one-shot command under --ha takes the lease in turn, writes fenced by it, and
 *   lets it go at exit so that a standby leads at once;
 * - `withHostLockAlone`: a command without --ha holds the host lock and refuses beside an --ha
 *   group that leads on this host.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { Config, HaConfig } from "../config.js";
import { BerthError } from "../core/errors.js";
import { differentStores } from "../core/lease.js";
import type { WriteFence } from "../docker/fenced.js";
import { secretFileAllowed } from "../core/policy/policy.js";
import { ledByGroup, oneShotVerdict, waitNotice } from "../core/writers.js";
import { blockingParticipants, hostLockHolder, otherParticipants, registerParticipant } from "../host/ha-presence.js";
import { hostPolicyContext } from "../host/host-paths.js";
import { FileLeaseStore } from "../host/lease-file.js";
import { RedisLeaseStore } from "../host/lease-redis.js";
import { type HostLock, resolveStateDir, withHostLock } from "../host/lock.js";
import { Leadership, type LeaseStore, type Role } from "../loop/leadership.js";
import { haMemberAt } from "./live.js";
import { NoApiAnswer } from "./pool-api.js";
import { VERSION } from "./version.js";

function leaseStore(config: Config, ha: HaConfig): Promise<LeaseStore> {
  if (ha.passwordFile !== null) {
    const refusal = secretFileAllowed(ha.passwordFile, config.policy, hostPolicyContext);
    if (refusal !== null) throw BerthError.usage(`--ha-password-file: ${refusal}`);
  }
  // Each refuses at start what can never work (a lock folder that is not there, a database or
  // password Redis refuses): exit 1 with the reason, not a standby that never leads.
  if (ha.target.kind === "file") return FileLeaseStore.open(ha.target.path, VERSION);
  return RedisLeaseStore.create({
    url: ha.target.url,
    controllerId: config.controllerId,
    timing: ha.timing,
    passwordFile: ha.passwordFile,
  });
}

/** A participant of this id on this host whose lease store is not `where`, or null. */
async function otherStore(
  stateDir: string,
  controllerId: string,
  self: string,
  where: string,
): Promise<{ who: string; store: string } | null> {
  for (const { answer } of await otherParticipants(stateDir, controllerId, self)) {
    if (answer.kind === "answered" && answer.lease && differentStores(answer.lease.store, where))
      return { who: answer.who, store: answer.lease.store };
  }
  return null;
}

export interface Participation {
  readonly leadership: Leadership;
  /** Stops campaigning (a holder lets the lease go) and leaves the state folder. */
  stop(): Promise<void>;
}

/** Joins the --ha group of this id as `command` (run, apply, reap); campaigning starts with leadership.start(). */
export async function participate(
  config: Config,
  ha: HaConfig,
  log: Logger,
  command: string,
  onRole: (role: Role, term: number | null) => void,
): Promise<Participation> {
  const stateDir = await resolveStateDir(config.stateDir);
  const store = await leaseStore(config, ha);
  let leadership: Leadership | null = null;
  // Present before the first try at the lease: a command without --ha that looks after this sees it.
  const presence = await registerParticipant({
    stateDir,
    controllerId: config.controllerId,
    command: `${command} --ha`,
    version: VERSION,
    lease: () => {
      const status = leadership?.status();
      return {
        leader: status?.leader ?? null,
        leaderUrl: status?.leaderUrl ?? null,
        term: status?.term ?? null,
        store: store.where,
      };
    },
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  // After registering, as every side looks after taking its own lock: of two berths started
  // together on two stores, the second sees the first (both may refuse; never both lead).
  const other = await otherStore(stateDir, config.controllerId, presence.path, store.where);
  if (other !== null) {
    await presence.release();
    await store.close();
    throw new BerthError(
      "BERTH_LEASE_HELD",
      `controller id ${JSON.stringify(config.controllerId)}: this ${command} --ha ${store.where} is not the store of ` +
        `the --ha group of this id on this host: ${other.who} has its lease in ${other.store}. Two stores elect two ` +
        `leaders, both writing: pass the group's --ha ${other.store}, or give this one another --id`,
    );
  }
  leadership = new Leadership({
    store,
    timing: ha.timing,
    holder: `${os.hostname()}/${process.pid}/${command}/${randomBytes(3).toString("hex")}`,
    log: log.child({ component: "ha" }),
    monotonic: () => performance.now(),
    schedule: (ms, fn) => {
      const timer = setTimeout(fn, ms);
      return {
        cancel: () => {
          clearTimeout(timer);
        },
      };
    },
    onRole,
    writerBeside: () => hostLockHolder(stateDir, config.controllerId),
  });
  const elected = leadership;
  return {
    leadership: elected,
    stop: async () => {
      await elected.stop();
      await presence.release();
    },
  };
}

/**
 * Runs `work` once this one-shot command leads its --ha group (core/writers.ts oneShotVerdict:
 * at once, after --ha-wait, or refused naming the holder), its writes fenced by the lease;
 * lets the lease go however `work` ends. A lease lost meanwhile stops the writes at the fence.
 */
export async function withLease<T>(
  config: Config,
  ha: HaConfig,
  log: Logger,
  command: string,
  work: (leadership: Leadership) => Promise<T>,
  /** Where the line saying it waits for the lease goes (stderr: apply's and reap's log shows only errors). */
  say: (line: string) => void = (line) => process.stderr.write(`berth: ${line}\n`),
): Promise<T> {
  let wake: () => void = () => undefined;
  let told = false;
  const group = await participate(config, ha, log, command, () => {
    wake();
  });
  try {
    const { leadership } = group;
    await leadership.start();
    const until = performance.now() + ha.waitMs;
    for (;;) {
      const status = leadership.status();
      const view = { ...status, leading: leadership.mayWrite(), holdsLease: leadership.holdsLease() };
      const verdict = oneShotVerdict(view, config.controllerId, command, performance.now() < until, ha.waitMs);
      if (verdict.kind === "go") break;
      if (verdict.kind === "refuse") throw verdict.error;
      if (!view.holdsLease && !told) {
        told = true;
        say(waitNotice(view, command, ha.waitMs));
      }
      // The election tries again every --ha-renew, at once when the holder lets go; it says when it leads.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ha.timing.renewMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return await work(leadership);
  } finally {
    await group.stop();
  }
}

/**
 * Runs `work` holding this id's host lock, as a command without --ha does (host/lock.ts), and
 * refuses first while an --ha group of this id leads on this host (its participants say so).
 */
export function withHostLockAlone<T>(
  config: Config,
  command: string,
  work: (lock: HostLock) => Promise<T>,
): Promise<T> {
  return withHostLock(
    { stateDir: config.stateDir, controllerId: config.controllerId, command, version: VERSION },
    async (lock) => {
      const [first] = await blockingParticipants(path.dirname(lock.path), config.controllerId);
      if (first) throw ledByGroup(config.controllerId, command, first);
      return work(lock);
    },
  );
}

/**
 * A one-shot write a running controller of the id can make instead (`berth restart`, `berth
 * rollout retry`): `work` holding the id's host lock, or under --ha the lease, its writes fenced;
 * while `berth run` holds the id, or an --ha group leads it, `beside` asks that controller (its
 * API at --server; a standby there sends the CLI on to its leader), which does the same while none
 * of its passes acts on the spec. When nothing answers there, the refusal says both.
 */
export async function writeOrAsk<T>(
  config: Config,
  log: Logger,
  command: string,
  work: (fence: WriteFence | null) => Promise<T>,
  beside: () => Promise<T>,
  /** The API at --server, asked first without --ha: a member of an --ha group of this id is asked. */
  server?: string,
): Promise<T> {
  // A group whose members keep another state folder is not seen through the host lock; the
  // berth at --server says what it is (X-Berth-Role) for the cost of one local request.
  if (!config.ha && server !== undefined && (await haMemberAt(server, config.controllerId))) return beside();
  try {
    return config.ha
      ? await withLease(config, config.ha, log, command, work)
      : await withHostLockAlone(config, command, () => work(null));
  } catch (err) {
    if (!(err instanceof BerthError)) throw err;
    if (err.code === "BERTH_LOCKED") return beside();
    if (err.code !== "BERTH_LEASE_HELD") throw err;
    try {
      return await beside();
    } catch (asked) {
      if (!(asked instanceof NoApiAnswer)) throw asked;
      throw new BerthError(
        err.code,
        `${err.message}. Nor does a berth answer at ${asked.server} (${asked.why}), where ${command} asks a running controller: ` +
          `give --server the API of any berth of the group (a standby sends ${command} on to its leader)`,
      );
    }
  }
}
