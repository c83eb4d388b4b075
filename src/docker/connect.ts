/** The real engine at DOCKER_HOST (or the default socket): berth's port, and exec and logs on the same client. */
import { type CallOutcome, DockerAdapter } from "./adapter.js";
import type { ContainerIO, DockerPort } from "./port.js";
import type { SwarmPort } from "./swarm-adapter.js";

export function connectDocker(
  callTimeoutMs: number,
  onCall?: (operation: string, outcome: CallOutcome, durationMs: number) => void,
): { readonly port: DockerPort; readonly io: ContainerIO } {
  const adapter = new DockerAdapter({ callTimeoutMs, ...(onCall ? { onCall } : {}) });
  return { port: adapter, io: adapter.containerIO() };
}

/** The same engine as a Swarm manager (`--target swarm`): its port for pings, and services and tasks. */
export function connectSwarm(
  callTimeoutMs: number,
  onCall?: (operation: string, outcome: CallOutcome, durationMs: number) => void,
): { readonly port: DockerPort; readonly swarm: SwarmPort } {
  const adapter = new DockerAdapter({ callTimeoutMs, ...(onCall ? { onCall } : {}) });
  return { port: adapter, swarm: adapter.swarm() };
}
