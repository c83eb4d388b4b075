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
import { PHASES, type StatusReport } from "../core/status.js";
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
  if (server === "off") return null;
  const url = `${server.replace(/\/+$/, "")}/v1/specs`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
    if (
      res.status !== 200 ||
      res.headers.get(CONTROLLER_HEADER) !== controllerId ||
      !(res.headers.get("content-type") ?? "").startsWith("application/json")
    ) {
      await res.body?.cancel();
      return null;
    }
    const text = await readCapped(res, MAX_REPORT_BYTES);
    const body: unknown = text === null ? null : JSON.parse(text);
    if (!isObject(body) || body.controller !== controllerId || !isStatusReport(body)) return null;
    return {
      report: { specs: body.specs, orphans: body.orphans, notes: body.notes },
      url: server,
      observedAt: typeof body.observedAt === "string" ? body.observedAt : "",
    };
  } catch {
    return null;
  }
}

/** The body as text, or null when it is larger than `max` bytes. */
async function readCapped(res: Response, max: number): Promise<string | null> {
  if (!res.body) return "";
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
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
});
const specStatus = shape({
  name: str,
  phase: (v) => (PHASES as readonly unknown[]).includes(v),
  message: orNull(str),
  file: orNull(str),
  hash: orNull(str),
  replicas: shape({ desired: num, ready: num }),
  containers: listOf(containerStatus),
  lastAction: orNull(shape({ kind: str, reason: str, at: str, ok: bool })),
  lastError: orNull(str),
  expiresAt: orNull(str),
  retryAt: orNull(str),
});
const statusReport = shape({ specs: listOf(specStatus), orphans: listOf(containerStatus), notes: listOf(str) });

/** The body has the shape of berth's status report (GET /v1/specs). */
export function isStatusReport(v: unknown): v is StatusReport & Record<string, unknown> {
  return statusReport(v);
}
