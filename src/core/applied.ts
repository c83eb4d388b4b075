/**
 * The applied-spec label (docs/design.md, "What a replace changes"): each container carries what it
 * was made from, so that `berth plan` can say which fields a replace changes — with no state but the
 * container, read from the list call a pass already makes.
 *
 * The label holds the spec hash's input (core/hash.ts: canonical units, defaults omitted, each
 * secret as its keyed digest — never a value) and where each secret comes from (`fromHostEnv`,
 * `fromFile`). It is believed only when that input hashes to the container's hash label: a label
 * that is corrupt, cut short, hand-made or of another hash format reads as absent, and the plan
 * keeps its bare reason (`hash changed`).
 *
 * Encoding: the canonical JSON itself while it is at most APPLIED_PLAIN_MAX characters (readable in
 * `docker inspect`); above that `deflate:` and the base64 of its raw DEFLATE when that is shorter;
 * nothing at all when the value would pass APPLIED_MAX.
 */
import { deflateBase64, inflateBase64 } from "./deflate.js";
import { canonicalJson, hashInput, type Json } from "./hash.js";
import { sha256Hex } from "./sha256.js";
import type { NormalizedSpec } from "./spec.js";

export interface JsonObject {
  readonly [key: string]: Json;
}

/** Where a secret's value comes from, as the spec writes it. */
export type SecretRef = { readonly fromHostEnv: string } | { readonly fromFile: string };

/** What a container was made from. */
export interface AppliedSpec {
  /** The spec hash's input, as canonical JSON parses. */
  readonly hashed: JsonObject;
  /** secretEnv name → its reference. */
  readonly secretEnv: Readonly<Record<string, SecretRef>>;
}

/** Up to this many characters the label is plain JSON. */
export const APPLIED_PLAIN_MAX = 2048;
/** A label value longer than this is not written (and not read). */
export const APPLIED_MAX = 65_536;
/** What a compressed label may inflate to at most. */
const APPLIED_JSON_MAX = 1_048_576;
const DEFLATE_PREFIX = "deflate:";

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function refsOf(spec: NormalizedSpec): Record<string, SecretRef> {
  const refs: Record<string, SecretRef> = {};
  for (const [name, source] of Object.entries(spec.secretEnv)) {
    refs[name] = source.kind === "hostEnv" ? { fromHostEnv: source.name } : { fromFile: source.path };
  }
  return refs;
}

/** The applied form of a spec whose secrets have these digests (core/secrets.ts). */
export function appliedSpec(spec: NormalizedSpec, secretDigests: Readonly<Record<string, string>>): AppliedSpec {
  return { hashed: JSON.parse(canonicalJson(hashInput(spec, secretDigests))) as JsonObject, secretEnv: refsOf(spec) };
}

/**
 * The label's value for a container of this spec, or null when there is none: the digests may not
 * be shown (`null`: unkeyed, a plain SHA-256 of a secret would let a reader check a guess), or the
 * value would be longer than APPLIED_MAX.
 */
export function appliedLabel(
  spec: NormalizedSpec,
  secretDigests: Readonly<Record<string, string>> | null,
): string | null {
  if (secretDigests === null && Object.keys(spec.secretEnv).length > 0) return null;
  const json = canonicalJson({ spec: hashInput(spec, secretDigests ?? {}), secretEnv: refsOf(spec) });
  if (json.length <= APPLIED_PLAIN_MAX) return json;
  const packed = `${DEFLATE_PREFIX}${deflateBase64(json)}`;
  const value = packed.length < json.length ? packed : json;
  return value.length <= APPLIED_MAX ? value : null;
}

function secretRef(value: unknown): SecretRef | null {
  if (!isObject(value) || Object.keys(value).length !== 1) return null;
  if (typeof value.fromHostEnv === "string") return { fromHostEnv: value.fromHostEnv };
  if (typeof value.fromFile === "string") return { fromFile: value.fromFile };
  return null;
}

function parse(label: string): unknown {
  const json = label.startsWith(DEFLATE_PREFIX)
    ? inflateBase64(label.slice(DEFLATE_PREFIX.length), APPLIED_JSON_MAX)
    : label;
  return json === null ? null : JSON.parse(json);
}

/**
 * What a container was made from, from its applied label and its hash label; null when the label
 * is absent (a container of an older berth, a spec whose secrets had no key) or cannot be believed.
 */
export function readApplied(label: string | undefined, hash: string | undefined): AppliedSpec | null {
  if (label === undefined || hash === undefined || label.length > APPLIED_MAX) return null;
  try {
    const value = parse(label);
    if (!isObject(value) || !isObject(value.spec)) return null;
    const hashed = value.spec;
    if (sha256Hex(canonicalJson(hashed)) !== hash) return null;
    const refs = value.secretEnv ?? {};
    const digests = hashed.secretEnv ?? {};
    if (!isObject(refs) || !isObject(digests)) return null;
    const secretEnv: Record<string, SecretRef> = {};
    for (const name of Object.keys(digests)) {
      const ref = secretRef(refs[name]);
      if (ref === null) return null;
      secretEnv[name] = ref;
    }
    if (Object.keys(refs).length !== Object.keys(secretEnv).length) return null;
    return { hashed, secretEnv };
  } catch {
    // Not JSON, or nested past the stack: a label berth did not write.
    return null;
  }
}
