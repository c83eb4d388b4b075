/**
 * `network: auto` (docs/design.md, "Networks"): --network / BERTH_NETWORK if set; else, when berth
 * itself runs in a container, that container's first network; else bridge. Resolved at the first
 * create that needs it and kept; a failed lookup is tried again at the next.
 */
import type { DockerPort } from "../docker/port.js";

export const AUTO_NETWORK = "auto";

export async function resolveAutoNetwork(
  docker: DockerPort,
  configured: string | null,
  selfId: string | null,
): Promise<string> {
  if (configured) return configured;
  if (selfId) {
    const self = await docker.inspectContainer(selfId);
    const first = self?.networks[0];
    if (first) return first;
  }
  return "bridge";
}

export class AutoNetwork {
  private resolved: Promise<string> | null = null;

  constructor(
    private readonly docker: DockerPort,
    private readonly configured: string | null,
    /** Which container berth runs in (host/self-container.ts), or null outside one. */
    private readonly selfId: () => Promise<string | null>,
  ) {}

  /** The network a container of `network` joins: `auto` resolved, anything else as it is. */
  async resolve(network: string): Promise<string> {
    if (network !== AUTO_NETWORK) return network;
    this.resolved ??= this.selfId().then((self) => resolveAutoNetwork(this.docker, this.configured, self));
    try {
      return await this.resolved;
    } catch (err) {
      this.resolved = null;
      throw err;
    }
  }
}
