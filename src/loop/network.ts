/**
 * `network: auto` (DESIGN §6): --network / BERTH_NETWORK if set; else, when berth itself runs in
 * a container, that container's first network; else bridge. Resolved once, at start.
 */
import { readFile } from "node:fs/promises";
import type { DockerPort } from "../docker/port.js";

export const AUTO_NETWORK = "auto";

/** The ID of the container this process runs in, from /proc/self/mountinfo; null outside one. */
export async function selfContainerId(mountinfo = "/proc/self/mountinfo"): Promise<string | null> {
  try {
    const text = await readFile(mountinfo, "utf8");
    const match = /\/(?:docker\/)?containers\/([0-9a-f]{64})\//.exec(text);
    return match?.[1] ?? null;
  } catch {
    return null;
  }
}

export async function resolveAutoNetwork(
  port: DockerPort,
  configured: string | null,
  selfId: string | null,
): Promise<string> {
  if (configured) return configured;
  if (selfId) {
    const self = await port.inspectContainer(selfId);
    const first = self?.networks[0];
    if (first) return first;
  }
  return "bridge";
}
