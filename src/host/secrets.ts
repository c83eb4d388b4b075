/**
 * Where secretEnv values come from on the host: berth's own environment, and files under the
 * allowed secret folders. A file is read only when, resolved on the host as it is now, it still
 * lies under an allowed folder (the spec was checked earlier, and a symbolic link may have
 * changed since).
 */
import { readFile } from "node:fs/promises";
import type { Policy } from "../core/policy/policy.js";
import { secretFileAllowed } from "../core/policy/policy.js";
import type { SecretSources } from "../core/secrets.js";
import { hostPolicyContext } from "./host-paths.js";

export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export function hostSecretSources(policy: Policy): SecretSources {
  return {
    env: process.env,
    readFile: async (path) => {
      const refusal = secretFileAllowed(path, policy, hostPolicyContext);
      if (refusal !== null) throw new Error(refusal);
      const bytes = await readFile(path);
      if (bytes.length > MAX_SECRET_FILE_BYTES) throw new Error(`is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB`);
      return bytes.toString("utf8");
    },
  };
}
