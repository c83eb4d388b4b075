/**
 * Compose's merge rules (https://docs.docker.com/reference/compose-file/merge/), for a later
 * Compose file over an earlier one and for a service over the one it `extends`:
 *
 * - mappings merge key by key, the later value winning;
 * - `environment`, `labels`, `sysctls`, `annotations`, `build.args`, `deploy.labels`: merged by
 *   key, whether written as a mapping or a KEY=VALUE list;
 * - `command`, `entrypoint` and `healthcheck.test` are replaced;
 * - other lists are appended, and those Compose keeps unique (`ports`, `expose`, `volumes` and
 *   `tmpfs` by target, `dns`, `cap_add`, …) hold each entry once, a later one replacing an
 *   earlier one in place;
 * - `depends_on` and `networks`, a list or a mapping, are merged by name.
 */
import type { Entry, Tree } from "./tree.js";
import { scalarText } from "./values.js";

type MapTree = Tree & { kind: "map" };
type SeqTree = Tree & { kind: "seq" };

/** Service keys merged by key, list or mapping. */
const BY_KEY = new Set(["environment", "labels", "sysctls", "annotations", "build.args", "deploy.labels"]);
/** Service keys the later file's value replaces. */
const REPLACED = new Set(["command", "entrypoint", "healthcheck.test"]);
/** Service keys that are a list or a mapping of names. */
const BY_NAME = new Set(["depends_on", "networks"]);

/** The target of a volume or tmpfs: what makes it unique in a service. */
function mountTarget(item: Tree): string {
  if (item.kind === "map") return scalarText(item.entries.get("target")?.value ?? item);
  const parts = scalarText(item).split(":");
  return (parts.length === 1 ? parts[0] : parts[1]) ?? "";
}

/** A long-syntax port's identity, as Compose's: host address, host port, target and protocol. */
function portKey(item: Tree): string {
  if (item.kind !== "map") return scalarText(item);
  const f = (k: string): string => {
    const v = item.entries.get(k)?.value;
    return v ? scalarText(v) : "";
  };
  return `${f("host_ip")}:${f("published")}:${f("target")}/${f("protocol") || "tcp"}`;
}

/** How a list's entries are told apart (a later one replaces an earlier one of the same key). */
const UNIQUE: Readonly<Record<string, (item: Tree) => string>> = {
  volumes: mountTarget,
  tmpfs: (item) => scalarText(item).split(":")[0] ?? "",
  ports: portKey,
  env_file: (item) => scalarText(item.kind === "map" ? (item.entries.get("path")?.value ?? item) : item),
};

/** Appends `over`'s items to `base`'s, each key once: a later item replaces an earlier in place. */
function appendUnique(base: SeqTree, over: SeqTree, key: (item: Tree) => string): SeqTree {
  const items: Tree[] = [];
  const index = new Map<string, number>();
  for (const item of [...base.items, ...over.items]) {
    const k = key(item);
    const at = index.get(k);
    if (at === undefined) {
      index.set(k, items.length);
      items.push(item);
    } else items[at] = item;
  }
  return { ...over, items };
}

/** A KEY=VALUE list (or a list of names) as a mapping: `KEY` alone maps to null. */
function asMap(tree: Tree, split: boolean): MapTree | null {
  if (tree.kind === "map") return tree;
  if (tree.kind !== "seq") return null;
  const entries = new Map<string, Entry>();
  for (const item of tree.items) {
    const text = scalarText(item);
    const eq = split ? text.indexOf("=") : -1;
    const key = eq === -1 ? text : text.slice(0, eq);
    const value: Tree = { ...item, kind: "scalar", value: eq === -1 ? null : text.slice(eq + 1) };
    entries.set(key, { ...item, key, value });
  }
  return { ...tree, kind: "map", entries };
}

function mergeMaps(base: MapTree, over: MapTree, merge: (key: string, b: Tree, o: Tree) => Tree): MapTree {
  const entries = new Map(base.entries);
  for (const [k, e] of over.entries) {
    const b = entries.get(k);
    entries.set(k, b === undefined ? e : { ...e, value: merge(k, b.value, e.value) });
  }
  return { ...over, entries };
}

/** A value of a service at `path` (`environment`, `build.args`), `over` merged onto `base`. */
function mergeValue(path: string, base: Tree, over: Tree): Tree {
  if (REPLACED.has(path)) return over;
  if (path === "build") {
    // The string form is the context.
    const map = (t: Tree): Tree =>
      t.kind === "scalar"
        ? { ...t, kind: "map", entries: new Map([["context", { ...t, key: "context", value: t }]]) }
        : t;
    const [b, o] = [map(base), map(over)];
    return b.kind === "map" && o.kind === "map" ? mergeMaps(b, o, (k, x, y) => mergeValue(`build.${k}`, x, y)) : o;
  }
  if (BY_KEY.has(path) || BY_NAME.has(path)) {
    if (BY_NAME.has(path) && base.kind === "seq" && over.kind === "seq") return appendUnique(base, over, scalarText);
    const b = asMap(base, BY_KEY.has(path));
    const o = asMap(over, BY_KEY.has(path));
    return b && o ? mergeMaps(b, o, (k, x, y) => (BY_KEY.has(path) ? y : mergeValue(`${path}.${k}`, x, y))) : over;
  }
  if (path === "logging" && base.kind === "map" && over.kind === "map") {
    // Another driver's options mean nothing to this one.
    const driver = (t: MapTree): string | null => {
      const d = t.entries.get("driver")?.value;
      return d ? scalarText(d) : null;
    };
    const [bd, od] = [driver(base), driver(over)];
    if (bd !== null && od !== null && bd !== od) return over;
  }
  if (base.kind === "map" && over.kind === "map") {
    return mergeMaps(base, over, (k, b, o) => mergeValue(path === "" ? k : `${path}.${k}`, b, o));
  }
  if (base.kind === "seq" && over.kind === "seq") return appendUnique(base, over, UNIQUE[path] ?? scalarText);
  return over;
}

/** A service (a mapping) with `over`'s keys merged onto `base`'s. */
export function mergeService(base: Tree, over: Tree): Tree {
  return mergeValue("", base, over);
}

/** A later Compose file merged onto an earlier one: services by name, other sections key by key. */
export function mergeFiles(base: Tree, over: Tree): Tree {
  if (base.kind !== "map" || over.kind !== "map") return over;
  return mergeMaps(base, over, (key, b, o) => {
    if (key === "services" && b.kind === "map" && o.kind === "map")
      return mergeMaps(b, o, (_, x, y) => mergeService(x, y));
    return b.kind === "map" && o.kind === "map" ? mergeMaps(b, o, (_, x, y) => mergeTopValue(x, y)) : o;
  });
}

/** A network's or volume's config: key by key, as any mapping. */
function mergeTopValue(base: Tree, over: Tree): Tree {
  return base.kind === "map" && over.kind === "map" ? mergeMaps(base, over, (_, b, o) => mergeTopValue(b, o)) : over;
}
