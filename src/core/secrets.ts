/**
 * secretEnv: values from the controller's environment (fromHostEnv) or from a file (fromFile),
 * read through the sources the caller hands in (the host edge, host/secrets.ts). Errors name the
 * variable or the file, never a value. The values go to the container's environment and nowhere
 * else; only their digests reach the spec hash: HMAC-SHA256 under the controller's hash key, so
 * that the hash (a label, in status and the API) cannot confirm a guessed value offline
 * (docs/design.md, "The spec hash").
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
import { hmacSha256Hex, sha256Hex } from "./sha256.js";
import type { NormalizedSpec } from "./spec.js";

/** How a secret value enters the spec hash: 64 hex digits. */
export type SecretDigest = (value: string) => string;

/**
 * The unkeyed digest (SHA-256): where no berth of this controller id has a hash key yet, and what
 * containers made by berth before keyed hashes carry.
 */
export const UNKEYED_DIGEST: SecretDigest = (value) => sha256Hex(value);

/** HMAC-SHA256 under the controller's hash key. */
export function keyedDigest(key: Uint8Array): SecretDigest {
  const copy = Uint8Array.from(key);
  return (value) => hmacSha256Hex(copy, value);
}

export interface SecretSources {
  /** The controller's environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a secret file's text. */
  readonly readFile: (path: string) => Promise<string>;
  /**
   * The digest secret values enter the spec hash with, asked for only when a spec has secrets;
   * absent: the unkeyed digest. The desired state and the create-time read use the same one, so
   * the two always agree.
   */
  readonly digest?: () => Promise<SecretDigest>;
}

export type SecretResolution =
  | {
      readonly ok: true;
      readonly values: Readonly<Record<string, string>>;
      readonly digests: Readonly<Record<string, string>>;
      /** The digests are keyed (HMAC under the controller's key), not plain SHA-256. */
      readonly keyed: boolean;
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
  const entries = Object.entries(spec.secretEnv);
  if (entries.length === 0) return { ok: true, values, digests, keyed: false };
  let digest = UNKEYED_DIGEST;
  try {
    if (sources.digest) digest = await sources.digest();
  } catch (err) {
    return {
      ok: false,
      error: `secrets cannot enter the spec hash: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  for (const [name, source] of entries) {
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
    digests[name] = digest(value);
  }
  return { ok: true, values, digests, keyed: digest !== UNKEYED_DIGEST };
}

/**
 * The create-time read: the values to hand the new container, the hash to label it with (the
 * planned hash when the spec has no secrets), and the digests its applied label may carry
 * (core/applied.ts): null when they are unkeyed, since a plain SHA-256 of one secret would let a
 * reader of the label check a guess.
 */
export async function secretsForCreate(
  spec: NormalizedSpec,
  plannedHash: string,
  sources: SecretSources,
): Promise<{
  readonly values: Readonly<Record<string, string>>;
  readonly labelHash: string;
  readonly labelDigests: Readonly<Record<string, string>> | null;
}> {
  const secrets = await resolveSecrets(spec, sources);
  if (!secrets.ok) throw BerthError.retriable("BERTH_SECRET", secrets.error);
  const hasSecrets = Object.keys(spec.secretEnv).length > 0;
  return {
    values: secrets.values,
    labelHash: hasSecrets ? specHash(spec, secrets.digests) : plannedHash,
    labelDigests: !hasSecrets || secrets.keyed ? secrets.digests : null,
  };
}
