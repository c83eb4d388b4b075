/**
 * Under --target swarm, the manager's service events ask for a pass (loop/swarm-events.ts): an
 * event of a service the last pass cared about does, one of another service or of another type
 * does not; a stream that ends asks at once, and its reopening after the backoff asks again
 * (events may have been missed). The stream is a stateful stand-in of our own port's
 * subscribeEvents, on a fake clock.
 */
import { describe, expect, it } from "vitest";
import type { DockerEvent, EventFilter, EventHandlers, EventSubscription } from "../../../src/docker/port.js";
import { watchServiceEvents } from "../../../src/loop/swarm-events.js";
import { RECONNECT_BACKOFF } from "../../../src/util/backoff.js";
import { silentLogger } from "../../../src/util/log.js";
import { FakeClock } from "../../support/fake-clock.js";

/** One events stream at a time, as the engine serves it. */
class Stream {
  filters: EventFilter[] = [];
  private handlers: EventHandlers | null = null;

  subscribeEvents(filter: EventFilter, handlers: EventHandlers): EventSubscription {
    this.filters.push(filter);
    this.handlers = handlers;
    handlers.onOpen?.();
    return { close: () => (this.handlers = null) };
  }

  send(event: Partial<DockerEvent> & { name: string }): void {
    this.handlers?.onEvent({ type: "service", action: "update", id: "svc1", labels: { name: event.name }, ...event });
  }

  end(): void {
    const h = this.handlers;
    this.handlers = null;
    h?.onClose(new Error("stream reset"));
  }

  get open(): boolean {
    return this.handlers !== null;
  }
}

describe("the swarm's service events", () => {
  it("ask for a pass for the services the last pass cared about, and after a lost stream", async () => {
    const clock = new FakeClock();
    const stream = new Stream();
    let watched = new Set<string>();
    let passes = 0;
    let reconnects = 0;
    const events = watchServiceEvents({
      docker: stream,
      clock,
      log: silentLogger(),
      backoff: RECONNECT_BACKOFF,
      watched: () => watched,
      onChange: () => passes++,
      onReconnected: () => reconnects++,
    });
    expect(stream.filters).toEqual([{ labels: [], types: ["service"] }]);
    // Opening the first time asks for nothing: the first pass comes anyway.
    expect(passes).toBe(0);
    stream.send({ name: "web" });
    expect(passes).toBe(0);
    watched = new Set(["web", "agent-1"]);
    stream.send({ name: "web", action: "remove" });
    stream.send({ name: "agent-1", action: "create" });
    stream.send({ name: "someone-elses" });
    stream.send({ name: "web", type: "node" });
    expect(passes).toBe(2);

    stream.end();
    expect([passes, stream.open, reconnects]).toEqual([3, false, 0]);
    await clock.advance(RECONNECT_BACKOFF.baseMs * 2);
    expect([passes, stream.open, reconnects]).toEqual([4, true, 1]);
    stream.send({ name: "web" });
    expect(passes).toBe(5);

    events.close();
    expect(stream.open).toBe(false);
    await clock.advance(60_000);
    expect([passes, stream.filters.length, reconnects]).toEqual([5, 2, 1]);
  });
});
