/**
 * Who a command run in a container (exec) may run as. Not a check on a spec (the CHECKS table):
 * an exec is asked of a running container through the HTTP API, docker-spawner's /exec or
 * `berth exec`, and ops/containers.ts asks this before it reaches the engine.
 *
 * Under the restricted profile an exec may not run as root: not `user: "0"`, `root`, `0:GID`,
 * `UID:0`, a user name (berth cannot know which uid a name maps to in the image, and `root` is
 * one), nor — when the exec names no user — in a container whose own user is root or not known
 * as a numeric non-root one. The other profiles leave the user to the caller.
 */
import type { Profile } from "./types.js";

export const EXEC_CHECK_ID = "exec-as-non-root";

/** Numeric `UID` or `UID:GID`, neither 0. */
function numericNonRoot(user: string): boolean {
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  return m !== null && Number(m[1]) !== 0 && (m[2] === undefined || Number(m[2]) !== 0);
}

function shown(user: string): string {
  return JSON.stringify(user.length > 40 ? `${user.slice(0, 40)}…` : user);
}

/**
 * Why an exec may not run, or null when it may. `execUser` is the user the request names
 * (undefined or "": none, so the container's own user applies); `containerUser` is the
 * container's configured user as the engine reports it ("" means the image's default, root), or
 * null when it is not known.
 */
export function execUserRefusal(
  profile: Profile,
  execUser: string | undefined,
  containerUser: string | null,
): string | null {
  if (profile !== "restricted") return null;
  const suffix = ` [policy restricted: ${EXEC_CHECK_ID}]`;
  if (execUser !== undefined && execUser !== "") {
    if (numericNonRoot(execUser)) return null;
    return `exec as user ${shown(execUser)} is refused: name a numeric non-root UID or UID:GID (e.g. 1000:1000)${suffix}`;
  }
  if (containerUser !== null && numericNonRoot(containerUser)) return null;
  const whose =
    containerUser === null
      ? "the container's user is not known"
      : containerUser === ""
        ? "the container runs as the image's default user, root"
        : `the container runs as ${shown(containerUser)}, not a numeric non-root UID`;
  return `exec without a user is refused: ${whose}; name a numeric non-root UID or UID:GID (e.g. 1000:1000)${suffix}`;
}
