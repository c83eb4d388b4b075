/**
 * Service names → spec names. berth names a spec after its service (or its container_name when
 * that is a DNS label), so the names other services use to reach it keep resolving. A name that
 * is not a DNS label is rewritten, and the old name then no longer resolves: Compose answers to
 * both the service name and the container_name on the project's networks, berth to the spec's
 * name only. The finding says so, and lists where other services in the file still use the old
 * name (an env file or an image's defaults may use it too: plausible's DATABASE_URL names
 * plausible_db).
 */
import { isDnsLabel } from "../core/names.js";
import type { Entry, Position, Tree } from "./tree.js";
import { scalarText } from "./values.js";

type Warn = (at: Position, path: string, message: string) => void;

/** A service name → a DNS label (lowercase, '_' and '.' become '-'). */
export function dnsLabel(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

/** Where a service's environment values, command or entrypoint name `word`, as a whole word. */
function mentions(service: Tree, word: string): Position[] {
  if (service.kind !== "map") return [];
  const pattern = new RegExp(`(?<![\\w-])${word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w-])`, "i");
  const found: Position[] = [];
  const scan = (t: Tree): void => {
    if (t.kind === "scalar") {
      if (pattern.test(scalarText(t))) found.push(t);
    } else if (t.kind === "seq") t.items.forEach(scan);
    else for (const e of t.entries.values()) scan(e.value);
  };
  for (const key of ["environment", "command", "entrypoint"]) {
    const e = service.entries.get(key);
    if (e) scan(e.value);
  }
  return found;
}

export interface Naming {
  readonly project: string;
  readonly prefixNames: boolean;
  /** How a finding's message names a position's file (`compose.yaml:12`). */
  readonly where: (at: Position) => string;
}

/** Each service's spec name; a rewritten name is a warning that says where the old one is still used. */
export function specNames(services: ReadonlyMap<string, Entry>, naming: Naming, warn: Warn): Map<string, string> {
  const names = new Map<string, string>();
  const unresolved = (old: string, name: string, except: string): string => {
    const at = [...services]
      .filter(([other]) => other !== except)
      .flatMap(([, e]) => mentions(e.value, old))
      .sort((a, b) => (a.file ?? "").localeCompare(b.file ?? "") || a.line - b.line)
      .map(naming.where);
    return (
      `; ${old} no longer resolves on the network (Compose answers to service and container names, berth to ` +
      `the spec's name): ` +
      (at.length > 0
        ? `other services name it at ${at.join(", ")}; use ${name} there`
        : `use ${name} wherever it is named (in env files, or in an image's defaults)`)
    );
  };
  for (const [service, e] of services) {
    const containerName = e.value.kind === "map" ? e.value.entries.get("container_name") : undefined;
    const wanted = containerName ? scalarText(containerName.value) : null;
    if (wanted !== null && isDnsLabel(wanted)) {
      names.set(service, wanted);
      continue;
    }
    const full = naming.prefixNames ? `${naming.project}-${service}` : service;
    const name = dnsLabel(full);
    if (containerName) {
      warn(
        containerName,
        `services.${service}.container_name`,
        `"${wanted ?? ""}" is not a DNS label (berth's names are): the spec is named ${name}` +
          unresolved(wanted ?? "", name, service),
      );
    } else if (name !== full) {
      warn(
        e,
        `services.${service}`,
        `the service name is not a DNS label: the spec is named ${name}` + unresolved(service, name, service),
      );
    }
    names.set(service, name);
  }
  return names;
}
