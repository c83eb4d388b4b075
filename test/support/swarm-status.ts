/** A swarm controller's status, as `berth run --target swarm` serves it: one running service and its network. */
import type { ObservedService } from "../../src/core/swarm-plan.js";
import type { ServiceSpec } from "../../src/core/swarm-service.js";
import type { SwarmNetworkStatus } from "../../src/core/swarm-networks.js";
import type { SwarmSpecStatus, SwarmTaskStatus } from "../../src/core/swarm-status.js";

/** A running task of slot 1 on node-a, with what `over` changes. */
export const swarmTask = (id: string, over: Partial<SwarmTaskStatus> = {}): SwarmTaskStatus => ({
  id,
  slot: 1,
  node: "node-a",
  desiredState: "running",
  state: "running",
  error: null,
  since: "2026-11-23T10:00:00.000Z",
  ...over,
});

export const SWARM_SPEC: SwarmSpecStatus = {
  name: "web",
  phase: "Running",
  message: "2/2 tasks running",
  file: "web.yaml",
  hash: "h",
  serviceId: "svc1",
  canaryServiceId: null,
  desired: 2,
  global: false,
  running: 2,
  updated: 2,
  nodes: ["node-a"],
  lastError: null,
  expiresAt: null,
  tasks: [swarmTask("task1"), swarmTask("task2", { slot: 2, since: "2026-11-23T10:00:01.000Z" })],
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

/** A service as the service list would show the body berth sent (its name, labels and replicas), with `over` applied. */
export const observedService = (
  body: ServiceSpec,
  id: string,
  version: number,
  over: Partial<ObservedService> = {},
): ObservedService => ({
  id,
  name: body.Name,
  version,
  labels: body.Labels,
  replicas: "Replicated" in body.Mode ? body.Mode.Replicated.Replicas : null,
  updating: false,
  updateFailure: null,
  secretIds: [],
  ...over,
});
