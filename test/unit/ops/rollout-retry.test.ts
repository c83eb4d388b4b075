/**
 * `berth rollout retry` (ops/rollout-retry.ts) on the whole controller over the in-memory Docker
 * fake. StartFirst: the records of a rejected version that hold a spec's rollout are removed, and
 * the next pass tries that version again, one replica first. StopFirst: the replica that did not
 * stay up is made again and waited on for its stableFor, the others untouched; once it stays up
 * (fixed outside the spec) the rest rolls out, and when it fails again it holds, as before. A spec
 * nothing holds is left alone; a spec not loaded is refused. Through the controller it runs while
 * no pass acts on the spec, and each action is told as the controller's own.
 */
import { afterEach, describe, expect, it } from "vitest";
import { labelKeys } from "../../../src/core/labels.js";
import type { ObservedContainer } from "../../../src/core/observed.js";
import { renderAction } from "../../../src/core/plan/render.js";
import { controllerRetry, retryRollouts, retryTargets } from "../../../src/ops/rollout-retry.js";
import { crashingRollout, type Harness, harness, versions } from "../../support/harness.js";
import { container, desired, observed } from "../../support/plan-fixtures.js";
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
  return { desired: last.snapshot.input.desired, records: last.snapshot.records, observed: last.observed, keys: KEYS };
}

/** The controller's side, as POST /v1/specs/{name}/retry calls it; `told` hears of each removal. */
function retryThrough(x: Harness, name: string, told: string[] = []) {
  return controllerRetry(
    {
      docker: x.docker,
      executor: x.app.executor,
      told: (action, error) => told.push(`${renderAction(action)}${error ? " (failed)" : ""}`),
      keys: KEYS,
      view: () => lastView(x),
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
      steps: [
        {
          spec: "web",
          container: "web-0.rejected",
          outcome: "removed",
          detail: "its version is tried again at the next pass",
        },
      ],
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
    const { desired, records, observed, keys } = lastView(h);
    const targets = retryTargets(["web"], desired, observed, keys);
    const writes = h.docker.writes().length;
    expect(targets).toEqual([{ spec: "web", records: [], replace: [] }]);
    expect(await retryRollouts({ docker: h.docker, executor: h.app.executor, records, observed }, targets)).toEqual([
      { spec: "web", container: null, outcome: "none", detail: "nothing holds its rollout" },
    ]);
    expect(h.docker.writes().length).toBe(writes);
    expect(() => retryTargets(["web", "nope"], desired, observed, keys)).toThrow("cannot retry: no spec named nope");
    expect(await retryThrough(h, "nope")).toMatchObject({ kind: "refused", status: 404 });
  });

  it("StopFirst: makes the failed replica again and waits its stableFor; failing again it holds, fixed the rest rolls", async () => {
    const x = await crashingRollout((v) => web(v, ["updateStrategy: StopFirst"]));
    h = x;
    expect(versions(x)).toEqual({ "web-0": "2", "web-1": "1" });
    x.resync();
    await x.clock.advance(1_000);
    expect(x.status("web")?.message).toMatch(/ berth rollout retry web makes it again \(stableFor\)$/);
    const crashed = idOf(x, "web-0");
    const old = idOf(x, "web-1");

    // Still broken: made again, it crashes within its stableFor and stays; web-1 keeps version 1.
    const told: string[] = [];
    const again = retryThrough(x, "web", told);
    await x.clock.advance(3_000);
    expect(await again).toMatchObject({ kind: "done", steps: [{ container: "web-0", outcome: "failed" }] });
    expect(told).toEqual([`replace web-0 [${crashed?.slice(0, 12) ?? ""}] StopFirst: retried (failed)`]);
    expect(idOf(x, "web-0")).not.toBe(crashed);
    x.resync();
    await x.clock.advance(60_000);
    expect(versions(x)).toEqual({ "web-0": "2", "web-1": "1" });
    expect(idOf(x, "web-1")).toBe(old);
    expect(x.status("web")?.phase).toBe("Failed");

    // Fixed outside the spec: made again, it stays up 10 s, and the next pass rolls web-1.
    x.fix();
    const fixed = retryThrough(x, "web");
    await x.clock.advance(11_000);
    expect(await fixed).toMatchObject({ kind: "done", steps: [{ container: "web-0", outcome: "replaced" }] });
    await x.clock.advance(12_000);
    expect(versions(x)).toEqual({ "web-0": "2", "web-1": "2" });
    expect(x.status("web")?.phase).toBe("Running");
  });
});

describe("retryTargets", () => {
  it("StopFirst: replaces each held replica, taking over its auto host ports", () => {
    const d = desired("web", {
      replicas: 3,
      extra: ["stableFor: 10s", "updateStrategy: StopFirst", "ports:", "  - { containerPort: 80, hostPort: auto }"],
    });
    const crashed: ObservedContainer = {
      ...container(d, { name: "web-0", replica: 0, state: "restarting", labels: { [KEYS.hostPorts]: "80/tcp=10001" } }),
      // Restarting: the engine lists no binding now; the label still holds its port.
      ports: [],
      run: {
        createdAt: 0,
        startedAt: 0,
        finishedAt: null,
        oomKilled: false,
        restartCount: 2,
        lastExit: { code: 3, at: 1 },
        settled: false,
      },
    };
    const old = [1, 2].map((i) => container(d, { name: `web-${i}`, replica: i, hash: "old" }));
    const [target] = retryTargets(["web"], [d], observed([crashed, ...old]), KEYS);
    expect(target).toEqual({
      spec: "web",
      records: [],
      replace: [
        {
          kind: "replace",
          spec: "web",
          replica: 0,
          name: "web-0",
          old: { id: crashed.id, name: "web-0" },
          strategy: "StopFirst",
          reason: "retried",
          hostPorts: { "80/tcp": 10001 },
        },
      ],
    });
    // The same containers all of one version: no rollout, so nothing holds.
    const done = [0, 1, 2].map((i) => container(d, { name: `web-${i}`, replica: i }));
    expect(retryTargets(["web"], [d], observed(done), KEYS)).toEqual([{ spec: "web", records: [], replace: [] }]);
  });
});
