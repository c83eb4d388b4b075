/**
 * What the use cases a running controller does for one spec on request share (`berth restart`,
 * `berth rollout retry` through POST /v1/specs/{name}/restart and …/retry): the targets are read
 * from the last pass's view, a refusal is answered by what refused it (no pass yet, no such spec,
 * a spec the operation cannot apply to), and the work runs while no pass acts on the spec.
 */
import { BerthError } from "../core/errors.js";
import type { DesiredSpec } from "../core/plan/types.js";

/** An operation asked of a running controller, as the API answers it. */
export type SpecOperationAnswer<S> =
  | { readonly kind: "done"; readonly steps: readonly S[] }
  | { readonly kind: "refused"; readonly status: 404 | 409 | 503; readonly reason: string };

/**
 * Runs `work` on `name`'s targets (`targetsOf` throws a BerthError to refuse) inside `exclusive`.
 * `view`: the specs as last loaded and what else the last pass saw; null before the first pass.
 */
export async function onSpec<V extends { readonly desired: readonly DesiredSpec[] }, T, S>(
  name: string,
  view: V | null,
  targetsOf: (view: V) => T,
  exclusive: <R>(spec: string, fn: () => Promise<R>) => Promise<R>,
  work: (targets: T, view: V) => Promise<readonly S[]>,
): Promise<SpecOperationAnswer<S>> {
  if (view === null) return { kind: "refused", status: 503, reason: "no reconcile pass has completed yet" };
  let targets: T;
  try {
    targets = targetsOf(view);
  } catch (err) {
    if (!(err instanceof BerthError)) throw err;
    const missing = !view.desired.some((d) => d.spec.name === name);
    return { kind: "refused", status: missing ? 404 : 409, reason: err.message };
  }
  return { kind: "done", steps: await exclusive(name, () => work(targets, view)) };
}
