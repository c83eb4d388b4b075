/**
 * Under swarm, which tasks are of their service's current spec is Swarm's to say
 * (docker/swarm-adapter.ts listTasks, its `_up-to-date` filter): the swarm reconciler asks it of
 * every service of berth's (an older version's task stays in a slot's history after its update
 * completed); the status counts as `updated` the tasks Swarm still wants that it did not mark
 * outdated, and gives each task's mark.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeSwarm } from "../../support/fake-swarm.js";
import { specText } from "../../support/specs.js";
import { swarmReconciler } from "../../support/swarm-reconciler.js";
import { tempDir } from "../../support/tmp.js";

describe("tasks of a service's current spec under swarm", () => {
  it("are asked of Swarm for every service, counted updated, and marked in the task rows", async () => {
    const dir = tempDir("berth-swarm-updated-");
    for (const name of ["fresh", "done", "rolling", "paused"])
      writeFileSync(path.join(dir, `${name}.yaml`), specText(name, { replicas: 2 }));
    const clock = new FakeClock();
    const swarm = new FakeSwarm();
    const reconciler = swarmReconciler(new SpecLoader([dir]), swarm, clock);
    await reconciler.pass({ act: true });
    swarm.setUpdateState("done", "completed");
    swarm.setUpdateState("rolling", "updating");
    swarm.setUpdateState("paused", "paused");
    const id = (name: string): string => swarm.idOf(name);
    const task = (service: string, slot: number, outdated: boolean) =>
      swarm.tasks.push({
        id: `${service}.${slot}`,
        slot,
        serviceId: id(service),
        node: "node-a",
        desiredState: "running",
        state: "running",
        error: "",
        at: clock.now(),
        ...(outdated ? { outdated: true as const } : {}),
      });
    task("rolling", 1, false);
    task("rolling", 2, true);
    task("paused", 1, true);
    task("paused", 2, true);
    task("done", 1, false);
    task("done", 2, false);

    const result = await reconciler.pass({ act: false });
    expect([...(swarm.checked.at(-1) ?? [])].sort()).toEqual(
      [id("done"), id("fresh"), id("paused"), id("rolling")].sort(),
    );
    expect(Object.fromEntries(result.status.map((s) => [s.name, `${s.updated}/${s.desired}`]))).toEqual({
      done: "2/2",
      fresh: "0/2",
      paused: "0/2",
      rolling: "1/2",
    });
    const rows = result.status.find((s) => s.name === "rolling")?.tasks ?? [];
    expect(rows.map((t) => [t.id, t.outdated ?? false])).toEqual([
      ["rolling.1", false],
      ["rolling.2", true],
    ]);
  });
});
