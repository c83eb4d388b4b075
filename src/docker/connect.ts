/**
 * The real engine at DOCKER_HOST (or the default socket): berth's port, and exec and logs on the same client.
 * A DOCKER_HOST berth cannot use (bogus://x, tcp:// without a host) is refused here, before any
 * call: docker-modem would speak HTTP to whatever host it could find in it.
 */
import { type CallOutcome, DockerAdapter } from "./adapter.js";
import { dockerHostError } from "./errors.js";
import type { ContainerIO, DockerPort } from "./port.js";
import type { SwarmPort } from "./swarm-adapter.js";

export function connectDocker(
  callTimeoutMs: number,
  onCall?: (operation: string, outcome: CallOutcome, durationMs: number) => void,
): { readonly port: DockerPort; readonly io: ContainerIO } {
  usableDockerHost();
  const adapter = new DockerAdapter({ callTimeoutMs, ...(onCall ? { onCall } : {}) });
  return { port: adapter, io: adapter.containerIO() };
}

/** The same engine as a Swarm manager (`--target swarm`): its port for pings, and services and tasks. */
export function connectSwarm(
  callTimeoutMs: number,
  onCall?: (operation: string, outcome: CallOutcome, durationMs: number) => void,
): { readonly port: DockerPort; readonly swarm: SwarmPort } {
  usableDockerHost();
  const adapter = new DockerAdapter({ callTimeoutMs, ...(onCall ? { onCall } : {}) });
  return { port: adapter, swarm: adapter.swarm() };
}

/** Throws BERTH_DOCKER_HOST when DOCKER_HOST, which docker-modem reads, is not an address berth can use. */
function usableDockerHost(): void {
  const err = dockerHostError(process.env.DOCKER_HOST);
  if (err) throw err;
}
