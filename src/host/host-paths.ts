/**
 * The filesystem edge of the admission policy: resolves symbolic links in a host path, as far as
 * the path exists (Docker creates a missing bind source below its deepest existing folder, so
 * that folder's real location is what counts).
 */
import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import type { PolicyContext } from "../core/policy/policy.js";

export function resolveHostPath(p: string): string {
  const rest: string[] = [];
  let current = path.posix.resolve(p);
  for (;;) {
    try {
      return path.posix.join(realpathSync(current), ...rest.reverse());
    } catch {
      const parent = path.posix.dirname(current);
      if (parent === current) return path.posix.join(current, ...rest.reverse());
      rest.push(path.posix.basename(current));
      current = parent;
    }
  }
}

/** Whether two existing host paths are one file (device and inode), following links. */
export function sameHostFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

export const hostPolicyContext: PolicyContext = { realpath: resolveHostPath, sameFile: sameHostFile };
