/**
 * A spec written through a compat API and waited for: the create answers once its container
 * runs (as the tools berth stands in for do), or takes the spec back and says why. Artie's create
 * and docker-spawner's /spawn both come here (DESIGN §8: one code path per capability, the compat
 * layers map shapes); their differences are the rules below.
 */
import { type ContainerStatus, imageUnavailable, type SpecStatus } from "../core/status.js";
import { pollFor } from "./common.js";
import type { EngineServerDeps } from "./deps.js";
import { runtimeSpecs, writeAnswer, type Answer } from "./routes/specs.js";

export type SpecRun =
  /** Its container runs (or, under `finishedCounts`, already ran to its end). */
  | { readonly kind: "running"; readonly container: ContainerStatus }
  /** Not written (invalid, a name taken, the disk): the answer to give. */
  | { readonly kind: "refused"; readonly answer: Answer }
  /**
   * Written, did not come up, and taken back: 409 (Conflict or Invalid), 502 (an image that
   * cannot be had, or Failed under `failedEnds`), 504 (not in time); the spec's status as last seen.
   */
  | { readonly kind: "failed"; readonly status: 409 | 502 | 504; readonly why: string; readonly spec?: SpecStatus };

export interface RunRules {
  /** A container that already ran to its end counts as started (an agent that finishes at once). */
  readonly finishedCounts?: boolean;
  /** Phase Failed ends the wait (502); otherwise its retries are waited for until the deadline. */
  readonly failedEnds?: boolean;
}

type Seen =
  | { readonly ok: true; readonly container: ContainerStatus }
  | { readonly ok: false; readonly status: 409 | 502; readonly spec: SpecStatus };

/** What a spec's status says of the run, or null: not yet. */
export function runOutcome(spec: SpecStatus, rules: RunRules): Seen | null {
  const running = spec.containers.find((c) => c.current && c.state === "running");
  if (spec.phase === "Running" && running) return { ok: true, container: running };
  if (rules.finishedCounts && (spec.phase === "Succeeded" || spec.phase === "Failed")) {
    const finished = spec.containers.find((c) => c.current && c.id !== "" && c.finishedAt !== null);
    if (finished) return { ok: true, container: finished };
  }
  if (spec.phase === "Conflict" || spec.phase === "Invalid") return { ok: false, status: 409, spec };
  // What waiting cannot mend: the run fails at once (502) with the pull's message.
  if (imageUnavailable(spec)) return { ok: false, status: 502, spec };
  if (rules.failedEnds && spec.phase === "Failed") return { ok: false, status: 502, spec };
  // Failed with no retry coming (a missing network, a create the engine refused): waiting mends
  // nothing either, so it is not waited out.
  if (spec.phase === "Failed" && spec.retryAt === null) return { ok: false, status: 502, spec };
  return null;
}

/**
 * A pull's message without the executor's promise to retry: a compat create that fails takes its
 * spec back, so nothing retries.
 */
export function withoutRetry(message: string): string {
  return message.replace("; berth retries with backoff. ", ". ");
}

/**
 * Writes `text` as the runtime spec `name` (null: it is written already, a client's retry) and
 * waits up to `waitMs` for its container.
 */
export async function runSpec(
  deps: Pick<EngineServerDeps, "specs" | "status" | "now">,
  name: string,
  text: string | null,
  waitMs: number,
  rules: RunRules = {},
): Promise<SpecRun> {
  const specs = runtimeSpecs(deps);
  if (text !== null) {
    const written = writeAnswer(await specs.write(name, text), name);
    if (written.status >= 300) return { kind: "refused", answer: written };
  }
  const statusOf = (): SpecStatus | undefined => deps.status()?.report.specs.find((s) => s.name === name);
  const outcome = await pollFor(
    () => {
      const spec = statusOf();
      return spec ? runOutcome(spec, rules) : null;
    },
    waitMs,
    () => deps.now(),
  );
  if (outcome?.ok) return { kind: "running", container: outcome.container };
  // Why, as seen before the spec goes: a pass after its removal no longer lists it.
  const spec = outcome?.spec ?? statusOf();
  // It did not come up: take the spec back, so that nothing appears later unasked.
  await specs.remove(name);
  const why = spec ? `${spec.phase}${spec.message ? `: ${spec.message}` : ""}` : "not seen by a reconcile pass";
  return { kind: "failed", status: outcome?.status ?? 504, why, ...(spec ? { spec } : {}) };
}
