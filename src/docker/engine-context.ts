/**
 * The facts an engine error message needs (engine-message.ts): DOCKER_HOST, the socket's owner,
 * group and mode, berth's uid, whether berth runs in a container. Read only when such an error
 * happens; anything that cannot be read is left out.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { DEFAULT_DOCKER_HOST, type EngineContext, type SocketFacts, socketPathOf } from "./engine-message.js";

function groupName(gid: number): string | null {
  try {
    for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
      const [name, , id] = line.split(":");
      if (name && id !== undefined && Number(id) === gid) return name;
    }
  } catch {
    // No /etc/group: the gid alone.
  }
  return null;
}

function socketFacts(path: string | null): SocketFacts | null {
  if (path === null) return null;
  try {
    const s = statSync(path);
    return { uid: s.uid, gid: s.gid, group: groupName(s.gid), mode: s.mode & 0o7777 };
  } catch {
    return null;
  }
}

export function engineContext(env: Readonly<Record<string, string | undefined>>): EngineContext {
  const dockerHost = env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
  return {
    dockerHost,
    socket: socketFacts(socketPathOf(dockerHost)),
    uid: process.getuid?.() ?? null,
    inContainer: existsSync("/.dockerenv") || existsSync("/run/.containerenv"),
  };
}
