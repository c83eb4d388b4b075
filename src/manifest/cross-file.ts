/**
 * Checks across spec files, made once the set of documents is known: by `berth validate` over
 * the files as they are, and by the desired state over what it will apply (which keeps the last
 * good version of a broken file).
 *
 * Container names must be unique across every spec file: two documents producing the same name
 * (directly, or through replicas: web-0; or a spec named like a pool's member, pool-9, whatever
 * the pool's size) are an error on both, each naming the other place, and neither is applied. The admission policy's checks that need every spec are made here too:
 * namespace joins name a spec's container, and no bind mount lies inside a writable one.
 */
import { type DeclaredObject, describeObject, objectKey } from "../core/declared.js";
import type { SpecIssue } from "../core/errors.js";
import { containerNames } from "../core/names.js";
import {
  findOverlaps,
  type HostMount,
  joinMessage,
  OVERLAP_ADVICE,
  overlapMessage,
  type PolicyContext,
  type Profile,
} from "../core/policy/policy.js";
import type { NormalizedSpec } from "../core/spec.js";
import type { NamespaceJoin } from "./parse.js";

/** A valid spec, with where it came from. */
export interface LoadedSpec {
  readonly spec: NormalizedSpec;
  /** The file as shown to people (relative to the working directory when inside it). */
  readonly file: string;
  /** The file's path relative to its spec directory: the source label. */
  readonly source: string;
  readonly line: number;
  readonly column: number;
  /** Its container:NAME namespace joins (checked across files). */
  readonly joins?: readonly NamespaceJoin[];
}

interface Placed {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** The error on one of several documents claiming one name, naming the others' places. */
function duplicateIssue(loaded: Placed, all: readonly Placed[], what: string, rule: string): SpecIssue {
  const others = all.filter((o) => o !== loaded).map((o) => `${o.file}:${o.line}:${o.column}`);
  return {
    code: "BERTH_DUPLICATE_NAME",
    file: loaded.file,
    line: loaded.line,
    column: loaded.column,
    path: "metadata.name",
    message: `${what} at ${others.join(", ")}; ${rule} (neither is applied)`,
  };
}

/** A valid declared network or volume, with where it came from. */
export interface LoadedObject {
  readonly object: DeclaredObject;
  readonly file: string;
  readonly source: string;
  readonly line: number;
  readonly column: number;
}

/**
 * Two documents declaring the same network (or the same volume) are an error on both, each naming
 * the other place, and neither is applied: as for container names, neither wins silently.
 */
export function findObjectCollisions(objects: readonly LoadedObject[]): {
  refused: Set<LoadedObject>;
  issues: SpecIssue[];
} {
  const byKey = new Map<string, LoadedObject[]>();
  for (const loaded of objects) {
    const key = objectKey(loaded.object.kind, loaded.object.name);
    byKey.set(key, [...(byKey.get(key) ?? []), loaded]);
  }
  const refused = new Set<LoadedObject>();
  const issues: SpecIssue[] = [];
  for (const list of byKey.values()) {
    if (list.length < 2) continue;
    for (const loaded of list) {
      refused.add(loaded);
      issues.push(
        duplicateIssue(
          loaded,
          list,
          `${describeObject(loaded.object)} is also declared`,
          "a network or volume may be declared once across all spec files",
        ),
      );
    }
  }
  return { refused, issues };
}

/** A pool's member name, `<pool>-<n>` (core/pool.ts, memberName): the pool's name; null when not one. */
function poolOfMemberName(name: string): string | null {
  return /^(.+)-(?:0|[1-9][0-9]*)$/.exec(name)?.[1] ?? null;
}

const POOL_MEMBER_RULE = "a pool's members are named <pool>-<n> for any n, so no other spec may take such a name";

export function findNameCollisions(specs: readonly LoadedSpec[]): { refused: Set<LoadedSpec>; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  const owners = new Map<string, LoadedSpec[]>();
  for (const loaded of specs) {
    // A pool's members are not its first `size` names (claims and refills go past them): the
    // pattern check below covers every one of them.
    const produced = loaded.spec.pool === null ? containerNames(loaded.spec.name, loaded.spec.replicas) : [];
    const names = new Set([loaded.spec.name, ...produced]);
    for (const name of names) {
      const list = owners.get(name);
      if (list) list.push(loaded);
      else owners.set(name, [loaded]);
    }
  }
  const refused = new Set<LoadedSpec>();
  for (const [name, list] of owners) {
    if (list.length < 2) continue;
    for (const loaded of list) {
      if (refused.has(loaded)) continue;
      refused.add(loaded);
      const what =
        name === loaded.spec.name
          ? `${JSON.stringify(name)} is also defined`
          : `container name ${JSON.stringify(name)} is also produced`;
      issues.push(duplicateIssue(loaded, list, what, "names must be unique across all spec files"));
    }
  }
  // A spec named like a member of a pool: the pool's refill would find its name taken forever
  // (`<pool>-9` while the pool has 3 members). Only a spec's own name can look like one: a
  // replica's `<spec>-<n>` looks like a member of a pool named `<spec>`, a clash caught above.
  const pools = new Map(specs.filter((l) => l.spec.pool !== null).map((l) => [l.spec.name, l]));
  const takers = new Map<LoadedSpec, LoadedSpec[]>();
  for (const loaded of specs) {
    const pool = pools.get(poolOfMemberName(loaded.spec.name) ?? "");
    if (pool === undefined) continue;
    takers.set(pool, [...(takers.get(pool) ?? []), loaded]);
  }
  for (const [pool, list] of takers) {
    for (const loaded of list) {
      refused.add(loaded);
      const what = `${JSON.stringify(loaded.spec.name)} is the name of a member of pool ${JSON.stringify(pool.spec.name)}`;
      issues.push(duplicateIssue(loaded, [loaded, pool], what, POOL_MEMBER_RULE));
    }
    refused.add(pool);
    const taken = list.map((l) => JSON.stringify(l.spec.name)).join(", ");
    const what = `member name${list.length > 1 ? "s" : ""} ${taken} ${list.length > 1 ? "are" : "is"} also defined`;
    issues.push(duplicateIssue(pool, [pool, ...list], what, POOL_MEMBER_RULE));
  }
  return { refused, issues };
}

/**
 * The admission policy's namespace-join check: container:NAME may only name a container of a
 * spec (any spec's, across files). Not applied under the privileged profile.
 */
export function findForeignJoins(
  specs: readonly LoadedSpec[],
  profile: Profile,
): { refused: Set<LoadedSpec>; issues: SpecIssue[] } {
  const refused = new Set<LoadedSpec>();
  const issues: SpecIssue[] = [];
  if (profile === "privileged") return { refused, issues };
  // A pool's members are `<pool>-<n>`, whatever its size (a size-1 pool's only member is `one-0`).
  const owned = new Set(
    specs.filter((c) => c.spec.pool === null).flatMap((c) => containerNames(c.spec.name, c.spec.replicas)),
  );
  const pools = new Set(specs.filter((c) => c.spec.pool !== null).map((c) => c.spec.name));
  for (const loaded of specs) {
    for (const join of loaded.joins ?? []) {
      if (owned.has(join.name) || pools.has(poolOfMemberName(join.name) ?? "")) continue;
      refused.add(loaded);
      issues.push({
        code: "BERTH_POLICY",
        file: loaded.file,
        line: join.line,
        column: join.column,
        path: join.path,
        message: `${joinMessage(join.name)} [policy ${profile}: no-foreign-namespace-join]`,
      });
    }
  }
  return { refused, issues };
}

/**
 * The admission policy's bind-inside-writable check across specs (docs/policy.md): no bind mount
 * of any spec may take its host path (resolved, or a folder on the way to it) from inside the host
 * path of a writable bind mount of any spec, the same or another: the container that can write
 * there could swap the path for a symbolic link, which the engine follows at the next start. Both
 * specs of a pair are refused, each naming the other's place, and neither is applied. Not applied
 * under the privileged profile.
 */
export function findBindsInsideWritable(
  specs: readonly LoadedSpec[],
  profile: Profile,
  paths: PolicyContext,
): { refused: Set<LoadedSpec>; issues: SpecIssue[] } {
  const refused = new Set<LoadedSpec>();
  const issues: SpecIssue[] = [];
  if (profile === "privileged") return { refused, issues };
  const owner = new Map<HostMount, LoadedSpec>();
  for (const loaded of specs) {
    const by = `spec ${JSON.stringify(loaded.spec.name)} (${loaded.file}:${loaded.line}:${loaded.column})`;
    for (const m of loaded.spec.mounts) {
      if (m.type !== "bind") continue;
      owner.set({ source: m.source, target: m.target, writable: !m.readOnly, by }, loaded);
    }
  }
  const issue = (loaded: LoadedSpec, what: string): SpecIssue => ({
    code: "BERTH_POLICY",
    file: loaded.file,
    line: loaded.line,
    column: loaded.column,
    path: "spec.mounts",
    message: `${what}: ${OVERLAP_ADVICE} (neither is applied) [policy ${profile}: bind-inside-writable]`,
  });
  for (const o of findOverlaps([...owner.keys()], [], paths.realpath)) {
    const inner = owner.get(o.inner);
    const outer = owner.get(o.outer);
    if (!inner || !outer) continue;
    refused.add(inner);
    refused.add(outer);
    if (inner === outer) {
      const self = { inner: { ...o.inner, by: "this spec" }, outer: { ...o.outer, by: "this spec" } };
      issues.push(issue(inner, overlapMessage(self, "inner")));
    } else {
      issues.push(issue(inner, overlapMessage(o, "inner")), issue(outer, overlapMessage(o, "outer")));
    }
  }
  return { refused, issues };
}

/**
 * The cross-file checks: the specs refused, each with its own issues, and all the issues. Bind
 * mounts are compared only when `paths` says how host paths resolve (`berth validate` makes that
 * comparison itself, with findBindsInsideWritable).
 */
/** A file with problems, and the names berth could read from it. */
export interface BrokenFile {
  readonly file: string;
  readonly names: readonly string[];
  /** The names of the pools it declares (`spec.pool` present), as far as they can be read. */
  readonly pools?: readonly string[];
}

/**
 * A valid spec whose name a broken file declares too: as for two valid documents, neither is
 * applied. The broken one cannot be; the valid one must not win silently, only to be refused
 * once the other file is fixed.
 */
export function findNamesInBrokenFiles(
  specs: readonly LoadedSpec[],
  broken: readonly BrokenFile[],
): { refused: Set<LoadedSpec>; issues: SpecIssue[] } {
  const refused = new Set<LoadedSpec>();
  const issues: SpecIssue[] = [];
  const refuse = (loaded: LoadedSpec, message: string): void => {
    refused.add(loaded);
    issues.push({
      code: "BERTH_DUPLICATE_NAME",
      file: loaded.file,
      line: loaded.line,
      column: loaded.column,
      path: "metadata.name",
      message,
    });
  };
  const files = (list: readonly BrokenFile[]): string => list.map((b) => b.file).join(", ");
  for (const loaded of specs) {
    const name = loaded.spec.name;
    const elsewhere = broken.filter((b) => b.file !== loaded.file);
    const others = elsewhere.filter((b) => b.names.includes(name));
    if (others.length > 0) {
      refuse(
        loaded,
        `${JSON.stringify(name)} is also defined in ${files(others)}, ` +
          "which has errors; names must be unique across all spec files (neither is applied)",
      );
      continue;
    }
    // Named like a member of a pool whose file is broken: once that file is fixed, the pool's
    // refill would find the name taken.
    const pool = poolOfMemberName(name);
    const pooled = pool === null ? [] : elsewhere.filter((b) => b.pools?.includes(pool));
    if (pool !== null && pooled.length > 0)
      refuse(
        loaded,
        `${JSON.stringify(name)} is the name of a member of pool ${JSON.stringify(pool)} in ${files(pooled)}, ` +
          `which has errors; ${POOL_MEMBER_RULE} (neither is applied)`,
      );
  }
  return { refused, issues };
}

export function crossFileChecks(
  specs: readonly LoadedSpec[],
  profile: Profile,
  paths?: PolicyContext,
  broken: readonly BrokenFile[] = [],
): { refused: Map<LoadedSpec, SpecIssue[]>; issues: SpecIssue[] } {
  const inBroken = findNamesInBrokenFiles(specs, broken);
  const names = findNameCollisions(specs.filter((s) => !inBroken.refused.has(s)));
  const joins = findForeignJoins(specs, profile);
  const binds = paths ? findBindsInsideWritable(specs, profile, paths) : { refused: new Set<LoadedSpec>(), issues: [] };
  const refused = new Map<LoadedSpec, SpecIssue[]>();
  const issues = [...inBroken.issues, ...names.issues, ...joins.issues, ...binds.issues];
  for (const loaded of [...inBroken.refused, ...names.refused, ...joins.refused, ...binds.refused]) {
    refused.set(
      loaded,
      issues.filter(
        (i) => i.file === loaded.file && (i.line === loaded.line || loaded.joins?.some((j) => j.line === i.line)),
      ),
    );
  }
  return { refused, issues };
}
