/**
 * Compose profiles: a service with `profiles` runs only when one of them is active (`--profile`,
 * else COMPOSE_PROFILES; `*` activates all). The others are not converted, and one finding lists
 * them.
 */
import type { Entry, Tree } from "./tree.js";
import { scalarText } from "./values.js";

export interface Profiled {
  /** The services to convert. */
  readonly services: Map<string, Entry>;
  /** The services left out, each with its profiles. */
  readonly skipped: Map<string, readonly string[]>;
}

/** --profile, else COMPOSE_PROFILES (comma-separated), as Compose reads them. */
function activeProfiles(given: readonly string[], fromVars: string | undefined): Set<string> {
  const names = given.length > 0 ? given : (fromVars ?? "").split(",");
  return new Set(names.map((n) => n.trim()).filter((n) => n !== ""));
}

function profilesOf(service: Tree): string[] {
  const p = service.kind === "map" ? service.entries.get("profiles")?.value : undefined;
  return p?.kind === "seq" ? p.items.map((i) => scalarText(i)) : p ? [scalarText(p)] : [];
}

export function byProfiles(
  services: ReadonlyMap<string, Entry>,
  given: readonly string[],
  fromVars: string | undefined,
): Profiled {
  const active = activeProfiles(given, fromVars);
  const out: Profiled = { services: new Map(), skipped: new Map() };
  for (const [service, e] of services) {
    const profiles = profilesOf(e.value);
    if (profiles.length === 0 || active.has("*") || profiles.some((p) => active.has(p))) out.services.set(service, e);
    else out.skipped.set(service, profiles);
  }
  return out;
}

/** The one finding that lists the services left out; null when none is. */
export function skippedMessage(skipped: ReadonlyMap<string, readonly string[]>): string | null {
  if (skipped.size === 0) return null;
  const list = [...skipped].map(([s, p]) => `${s} (${p.join(", ")})`).join(", ");
  return `not converted, as Compose does not start them, since none of their profiles is active (--profile NAME or COMPOSE_PROFILES): ${list}`;
}
