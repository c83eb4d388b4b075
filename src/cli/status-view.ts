/** The status table `berth status` and `berth apply` print. */
import { capacityLine } from "../core/capacity.js";
import type { GitSourceStatus } from "../core/git-source.js";
import type { ContainerStatus, SpecStatus, StatusReport } from "../core/status.js";
import { age, table } from "./table.js";

/** One `Key:  value` line of `berth get`'s detail ("-" for none). */
export function detailLine(key: string, value: string | number | null): string {
  return `${`${key}:`.padEnd(13)}${value ?? "-"}\n`;
}

/**
 * A container's addresses, IPv4 then IPv6: the IPs alone on one network, `network=IP` pairs on
 * several; "-" for none.
 */
export function formatAddresses(c: Pick<ContainerStatus, "addresses" | "ipv6Addresses">): string {
  const entries = [...Object.entries(c.addresses), ...Object.entries(c.ipv6Addresses)];
  if (entries.length === 0) return "-";
  if (new Set(entries.map(([network]) => network)).size === 1) return entries.map(([, ip]) => ip).join(",");
  return entries.map(([network, ip]) => `${network}=${ip}`).join(",");
}

/** A container's host ports, `10000->3000/tcp`, comma-separated; "-" for none. */
export function formatHostPorts(hostPorts: ContainerStatus["hostPorts"]): string {
  const entries = Object.entries(hostPorts);
  return entries.length === 0 ? "-" : entries.map(([key, port]) => `${port}->${key}`).join(",");
}

/** `web-0(running)`, `web-0(running,healthy)`; a finished run `job(exited,Error,exit 3,2m ago)`. */
function containerCell(c: ContainerStatus, now: number): string {
  const parts = [c.collected ? "collected" : c.state];
  if (c.health) parts.push(c.health);
  if (c.reason !== null) {
    parts.push(c.reason);
    if (c.exitCode !== null) parts.push(`exit ${c.exitCode}`);
    if (c.finishedAt !== null) parts.push(`${age(Date.parse(c.finishedAt), now)} ago`);
  } else if ((c.restarts ?? 0) > 0) parts.push(restartsCell(c, now));
  return `${c.name}(${parts.join(",")})`;
}

/** A container the engine restarted: how often, and its last exit ("3 restarts,last exit 1 2m ago"). */
function restartsCell(c: Pick<ContainerStatus, "restarts" | "lastExit">, now: number): string {
  const n = c.restarts ?? 0;
  const code = c.lastExit?.exitCode ?? null;
  const exit = c.lastExit
    ? `,last exit ${code === null ? "" : `${code} `}${age(Date.parse(c.lastExit.at), now)} ago`
    : "";
  return `${n} restart${n === 1 ? "" : "s"}${exit}`;
}

/** The Git sources' table and their broken files (docs/gitops.md, "Status"), under either target; "" for none. */
export function renderSources(sources: readonly GitSourceStatus[], now: number): string {
  if (sources.length === 0) return "";
  let out = `\n${table(
    ["SOURCE", "REVISION", "COMMITTED", "SUBJECT", "FETCHED", "LAST FETCH"],
    sources.map((g) => [
      `${g.url}@${g.ref}${g.path ? `:${g.path}` : ""}`,
      g.shortRevision ?? "-",
      g.committedAt === null ? "-" : `${age(Date.parse(g.committedAt), now)} ago`,
      g.subject ?? "-",
      g.lastFetchAt === null ? "never" : `${age(Date.parse(g.lastFetchAt), now)} ago`,
      g.lastError === null ? "ok" : `failed ${g.failures}x: ${g.lastError}`,
    ]),
  )}`;
  for (const g of sources)
    if (g.invalidFiles.length > 0)
      out += `! ${g.name}: invalid since ${g.brokenAt?.slice(0, 12) ?? "?"} (the last good versions run): ${g.invalidFiles.join(", ")}\n`;
  return out;
}

/**
 * READY: of the current version; while containers of another version serve (a rollout under way,
 * or held), how many are available at all: `0/2 (2 available)`.
 */
export function readyCell(r: SpecStatus["replicas"]): string {
  return `${r.ready}/${r.desired}${r.available > r.ready ? ` (${r.available} available)` : ""}`;
}

/** With `wide`, each spec's file, hash, containers' addresses and host ports, and last action too (`berth status -o wide`). */
export function renderStatus(report: StatusReport, now: number, { wide = false }: { wide?: boolean } = {}): string {
  const rows = report.specs.map((s) => {
    const oldest = s.containers.reduce<number | null>((min, c) => {
      const t = Date.parse(c.createdAt);
      return Number.isNaN(t) || (min !== null && min <= t) ? min : t;
    }, null);
    const more = wide
      ? [
          s.file ?? "-",
          s.hash?.slice(0, 12) ?? "-",
          s.containers.map((c) => formatAddresses(c)).join(" ") || "-",
          s.containers.map((c) => formatHostPorts(c.hostPorts)).join(" ") || "-",
          s.lastAction ? `${s.lastAction.kind}(${s.lastAction.ok ? "ok" : "failed"})` : "-",
        ]
      : [];
    return [
      s.name,
      s.phase,
      readyCell(s.replicas),
      s.containers.map((c) => containerCell(c, now)).join(" ") || "-",
      oldest === null ? "-" : age(oldest, now),
      s.expiresAt ?? "never",
      ...more,
      s.message ?? "",
    ];
  });
  const header = ["SPEC", "PHASE", "READY", "CONTAINERS", "AGE", "EXPIRES"];
  let out = table([...header, ...(wide ? ["FILE", "HASH", "ADDRESSES", "PORTS", "LAST ACTION"] : []), "MESSAGE"], rows);
  if (report.orphans.length > 0) {
    out += `\ncontainers without a spec (kept): ${report.orphans.map((c) => `${c.name}(${c.state})`).join(" ")}\n`;
  }
  const objects = report.objects ?? [];
  if (objects.length > 0) {
    out += `\n${table(
      ["NETWORK/VOLUME", "STATE", "USED BY", "MESSAGE"],
      objects.map((o) => [
        `${o.kind.toLowerCase()}/${o.name}`,
        o.state,
        o.usedBy.length === 0 ? "-" : o.usedBy.join(" "),
        o.message ?? "",
      ]),
    )}`;
  }
  out += renderSources(report.sources ?? [], now);
  for (const e of report.errors ?? []) out += `! ${e.text}\n`;
  for (const note of report.notes) out += `! ${note}\n`;
  if (report.node) out += `${capacityLine(report.node)}\n`;
  return out;
}
