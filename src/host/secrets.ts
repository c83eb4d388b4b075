/**
 * Where secretEnv values come from on the host: berth's own environment, and files under the
 * allowed secret folders. A file is read only when, resolved on the host as it is now, it still
 * lies under an allowed folder and is none of berth's own credential files (the spec was checked
 * earlier, and a symbolic link may have changed since). The opened file itself is compared with
 * the credential files, so a link swapped between the check and the open is caught too.
 */
import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import type { Policy, PolicyContext } from "../core/policy/policy.js";
import { secretFileAllowed } from "../core/policy/policy.js";
import { ownCredentialAllowed } from "../core/policy/secrets.js";
import type { SecretSources } from "../core/secrets.js";
import { hostPolicyContext } from "./host-paths.js";

export const MAX_SECRET_FILE_BYTES = 64 * 1024;

const OWN_CREDENTIAL =
  "is a file berth reads for its own credentials (such as its --api-token-file); it is never handed to a container";

/** Whether an opened file (its device and inode) is one of berth's own credential files. */
async function isOwnCredential(st: { dev: number; ino: number }, policy: Policy): Promise<boolean> {
  for (const own of policy.ownCredentialFiles) {
    const o = await stat(own).catch(() => null);
    if (o !== null && o.dev === st.dev && o.ino === st.ino) return true;
  }
  return false;
}

/** `ctx` resolves paths on the host; a test hands in one that lies, as a link swapped just after the check would. */
export function hostSecretSources(policy: Policy, ctx: PolicyContext = hostPolicyContext): SecretSources {
  return {
    env: process.env,
    readFile: async (path) => {
      const refusal = secretFileAllowed(path, policy, ctx) ?? ownCredentialAllowed(path, policy, ctx);
      if (refusal !== null) throw new Error(refusal);
      // Non-blocking: a FIFO put in place of the file must not hang the pass.
      const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const st = await handle.stat();
        if (policy.profile !== "privileged" && (await isOwnCredential(st, policy))) throw new Error(OWN_CREDENTIAL);
        if (!st.isFile()) throw new Error("is not a regular file");
        if (st.size > MAX_SECRET_FILE_BYTES) throw new Error(`is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB`);
        const bytes = await handle.readFile();
        if (bytes.length > MAX_SECRET_FILE_BYTES) throw new Error(`is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB`);
        return bytes.toString("utf8");
      } finally {
        await handle.close();
      }
    },
  };
}
