/**
 * bind-inside-writable: no path a container can write decides what any container mounts.
 *
 * The engine resolves a bind mount's host path, symbolic links included, every time the
 * container starts: at create, at every restart its restart policy makes, at every start berth
 * makes. A container that can write a folder can replace anything below it with a symbolic link;
 * if a mount (its own or another container's) takes its host path from below that folder, the
 * next start of that mount follows the link (to the host's /etc, say). So a bind mount's host
 * path may not lie inside the host path of a writable bind mount, nor may any folder on the way
 * to it (a link there leads anywhere), and both mounts of such a pair are refused: whichever came
 * first. A host path equal to a writable one is fine: a container cannot replace the folder it
 * has mounted, only what is inside it.
 *
 * Pure: host paths are resolved through the caller's realpath. A named volume whose driver
 * options bind a host path counts as a bind of that path, where its options are known.
 */
import type { ObservedMount } from "../observed.js";
import { lexicalPath, volumeHostPath } from "./paths.js";
import type { PolicyContext } from "./types.js";

/** A host path a container mounts. */
export interface HostMount {
  /** The host path, as written (or as the engine shows it). */
  readonly source: string;
  /** Where it is mounted in the container. */
  readonly target: string;
  readonly writable: boolean;
  /** Who mounts it, as messages say: `this container`, `spec.mounts[1]`, `container "web"`. */
  readonly by: string;
  /** The named volume whose options bind this host path, when it is one. */
  readonly volume?: string;
}

export interface Overlap {
  /** The mount whose host path lies inside (or is reached through) the other's. */
  readonly inner: HostMount;
  /** The writable mount that holds it. */
  readonly outer: HostMount;
}

/** The host paths a container's mounts take: its binds, and its volumes whose options bind one. */
export function hostMounts(mounts: readonly ObservedMount[], by: string, ctx: PolicyContext): HostMount[] {
  const out: HostMount[] = [];
  for (const m of mounts) {
    if (m.type === "bind") {
      out.push({ source: m.source, target: m.target, writable: m.rw, by });
    } else if (m.type === "volume") {
      const volume = ctx.volumes?.get(m.source);
      const host = volume ? volumeHostPath(volume) : null;
      if (host !== null) out.push({ source: host, target: m.target, writable: m.rw, by, volume: m.source });
    }
  }
  return out;
}

/** A path and every folder above it, up to the root. */
function selfAndAbove(p: string): string[] {
  const out = [p];
  let current = p;
  while (current !== "/") {
    const slash = current.lastIndexOf("/");
    current = slash <= 0 ? "/" : current.slice(0, slash);
    out.push(current);
  }
  return out;
}

/**
 * The pairs (inner, outer) where `outer` is writable and `inner`'s host path, or a folder on the
 * way to it, lies inside `outer`'s (both resolved). Only pairs with a mount of `mine` in them:
 * what `others` do among themselves is not the business of the container being checked.
 */
export function findOverlaps(
  mine: readonly HostMount[],
  others: readonly HostMount[],
  realpath: (p: string) => string,
): Overlap[] {
  const resolved = new Map<string, string>();
  const resolve = (p: string): string => {
    let r = resolved.get(p);
    if (r === undefined) {
      r = lexicalPath(realpath(p));
      resolved.set(p, r);
    }
    return r;
  };
  const mineSet = new Set(mine);
  const all = [...mine, ...others];
  /** Writable mounts by their resolved host path. */
  const writable = new Map<string, HostMount[]>();
  let mineWritable = false;
  for (const m of all) {
    if (!m.writable) continue;
    const at = resolve(lexicalPath(m.source));
    writable.set(at, [...(writable.get(at) ?? []), m]);
    if (mineSet.has(m)) mineWritable = true;
  }
  const out: Overlap[] = [];
  if (writable.size === 0) return out;
  for (const inner of all) {
    const innerMine = mineSet.has(inner);
    // Another container's mount matters here only inside a writable mount of this one.
    if (!innerMine && !mineWritable) continue;
    const outers = new Set<HostMount>();
    const parts = lexicalPath(inner.source).split("/").filter(Boolean);
    // The engine walks the path a component at a time: where any step lands inside a writable
    // folder, the next component is that container's to choose.
    parts.forEach((_, i) => {
      const here = resolve(`/${parts.slice(0, i + 1).join("/")}`);
      const last = i === parts.length - 1;
      for (const folder of selfAndAbove(here)) {
        if (last && folder === here) continue; // the same folder as a writable mount: not inside it
        for (const outer of writable.get(folder) ?? []) outers.add(outer);
      }
    });
    for (const outer of outers) if (innerMine || mineSet.has(outer)) out.push({ inner, outer });
  }
  return out;
}

function shown(m: HostMount): string {
  return m.volume === undefined
    ? JSON.stringify(m.source)
    : `volume ${JSON.stringify(m.volume)} (host path ${m.source})`;
}

const WHY =
  "whatever can write there can swap that path for a symbolic link (to /etc, say), which the engine follows when the container starts again";

/** One pair, told from the side of `mine`: the inner mount's, unless only the outer one is mine. */
export function overlapMessage(o: Overlap, side: "inner" | "outer"): string {
  if (o.inner === o.outer) {
    return `${shown(o.inner)} is reached through a folder that the same mount makes writable; ${WHY}`;
  }
  return side === "inner"
    ? `${shown(o.inner)} lies inside ${JSON.stringify(o.outer.source)}, which ${o.outer.by} mounts writable at ${o.outer.target}; ${WHY}`
    : `writable ${shown(o.outer)} holds ${JSON.stringify(o.inner.source)}, which ${o.inner.by} mounts at ${o.inner.target}; ${WHY}`;
}

/** How to fix a pair. */
export const OVERLAP_ADVICE = "make the outer mount readOnly, or mount folders that do not nest";

/** One pair, tersely, for the checks of a create body and of a container's mounts. */
export function overlapLine(o: Overlap, side: "inner" | "outer"): string {
  return side === "inner"
    ? `${shown(o.inner)} lies inside ${o.outer.source}, which ${o.outer.by} mounts writable`
    : `writable ${shown(o.outer)} holds ${o.inner.source}, which ${o.inner.by} mounts`;
}
