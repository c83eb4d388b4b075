/**
 * A spec deleted through the API while a swarm pass is loading it (loop/swarm-reconciler.ts,
 * core/deleted-marks.ts), as test/unit/loop/deleted-race.test.ts for the engine target: the pass
 * that still loaded the spec, and listed none of its services yet, keeps the mark; so the service
 * that pass goes on to create is removed by the next one as `deleted`, past the prune guard, not
 * kept (or removed) as an unmarked orphan. The interleaving is made on demand: the load is held
 * open after it read the files (the service list has already answered), and the DELETE lands in
 * between.
 */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { SwarmAction } from "../../../src/core/swarm-plan.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeSwarm } from "../../support/fake-swarm.js";
import { heldFirstLoad, passAround } from "../../support/load.js";
import { SWARM_KEYS as KEYS, swarmReconciler } from "../../support/swarm-reconciler.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

/** An action as `kind spec`, and its reason for a remove. */
const shown = (a: SwarmAction): string =>
  a.kind === "remove" ? `${a.kind} ${a.spec} ${a.reason}` : `${a.kind} ${a.spec}`;

describe("a spec deleted while a swarm pass loads it", () => {
  it("keeps its mark through that pass, and the next removes the service it made as deleted", async () => {
    const dir = tempDir("berth-swarm-deleted-");
    const file = path.join(dir, "agent.yaml");
    writeFileSync(file, specText("agent"));
    const clock = new FakeClock();
    const swarm = new FakeSwarm();
    const held = heldFirstLoad(dir);
    const reconciler = swarmReconciler(held.loader, swarm, clock);

    // The DELETE lands while the first pass's load is held: the file goes and the spec is marked
    // (app.ts, runtimeSpecsOf).
    const loaded = await passAround(
      held,
      () => reconciler.pass({ act: true }),
      () => {
        rmSync(file);
        reconciler.markDeleted("agent");
      },
    );
    expect(loaded.snapshot.records.has("agent")).toBe(true);
    expect(loaded.services).toEqual([]);
    expect(loaded.plan.actions.map(shown)).toEqual(["create agent"]);
    expect(loaded.failed).toBe(0);

    // That pass's create landed after its list: one service of the spec, which is in no file now.
    expect(swarm.names()).toEqual(["agent"]);
    expect(swarm.specOf("agent")?.Labels).toMatchObject({ [KEYS.controller]: "test", [KEYS.spec]: "agent" });
    const next = await reconciler.pass({ act: true });
    expect(next.snapshot.records.has("agent")).toBe(false);
    expect(next.plan.actions.map(shown)).toEqual(["remove agent deleted"]);
    expect(next.plan.notes).toEqual([]);
    expect(swarm.names()).toEqual([]);

    // Once nothing of it is left and no pass loads it, the mark is let go: the same name made by
    // someone else's hand with berth's labels is an ordinary orphan again, kept by the guard.
    const empty = await reconciler.pass({ act: true });
    expect(empty.plan.actions).toEqual([]);
    const hash = loaded.snapshot.records.get("agent")?.hash ?? "";
    swarm.add({
      name: "agent",
      labels: { [KEYS.controller]: "test", [KEYS.spec]: "agent", [KEYS.hash]: hash },
    });
    const after = await reconciler.pass({ act: true });
    expect(after.plan.actions).toEqual([]);
    expect(after.plan.notes.map((n) => n.kind)).toEqual(["prune-paused"]);
    expect(swarm.names()).toEqual(["agent"]);
  });
});
