/**
 * secretEnv under `--target swarm` (docs/swarm.md, "Secrets"): each entry's value becomes a Swarm
 * secret that berth makes, labels and removes, never part of the service's spec. Swarm secrets
 * are immutable, so there is one per (spec, entry, value): its name and labels carry the value's
 * keyed digest (core/secrets.ts), never the value, and a rotation is a new secret, a service
 * update that points to it, and the old one removed once no service uses it.
 *
 * Swarm hands a secret to a task as a file, not as an environment variable: the task gets the
 * file /run/secrets/<NAME> and the variable <NAME>_FILE naming it (docs/design.md, decisions).
 */
import type { Ownership } from "./ownership.js";
import { sha256Hex } from "./sha256.js";

/** A Swarm secret as the secret list shows it, in berth's terms (never its data). */
export interface ObservedSecret {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One secretEnv entry's secret for a service: `id` null when berth is still to make it. */
export interface SecretBinding {
  /** The secretEnv entry's name: the file's name under /run/secrets. */
  readonly key: string;
  readonly name: string;
  /** The keyed digest of the value (core/secrets.ts). */
  readonly digest: string;
  readonly id: string | null;
}

/** Where Swarm puts a task's secret files. */
export const SECRET_DIR = "/run/secrets";

/** The variable that names an entry's file, as official images read it (POSTGRES_PASSWORD_FILE). */
export const fileEnvName = (key: string): string => `${key}_FILE`;

/** Swarm's limit on a secret's name. */
const NAME_MAX = 64;
/** The digest's share of the name: 48 bits, enough to tell one value from the next. */
const DIGEST_CHARS = 12;

/** The label prefix, as the controller key shows it (`berth.controller` → `berth`). */
const prefixOf = (owner: Ownership): string => owner.keys.controller.replace(/\.controller$/, "");

/**
 * `<prefix>-<id>-<spec>-<KEY>-<digest12>`; a name above Swarm's 64 characters keeps its start and
 * a digest of the whole, so two long names never meet.
 */
export function secretName(owner: Ownership, spec: string, key: string, digest: string): string {
  const base = `${prefixOf(owner)}-${owner.controllerId}-${spec}-${key}`;
  const tail = `-${digest.slice(0, DIGEST_CHARS)}`;
  if (base.length + tail.length <= NAME_MAX) return `${base}${tail}`;
  const mark = `-${sha256Hex(base).slice(0, 8)}`;
  return `${base.slice(0, NAME_MAX - tail.length - mark.length).replace(/[-_.]+$/, "")}${mark}${tail}`;
}

export function secretLabels(owner: Ownership, spec: string, key: string, digest: string): Record<string, string> {
  const k = owner.keys;
  return { [k.controller]: owner.controllerId, [k.spec]: spec, [k.secretKey]: key, [k.secretDigest]: digest };
}

/** The secrets a spec's service needs, each bound to the one that exists when there is one. */
export function secretBindings(
  owner: Ownership,
  spec: string,
  digests: Readonly<Record<string, string>>,
  observed: readonly ObservedSecret[],
): SecretBinding[] {
  return Object.entries(digests)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, digest]) => {
      const name = secretName(owner, spec, key, digest);
      const found = observed.find((s) => s.name === name && owner.owns(s));
      return { key, name, digest, id: found?.id ?? null };
    });
}
