/**
 * Which host names are this machine's loopback: what the API always answers for (http/access.ts)
 * and what an --ha berth's advertised name need not be added to (config.ts). Pure.
 */

const IPV4_LOOPBACK =
  /^127\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** `localhost`, `[::1]` or 127.0.0.0/8, as a Host header's host part writes them (lowercased, IPv6 in brackets). */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "[::1]" || IPV4_LOOPBACK.test(host);
}
