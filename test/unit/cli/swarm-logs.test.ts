/**
 * `berth logs --target swarm`'s pure parts: a service's log line split into its details and its
 * message (docker/swarm-adapter.ts), and the task a line came from as people read it.
 */
import { describe, expect, it } from "vitest";
import { taskLabel } from "../../../src/cli/swarm-logs.js";
import type { ObservedTask } from "../../../src/core/swarm-status.js";
import { detailsOf } from "../../../src/docker/swarm-adapter.js";

const task = (over: Partial<ObservedTask>): ObservedTask => ({
  id: "t1",
  slot: 2,
  serviceId: "s1",
  node: "node-a",
  desiredState: "running",
  state: "running",
  error: "",
  at: 0,
  ...over,
});

describe("a service's log lines", () => {
  it("split the details from the message, and keep the task", () => {
    const rows: [string, ReturnType<typeof detailsOf>][] = [
      [
        "com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello world",
        { line: "hello world", task: "t1" },
      ],
      // A value is URL-encoded; the message keeps its own = and commas.
      ["com.docker.swarm.task.id=t%2F1 a=b, c", { line: "a=b, c", task: "t/1" }],
      ["com.docker.swarm.node.id=n1 no task", { line: "no task" }],
      ["plain line without details", { line: "plain line without details" }],
      ["", { line: "" }],
    ];
    for (const [text, want] of rows) expect([text, detailsOf(text)]).toEqual([text, want]);
  });

  it("name their task NAME.SLOT@NODE, a global service's NAME@NODE, an unknown one by its ID", () => {
    expect(taskLabel("web", task({}), "t1")).toBe("web.2@node-a");
    expect(taskLabel("web", task({ slot: null }), "t1")).toBe("web@node-a");
    expect(taskLabel("web", task({ node: "" }), "t1")).toBe("web.2");
    expect(taskLabel("web", undefined, "abcdefghijklmnopqrstuvwxyz")).toBe("web.abcdefghijkl");
    expect(taskLabel("web", undefined, undefined)).toBe("web");
  });
});
