/**
 * The plan of the images berth built (docs/images.md, "Builds": what is kept and removed). Every
 * edit of a build context makes a new `berth.local/<spec>:<12 hex>`; for each spec berth keeps the
 * image its spec names now and the most recent superseded one (a reverted commit needs no rebuild,
 * as Kubernetes keeps a Deployment's old ReplicaSets), and removes the older ones — only once every
 * container of the spec runs the image it names and nothing else is planned for it (never while a
 * replace is in flight or failed). A spec that is gone loses all its images, after its containers
 * and under the prune guard. Never an image that any container on the host uses (berth's or not),
 * never one without this controller's id and the spec's label under its own name, and nothing at
 * all while a spec folder is in doubt or any spec file is broken.
 */
import { BUILT_IMAGE_PREFIX } from "../build.js";
import { normalizeImageRef } from "../image-ref.js";
import type { ObservedImage, ObservedState } from "../observed.js";
import type { Ownership } from "../ownership.js";
import type { PlanBuilder } from "./builder.js";
import type { ImageRemoveReason, PlanInput } from "./types.js";

/** An image of this controller's that no desired spec keeps, before asking who uses it. */
export interface UnkeptImage {
  readonly spec: string;
  readonly image: ObservedImage;
  readonly reason: ImageRemoveReason;
}

/**
 * The spec an image was built for by this controller, or null: not built by it. Builds are
 * labelled `built_by`/`built_for`; those of the version before, `controller`/`spec`.
 */
function builtFor(image: ObservedImage, owner: Ownership): string | null {
  const keys = owner.keys;
  const by = image.labels[keys.builtBy];
  if (by !== undefined) return by === owner.controllerId ? (image.labels[keys.builtFor] ?? null) : null;
  return owner.owns(image) ? (image.labels[keys.spec] ?? null) : null;
}

/** Newest first; equal times by tag, so that the plan is stable. */
function newestFirst(a: ObservedImage, b: ObservedImage): number {
  return b.createdAt - a.createdAt || (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0);
}

/**
 * The tags this controller built that no desired spec keeps. Pure, and cheap: the reconciler asks
 * the engine which containers berth does not own use which images (one unfiltered list) only when
 * this is not empty.
 */
export function unkeptImages(
  input: Pick<PlanInput, "desired" | "protectedSpecs" | "protectedSources" | "prunePaused" | "deleted">,
  observed: ObservedState,
  owner: Ownership,
): UnkeptImage[] {
  // Nothing while the folders are in doubt or a file is broken: its last good version may name any image.
  if (input.prunePaused !== null || input.protectedSpecs.size > 0 || input.protectedSources.size > 0) return [];
  const keys = owner.keys;
  const bySpec = new Map<string, ObservedImage[]>();
  for (const image of observed.builtImages ?? []) {
    const spec = builtFor(image, owner);
    if (spec === null || !image.tag.startsWith(`${BUILT_IMAGE_PREFIX}${spec}:`)) continue;
    const list = bySpec.get(spec);
    if (list) list.push(image);
    else bySpec.set(spec, [image]);
  }
  const desired = new Map(input.desired.map((d) => [d.spec.name, d.spec]));
  const unkept: UnkeptImage[] = [];
  for (const [spec, images] of [...bySpec].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const wanted = desired.get(spec);
    if (wanted === undefined) {
      const reason = input.deleted?.has(spec) === true ? "deleted" : "orphaned";
      for (const image of images.sort(newestFirst)) unkept.push({ spec, image, reason });
      continue;
    }
    // Only once every container of the spec runs the image it names (built, present).
    const current = normalizeImageRef(wanted.image);
    const currentId = observed.imageIds.get(current);
    if (currentId === undefined) continue;
    const settled = observed.containers.every(
      (c) => !owner.owns(c) || c.labels[keys.spec] !== spec || c.imageId === currentId,
    );
    if (!settled) continue;
    const older = images.filter((image) => image.tag !== current).sort(newestFirst);
    for (const image of older.slice(1)) unkept.push({ spec, image, reason: "superseded build" });
  }
  return unkept;
}

/**
 * Last in a plan: removes the unkept images no container uses. A live spec's only when nothing
 * else is planned for it; a gone spec's only after all its containers (removed by this plan under
 * the same key, which runs them in order) and only when the prune guard let them go.
 */
export function planImages(input: PlanInput, observed: ObservedState, owner: Ownership, out: PlanBuilder): void {
  const foreign = observed.foreignImageIds;
  if (foreign === undefined) return;
  const unkept = unkeptImages(input, observed, owner);
  if (unkept.length === 0) return;
  const keys = owner.keys;
  const removedUnder = new Map<string, string>();
  const planned = new Set<string>();
  for (const a of out.planned) {
    planned.add(a.spec);
    if (a.kind === "remove") removedUnder.set(a.container.id, a.spec);
  }
  const pruneHeld = out.hasNote("prune-paused");
  for (const { spec, image, reason } of unkept) {
    const users = observed.containers.filter((c) => c.imageId === image.id && removedUnder.get(c.id) !== spec);
    if (foreign.has(image.id) || users.length > 0) continue;
    if (reason === "superseded build") {
      if (planned.has(spec)) continue;
    } else {
      if (reason === "orphaned" && pruneHeld) continue;
      const left = observed.containers.some(
        (c) => owner.owns(c) && c.labels[keys.spec] === spec && removedUnder.get(c.id) !== spec,
      );
      if (left) continue;
    }
    out.act({ kind: "remove-image", spec, image: image.tag, imageId: image.id, reason });
  }
}
