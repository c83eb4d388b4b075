/**
 * `berth logs --target swarm`'s pure parts: a service's log line split into its details and its
 * message (docker/swarm-adapter.ts), and the task a line came from as people read it.
 */
import { describe, expect, it } from "vitest";
import { mergedLogs, taskLabel } from "../../../src/cli/swarm-logs.js";
import type { LogHandlers, LogLine } from "../../../src/docker/port.js";
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

describe("a spec's logs with its canaries' (mergedLogs)", () => {
  /** A stream that the test drives: its handlers, and whether it was closed. */
  const stream = () => {
    const s = { handlers: null as LogHandlers | null, closed: false };
    const open = (h: LogHandlers) => {
      s.handlers = h;
      return Promise.resolve({
        close: () => {
          s.closed = true;
        },
      });
    };
    return { s, open };
  };
  const line = (text: string): LogLine => ({ stream: "stdout", time: null, line: text });

  it("passes both streams' lines, ends once both have (with the first error), and closes both", async () => {
    const [a, b] = [stream(), stream()];
    const lines: string[] = [];
    const ended: (Error | undefined)[] = [];
    const merged = await mergedLogs([a.open, b.open], {
      onLine: (l) => lines.push(l.line),
      onEnd: (err) => ended.push(err),
    });
    a.s.handlers?.onLine(line("own"));
    b.s.handlers?.onLine(line("canary"));
    b.s.handlers?.onEnd(new Error("canary stream broke"));
    expect(ended).toEqual([]);
    a.s.handlers?.onEnd();
    expect(lines).toEqual(["own", "canary"]);
    expect(ended.map((e) => e?.message)).toEqual(["canary stream broke"]);
    merged.close();
    expect([a.s.closed, b.s.closed]).toEqual([true, true]);
  });

  it("fails when one cannot be opened, closing the one that was", async () => {
    const a = stream();
    const refused = () => Promise.reject(new Error("no such service"));
    await expect(mergedLogs([a.open, refused], { onLine: () => undefined, onEnd: () => undefined })).rejects.toThrow(
      "no such service",
    );
    expect(a.s.closed).toBe(true);
  });
});
