/**
 * Host-port allocation for `hostPort: auto` (docs/ports.md). Pure: what is taken comes from the
 * observation — the ports the engine reports bound by any container, berth's `host_ports` labels
 * (which a stopped container keeps) — and from the hints the loop hands in (ports a program outside
 * Docker holds, creates in flight). Each container needing ports gets the lowest free port of the
 * range, holes reused, in a deterministic order (spec name, then replica: the planner's order);
 * a StopFirst replacement keeps its instance's previous port.
 */
import type { ObservedContainer } from "./observed.js";
import type { PortRange } from "./policy/types.js";
import { AUTO_HOST_PORT, type NormalizedSpec } from "./spec.js";

/** --host-port-range's default. */
export const DEFAULT_HOST_PORT_RANGE: PortRange = { from: 10000, to: 20000 };

/** Container port → host port, keyed as the engine keys port bindings ("3000/tcp"). */
export type HostPortMap = Readonly<Record<string, number>>;

/** The ports `auto` may take: the range, within the ports the policy allows; sorted, disjoint. */
export function autoHostPortRanges(range: PortRange, allowed: readonly PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  for (const a of [...allowed].sort((x, y) => x.from - y.from)) {
    const from = Math.max(range.from, a.from);
    const to = Math.min(range.to, a.to);
    if (from > to) continue;
    const last = out[out.length - 1];
    if (last && from <= last.to + 1) out[out.length - 1] = { from: last.from, to: Math.max(last.to, to) };
    else out.push({ from, to });
  }
  return out;
}

/** "10000-20000"; "80,8000-9000" for several; "none" for none. */
export function formatRanges(ranges: readonly PortRange[]): string {
  if (ranges.length === 0) return "none";
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(",");
}

/** The spec's ports that are `auto`, as binding keys, in the spec's (sorted) order. */
export function autoPortKeys(spec: NormalizedSpec): string[] {
  return spec.ports.filter((p) => p.hostPort === AUTO_HOST_PORT).map((p) => `${p.containerPort}/${p.protocol}`);
}

/** The `host_ports` label: "3000/tcp=10000,8080/udp=10001". */
export function formatHostPortsLabel(ports: HostPortMap): string {
  return Object.entries(ports)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, port]) => `${key}=${port}`)
    .join(",");
}

/** Reads the `host_ports` label; entries that are not `PORT/PROTO=PORT` are ignored. */
export function parseHostPortsLabel(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of (text ?? "").split(",")) {
    const m = /^(\d{1,5}\/(?:tcp|udp|sctp))=(\d{1,5})$/.exec(entry.trim());
    const port = Number(m?.[2]);
    if (m?.[1] !== undefined && port >= 1 && port <= 65535) out[m[1]] = port;
  }
  return out;
}

/** The host ports a container holds: its published ports as listed (while it runs) and its label (in any state). */
export function containerHostPorts(c: ObservedContainer, hostPortsKey: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of c.ports ?? []) out[`${p.containerPort}/${p.protocol}`] = p.hostPort;
  return { ...out, ...parseHostPortsLabel(c.labels[hostPortsKey]) };
}

/**
 * Port → who holds it: a container's ID; `reservedBy(spec)` for a create of that spec still in
 * flight; "" for a program outside Docker.
 */
export type TakenPorts = Map<number, string>;

/** The holder of a port given to a create of `spec` that is still in flight. */
export function reservedBy(spec: string): string {
  return `reserved:${spec}`;
}

/**
 * Taken ports: those of every container observed (berth's, with their labels, and others' as the
 * unfiltered list reports them) and the extra ones the loop knows of. A port is taken whatever
 * its protocol and address (simple, and never wrong in the unsafe direction).
 */
export function takenHostPorts(
  containers: readonly ObservedContainer[],
  hostPortsKey: string,
  extra: ReadonlyMap<number, string> = new Map(),
): TakenPorts {
  const taken: TakenPorts = new Map();
  for (const c of containers)
    for (const port of Object.values(containerHostPorts(c, hostPortsKey))) taken.set(port, c.id);
  // Last: a port a program outside Docker holds is not free even for the container that had it.
  for (const [port, holder] of extra) taken.set(port, holder);
  return taken;
}

/** Hands out ports for one plan; each port it gives is taken for the rest of the plan. */
export class HostPortAllocator {
  constructor(
    private readonly ranges: readonly PortRange[],
    private readonly taken: TakenPorts,
  ) {}

  /** The ranges, as messages show them. */
  get rangeText(): string {
    return formatRanges(this.ranges);
  }

  /**
   * Ports for `keys` (binding keys) of a container of `spec`: `previous[key]` when it is free or
   * held only by `releasing` (the container a StopFirst replacement removes first) and in range;
   * else one the spec's own create in flight holds (that spec waits; its plan must not take
   * another's port); else the lowest free one. Null when the ranges are exhausted; nothing is
   * taken then.
   */
  allocate(
    keys: readonly string[],
    spec: string,
    previous: HostPortMap = {},
    releasing: string | null = null,
  ): HostPortMap | null {
    const chosen: Record<string, number> = {};
    const mine = new Set<number>();
    const own = reservedBy(spec);
    const free = (port: number): boolean => {
      const holder = this.taken.get(port);
      return (
        !mine.has(port) && (holder === undefined || holder === own || (releasing !== null && holder === releasing))
      );
    };
    const reserved = [...this.taken].flatMap(([port, holder]) => (holder === own ? [port] : [])).sort((a, b) => a - b);
    for (const key of keys) {
      const before = previous[key];
      const port =
        before !== undefined && this.inRange(before) && free(before)
          ? before
          : (reserved.find((p) => free(p)) ?? this.lowestFree(free));
      if (port === null) return null;
      chosen[key] = port;
      mine.add(port);
    }
    for (const port of mine) this.taken.set(port, "");
    return chosen;
  }

  private inRange(port: number): boolean {
    return this.ranges.some((r) => port >= r.from && port <= r.to);
  }

  private lowestFree(free: (port: number) => boolean): number | null {
    for (const r of this.ranges) for (let port = r.from; port <= r.to; port++) if (free(port)) return port;
    return null;
  }
}
