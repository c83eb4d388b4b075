/**
 * Who may reach the API at all, decided from the request line and headers before anything else
 * (docs/http-api.md, "Hosts, origins and content types"):
 *
 * - the Host header must name loopback (localhost, 127.0.0.0/8, [::1]) or a name given with
 *   --allow-host: a page whose own name was re-pointed at 127.0.0.1 (DNS rebinding) still sends
 *   its own name, and is refused;
 * - a browser's request is refused unless its Origin is given with --allow-origin: a page on any
 *   other site must not drive the API (a cross-site form or fetch, or a same-site page on another
 *   port, which browsers mark with Sec-Fetch-Site even where they send no Origin);
 * - the probes (/healthz, /readyz, docker-spawner's /health) are exempt from the Host rule: they
 *   answer a liveness bit, change nothing, and are called by address (Kubernetes' kubelet sends
 *   the pod's IP as Host).
 */

import { isLoopbackHost } from "../core/loopback.js";

/** The header every answer carries, naming the controller: `berth status` checks it before it believes a status. */
export const CONTROLLER_HEADER = "x-berth-controller";

/** Under --ha, every answer says whether it came from the leader or a standby. */
export const ROLE_HEADER = "x-berth-role";
/** A standby's answers also say where the leader's API answers, when it advertised it (--ha-advertise). */
export const LEADER_HEADER = "x-berth-leader";

/** The probe endpoints: exempt from the Host rule. */
export const PROBES: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/health"]);

/** The host part of a Host header, lowercased, IPv6 kept in brackets; null when it is not one. */
export function hostOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.exec(header);
  return m?.[1] === undefined ? null : m[1].toLowerCase();
}

/** The Host header names loopback, or one of the allowed names. */
export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  const host = hostOf(header);
  if (host === null) return false;
  return isLoopbackHost(host) || allowed.includes(host);
}

/**
 * The request does not come from a browser page of another origin: no Origin header, or an
 * allowed one; and without an Origin, no Sec-Fetch-Site saying another site or origin sent it.
 * Programs (curl, the orchestrators) send neither header.
 */
export function originAllowed(
  origin: string | undefined,
  fetchSite: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin !== undefined) return allowed.includes(origin.toLowerCase());
  return fetchSite === undefined || fetchSite === "none" || fetchSite === "same-origin";
}
