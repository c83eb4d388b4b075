/**
 * The live status of a running controller (`berth run`'s GET /v1/specs), for `berth status` and
 * `berth get`: used when a controller with the same --id answers, else they work it out from
 * Docker and the spec files.
 *
 * Anything may be listening on --server. An answer is believed only when it is berth's: status
 * 200, JSON, the controller header and the body's `controller` both naming this --id, at most
 * MAX_REPORT_BYTES, and a report of the expected shape. Anything else is ignored (the status is
 * then worked out locally). What is printed is cleaned of control characters (sanitize.ts).
 */
import { request as httpRequest } from "node:http";
import type { GitSourceStatus } from "../core/git-source.js";
import { request as httpsRequest } from "node:https";
import { advertisedUrl as advertised } from "../core/lease.js";
import type { NodeReport } from "../core/capacity.js";
import type { ObjectStatus } from "../core/object-status.js";
import { PHASES, type StatusReport } from "../core/status.js";
import type { SwarmReport } from "../core/swarm-status.js";
import { CONTROLLER_HEADER, LEADER_HEADER, ROLE_HEADER } from "../http/access.js";

export const DEFAULT_SERVER = "http://127.0.0.1:7435";
/** A larger status answer is not believed (10 000 specs make about 10 MB). */
export const MAX_REPORT_BYTES = 32 * 1024 * 1024;

/**
 * Who answered, under --ha: the leader, or a standby (whose passes act on nothing, so its status
 * has no last actions and its events none of the leader's). A standby that names where the leader
 * answers (x-berth-leader) is left for the leader when that one answers as this controller;
 * `via` is then the standby first asked.
 */
export interface Answerer {
  readonly url: string;
  readonly role: "leader" | "standby" | null;
  readonly via: string | null;
  /** The leader a standby named that did not answer as this controller (down, or refusing the Host name), or null. */
  readonly unreached: string | null;
}

/** A standby's answer, said beside it: why it is not the leader's. */
export function standbyWords(from: Answerer): string {
  return from.unreached !== null
    ? `a standby at ${from.url}: the leader it names, ${from.unreached}, did not answer as this --id`
    : `a standby at ${from.url}, which acts on nothing while another berth leads`;
}

export interface LiveStatus extends Answerer {
  readonly report: StatusReport;
  readonly observedAt: string;
}

/** The line `berth status` and `get` print on stderr: where the status came from. */
export function liveFrom(live: LiveStatus | LiveSwarmStatus): string {
  const who =
    live.via !== null
      ? `the leader at ${live.url} (the standby at ${live.via} named it)`
      : live.role === "standby"
        ? standbyWords(live)
        : `the controller at ${live.url}`;
  return `(live from ${who}, observed ${live.observedAt})`;
}

export async function liveStatus(server: string, controllerId: string, timeoutMs = 1500): Promise<LiveStatus | null> {
  const answer = await statusBody(server, controllerId, timeoutMs);
  const body = answer?.body ?? null;
  // A swarm controller's status (target: swarm) is another shape: `berth status --target swarm` reads it.
  if (answer === null || body === null || body.target === "swarm" || !isStatusReport(body)) return null;
  return {
    ...answer.from,
    report: {
      specs: body.specs,
      orphans: body.orphans,
      notes: body.notes,
      ...(objectStatuses(body.objects) ? { objects: body.objects } : {}),
      ...(nodeReport(body.node) ? { node: body.node } : {}),
      ...(gitSources(body.sources) ? { sources: body.sources } : {}),
    },
    observedAt: typeof body.observedAt === "string" ? body.observedAt : "",
  };
}

/** GET /v1/specs's body when it is an object and names this controller, and who answered; null for anything else. */
async function statusBody(
  server: string,
  controllerId: string,
  timeoutMs: number,
): Promise<{ readonly body: Record<string, unknown>; readonly from: Answerer } | null> {
  if (server === "off") return null;
  try {
    const answer = await fromLeader(server, "/v1/specs", controllerId, timeoutMs);
    const body: unknown = answer === null ? null : JSON.parse(answer.text);
    return isObject(body) && body.controller === controllerId && answer !== null ? { body, from: answer.from } : null;
  } catch {
    return null;
  }
}

/**
 * A GET of `path` (with its query) at `server`, from the leader when `server` is a standby that
 * names it and the leader answers as this controller; else from `server`. Null when no berth of
 * this id answers at `server`.
 */
async function fromLeader(
  server: string,
  path: string,
  controllerId: string,
  timeoutMs: number,
): Promise<{ readonly text: string; readonly from: Answerer } | null> {
  const at = (base: string): URL => new URL(`${base.replace(/\/+$/, "")}${path}`);
  const first = await berthAnswer(at(server), controllerId, timeoutMs);
  if (first === null) return null;
  const leader = first.role === "standby" ? first.leader : null;
  if (leader !== null && leader !== server.replace(/\/+$/, "")) {
    const led = await berthAnswer(at(leader), controllerId, timeoutMs).catch(() => null);
    if (led !== null && led.role === "leader")
      return { text: led.text, from: { url: leader, role: "leader", via: server, unreached: null } };
    return { text: first.text, from: { url: server, role: first.role, via: null, unreached: leader } };
  }
  return { text: first.text, from: { url: server, role: first.role, via: null, unreached: null } };
}

/**
 * The body of a GET of `url` when it is berth's answer for `controllerId` (status 200, JSON, the
 * controller header) of at most MAX_REPORT_BYTES, else null; within `timeoutMs` in all. node:http
 * rather than fetch: loading fetch (undici) cost every `berth status` about 20 ms. A redirect is
 * not followed (it is not a 200). Both modules are imported statically (docker-modem loads them
 * anyway): the bundle bin/berth.js runs may not import() at run time (scripts/bundle.mjs).
 */
interface BerthAnswer {
  readonly text: string;
  /** Under --ha: the answerer's role (x-berth-role), else null. */
  readonly role: "leader" | "standby" | null;
  /** A standby's word of where the leader answers (x-berth-leader), else null. */
  readonly leader: string | null;
}

async function berthAnswer(url: URL, controllerId: string, timeoutMs: number): Promise<BerthAnswer | null> {
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const tls = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (value: BerthAnswer | null): void => {
      settled = true;
      resolve(value);
    };
    const options = {
      agent: false,
      signal: AbortSignal.timeout(timeoutMs),
      // Plain HTTP has no TLS server name: without one given, Node works it out anyway, and the
      // first net.isIP() it calls costs 3-4 ms of compiling its IPv6 expression.
      ...(tls ? {} : { servername: "" }),
    };
    const req = (tls ? httpsRequest : httpRequest)(url, options, (res) => {
      if (
        res.statusCode !== 200 ||
        res.headers[CONTROLLER_HEADER] !== controllerId ||
        !(res.headers["content-type"] ?? "").startsWith("application/json")
      ) {
        res.destroy();
        settle(null);
        return;
      }
      const roleHeader = res.headers[ROLE_HEADER];
      const role = roleHeader === "leader" || roleHeader === "standby" ? roleHeader : null;
      const leaderHeader = res.headers[LEADER_HEADER];
      const leader = typeof leaderHeader === "string" ? advertised(leaderHeader) : null;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > MAX_REPORT_BYTES) {
          res.destroy();
          settle(null);
        } else chunks.push(chunk);
      });
      res.on("end", () => {
        settle({ text: Buffer.concat(chunks).toString("utf8"), role, leader });
      });
      // Cut off mid-body (the deadline, a reset): no answer.
      res.on("close", () => {
        if (!settled) settle(null);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

type Check = (v: unknown) => boolean;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str: Check = (v) => typeof v === "string";
const num: Check = (v) => typeof v === "number" && Number.isFinite(v);
const bool: Check = (v) => typeof v === "boolean";
const orNull =
  (check: Check): Check =>
  (v) =>
    v === null || check(v);
const listOf =
  (check: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(check);
const shape =
  (fields: Record<string, Check>): Check =>
  (v) =>
    isObject(v) && Object.entries(fields).every(([key, check]) => check(v[key]));

const containerStatus = shape({
  id: str,
  name: str,
  replica: num,
  state: str,
  health: orNull(str),
  current: bool,
  createdAt: str,
  addresses: (v) => isObject(v) && Object.values(v).every(str),
  hostPorts: (v) => isObject(v) && Object.values(v).every(num),
  ipv6Addresses: (v) => isObject(v) && Object.values(v).every(str),
  // Absent from a controller older than restarts in status.
  restarts: (v) => v === undefined || orNull(num)(v),
  lastExit: (v) => v === undefined || orNull(shape({ exitCode: orNull(num), at: str }))(v),
});
const specStatus = shape({
  name: str,
  phase: (v) => (PHASES as readonly unknown[]).includes(v),
  message: orNull(str),
  file: orNull(str),
  hash: orNull(str),
  replicas: shape({ desired: num, ready: num, updated: num, available: num }),
  containers: listOf(containerStatus),
  lastAction: orNull(shape({ kind: str, reason: str, at: str, ok: bool })),
  lastError: orNull(str),
  expiresAt: orNull(str),
  retryAt: orNull(str),
});
const objectStatuses = listOf(
  shape({ kind: str, name: str, state: str, message: orNull(str), source: orNull(str), usedBy: listOf(str) }),
) as (v: unknown) => v is readonly ObjectStatus[];
const amounts = (n: Check): Check => shape({ cpus: n, memory: n, containers: n });
const nodeReport = shape({
  capacity: amounts(orNull(num)),
  requested: amounts(num),
  free: amounts(orNull(num)),
  containers: listOf(shape({ name: str, spec: str, cpus: num, memory: num })),
  pending: listOf(shape({ spec: str, reason: str })),
}) as (v: unknown) => v is NodeReport;
const statusReport = shape({ specs: listOf(specStatus), orphans: listOf(containerStatus), notes: listOf(str) });

const gitSources = listOf(
  shape({
    name: str,
    url: str,
    ref: str,
    path: str,
    revision: orNull(str),
    shortRevision: orNull(str),
    committedAt: orNull(str),
    subject: orNull(str),
    lastFetchAt: orNull(str),
    lastError: orNull(str),
    failures: num,
    invalidFiles: listOf(str),
    brokenAt: orNull(str),
  }),
) as (v: unknown) => v is GitSourceStatus[];

const swarmTaskStatus = shape({
  id: str,
  slot: orNull(num),
  node: str,
  desiredState: str,
  state: str,
  error: orNull(str),
  since: orNull(str),
});
const swarmSpecStatus = shape({
  name: str,
  phase: (v) => (PHASES as readonly unknown[]).includes(v),
  message: str,
  file: orNull(str),
  hash: orNull(str),
  serviceId: orNull(str),
  desired: num,
  global: bool,
  running: num,
  nodes: listOf(str),
  lastError: orNull(str),
  tasks: listOf(swarmTaskStatus),
});
const swarmNetworkStatus = shape({
  name: str,
  state: str,
  message: orNull(str),
  source: orNull(str),
  driver: str,
  scope: orNull(str),
  inUse: bool,
  usedBy: listOf(str),
});
const swarmReport = shape({
  specs: listOf(swarmSpecStatus),
  networks: listOf(swarmNetworkStatus),
  notes: listOf(str),
}) as (v: unknown) => v is SwarmReport;

export interface LiveSwarmStatus extends Answerer {
  readonly report: SwarmReport;
  readonly observedAt: string;
}

/** As liveStatus, for `berth status --target swarm`: only a swarm controller's answer (target: swarm) is believed. */
export async function liveSwarmStatus(
  server: string,
  controllerId: string,
  timeoutMs = 1500,
): Promise<LiveSwarmStatus | null> {
  const answer = await statusBody(server, controllerId, timeoutMs);
  const body = answer?.body ?? null;
  if (answer === null || body === null || body.target !== "swarm" || !swarmReport(body)) return null;
  return {
    ...answer.from,
    report: {
      specs: body.specs,
      networks: body.networks,
      notes: body.notes,
      ...(gitSources(body.sources) ? { sources: body.sources } : {}),
    },
    observedAt: typeof body.observedAt === "string" ? body.observedAt : "",
  };
}

/** One of a controller's recent reconcile events (GET /v1/events, ops/event-log.ts). */
export interface LiveEvent {
  readonly seq: number;
  readonly at: string;
  readonly spec: string | null;
  readonly kind: string;
  readonly reason: string;
  readonly text: string;
  readonly ok: boolean;
  readonly error: string | null;
  readonly durationMs: number;
}

const liveEventShape = shape({
  seq: num,
  at: str,
  spec: orNull(str),
  kind: str,
  reason: str,
  text: str,
  ok: bool,
  error: orNull(str),
  durationMs: num,
});

/**
 * The recent events of the controller with this --id at `server` (`berth events`), oldest first:
 * after `since`, of `spec`, at most `limit`. Null when no berth of this --id answers, as for
 * liveStatus (the same trust rules).
 */
export async function liveEvents(
  server: string,
  controllerId: string,
  query: { readonly since?: number; readonly spec?: string; readonly limit?: number },
  timeoutMs = 1500,
): Promise<{ readonly events: LiveEvent[]; readonly from: Answerer } | null> {
  try {
    const params = new URLSearchParams();
    if (query.since !== undefined) params.set("since", String(query.since));
    if (query.spec !== undefined) params.set("spec", query.spec);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const search = params.size > 0 ? `?${params.toString()}` : "";
    const answer = await fromLeader(server, `/v1/events${search}`, controllerId, timeoutMs);
    const body: unknown = answer === null ? null : JSON.parse(answer.text);
    return answer !== null && isObject(body) && listOf(liveEventShape)(body.events)
      ? { events: body.events as LiveEvent[], from: answer.from }
      : null;
  } catch {
    return null;
  }
}

/** Whether the berth answering at `server` (its /healthz) is an --ha member of this controller; false when none answers. */
export async function haMemberAt(server: string, controllerId: string, timeoutMs = 1500): Promise<boolean> {
  if (server === "off") return false;
  try {
    const answer = await berthAnswer(new URL(`${server.replace(/\/+$/, "")}/healthz`), controllerId, timeoutMs);
    return answer !== null && answer.role !== null;
  } catch {
    return false;
  }
}

/** The body has the shape of berth's status report (GET /v1/specs). */
export function isStatusReport(v: unknown): v is StatusReport & Record<string, unknown> {
  return statusReport(v);
}
