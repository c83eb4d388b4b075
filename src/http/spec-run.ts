/**
 * A spec written through a compat API and waited for: the create answers once its container
 * runs (as the tool it stands in for does), or takes the spec back and says why. Artie's create
 * uses it; docker-spawner's /spawn has its own (agents that finish at once count as spawned).
 */
import type { ContainerStatus, SpecStatus } from "../core/status.js";
import { pollFor } from "./common.js";
import type { EngineServerDeps } from "./deps.js";
import { runtimeSpecs, writeAnswer, type Answer } from "./routes/specs.js";

export type SpecRun =
  | { readonly kind: "running"; readonly container: ContainerStatus }
  /** Not written (invalid, a name taken, the disk): the answer to give. */
  | { readonly kind: "refused"; readonly answer: Answer }
  /** Written, did not come up, and taken back: what to answer (409 Conflict/Invalid, 502 Failed, 504 not in time). */
  | { readonly kind: "failed"; readonly status: number; readonly why: string };

const GAVE_UP: ReadonlySet<string> = new Set(["Conflict", "Invalid", "Failed"]);

export async function runSpec(
  deps: Pick<EngineServerDeps, "specs" | "status" | "now">,
  name: string,
  text: string,
  waitMs: number,
): Promise<SpecRun> {
  const specs = runtimeSpecs(deps);
  const written = writeAnswer(await specs.write(name, text), name);
  if (written.status >= 300) return { kind: "refused", answer: written };
  const statusOf = (): SpecStatus | undefined => deps.status()?.report.specs.find((s) => s.name === name);
  const outcome = await pollFor(
    () => {
      const spec = statusOf();
      if (!spec) return null;
      const running = spec.containers.find((c) => c.current && c.state === "running");
      if (spec.phase === "Running" && running) return { ok: true as const, container: running };
      return GAVE_UP.has(spec.phase) ? { ok: false as const, spec } : null;
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
  return { kind: "failed", status: outcome ? (outcome.spec.phase === "Failed" ? 502 : 409) : 504, why };
}
