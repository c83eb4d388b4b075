/**
 * secretEnv: values from the controller's environment (fromHostEnv) or from a file (fromFile),
 * read through the sources the caller hands in (the host edge, host/secrets.ts). Errors name the
 * variable or the file, never a value. The values go to the container's environment and nowhere
 * else; only their SHA-256 digests reach the spec hash.
 *
 * Secrets are read twice, each time for its own reason (docs/design.md, "Secrets"):
 * - when the desired state is built, for their digests: a rotated secret changes the spec hash,
 *   and the container is replaced;
 * - right before a create (secretsForCreate), for their values: berth keeps no secret value in
 *   memory between passes, and the container's hash label is recomputed from the values actually
 *   used, so a secret rotated since planning labels the container truthfully.
 */
import { BerthError } from "./errors.js";
import { specHash } from "./hash.js";
import { sha256Hex } from "./sha256.js";
import type { NormalizedSpec } from "./spec.js";

export interface SecretSources {
  /** The controller's environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a secret file's text. */
  readonly readFile: (path: string) => Promise<string>;
}

export type SecretResolution =
  | {
      readonly ok: true;
      readonly values: Readonly<Record<string, string>>;
      readonly digests: Readonly<Record<string, string>>;
    }
  | { readonly ok: false; readonly error: string };

function reason(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === "ENOENT") return "it does not exist";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return err instanceof Error ? err.message : String(err);
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

/**
 * The create-time read: the values to hand the new container, and the hash to label it with
 * (the planned hash when the spec has no secrets).
 */
export async function secretsForCreate(
  spec: NormalizedSpec,
  plannedHash: string,
  sources: SecretSources,
): Promise<{ readonly values: Readonly<Record<string, string>>; readonly labelHash: string }> {
  const secrets = await resolveSecrets(spec, sources);
  if (!secrets.ok) throw BerthError.retriable("BERTH_SECRET", secrets.error);
  const labelHash = Object.keys(spec.secretEnv).length > 0 ? specHash(spec, secrets.digests) : plannedHash;
  return { values: secrets.values, labelHash };
}
