/**
 * The live status of a running controller (`berth run`'s GET /v1/specs), for `berth status` and
 * `berth get`: used when a controller with the same --id answers, else they work it out from
 * Docker and the spec files.
 */
import type { StatusReport } from "../core/status.js";

export const DEFAULT_SERVER = "http://127.0.0.1:7435";

export interface LiveStatus {
  readonly report: StatusReport;
  readonly url: string;
  readonly observedAt: string;
}

export async function liveStatus(server: string, controllerId: string, timeoutMs = 1500): Promise<LiveStatus | null> {
  if (server === "off") return null;
  const url = `${server.replace(/\/+$/, "")}/v1/specs`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return null;
    const body = (await res.json()) as StatusReport & { controller?: string; observedAt?: string };
    if (body.controller !== controllerId || !Array.isArray(body.specs)) return null;
    return {
      report: { specs: body.specs, orphans: body.orphans, notes: body.notes },
      url: server,
      observedAt: body.observedAt ?? "",
    };
  } catch {
    return null;
  }
}
