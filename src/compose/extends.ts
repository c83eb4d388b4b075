/**
 * `extends` within one Compose file: a service takes the service it extends (itself resolved
 * first, so chains work) and merges its own keys over it with Compose's merge rules (merge.ts).
 * As in Compose, `depends_on`, `volumes_from` and `links` are not inherited. A cycle is an error
 * at the `extends` that closes it. `extends` with `file:` names another file, which berth does
 * not read: it stays in the tree, and the converter lists it as not supported.
 */
import { mergeService } from "./merge.js";
import { type Entry, type Position, relocate } from "./tree.js";
import { scalarText } from "./values.js";

type Report = (at: Position, path: string, message: string) => void;

const NOT_INHERITED = new Set(["depends_on", "volumes_from", "links"]);

/** The service `extends` names, when it is in the same file; null for another file's. */
function baseName(extendsEntry: Entry): string | null {
  const v = extendsEntry.value;
  if (v.kind === "scalar") return scalarText(v);
  if (v.kind !== "map" || v.entries.has("file")) return null;
  const service = v.entries.get("service")?.value;
  return service ? scalarText(service) : "";
}

/** The services with every same-file `extends` resolved. */
export function applyExtends(services: ReadonlyMap<string, Entry>, error: Report): Map<string, Entry> {
  const resolved = new Map<string, Entry>();
  const resolve = (name: string, chain: readonly string[]): Entry | undefined => {
    const done = resolved.get(name);
    if (done !== undefined) return done;
    const entry = services.get(name);
    if (entry === undefined || entry.value.kind !== "map") return entry;
    const ext = entry.value.entries.get("extends");
    const base = ext ? baseName(ext) : null;
    if (ext === undefined || base === null) {
      resolved.set(name, entry);
      return entry;
    }
    const path = `services.${name}.extends`;
    const own = new Map(entry.value.entries);
    own.delete("extends");
    const self: Entry = { ...entry, value: { ...entry.value, entries: own } };
    let result = self;
    if (chain.includes(base) || base === name) {
      error(ext, path, `a cycle of extends: ${[...chain, name, base].join(" → ")}`);
    } else if (!services.has(base)) {
      error(ext, path, `no service named ${base} to extend`);
    } else {
      const from = resolve(base, [...chain, name]);
      if (from?.value.kind === "map") {
        const inherited = new Map([...from.value.entries].filter(([k]) => !NOT_INHERITED.has(k)));
        // What the base gives is reported at this service's extends:, saying where it is written.
        const baseTree = relocate({ ...from.value, entries: inherited }, ext);
        result = { ...entry, value: mergeService(baseTree, self.value) };
      }
    }
    resolved.set(name, result);
    return result;
  };
  for (const name of services.keys()) resolve(name, []);
  return resolved;
}
