/**
 * `hostPort: auto` in the loop, on the in-memory Docker fake (docs/ports.md): a create in flight
 * holds its port against the next plan; a start refused because a program outside Docker holds the
 * port removes the container and takes the next free port, with an event; status shows the ports.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

const auto = (name: string): string =>
  specText(name, { extra: ["ports:", "  - { containerPort: 80, hostPort: auto }"] });

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

function bound(name: string): string | undefined {
  return h?.docker.byName(name)?.body.HostConfig.PortBindings?.["80/tcp"]?.[0]?.HostPort;
}

describe("hostPort: auto in the loop", () => {
  it("a create still in flight keeps its port from a spec planned meanwhile (and planned first)", async () => {
    h = await harness({ "z.yaml": auto("z") });
    const release = h.docker.hold(["create"], { spec: "z" });
    await h.start();
    // b sorts before z: planned first, it would take z's port if z's create did not hold it.
    h.write("b.yaml", auto("b"));
    await h.changed();
    release();
    await h.clock.advance(2000);
    expect([bound("z"), bound("b")]).toEqual(["10000", "10001"]);
    expect(h.status("b")?.containers[0]?.hostPorts).toEqual({ "80/tcp": 10001 });
    expect(h.docker.byName("z")?.labels["berth.host_ports"]).toBe("80/tcp=10000");

    // Once z is idle its hold is let go: z deleted, its port goes to the next spec.
    h.remove("z.yaml");
    await h.changed();
    await h.clock.advance(2000);
    expect(h.docker.byName("z")).toBeUndefined();
    h.write("c.yaml", auto("c"));
    await h.changed();
    await h.clock.advance(2000);
    expect(bound("c")).toBe("10000");
  });

  it("a port held outside Docker: the container goes unstarted and the next pass takes the next port", async () => {
    h = await harness({ "web.yaml": auto("web") });
    h.docker.fail({
      operation: "start",
      message:
        "Docker start: driver failed programming external connectivity on endpoint web: Error starting userland proxy: listen tcp4 127.0.0.1:10000: bind: address already in use",
    });
    await h.start();
    await h.clock.advance(3000);
    expect(bound("web")).toBe("10001");
    expect(h.docker.byName("web")?.state).toBe("running");
    const failed = h.app.events.list().find((e) => !e.ok);
    expect(failed).toMatchObject({ kind: "create", text: "create  web: not found (host port 10000->80/tcp)" });
    expect(failed?.error).toMatch(/host port 10000 is held by a program outside Docker/);
    const created = h.app.events.list().filter((e) => e.ok && e.kind === "create");
    expect(created.map((e) => e.text)).toEqual(["create  web: not found (host port 10001->80/tcp)"]);
  });
});
