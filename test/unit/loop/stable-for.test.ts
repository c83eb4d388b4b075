/**
 * What `berth apply --stable-for` sees (ops/stability.ts, ops/stable-for.ts), the whole controller
 * on the in-memory Docker fake: a long-running container's exit after apply began shows in the
 * pass that its `die` event asks for; one whose event is missed is found by the inspects at the
 * end of the wait; exits before apply began, runs' exits and steady containers are not counted.
 */
import { afterEach, describe, expect, it } from "vitest";
import { inspectExits } from "../../../src/ops/stable-for.js";
import { longRunningSpecs, statusExits } from "../../../src/ops/stability.js";
import type { PassResult } from "../../../src/loop/reconciler.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const lastPass = (x: Harness): PassResult => {
  const result = x.passes.at(-1);
  if (!result) throw new Error("no pass");
  return result;
};

const fromStatus = (x: Harness, since: number) => {
  const result = lastPass(x);
  return statusExits(result.report, longRunningSpecs(result.snapshot.input.desired), since);
};

describe("--stable-for's view of a pass", () => {
  it("counts a long-running container's exit after `since`, from its die event or from the final inspect", async () => {
    h = await harness({
      "web.yaml": specText("web", { replicas: 2 }),
      "job.yaml": specText("job", { extra: ["restartPolicy: Never"] }),
    });
    await h.start();
    // An exit before apply began is history, not a crash of this apply.
    h.docker.crash("web-0", 2, { running: true });
    await h.clock.advance(100);
    await h.clock.advance(1_000);
    const since = h.clock.now();
    expect(fromStatus(h, since)).toEqual([]);
    expect(await inspectExits(h.app.docker, lastPass(h), since)).toEqual([]);

    // A run's exit is its outcome (Succeeded or Failed), not a crash.
    h.docker.exit("job", 1);
    await h.clock.advance(100);
    expect(fromStatus(h, since)).toEqual([]);

    // web-1 exits with 3 and is started again: its die event asks for the pass that shows it.
    const at = h.clock.now();
    h.docker.crash("web-1", 3, { running: true });
    await h.clock.advance(100);
    expect(fromStatus(h, since)).toEqual([
      { spec: "web", name: "web-1", state: "running", exitCode: 3, at, restarts: 1, error: null },
    ]);
    // The inspect finds it too, and takes the code the event told (its own reads none).
    expect(await inspectExits(h.app.docker, lastPass(h), since)).toEqual([
      { spec: "web", name: "web-1", state: "running", exitCode: 3, at, restarts: 1, error: null },
    ]);
  });

  it("finds an exit whose die event never came only by inspecting", async () => {
    h = await harness({ "web.yaml": specText("web", { replicas: 2 }) });
    await h.start();
    const since = h.clock.now();
    h.docker.dropEvents = true;
    const at = h.clock.now();
    h.docker.crash("web-0", 9, { running: true });
    h.resync();
    await h.changed();
    // Running again, as the list shows it: the pass knows nothing of the exit.
    expect(fromStatus(h, since)).toEqual([]);
    expect(await inspectExits(h.app.docker, lastPass(h), since)).toEqual([
      { spec: "web", name: "web-0", state: "running", exitCode: null, at, restarts: 1, error: null },
    ]);
  });

  it("counts a container the engine is restarting, whenever it exited", async () => {
    h = await harness({ "web.yaml": specText("web") });
    await h.start();
    h.docker.crash("web", 4);
    await h.clock.advance(100);
    const since = h.clock.now() + 60_000;
    expect(fromStatus(h, since)).toMatchObject([{ name: "web", state: "restarting", exitCode: 4, restarts: 1 }]);
    expect(await inspectExits(h.app.docker, lastPass(h), since)).toMatchObject([
      { name: "web", state: "restarting", exitCode: 4 },
    ]);
  });
});
