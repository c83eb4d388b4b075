/**
 * Restarts and crash loops (docs/design.md, "Restarts and crash loops"), the whole controller on the in-memory Docker fake: a
 * container the engine's restart policy restarts gets its restart count and last exit in status
 * from an inspect its `die` event asks for, a container waiting out its back-off makes the spec
 * Pending with a crash-loop message, and containers that never died cost no inspect.
 */
import { afterEach, describe, expect, it } from "vitest";
import { formatTime } from "../../../src/core/units.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("a container the engine keeps restarting", () => {
  it("shows its restarts and last exit, Pending with a crash-loop message while it waits to start again", async () => {
    h = await harness({ "web.yaml": specText("web", { replicas: 2 }) });
    await h.start();
    expect(h.status("web")?.phase).toBe("Running");
    // Nothing died: nothing is inspected, however many passes.
    h.resync();
    await h.changed();
    expect(h.docker.count("inspect")).toBe(0);
    expect(h.status("web")?.containers.map((c) => [c.restarts, c.lastExit])).toEqual([
      [null, null],
      [null, null],
    ]);

    // web-1's process exits with 3 and the engine waits before starting it again.
    const at = h.clock.now();
    h.docker.crash("web-1", 3);
    await h.clock.advance(100);
    const looping = h.status("web");
    expect(looping?.phase).toBe("Pending");
    const stamp = formatTime(at);
    expect(looping?.message).toBe(
      `crash loop: web-1 is restarting after exit code 3 at ${stamp} (1 restart); the engine starts it again after a growing delay`,
    );
    expect(looping?.containers.find((c) => c.name === "web-1")).toMatchObject({
      state: "restarting",
      restarts: 1,
      lastExit: { exitCode: 3, at: stamp },
    });
    expect(looping?.containers.find((c) => c.name === "web-0")).toMatchObject({ restarts: null, lastExit: null });
    expect(h.docker.count("inspect")).toBe(1);
    const restarted = () => h?.app.events.list({ spec: "web" }).filter((e) => e.kind === "restarted") ?? [];
    expect(restarted().map((e) => e.text)).toEqual([`restarted web-1 (1 restart): exited with code 3 at ${stamp}`]);

    // Started again, then it dies once more and is started at once: Running, two restarts.
    h.docker.crash("web-1", 1, { running: true });
    await h.clock.advance(100);
    const again = h.status("web");
    expect(again?.phase).toBe("Running");
    expect(again?.message).toBeNull();
    expect(again?.containers.find((c) => c.name === "web-1")).toMatchObject({
      state: "running",
      restarts: 2,
      lastExit: { exitCode: 1 },
    });
    // What was inspected is kept until the engine reports a change: passes cost no inspect.
    const inspected = h.docker.count("inspect");
    h.resync();
    await h.changed();
    expect(h.docker.count("inspect")).toBe(inspected);
    // Each exit is told once, with the code its die event carried (the inspect no longer has it).
    expect(restarted().map((e) => e.text.replace(/ at .*/, ""))).toEqual([
      "restarted web-1 (1 restart): exited with code 3",
      "restarted web-1 (2 restarts): exited with code 1",
    ]);
    expect(h.status("web")?.containers.find((c) => c.name === "web-1")?.restarts).toBe(2);

    // Events cut, and web-1 exits with 7 and is started again meanwhile (that die is missed): at
    // the reopening, what was inspected is inspected again; the new exit's code is not known, and
    // the last event's is not taken for it.
    h.docker.cutEvents();
    await h.clock.advance(100);
    const missed = h.clock.now();
    h.docker.crash("web-1", 7, { running: true });
    await h.clock.advance(1500);
    expect(h.docker.count("inspect")).toBe(inspected + 1);
    expect(h.status("web")?.containers.find((c) => c.name === "web-1")).toMatchObject({
      restarts: 3,
      lastExit: { exitCode: null, at: formatTime(missed) },
    });

    // web-0 dies and is started again before any pass sees it restarting: its `die` event asks.
    h.docker.crash("web-0", 2, { running: true });
    await h.clock.advance(100);
    expect(h.status("web")?.containers.find((c) => c.name === "web-0")).toMatchObject({
      state: "running",
      restarts: 1,
      lastExit: { exitCode: 2 },
    });

    // A new controller saw no `die`: a container waiting out its back-off is inspected at once.
    await h.stop();
    h.docker.crash("web-1", 3);
    h = await harness({ "web.yaml": specText("web", { replicas: 2 }) }, { docker: h.docker, clock: h.clock });
    await h.start();
    expect(h.status("web")?.message).toMatch(/^crash loop: web-1 is restarting after exit code 3 at .* \(4 restarts\)/);
  });
});
