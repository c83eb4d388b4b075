/**
 * Capacity admission in the loop (docs/capacity.md), on the in-memory Docker fake: what does not
 * fit waits Pending with the reason, and the pass after a container goes admits it, with no
 * resync; `--capacity auto` reads the engine once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { renderPlanSummary, waitingForRoom } from "../../../src/core/plan/render.js";
import { applyDone, applyOutcome, notConverged } from "../../../src/ops/apply.js";
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
    expect(last && applyOutcome(last)).toEqual({ failed: 0, pending: 1, problems: 0, unschedulable: 1 });
    // apply's last line says why, and plan's does not say "nothing to do" alone.
    expect(last && notConverged(applyOutcome(last))).toBe(
      "not converged: 0 spec(s) failed, 1 change(s) left (1 spec(s) wait for room on the host, Unschedulable: nothing apply does frees it; see --capacity)\n",
    );
    expect(last && renderPlanSummary(last.plan.actions.length, 0, waitingForRoom(last.plan.notes))).toBe(
      "nothing to do, and 1 spec waits for room (above)\n",
    );
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

  it("a create in flight keeps its room: a spec written meanwhile that ranks first waits, and the host is never over", async () => {
    h = await harness({ "zz.yaml": specText("zz") }, { raw: { capacity: "containers=1" } });
    // zz's create is admitted and begins, then hangs (a slow build or pull does the same).
    const release = h.docker.hold(["create"], { spec: "zz" });
    await h.start();
    await h.clock.advance(200);
    expect(h.docker.byName("zz")).toBeUndefined();
    // aa ranks before zz (same priority, its name first); with zz's create still in flight, there is no room.
    h.write("aa.yaml", specText("aa"));
    await h.changed();
    await h.clock.advance(200);
    expect(h.docker.byName("aa")).toBeUndefined();
    expect(h.status("aa")).toMatchObject({ phase: "Pending", message: "Unschedulable: needs containers 1, 0 free" });
    // The spec whose create is in flight is not said to wait for room.
    expect(h.status("zz")?.message ?? "").not.toContain("Unschedulable");
    release();
    await h.clock.advance(200);
    await h.changed();
    await h.clock.advance(200);
    expect(h.docker.byName("zz")?.state).toBe("running");
    expect(h.docker.byName("aa")).toBeUndefined();
    expect(h.docker.count("create")).toBe(1);
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
