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
import type { NodeReport } from "../core/capacity.js";
import type { ObjectStatus } from "../core/object-status.js";
import { PHASES, type StatusReport } from "../core/status.js";
import type { SwarmReport } from "../core/swarm-status.js";
import { CONTROLLER_HEADER } from "../http/access.js";

export const DEFAULT_SERVER = "http://127.0.0.1:7435";
/** A larger status answer is not believed (10 000 specs make about 10 MB). */
export const MAX_REPORT_BYTES = 32 * 1024 * 1024;

export interface LiveStatus {
  readonly report: StatusReport;
  readonly url: string;
  readonly observedAt: string;
}

export async function liveStatus(server: string, controllerId: string, timeoutMs = 1500): Promise<LiveStatus | null> {
  const body = await statusBody(server, controllerId, timeoutMs);
  // A swarm controller's status (target: swarm) is another shape: `berth status --target swarm` reads it.
  if (body === null || body.target === "swarm" || !isStatusReport(body)) return null;
  return {
    report: {
      specs: body.specs,
      orphans: body.orphans,
      notes: body.notes,
      ...(objectStatuses(body.objects) ? { objects: body.objects } : {}),
      ...(nodeReport(body.node) ? { node: body.node } : {}),
      ...(gitSources(body.sources) ? { sources: body.sources } : {}),
    },
    url: server,
    observedAt: typeof body.observedAt === "string" ? body.observedAt : "",
  };
}

/** GET /v1/specs's body when it is an object and names this controller; null for anything else. */
async function statusBody(
  server: string,
  controllerId: string,
  timeoutMs: number,
): Promise<Record<string, unknown> | null> {
  if (server === "off") return null;
  try {
    const text = await berthAnswer(new URL(`${server.replace(/\/+$/, "")}/v1/specs`), controllerId, timeoutMs);
    const body: unknown = text === null ? null : JSON.parse(text);
    return isObject(body) && body.controller === controllerId ? body : null;
  } catch {
    return null;
  }
}

/**
 * The body of a GET of `url` when it is berth's answer for `controllerId` (status 200, JSON, the
 * controller header) of at most MAX_REPORT_BYTES, else null; within `timeoutMs` in all. node:http
 * rather than fetch: loading fetch (undici) cost every `berth status` about 20 ms. A redirect is
 * not followed (it is not a 200). Both modules are imported statically (docker-modem loads them
 * anyway): the bundle bin/berth.js runs may not import() at run time (scripts/bundle.mjs).
 */
async function berthAnswer(url: URL, controllerId: string, timeoutMs: number): Promise<string | null> {
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const tls = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (value: string | null): void => {
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
        settle(Buffer.concat(chunks).toString("utf8"));
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

export interface LiveSwarmStatus {
  readonly report: SwarmReport;
  readonly url: string;
  readonly observedAt: string;
}

/** As liveStatus, for `berth status --target swarm`: only a swarm controller's answer (target: swarm) is believed. */
export async function liveSwarmStatus(
  server: string,
  controllerId: string,
  timeoutMs = 1500,
): Promise<LiveSwarmStatus | null> {
  const body = await statusBody(server, controllerId, timeoutMs);
  if (body === null || body.target !== "swarm" || !swarmReport(body)) return null;
  return {
    report: {
      specs: body.specs,
      networks: body.networks,
      notes: body.notes,
      ...(gitSources(body.sources) ? { sources: body.sources } : {}),
    },
    url: server,
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
): Promise<LiveEvent[] | null> {
  try {
    const url = new URL(`${server.replace(/\/+$/, "")}/v1/events`);
    if (query.since !== undefined) url.searchParams.set("since", String(query.since));
    if (query.spec !== undefined) url.searchParams.set("spec", query.spec);
    if (query.limit !== undefined) url.searchParams.set("limit", String(query.limit));
    const text = await berthAnswer(url, controllerId, timeoutMs);
    const body: unknown = text === null ? null : JSON.parse(text);
    return isObject(body) && listOf(liveEventShape)(body.events) ? (body.events as LiveEvent[]) : null;
  } catch {
    return null;
  }
}

/** The body has the shape of berth's status report (GET /v1/specs). */
export function isStatusReport(v: unknown): v is StatusReport & Record<string, unknown> {
  return statusReport(v);
}
