/**
 * A Compose file's YAML → a tree of values that remember their line and column, with anchors
 * and merge keys (`<<: *base`) resolved and every string interpolated. The converter reads this
 * tree, so every warning can point at the key it is about.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type Document } from "yaml";
import { interpolate, type Variables } from "./interpolate.js";

export interface Position {
  readonly line: number;
  readonly column: number;
  /** The file, when it is not the main Compose file (an override file, an env file). */
  readonly file?: string;
  /**
   * For a value merged in by a merge key (`<<: *base`): where the anchored mapping writes it.
   * The value itself is placed at the `<<:` that merges it, so each service that merges it is
   * told about it at its own line.
   */
  readonly mergedFrom?: Position;
}

export type Tree =
  | (Position & { readonly kind: "map"; readonly entries: ReadonlyMap<string, Entry> })
  | (Position & { readonly kind: "seq"; readonly items: readonly Tree[] })
  | (Position & {
      readonly kind: "scalar";
      readonly value: string | number | boolean | null;
      /** A number as the file writes it (`0o1777`, `01777`), for the fields that read its digits. */
      readonly source?: string;
      /** The variables the string interpolated, set or not. */
      readonly uses?: readonly string[];
    });

/**
 * A mapping's key (its position) and value. A key merged in (`<<: *base`) is at the merge key's
 * position, where the mapping takes it, and remembers where it is written.
 */
export interface Entry extends Position {
  readonly key: string;
  readonly value: Tree;
}

/** A problem found while reading, at a position. */
export interface ReadIssue extends Position {
  /** The key path, e.g. services.web.image. */
  readonly path: string;
  readonly message: string;
}

export interface ReadResult {
  readonly tree: Tree | null;
  readonly errors: readonly ReadIssue[];
  /** Variables used without a default and not set, with where they were first used. */
  readonly unset: ReadonlyMap<string, Position & { readonly path: string }>;
}

/** The most nodes built (aliases count each time they are used): a YAML alias bomb stops here. */
const MAX_NODES = 100_000;
const MAX_DEPTH = 64;

/** Plain JavaScript of a tree (positions dropped). */
export function plain(tree: Tree): unknown {
  switch (tree.kind) {
    case "scalar":
      return tree.value;
    case "seq":
      return tree.items.map(plain);
    case "map":
      return Object.fromEntries([...tree.entries].map(([k, e]) => [k, plain(e.value)]));
  }
}

/** Where a position was first written: its own place, or where a merge took it from. */
export function writtenAt(at: Position): Position {
  return at.mergedFrom ?? { line: at.line, column: at.column, ...(at.file !== undefined ? { file: at.file } : {}) };
}

/** `tree` placed at `at` (a `<<:`), every node remembering where it is written. */
export function relocate(tree: Tree, at: Position): Tree {
  const here = { line: at.line, column: at.column, ...(at.file !== undefined ? { file: at.file } : {}) };
  const place = <T extends Position>(node: T): T => ({ ...node, ...here, mergedFrom: writtenAt(node) });
  switch (tree.kind) {
    case "scalar":
      return place(tree);
    case "seq":
      return { ...place(tree), items: tree.items.map((i) => relocate(i, at)) };
    case "map":
      return {
        ...place(tree),
        entries: new Map([...tree.entries].map(([k, e]) => [k, { ...place(e), value: relocate(e.value, at) }])),
      };
  }
}

/** `file`: how findings name the file, when it is not the main Compose file. */
export function readTree(text: string, vars: Variables, file?: string): ReadResult {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  const pos = (offset: number | undefined): Position => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, column: p.col, ...(file !== undefined ? { file } : {}) };
  };
  const errors: ReadIssue[] = [];
  for (const e of doc.errors) {
    const at = pos(e.pos[0]);
    const message =
      e.code === "MULTIPLE_DOCS"
        ? `a Compose file is one YAML document, and this one has a second at line ${at.line}: put it in a file of its own and import that`
        : (e.message.split("\n")[0] ?? e.code);
    errors.push({ ...at, path: "", message });
  }
  if (errors.length > 0) return { tree: null, errors, unset: new Map() };

  const unset = new Map<string, Position & { path: string }>();
  let nodes = 0;
  const build = (node: Node | null, at: Position, depth: number, path: string): Tree => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) {
      throw new RangeError(`the file expands to more than ${MAX_NODES} nodes or ${MAX_DEPTH} levels (an alias bomb?)`);
    }
    if (node === null) return { ...at, kind: "scalar", value: null };
    if (isAlias(node)) return build(node.resolve(doc) ?? null, at, depth + 1, path);
    const here = pos(node.range?.[0]);
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v !== "string") {
        return {
          ...here,
          kind: "scalar",
          ...(typeof v === "number" || typeof v === "bigint" ? { source: node.source } : {}),
          value:
            typeof v === "number" || typeof v === "boolean"
              ? v
              : typeof v === "bigint"
                ? Number(v)
                : v == null
                  ? null
                  : (node.source ?? null),
        };
      }
      const missing: string[] = [];
      const uses: string[] = [];
      const r = interpolate(v, vars, missing, uses);
      for (const name of missing) if (!unset.has(name)) unset.set(name, { ...here, path });
      if ("error" in r) {
        errors.push({ ...here, path, message: r.error });
        return { ...here, kind: "scalar", value: v };
      }
      return { ...here, kind: "scalar", value: r.value, ...(uses.length > 0 ? { uses } : {}) };
    }
    if (isSeq(node))
      return {
        ...here,
        kind: "seq",
        items: node.items.map((n, i) => build(n as Node, here, depth + 1, `${path}[${i}]`)),
      };
    if (isMap(node)) {
      const entries = new Map<string, Entry>();
      const merged = new Map<string, Entry>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const keyAt = pos(keyNode?.range?.[0]);
        const key = isScalar(keyNode) ? String(keyNode.value) : "";
        const value = build(pair.value as Node | null, keyAt, depth + 1, path === "" ? key : `${path}.${key}`);
        if (key === "<<") {
          // A merge key: the anchored mappings' entries, each overridden by the mapping's own keys.
          const sources = value.kind === "seq" ? value.items : [value];
          for (const source of sources) {
            if (source.kind !== "map") {
              errors.push({ ...source, path, message: "a merge key (<<) takes a mapping or a list of mappings" });
              continue;
            }
            for (const [k, e] of source.entries) {
              if (merged.has(k)) continue;
              merged.set(k, { ...e, ...keyAt, mergedFrom: writtenAt(e), value: relocate(e.value, keyAt) });
            }
          }
        } else {
          entries.set(key, { ...keyAt, key, value });
        }
      }
      for (const [k, e] of merged) if (!entries.has(k)) entries.set(k, e);
      return { ...here, kind: "map", entries };
    }
    return { ...here, kind: "scalar", value: null };
  };
  try {
    const tree = build(doc.contents, { line: 1, column: 1 }, 0, "");
    return { tree, errors, unset };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return { tree: null, errors: [{ line: 1, column: 1, path: "", message: err.message }], unset };
  }
}
