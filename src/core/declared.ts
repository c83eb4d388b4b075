/**
 * Declared objects: the networks and named volumes of `kind: Network` and `kind: Volume`
 * documents (docs/design.md, "Declared networks and volumes"). Their normalized form, their
 * config hash (what cannot change in place), and the labels berth puts on the objects it makes.
 * Pure.
 */
import type { BerthNetwork, BerthVolume } from "./document.gen.js";
import { canonicalJson } from "./hash.js";
import type { LabelKeys } from "./labels.js";
import { type FieldIssue, reservedLabelIssues } from "./normalize.js";
import { sha256Hex } from "./sha256.js";

export type ObjectKind = "Network" | "Volume";

/** The hash format of declared objects; part of the hash so that a change of format is seen. */
export const OBJECT_HASH_VERSION = 1;

export interface DeclaredNetwork {
  readonly kind: "Network";
  /** The Docker network's name (metadata.name). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Default bridge. */
  readonly driver: string;
  readonly internal: boolean;
  readonly attachable: boolean;
  /** Driver options. */
  readonly options: Readonly<Record<string, string>>;
  /** IPv4 subnet (IPAM), or null: the engine picks one. */
  readonly subnet: string | null;
  /** IPv6 besides IPv4 (Docker's EnableIPv6). */
  readonly enableIPv6: boolean;
  /** IPv6 subnet (IPAM), or null: the engine picks one (only with enableIPv6). */
  readonly ipv6Subnet: string | null;
}

export interface DeclaredVolume {
  readonly kind: "Volume";
  /** The Docker volume's name (metadata.name). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Default local. */
  readonly driver: string;
  /** Driver options. */
  readonly options: Readonly<Record<string, string>>;
}

export type DeclaredObject = DeclaredNetwork | DeclaredVolume;

/** The key that serializes a declared object's operations (never a spec name: those have no ':'). */
export function objectKey(kind: ObjectKind, name: string): string {
  return `${kind.toLowerCase()}:${name}`;
}

/** `network tidepool`, as messages name it. */
export function describeObject(o: { readonly kind: ObjectKind; readonly name: string }): string {
  return `${o.kind.toLowerCase()} ${o.name}`;
}

export type ObjectResult =
  | { readonly ok: true; readonly object: DeclaredObject }
  | { readonly ok: false; readonly issues: readonly FieldIssue[] };

/**
 * What the engine would refuse in an IPv4 subnet the schema's pattern lets through (an octet over
 * 255, a prefix over 32, bits set after the prefix), said as the engine would want it; null when fine.
 */
function subnetProblem(cidr: string): string | null {
  const [address = "", bits = ""] = cidr.split("/");
  const octets = address.split(".").map(Number);
  const prefix = Number(bits);
  if (octets.some((o) => o > 255)) return `${cidr}: each of the four numbers is 0 to 255`;
  if (prefix > 32) return `${cidr}: the prefix length is 0 to 32`;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = value - (value % size);
  if (network === value) return null;
  const base = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
  return `${cidr} has address bits set after the /${prefix}: the subnet is ${base}/${prefix} (Docker refuses the other)`;
}

/** A schema-valid Network or Volume document → its declared object, with defaults filled in. */
export function normalizeObject(doc: BerthNetwork | BerthVolume, labelPrefix: string): ObjectResult {
  const labels = { ...(doc.metadata.labels ?? {}) };
  const issues = reservedLabelIssues(labels, labelPrefix);
  if (issues.length > 0) return { ok: false, issues };
  if (doc.kind === "Network") {
    const spec = doc.spec ?? {};
    if (spec.ipv6Subnet !== undefined && spec.enableIPv6 !== true)
      return {
        ok: false,
        issues: [{ code: "BERTH_VALUE", path: ["spec", "ipv6Subnet"], message: "applies only with enableIPv6: true" }],
      };
    const subnet = spec.subnet === undefined ? null : subnetProblem(spec.subnet);
    if (subnet !== null)
      return { ok: false, issues: [{ code: "BERTH_VALUE", path: ["spec", "subnet"], message: subnet }] };
    return {
      ok: true,
      object: {
        kind: "Network",
        name: doc.metadata.name,
        labels,
        driver: spec.driver ?? "bridge",
        internal: spec.internal ?? false,
        attachable: spec.attachable ?? false,
        options: { ...(spec.options ?? {}) },
        subnet: spec.subnet ?? null,
        enableIPv6: spec.enableIPv6 ?? false,
        ipv6Subnet: spec.ipv6Subnet ?? null,
      },
    };
  }
  const spec = doc.spec ?? {};
  return {
    ok: true,
    object: {
      kind: "Volume",
      name: doc.metadata.name,
      labels,
      driver: spec.driver ?? "local",
      options: { ...(spec.options ?? {}) },
    },
  };
}

/**
 * The config hash: what the engine cannot change on an existing object. Labels are left out (a
 * label change alone is not worth recreating a network for; berth's labels are set at create).
 */
export function objectHash(o: DeclaredObject): string {
  const content =
    o.kind === "Network"
      ? {
          v: OBJECT_HASH_VERSION,
          kind: o.kind,
          driver: o.driver,
          internal: o.internal,
          attachable: o.attachable,
          options: o.options,
          subnet: o.subnet,
          // Only when set, so that the networks made before these fields keep their hash.
          ...(o.enableIPv6 ? { enableIPv6: true, ipv6Subnet: o.ipv6Subnet } : {}),
        }
      : { v: OBJECT_HASH_VERSION, kind: o.kind, driver: o.driver, options: o.options };
  return sha256Hex(canonicalJson(content));
}

/** The labels berth puts on an object it creates: the user's, then its own. */
export function objectLabels(
  o: DeclaredObject,
  hash: string,
  source: string,
  keys: LabelKeys,
  controllerId: string,
): Record<string, string> {
  return {
    ...o.labels,
    [keys.controller]: controllerId,
    [keys.spec]: o.name,
    [keys.object]: o.kind,
    [keys.hash]: hash,
    [keys.source]: source,
  };
}
