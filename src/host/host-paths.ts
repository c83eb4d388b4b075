/**
 * The filesystem edge of the admission policy: resolves symbolic links in a host path, as far as
 * the path exists (Docker creates a missing bind source below its deepest existing folder, so
 * that folder's real location is what counts).
 */
import { realpathSync } from "node:fs";
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

export const hostPolicyContext: PolicyContext = { realpath: resolveHostPath };
