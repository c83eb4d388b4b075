/**
 * Specs removed on purpose (an API DELETE of a runtime spec) are marked, under either target, so
 * that what is left of them goes past the prune guard, with the reason `deleted` (PlanInput.deleted,
 * SwarmPlanInput.deleted). This is when a mark is let go. Pure: no I/O.
 */

/**
 * The marks a pass lets go: those of specs it did not load and of which it found nothing left
 * (containers, volumes to reclaim or runs' records; services). Not while the pass still loaded the
 * spec: a pass whose load began before the file went, and whose list came before its own create of
 * it, finds nothing left yet is about to make something, which the next pass would then see as an
 * unmarked orphan. (Written again, a spec is unmarked at the write, not here.)
 */
export function forgottenDeletions(
  marked: Iterable<string>,
  loaded: ReadonlySet<string>,
  left: ReadonlySet<string>,
): string[] {
  return [...marked].filter((spec) => !loaded.has(spec) && !left.has(spec));
}
