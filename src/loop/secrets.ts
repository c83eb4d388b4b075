/**
 * Resolves a spec's secretEnv: values from the controller's environment (fromHostEnv) or from a
 * file (fromFile). Errors name the variable or the file, never a value. The values go to the
 * container's environment and nowhere else; only their SHA-256 digests reach the spec hash.
 */
import { readFile } from "node:fs/promises";
import { sha256Hex } from "../core/hash.js";
import { type Policy, secretFileAllowed } from "../core/policy/policy.js";
import type { NormalizedSpec } from "../core/spec.js";
import { hostPolicyContext } from "../host/host-paths.js";

export interface SecretSources {
  /** The controller's environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a secret file's text. */
  readonly readFile: (path: string) => Promise<string>;
}

export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * The controller's own environment and files. A file is read only when, resolved on the host as
 * it is now, it still lies under an allowed secret folder (the spec check was made earlier, and a
 * symbolic link may have changed since).
 */
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

export type SecretResolution =
  | {
      readonly ok: true;
      readonly values: Readonly<Record<string, string>>;
      readonly digests: Readonly<Record<string, string>>;
    }
  | { readonly ok: false; readonly error: string };

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "it does not exist";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return (err as Error).message;
}

export async function resolveSecrets(spec: NormalizedSpec, sources: SecretSources): Promise<SecretResolution> {
  const values: Record<string, string> = {};
  const digests: Record<string, string> = {};
  for (const [name, source] of Object.entries(spec.secretEnv)) {
    let value: string;
    if (source.kind === "hostEnv") {
      const found = sources.env[source.name];
      if (found === undefined) {
        return {
          ok: false,
          error: `secret ${name}: the controller's environment has no variable ${source.name}; set it where berth runs`,
        };
      }
      value = found;
    } else {
      try {
        value = (await sources.readFile(source.path)).replace(/\r?\n$/, "");
      } catch (err) {
        return { ok: false, error: `secret ${name}: cannot read the file ${source.path}: ${reason(err)}` };
      }
    }
    values[name] = value;
    digests[name] = sha256Hex(value);
  }
  return { ok: true, values, digests };
}
