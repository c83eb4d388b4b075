/** The logger's human lines and its colour decision (NO_COLOR, FORCE_COLOR), as golden tables. */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { createLogger, humanLine, useColor } from "../../../src/util/log.js";

describe("useColor", () => {
  const cases: [Record<string, string | undefined>, boolean, boolean][] = [
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: "1" }, true, false],
    [{ NO_COLOR: "" }, true, true],
    [{ FORCE_COLOR: "1" }, false, true],
    [{ FORCE_COLOR: "" }, false, true],
    [{ FORCE_COLOR: "3" }, false, true],
    [{ FORCE_COLOR: "0" }, true, false],
    [{ FORCE_COLOR: "false" }, true, false],
    [{ FORCE_COLOR: "1", NO_COLOR: "1" }, false, true],
  ];
  it.each(cases)("env %j on a terminal %s → colour %s", (env, tty, expected) => {
    expect(useColor(env, tty)).toBe(expected);
  });
});

describe("humanLine", () => {
  const cases: [Record<string, unknown>, string][] = [
    [
      { level: 30, time: 1, msg: "reconcile pass done", actions: 2, durationMs: 14 },
      "reconcile pass done actions=2 durationMs=14",
    ],
    [
      { level: 40, msg: "spec cannot be applied", spec: "web", err: "secret A: no variable B" },
      'spec cannot be applied spec=web err="secret A: no variable B"',
    ],
    [
      { msg: "berth run", version: "0.1.0", specs: ["specs", "more"] },
      'berth run version=0.1.0 specs=["specs","more"]',
    ],
    [{ msg: "http listening", writes: false, allowHosts: [] }, "http listening writes=false allowHosts=[]"],
    [{ msg: "failed", err: { type: "Error", message: "boom", stack: "Error: boom\n    at x" } }, "failed err=boom"],
    [{ msg: "x", value: 'a"b', eq: "a=b", empty: "", nothing: null }, 'x value="a\\"b" eq="a=b" empty="" nothing=null'],
    [{ msg: "x", name: "evil\u001b[31m\u202e\nname" }, 'x name="evil\\u001b[31m\\u202e\\nname"'],
    [{ msg: "x", skipped: undefined, pid: 1, hostname: "h" }, "x"],
  ];
  it.each(cases)("%j → %s", (event, line) => {
    expect(humanLine(event)).toBe(line);
    expect(line).not.toContain("\n");
  });
});

describe("createLogger", () => {
  it("loads pino-pretty only when a pretty logger writes its first line", () => {
    const loaded = (): boolean =>
      Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("pino-pretty"));
    const log = createLogger({ level: "warn", format: "pretty", fd: 2, time: false, env: { NO_COLOR: "1" } });
    log.info("below the level: not written");
    expect(loaded()).toBe(false);
    log.warn({ check: "log.test.ts" }, "pretty logger test line");
    expect(loaded()).toBe(true);
  });
});
