/**
 * What a reconciler's first pass lists (loop/observer.ts): its own networks only, until the specs
 * name a network; then every network in the same pass, so the plan sees networks others made.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** The label filters of the network lists made so far ("" for the unfiltered one). */
const networkLists = (x: Harness): string[] =>
  x.docker.calls.filter((c) => c.operation === "networks").map((c) => c.subject);

describe("the first pass's network lists", () => {
  it("lists only berth's own networks when no spec names one", async () => {
    h = await harness({ "web.yaml": specText("web", { extra: ["network: none"] }) });
    await h.start();
    expect(h.status("web")?.phase).toBe("Running");
    expect(networkLists(h)).toEqual(["berth.controller=test"]);
  });

  it("lists every network in the same pass once a spec names one, and uses a network another tool made", async () => {
    h = await harness({ "web.yaml": specText("web", { extra: ["network: shared"] }) });
    h.docker.networks.set("shared", {
      id: "net-shared",
      name: "shared",
      driver: "bridge",
      scope: "local",
      labels: {},
      options: {},
      internal: false,
      attachable: false,
    });
    await h.start();
    expect(networkLists(h).slice(0, 2)).toEqual(["berth.controller=test", ""]);
    expect(h.passes[0]?.plan.notes ?? []).toEqual([]);
    expect(h.status("web")?.phase).toBe("Running");
  });
});
