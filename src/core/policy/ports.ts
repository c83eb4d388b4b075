/** Checks on published ports: allowed host ports, loopback unless another address is allowed. */
import { type Check, listFound, widen } from "./check.js";
import { autoHostPortRanges, formatRanges } from "../host-ports.js";
import { AUTO_HOST_PORT } from "../spec.js";
import type { Policy } from "./types.js";

function isLoopback(ip: string): boolean {
  return ip === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

function portAllowed(port: number, policy: Policy): boolean {
  return policy.allowHostPorts.some((r) => port >= r.from && port <= r.to);
}

export { formatRanges };

export const PORT_CHECKS: readonly Check[] = [
  {
    id: "allowed-host-ports",
    scope: "baseline",
    summary:
      "A published `hostPort` must lie in `--allow-host-ports` (default 1024-65535: none below 1024); `hostPort: auto` needs a port of `--host-port-range` among them.",
    spec: (doc, _spec, policy) =>
      listFound(doc.spec.ports, (p, i) => {
        if (p.hostPort === undefined) return null;
        const path = ["spec", "ports", i, "hostPort"];
        if (p.hostPort === AUTO_HOST_PORT) {
          return autoHostPortRanges(policy.hostPortRange, policy.allowHostPorts).length === 0
            ? {
                path,
                message: `no port of --host-port-range ${formatRanges([policy.hostPortRange])} is among the allowed ports (${formatRanges(policy.allowHostPorts)}); widen --allow-host-ports or move --host-port-range`,
              }
            : null;
        }
        return typeof p.hostPort === "number" && !portAllowed(p.hostPort, policy)
          ? {
              path,
              message: `host port ${p.hostPort} is outside the allowed ports (${formatRanges(policy.allowHostPorts)})${widen("--allow-host-ports")}`,
            }
          : null;
      }),
    request: (b, policy) =>
      Object.values(b.HostConfig.PortBindings ?? {})
        .flat()
        .filter((binding) => !portAllowed(Number(binding.HostPort), policy))
        .map((binding) => `host port ${binding.HostPort}`),
  },
  {
    id: "allowed-host-ip",
    scope: "baseline",
    summary:
      "Ports are published on loopback unless `hostIP` is listed in `--allow-host-ip` (e.g. 0.0.0.0 for every interface).",
    spec: (doc, _spec, policy) =>
      listFound(doc.spec.ports, (p, i) =>
        p.hostPort !== undefined &&
        p.hostIP !== undefined &&
        !isLoopback(p.hostIP) &&
        !policy.allowHostIPs.includes(p.hostIP)
          ? {
              path: ["spec", "ports", i, "hostIP"],
              message: `publishing on ${p.hostIP} is refused (loopback only)${widen(`--allow-host-ip ${p.hostIP}`)}`,
            }
          : null,
      ),
    request: (b, policy) =>
      Object.values(b.HostConfig.PortBindings ?? {})
        .flat()
        .filter((binding) => !isLoopback(binding.HostIp) && !policy.allowHostIPs.includes(binding.HostIp))
        .map((binding) => `host address ${binding.HostIp}`),
  },
];
