/**
 * A Compose file's top-level `networks:` and `volumes:` → the engine name each stands for and,
 * for what Compose would create, the berth `kind: Network` / `kind: Volume` document that makes
 * berth create it (docs/compose.md, "Networks and volumes").
 *
 * A network Compose would create becomes a Network document: nothing else makes it, and a
 * container spec naming a missing, undeclared network cannot start. A volume becomes a Volume
 * document only when its config says something (a driver other than local, driver_opts, labels):
 * Docker creates a plain named volume at first use, as Compose does, and a host moving from
 * Compose keeps its data volume without berth reporting another owner's volume of that name.
 */
import type { BerthNetwork, BerthVolume, NetworkSpec, VolumeSpec } from "../core/document.gen.js";
import type { Declared } from "./context.js";
import type { Entry, Position, Tree } from "./tree.js";
import { keyValues, scalarText } from "./values.js";

type Warn = (at: Position, path: string, message: string) => void;
export type ObjectDocument = BerthNetwork | BerthVolume;

/** A declared network or volume, with the document berth would create it from (none when external). */
export interface DeclaredObject extends Declared, Position {
  /** The key under networks: / volumes:. */
  readonly key: string;
  readonly document: ObjectDocument | null;
}

const isTrue = (t: Tree | undefined): boolean => t?.kind === "scalar" && (t.value === true || t.value === "true");

/** A map of strings (driver_opts, labels: mapping or KEY=VALUE list), warning on what is not one. */
function stringMap(e: Entry, path: string, warn: Warn): Record<string, string> | null {
  const r = keyValues(e.value);
  if ("error" in r) {
    warn(e, path, `${r.error}: ignored`);
    return null;
  }
  return Object.fromEntries(r.ok.map(([k, v]) => [k, v ?? ""]));
}

/** ipam: the one IPv4 subnet berth's Network spec holds; anything else is a warning. */
function ipamSubnet(e: Entry, path: string, warn: Warn): string | null {
  if (e.value.kind !== "map") {
    warn(e, path, "expected a mapping: ignored");
    return null;
  }
  let subnet: string | null = null;
  for (const [k, f] of e.value.entries) {
    if (k !== "config" || f.value.kind !== "seq") {
      warn(f, `${path}.${k}`, "berth's Network spec has one IPv4 subnet and no IPAM driver or options: ignored");
      continue;
    }
    f.value.items.forEach((item, i) => {
      const fields = item.kind === "map" ? item.entries : new Map<string, Entry>();
      for (const [name, field] of fields) {
        const text = scalarText(field.value);
        if (i === 0 && name === "subnet" && /^[0-9.]+\/[0-9]+$/.test(text)) subnet = text;
        else {
          warn(
            field,
            `${path}.config[${i}].${name}`,
            "berth's Network spec has one IPv4 subnet (the first config's): ignored",
          );
        }
      }
    });
  }
  return subnet;
}

function networkDocument(name: string, fields: ReadonlyMap<string, Entry>, path: string, warn: Warn): BerthNetwork {
  const spec: { -readonly [K in keyof NetworkSpec]: NetworkSpec[K] } = {};
  let labels: Record<string, string> | null = null;
  for (const [k, f] of fields) {
    const p = `${path}.${k}`;
    if (k === "name" || k === "external") continue;
    if (k === "driver") spec.driver = scalarText(f.value);
    else if (k === "internal") spec.internal = isTrue(f.value);
    else if (k === "attachable") spec.attachable = isTrue(f.value);
    else if (k === "driver_opts") spec.options = stringMap(f, p, warn) ?? undefined;
    else if (k === "labels") labels = stringMap(f, p, warn);
    else if (k === "ipam") spec.subnet = ipamSubnet(f, p, warn) ?? undefined;
    else warn(f, p, `berth's Network spec has no ${k}: ignored`);
  }
  return document("Network", name, labels, spec);
}

function volumeDocument(
  name: string,
  at: Position,
  fields: ReadonlyMap<string, Entry>,
  path: string,
  warn: Warn,
): BerthVolume | null {
  const spec: { -readonly [K in keyof VolumeSpec]: VolumeSpec[K] } = {};
  let labels: Record<string, string> | null = null;
  for (const [k, f] of fields) {
    const p = `${path}.${k}`;
    if (k === "name" || k === "external") continue;
    if (k === "driver") spec.driver = scalarText(f.value);
    else if (k === "driver_opts") spec.options = stringMap(f, p, warn) ?? undefined;
    else if (k === "labels") labels = stringMap(f, p, warn);
    else warn(f, p, `berth's Volume spec has no ${k}: ignored`);
  }
  // `driver: local` is Docker's default: without options, the volume is a plain one.
  if (spec.options !== undefined && Object.keys(spec.options).length === 0) delete spec.options;
  if (spec.driver === "local" && spec.options === undefined) delete spec.driver;
  const said = Object.values(spec).some((v) => v !== undefined) || labels !== null;
  if (!said) return null;
  warn(
    at,
    path,
    `berth creates volume ${name} from a kind: Volume document and does not adopt one of that name that Compose made ` +
      `(apply says it exists and berth does not own it): on a host moving from Compose, leave ${name}.volume.yaml out ` +
      "to keep the existing volume as it is, or copy its data out and remove it for berth to create it",
  );
  return document("Volume", name, labels, spec);
}

function document<K extends "Network" | "Volume">(
  kind: K,
  name: string,
  labels: Record<string, string> | null,
  spec: object,
): K extends "Network" ? BerthNetwork : BerthVolume {
  const defined = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
  return {
    apiVersion: "berth/v1",
    kind,
    metadata: { name, ...(labels !== null ? { labels } : {}) },
    ...(Object.keys(defined).length > 0 ? { spec: defined } : {}),
  } as K extends "Network" ? BerthNetwork : BerthVolume;
}

/** Top-level volumes or networks → the engine name of each, and the document to create it from. */
export function declaredObjects(
  entry: Entry | undefined,
  kind: "networks" | "volumes",
  project: string,
  warn: Warn,
): Map<string, DeclaredObject> {
  const out = new Map<string, DeclaredObject>();
  if (entry?.value.kind !== "map") return out;
  for (const [key, e] of entry.value.entries) {
    const fields = e.value.kind === "map" ? e.value.entries : new Map<string, Entry>();
    const external = isTrue(fields.get("external")?.value);
    const named = fields.get("name");
    const name = named ? scalarText(named.value) : external ? key : `${project}_${key}`;
    const path = `${kind}.${key}`;
    let doc: ObjectDocument | null = null;
    if (external) {
      for (const [k, f] of fields) {
        if (k !== "name" && k !== "external")
          warn(f, `${path}.${k}`, `an external ${kind.slice(0, -1)} is not made: ignored`);
      }
    } else if (kind === "networks") doc = networkDocument(name, fields, path, warn);
    else doc = volumeDocument(name, e, fields, path, warn);
    out.set(key, { key, name, external, document: doc, line: e.line, column: e.column });
  }
  return out;
}

/** Compose's implicit `default` network: PROJECT_default, made when a service uses it. */
export function defaultNetwork(project: string, at: Position): DeclaredObject {
  const name = `${project}_default`;
  return { key: "default", name, external: false, document: document("Network", name, null, {}), ...at };
}
