/** Compose `ports` and `expose` → berth ports. */
import type { Port } from "../core/document.gen.js";
import { type Handler, placeNew, type ServiceContext } from "./context.js";
import { plain, type Position, type Tree } from "./tree.js";
import { scalarText } from "./values.js";

type Protocol = "tcp" | "udp" | "sctp";

/** "8000" or "8000-8002" → the port numbers, or null. */
function range(text: string): number[] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return null;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || to < from) return null;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function protocolOf(text: string | undefined): Protocol | null {
  const p = (text ?? "tcp").toLowerCase();
  return p === "tcp" || p === "udp" || p === "sctp" ? p : null;
}

/**
 * Container ports and the host ports they are published on. Compose publishes a port without a
 * host port on an ephemeral one of the engine's range; berth picks one of its own range
 * (`hostPort: auto`, docs/ports.md), and a warning says which range. No host
 * address means every interface in Compose: berth writes 0.0.0.0, which its policy admits only
 * with --allow-host-ip 0.0.0.0 (berth's own default is loopback).
 */
function publish(
  ctx: ServiceContext,
  at: Position,
  path: string,
  target: string,
  published: string | null,
  hostIP: string | null,
  protocolText: string | undefined,
): void {
  const containerPorts = range(target);
  const protocol = protocolOf(protocolText);
  if (!containerPorts || !protocol) {
    ctx.error(at, path, `"${target}/${protocolText ?? "tcp"}" is not a port or port range with tcp, udp or sctp`);
    return;
  }
  const ports = (ctx.spec.ports ??= []);
  const ip = hostIP === null || hostIP === "" ? "0.0.0.0" : hostIP.replace(/^\[(.*)\]$/, "$1");
  const base = (containerPort: number): Port => ({ containerPort, ...(protocol !== "tcp" ? { protocol } : {}) });
  if (published === null || published === "") {
    ctx.warn(
      at,
      path,
      `Compose publishes ${target} on an ephemeral host port of the engine's range; berth writes hostPort: auto, ` +
        "the lowest free port of --host-port-range (default 10000-20000, docs/ports.md)",
    );
    for (const p of containerPorts) ports.push({ ...base(p), hostPort: "auto", hostIP: ip });
    return;
  }
  const hostPorts = range(published);
  if (!hostPorts) {
    ctx.error(at, path, `"${published}" is not a host port or port range`);
    return;
  }
  if (hostPorts.length !== containerPorts.length) {
    if (containerPorts.length !== 1) {
      ctx.error(at, path, `host ports ${published} and container ports ${target} differ in number`);
      return;
    }
    ctx.warn(at, path, `Compose picks a free port of ${published}; berth publishes on the first, ${hostPorts[0] ?? 0}`);
  }
  containerPorts.forEach((p, i) => {
    ports.push({ ...base(p), hostPort: hostPorts[Math.min(i, hostPorts.length - 1)], hostIP: ip });
  });
}

/** "[IP:][HOST:]CONTAINER[/PROTOCOL]" → its parts. IPv6 addresses are written in brackets. */
function shortPort(text: string): {
  ip: string | null;
  host: string | null;
  target: string;
  protocol: string | undefined;
} {
  const [spec = "", protocol] = text.split("/");
  const v6 = /^(\[[^\]]*\]):(.*)$/.exec(spec);
  const parts = v6 ? [v6[1] ?? "", ...(v6[2] ?? "").split(":")] : spec.split(":");
  const target = parts.pop() ?? "";
  const host = parts.pop() ?? null;
  const ip = parts.length > 0 ? parts.join(":") : null;
  return { ip, host, target, protocol };
}

const LONG_PORT_KEYS = new Set(["target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"]);

export const ports: Handler = (ctx, value, at, path) => {
  if (value.kind !== "seq") {
    ctx.error(at, path, "expected a list of ports");
    return;
  }
  value.items.forEach((item, i) => {
    const before = ctx.spec.ports?.length ?? 0;
    port(ctx, item, `${path}[${i}]`);
    placeNew(ctx, "ports", before, item);
  });
};

/** One item of `ports`: a short-syntax string or a long-syntax mapping. */
function port(ctx: ServiceContext, item: Tree, p: string): void {
  if (item.kind === "scalar") {
    const s = shortPort(scalarText(item));
    publish(ctx, item, p, s.target, s.host, s.ip, s.protocol);
    return;
  }
  if (item.kind !== "map") {
    ctx.error(item, p, "expected a port string or a mapping with target");
    return;
  }
  const field = (k: string): Tree | undefined => item.entries.get(k)?.value;
  for (const [k, e] of item.entries) {
    if (!LONG_PORT_KEYS.has(k)) ctx.warn(e, `${p}.${k}`, "unknown port key, ignored");
    else if (k === "mode") {
      const mode = scalarText(e.value);
      ctx.warn(
        e,
        `${p}.${k}`,
        mode === "host" || mode === "ingress"
          ? "berth's ports have no mode (a Swarm setting): berth publishes on the host directly"
          : "unknown port mode, ignored",
      );
    } else if (k === "name" || k === "app_protocol") {
      ctx.warn(e, `${p}.${k}`, "berth's ports have no name or application protocol");
    }
  }
  const target = field("target");
  if (!target) {
    ctx.error(item, p, "a long-syntax port needs target");
    return;
  }
  const published = field("published");
  const hostIp = field("host_ip");
  const protocol = field("protocol");
  publish(
    ctx,
    item,
    p,
    scalarText(target),
    published ? scalarText(published) : null,
    hostIp ? scalarText(hostIp) : null,
    protocol ? scalarText(protocol) : undefined,
  );
}

/** `expose`: ports made known without publishing them. */
export const expose: Handler = (ctx, value, at, path) => {
  if (value.kind !== "seq") {
    ctx.error(at, path, "expected a list of ports");
    return;
  }
  value.items.forEach((item, i) => {
    const [target = "", protocol] = scalarText(item).split("/");
    const numbers = range(target);
    const proto = protocolOf(protocol);
    if (!numbers || !proto) {
      ctx.error(item, `${path}[${i}]`, `${JSON.stringify(plain(item))} is not a port`);
      return;
    }
    const list = (ctx.spec.ports ??= []);
    const before = list.length;
    for (const containerPort of numbers) {
      if (!list.some((x) => x.containerPort === containerPort && (x.protocol ?? "tcp") === proto)) {
        list.push({ containerPort, ...(proto !== "tcp" ? { protocol: proto } : {}) });
      }
    }
    placeNew(ctx, "ports", before, item);
  });
};

/**
 * With network_mode: host the container listens on the host's own ports: Docker discards
 * published ports, and `expose` only documents. Both are left out, each with a finding.
 */
export function hostNetworkPorts(ctx: ServiceContext): void {
  if (ctx.spec.network !== "host" || ctx.spec.ports === undefined) return;
  delete ctx.spec.ports;
  const expose = ctx.entries.get("expose");
  const ports = ctx.entries.get("ports");
  const why = "with network_mode: host the container listens on the host's ports";
  if (expose) ctx.warn(expose, `${ctx.path}.expose`, `${why}: expose is informational, left out`);
  if (ports) ctx.warn(ports, `${ctx.path}.ports`, `${why}: Docker discards published ports, left out`);
}
