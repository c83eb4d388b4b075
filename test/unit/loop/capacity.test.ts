/**
 * Capacity admission in the loop (docs/capacity.md), on the in-memory Docker fake: what does not
 * fit waits Pending with the reason, and the pass after a container goes admits it, with no
 * resync; `--capacity auto` reads the engine once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { applyDone, applyOutcome } from "../../../src/ops/apply.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const Gi = 2 ** 30;

describe("capacity in the loop", () => {
  it("containers=2: the third spec waits Pending; deleting one admits it at the next pass", async () => {
    h = await harness(
      { "a.yaml": specText("a"), "b.yaml": specText("b"), "c.yaml": specText("c") },
      { raw: { capacity: "containers=2" } },
    );
    await h.start();
    await h.clock.advance(200);
    expect(h.docker.byName("a")?.state).toBe("running");
    expect(h.docker.byName("b")?.state).toBe("running");
    expect(h.docker.byName("c")).toBeUndefined();
    expect(h.status("c")).toMatchObject({ phase: "Pending", message: "Unschedulable: needs containers 1, 0 free" });
    // apply does not wait for room that only a removal can make: done, with c still pending.
    const last = h.passes.at(-1);
    expect(last && applyDone(last)).toBe(true);
    expect(last && applyOutcome(last)).toEqual({ failed: 0, pending: 1, problems: 0 });
    expect(h.app.controller.last?.report.node).toMatchObject({
      capacity: { containers: 2 },
      requested: { containers: 2 },
      free: { containers: 0 },
      pending: [{ spec: "c", reason: "Unschedulable: needs containers 1, 0 free" }],
    });

    h.remove("a.yaml");
    await h.changed();
    await h.clock.advance(200);
    // The pass that removed a did not admit c (a held its place until gone); the next one did.
    expect(h.docker.byName("a")).toBeUndefined();
    expect(h.docker.byName("c")?.state).toBe("running");
    expect(h.status("c")?.phase).toBe("Running");
    expect(h.app.controller.last?.report.node?.pending).toEqual([]);
  });

  it("auto: the engine's CPUs and memory less the reserve, read once", async () => {
    h = await harness(
      {
        "big.yaml": specText("big", { extra: ["resources: { memory: 5Gi }"] }),
        "small.yaml": specText("small", { extra: ["resources: { memory: 2Gi }"] }),
      },
      { raw: { capacity: "auto", reserve: "memory=2Gi,cpus=0.5" } },
    );
    h.docker.hostInfo = { nanoCpus: 4e9, memoryBytes: 8 * Gi };
    await h.start();
    await h.clock.advance(200);
    expect(h.docker.byName("big")?.state).toBe("running");
    expect(h.docker.byName("small")).toBeUndefined();
    expect(h.status("small")).toMatchObject({
      phase: "Pending",
      message: "Unschedulable: needs memory 2Gi, 1Gi free",
    });
    expect(h.app.controller.last?.report.node?.capacity).toEqual({ cpus: 3.5, memory: 6 * Gi, containers: null });
    await h.changed();
    expect(h.docker.calls.filter((c) => c.operation === "info")).toHaveLength(1);
  });
});
