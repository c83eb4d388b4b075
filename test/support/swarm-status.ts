/** A swarm controller's status, as `berth run --target swarm` serves it: one running service and its network. */
import type { SwarmNetworkStatus } from "../../src/core/swarm-networks.js";
import type { SwarmSpecStatus } from "../../src/core/swarm-status.js";

export const SWARM_SPEC: SwarmSpecStatus = {
  name: "web",
  phase: "Running",
  message: "2/2 tasks running",
  file: "web.yaml",
  hash: "h",
  serviceId: "svc1",
  desired: 2,
  global: false,
  running: 2,
  nodes: ["node-a"],
  lastError: null,
};

export const SWARM_NETWORK: SwarmNetworkStatus = {
  name: "front",
  state: "Ready",
  message: null,
  source: "net.yaml",
  driver: "overlay",
  scope: "swarm",
  inUse: true,
  usedBy: ["web"],
};
