/**
 * Which engine events ask for a pass: those that can change what a pass observes. A healthcheck
 * probe is an exec every interval, so exec events must cost nothing on a steady host; a
 * `health_status` change is what readiness and `dependsOn: Healthy` wait on, so it must still ask.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { DockerEvent, EventFilter, EventHandlers, EventSubscription } from "../../../src/docker/port.js";
import { changesObserved } from "../../../src/loop/engine-events.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

/** The fake, with a way to send events it would not make itself (execs, health changes). */
class EventingDocker extends FakeDocker {
  private readonly handlers: EventHandlers[] = [];

  override subscribeEvents(filter: EventFilter, handlers: EventHandlers): EventSubscription {
    this.handlers.push(handlers);
    return super.subscribeEvents(filter, handlers);
  }

  send(name: string, action: string, attributes: Record<string, string> = {}): void {
    const c = this.byName(name);
    if (!c) throw new Error(`no container ${name}`);
    const event: DockerEvent = { type: "container", action, id: c.id, labels: { ...c.labels, ...attributes } };
    for (const h of this.handlers) h.onEvent(event);
  }
}

const event = (action: string): DockerEvent => ({ type: "container", action, id: "c1", labels: {} });

describe("changesObserved", () => {
  it("is false for execs (as the engine words them, command appended), attaches, resizes, top, export and copies", () => {
    for (const action of [
      "exec_create: sh -c test -e /tmp/ready",
      "exec_start: sh -c test -e /tmp/ready",
      "exec_die",
      "exec_detach",
      "attach",
      "detach",
      "resize",
      "top",
      "export",
      "copy",
      "archive-path",
      "extract-to-dir",
    ])
      expect(changesObserved(event(action)), action).toBe(false);
  });

  it("is true for every state, health, name or config change, and for an action it does not know", () => {
    for (const action of [
      "create",
      "start",
      "restart",
      "stop",
      "kill",
      "die",
      "oom",
      "pause",
      "unpause",
      "rename",
      "update",
      "destroy",
      "health_status: healthy",
      "health_status: unhealthy",
      "health_status",
      "commit",
      "some_future_action",
    ])
      expect(changesObserved(event(action)), action).toBe(true);
  });
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function steady(): Promise<{ h: Harness; docker: EventingDocker }> {
  const clock = new FakeClock();
  const docker = new EventingDocker(() => clock.now());
  h = await harness(
    { "web.yaml": specText("web", { extra: ['healthcheck: { command: ["true"], interval: 1s }'] }) },
    { clock, docker },
  );
  await h.start();
  await h.clock.advance(1000);
  expect(h.status("web")?.phase).toBe("Running");
  return { h, docker };
}

describe("engine events on a steady host", () => {
  it("a healthcheck probe's exec events ask for no pass and no inspect", async () => {
    const { h, docker } = await steady();
    const passes = h.passes.length;
    const inspects = docker.count("inspect");
    for (let i = 0; i < 10; i++) {
      docker.send("web", "exec_create: true", { execID: `e${i}` });
      docker.send("web", "exec_start: true", { execID: `e${i}` });
      docker.send("web", "exec_die", { execID: `e${i}`, exitCode: "1" });
      await h.clock.advance(1000);
    }
    expect(h.passes.length).toBe(passes);
    expect(docker.count("inspect")).toBe(inspects);
  });

  it("a health_status change still asks for a pass", async () => {
    const { h, docker } = await steady();
    const passes = h.passes.length;
    docker.health.set("web", "unhealthy");
    docker.send("web", "health_status: unhealthy");
    await h.clock.advance(100);
    expect(h.passes.length).toBe(passes + 1);
  });
});
