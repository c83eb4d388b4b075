/** Whether berth itself runs in a container, and which: for `network: auto`. */
import { readFile } from "node:fs/promises";

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

/** A seccomp profile named by a spec, read when the container is created. */
export function readSeccompProfile(path: string): Promise<string> {
  return readFile(path, "utf8");
}
