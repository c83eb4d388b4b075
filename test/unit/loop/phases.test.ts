/**
 * The phases a spec passes through while berth works on it, as the controller reports them after
 * each pass (docs/design.md, "Status"): Pending while its container is being created, Updating
 * while a changed spec's replacement is in flight, Running once done. On the in-memory Docker
 * fake, with operations held open and a fake clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Phase } from "../../../src/core/status.js";
import type { Operation } from "../../support/fake-docker.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
let release: (() => void) | undefined;
afterEach(async () => {
  // A test that failed midway must not leave an operation waiting: stop() waits for it to end.
  release?.();
  release = undefined;
  h?.docker.health.clear();
  await h?.clock.advance(1000);
  await h?.stop();
  h = undefined;
});

/** The phase of `name` in the last pass's report, checked against what the controller reports. */
function phaseOf(name: string): Phase | undefined {
  const phase = h?.status(name)?.phase;
  expect(h?.passes.at(-1)?.report.specs.find((s) => s.name === name)?.phase).toBe(phase);
  return phase;
}

describe("Pending", () => {
  const IMAGE = "berth-test/app:2";

  it.each<[string, Operation]>([
    ["its image is being pulled", "pull"],
    ["its container is being created", "create"],
    ["its new container is being started", "start"],
  ])("while %s, then Running", async (_what, operation) => {
    h = await harness({ "web.yaml": specText("web", { image: IMAGE }), "other.yaml": specText("other") });
    h.docker.registry.set(IMAGE, "sha256:" + "2".repeat(64));
    release = h.docker.hold([operation], operation === "pull" ? {} : { spec: "web" });
    await h.start();
    // The dispatched work reaches the held call after real I/O of its own (not a pass's): wait for it.
    await h.clock.until(() => h?.docker.held.length === 1, 5_000);
    expect(h.docker.held.map((c) => c.operation)).toEqual([operation]);
    expect(h.app.dispatcher.isBusy("web")).toBe(true);
    expect(h.docker.byName("web")?.state).toBe(operation === "start" ? "created" : undefined);
    expect(phaseOf("web")).toBe("Pending");
    expect(phaseOf("other")).toBe("Running");
    // A pass while the operation is still in flight says the same.
    const passes = h.passes.length;
    await h.changed();
    expect(h.passes.length).toBe(passes + 1);
    expect(h.passes.at(-1)?.waiting).toEqual([expect.objectContaining({ spec: "web", why: "busy" })]);
    expect(phaseOf("web")).toBe("Pending");
    // Made but not started yet (a start in flight): of this version, not available.
    expect(h.status("web")?.replicas).toEqual({
      desired: 1,
      ready: 0,
      updated: operation === "start" ? 1 : 0,
      available: 0,
    });

    release();
    await h.clock.advance(100);
    expect(h.docker.held).toEqual([]);
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.app.dispatcher.isBusy("web")).toBe(false);
    expect(phaseOf("web")).toBe("Running");
    expect(h.status("web")?.replicas).toEqual({ desired: 1, ready: 1, updated: 1, available: 1 });
    expect(h.docker.count("pull")).toBe(1);
    expect(h.docker.count("create")).toBe(2);
  });
});

describe("Updating", () => {
  const HEALTHY = ["healthcheck:", '  command: ["true"]', "  interval: 1s"];

  it("while a changed spec's replacement waits for its new container to become healthy (StartFirst), then Running", async () => {
    h = await harness({ "web.yaml": specText("web", { extra: ["env: { V: '1' }", ...HEALTHY] }) });
    await h.start();
    const old = h.docker.byName("web");
    expect(old?.state).toBe("running");
    expect(phaseOf("web")).toBe("Running");

    // The new container comes up but is not healthy yet.
    h.docker.health.set("web.next", "starting");
    h.write("web.yaml", specText("web", { extra: ["env: { V: '2' }", ...HEALTHY] }));
    await h.changed();
    expect(h.passes.at(-1)?.plan.actions.map((a) => [a.kind, a.spec])).toEqual([["replace", "web"]]);
    expect(h.passes.at(-1)?.started).toEqual(["web"]);
    expect(phaseOf("web")).toBe("Updating");

    await h.clock.advance(2000);
    const next = h.docker.byName("web.next");
    expect(next?.state).toBe("running");
    expect(next?.body.Env).toEqual(["V=2"]);
    expect(h.docker.byName("web")?.id).toBe(old?.id); // the old one keeps running meanwhile
    expect(h.docker.byName("web")?.state).toBe("running");
    expect(h.app.dispatcher.isBusy("web")).toBe(true);
    // A pass while the replacement waits sees both containers, the new one current, and says Updating.
    await h.changed();
    expect(h.passes.at(-1)?.waiting).toEqual([expect.objectContaining({ spec: "web", why: "busy" })]);
    expect(phaseOf("web")).toBe("Updating");
    expect(h.status("web")?.containers.map((c) => [c.name, c.current])).toEqual([
      ["web", false],
      ["web.next", true],
    ]);

    h.docker.health.set("web.next", "healthy");
    await h.clock.advance(200);
    expect(h.docker.names()).toEqual(["web"]);
    const now = h.docker.byName("web");
    expect(now?.id).toBe(next?.id);
    expect(now?.body.Env).toEqual(["V=2"]);
    expect(h.app.dispatcher.isBusy("web")).toBe(false);
    expect(phaseOf("web")).toBe("Running");
    expect(h.status("web")?.containers.map((c) => [c.name, c.current])).toEqual([["web", true]]);
  });
});

describe("Failed, then the edit reverted", () => {
  it("is Running again once the spec is back at the version its container runs, with no retry left", async () => {
    h = await harness({ "web.yaml": specText("web") });
    await h.start();
    await h.clock.advance(200);
    const id = h.docker.byName("web")?.id;
    expect(phaseOf("web")).toBe("Running");
    // A new version whose image cannot be pulled: Failed, retried with backoff; the old container stays.
    h.docker.fail({ operation: "pull", times: 1000, message: "manifest unknown" });
    h.write("web.yaml", specText("web", { image: "127.0.0.1:9/nope:1" }));
    await h.changed();
    await h.clock.advance(200);
    expect(phaseOf("web")).toBe("Failed");
    expect(h.status("web")?.retryAt).not.toBeNull();
    // Back to the version that runs: nothing to do, and nothing failed.
    h.write("web.yaml", specText("web"));
    await h.changed();
    await h.clock.advance(200);
    expect(phaseOf("web")).toBe("Running");
    expect(h.status("web")?.retryAt ?? null).toBeNull();
    expect(h.docker.byName("web")?.id).toBe(id);
  });
});
