/**
 * A spec deleted through the API while a pass is loading it (loop/reconciler.ts, core/deleted-marks.ts):
 * the pass that still loaded the spec, and found none of its containers yet, keeps the mark; so the
 * container that pass goes on to create is removed by the next one as `deleted`, past the prune
 * guard, not kept (or removed) as an unmarked orphan. The interleaving is made on demand: the load
 * is held open after it read the files, and the DELETE lands in between.
 */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { labelKeys } from "../../../src/core/labels.js";
import { ownership } from "../../../src/core/ownership.js";
import { DesiredStateBuilder } from "../../../src/loop/desired.js";
import { Reconciler } from "../../../src/loop/reconciler.js";
import { silentLogger } from "../../../src/util/log.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { heldFirstLoad, passAround } from "../../support/load.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

const KEYS = labelKeys("berth");

describe("a spec deleted while a pass loads it", () => {
  it("keeps its mark through that pass, and the next removes what it made as deleted", async () => {
    const dir = tempDir("berth-deleted-");
    const file = path.join(dir, "agent.yaml");
    writeFileSync(file, specText("agent"));
    const clock = new FakeClock();
    const docker = new FakeDocker(() => clock.now());
    const held = heldFirstLoad(dir);
    const reconciler = new Reconciler(
      {
        loader: held.loader,
        builder: new DesiredStateBuilder({ env: {}, readFile: () => Promise.reject(new Error("no files")) }),
        docker,
        clock,
        log: silentLogger(),
      },
      // The prune guard would keep a lone orphan (one of one is over any share below 1).
      { owner: ownership(KEYS, "test"), forcePrune: false, pruneMaxShare: 0.5 },
    );

    // The DELETE lands while the first pass's load is held: the file goes and the spec is marked
    // (app.ts, runtimeSpecsOf).
    const loaded = await passAround(
      held,
      () => reconciler.pass({ reload: true }),
      () => {
        rmSync(file);
        reconciler.markDeleted("agent");
      },
    );
    expect(loaded.snapshot.records.has("agent")).toBe(true);
    expect(loaded.plan.actions.map((a) => `${a.kind} ${a.spec}`)).toEqual(["create agent"]);

    // That pass's create lands after its list: one container of the spec, which is in no file now.
    const hash = loaded.snapshot.records.get("agent")?.hash ?? "";
    docker.add({
      name: "agent",
      labels: { [KEYS.controller]: "test", [KEYS.spec]: "agent", [KEYS.replica]: "0", [KEYS.hash]: hash },
    });
    const next = await reconciler.pass({ reload: true });
    expect(next.snapshot.records.has("agent")).toBe(false);
    expect(next.plan.actions.map((a) => (a.kind === "remove" ? `${a.kind} ${a.spec} ${a.reason}` : a.kind))).toEqual([
      "remove agent deleted",
    ]);

    // Once nothing of it is left and no pass loads it, the mark is let go: the same name made by
    // someone else's hand with berth's labels is an ordinary orphan again, kept by the guard.
    docker.kill("agent");
    await reconciler.pass({ reload: true });
    docker.add({
      name: "agent",
      labels: { [KEYS.controller]: "test", [KEYS.spec]: "agent", [KEYS.replica]: "0", [KEYS.hash]: hash },
    });
    const after = await reconciler.pass({ reload: true });
    expect(after.plan.actions).toEqual([]);
    expect(after.plan.notes.map((n) => n.kind)).toContain("prune-paused");
  });
});
