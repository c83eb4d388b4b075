/**
 * `berth rollout retry` (ops/rollout-retry.ts) on the whole controller over the in-memory Docker
 * fake: the records of a rejected version (StartFirst + stableFor) that hold a spec's rollout are
 * removed, and the next pass tries that version again, one replica first; a spec nothing holds
 * has nothing to remove; a StopFirst hold, which has no record, is refused with why; so is a
 * spec that is not loaded. Through the controller it runs while no pass acts on the spec.
 */
import { afterEach, describe, expect, it } from "vitest";
import { labelKeys } from "../../../src/core/labels.js";
import { renderAction } from "../../../src/core/plan/render.js";
import { controllerRetry, retryRollouts, retryTargets } from "../../../src/ops/rollout-retry.js";
import { crashingRollout, type Harness, harness, versions } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

const KEYS = labelKeys("berth");

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const web = (v: string, extra: readonly string[] = []) =>
  specText("web", { replicas: 2, extra: ["stableFor: 10s", `env: { VERSION: "${v}" }`, ...extra] });

/** What the last pass saw, as retryTargets reads it. */
function lastView(x: Harness) {
  const last = x.passes.at(-1);
  if (!last) throw new Error("no pass yet");
  return { desired: last.snapshot.input.desired, observed: last.observed, keys: KEYS };
}

/** The controller's side, as POST /v1/specs/{name}/retry calls it; `told` hears of each removal. */
function retryThrough(x: Harness, name: string, told: string[] = []) {
  return controllerRetry(
    {
      docker: x.docker,
      told: (action, error) => told.push(`${renderAction(action)}${error ? ` (${error.message})` : ""}`),
      keys: KEYS,
      view: () => {
        const { desired, observed } = lastView(x);
        return { desired, observed };
      },
      exclusive: (spec, fn) => x.app.dispatcher.exclusive(spec, () => false, fn),
    },
    name,
  );
}

const idOf = (x: Harness, name: string): string | undefined =>
  [...x.docker.containers.values()].find((c) => c.name === name)?.id;

/** A rollout of version 2 held by web-0.rejected; version 1 runs. */
async function held(): Promise<Harness> {
  const x = await crashingRollout(web);
  expect(versions(x)).toEqual({ "web-0": "1", "web-0.rejected": "2", "web-1": "1" });
  return x;
}

describe("berth rollout retry", () => {
  it("removes the record that holds the rollout; the next pass tries the version again, one replica first", async () => {
    h = await held();
    const first = idOf(h, "web-0.rejected");
    expect(first).toBeDefined();
    const told: string[] = [];
    const answer = await retryThrough(h, "web", told);
    expect(answer).toEqual({
      kind: "done",
      steps: [{ spec: "web", container: "web-0.rejected", detail: "its version is tried again at the next pass" }],
    });
    // Told as the controller's own actions are (events, metrics).
    expect(told).toEqual([`remove  web-0.rejected [${first?.slice(0, 12) ?? ""}]: retried`]);
    // Tried again: still crashing, so a new record of it, and web-1 was never touched.
    await h.clock.advance(3_000);
    expect(versions(h)).toEqual({ "web-0": "1", "web-0.rejected": "2", "web-1": "1" });
    expect(idOf(h, "web-0.rejected")).not.toBe(first);
    expect(h.status("web")?.message).toMatch(/^rollout held: web-0\.rejected, .* berth rollout retry web tries this/);
  });

  it("a spec nothing holds: nothing to remove", async () => {
    h = await harness({ "web.yaml": web("1") });
    await h.start();
    const { desired, observed, keys } = lastView(h);
    const targets = retryTargets(["web"], desired, observed, keys);
    const writes = h.docker.writes().length;
    expect(targets).toEqual([{ spec: "web", records: [] }]);
    expect(await retryRollouts(h.docker, targets)).toEqual([
      { spec: "web", container: null, detail: "no rejected version holds its rollout" },
    ]);
    expect(h.docker.writes().length).toBe(writes);
  });

  it("refuses a StopFirst hold (no record to remove) and a spec not loaded, naming each", async () => {
    h = await crashingRollout((v) => web(v, ["updateStrategy: StopFirst"]));
    expect(versions(h)).toEqual({ "web-0": "2", "web-1": "1" });
    h.resync();
    await h.clock.advance(1_000);
    const { desired, observed, keys } = lastView(h);
    expect(() => retryTargets(["web", "nope"], desired, observed, keys)).toThrow(
      "cannot retry: web's rollout is held by a replica of this version that did not stay up (StopFirst: it took " +
        "its old container's place, so there is no record to remove); change the spec or its image to roll again; " +
        "no spec named nope",
    );
    expect(await retryThrough(h, "nope")).toMatchObject({ kind: "refused", status: 404 });
    expect(await retryThrough(h, "web")).toMatchObject({ kind: "refused", status: 409 });
  });
});
