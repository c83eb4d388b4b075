/** spec.stableFor's verdict on an inspected replacement (core/stable-for.ts): a table. */
import { describe, expect, it } from "vitest";
import type { ObservedContainer, ObservedRun } from "../../../src/core/observed.js";
import { stableProblem, stableWindow } from "../../../src/core/stable-for.js";

const START = 1_000_000;

function inspected(over: Partial<ObservedContainer> = {}, run: Partial<ObservedRun> = {}): ObservedContainer {
  return {
    id: "c1",
    name: "web.next",
    labels: {},
    state: "running",
    exitCode: null,
    health: null,
    imageId: "sha256:1",
    image: "busybox",
    createdAt: START - 100,
    mounts: [],
    run: {
      createdAt: START - 100,
      startedAt: START,
      finishedAt: null,
      oomKilled: false,
      restartCount: 0,
      lastExit: null,
      settled: false,
      ...run,
    },
    ...over,
  };
}

describe("stableProblem", () => {
  const window = stableWindow(inspected(), 10_000, 0);
  const rows: [string, ObservedContainer, number | null, string | null][] = [
    ["running, never restarted", inspected(), null, null],
    ["running and healthy", inspected({ health: "healthy" }), null, null],
    ["still starting its healthcheck", inspected({ health: "starting" }), null, null],
    ["unhealthy", inspected({ health: "unhealthy" }), null, "became unhealthy"],
    [
      "exited, not restarted",
      inspected({ state: "exited", exitCode: 2 }, { lastExit: { code: 2, at: START + 1_500 }, settled: true }),
      null,
      "exited with code 2 1.5s after it started",
    ],
    [
      "restarted by the engine: the inspect reads no code, the die event told it",
      inspected({}, { restartCount: 1, startedAt: START + 1_100, lastExit: { code: null, at: START + 1_000 } }),
      3,
      "exited with code 3 1.0s after it started and was restarted by the engine (1 restart)",
    ],
    [
      "restarted twice, the code not told",
      inspected({ state: "restarting" }, { restartCount: 2, lastExit: { code: null, at: START + 4_000 } }),
      null,
      "exited 4.0s after it started and was restarted by the engine (2 restarts)",
    ],
  ];
  for (const [name, c, told, expected] of rows) {
    it(name, () => {
      expect(stableProblem(c, window, told)).toBe(expected);
    });
  }

  it("waits from the container's start, or from now when the engine did not say", () => {
    expect(stableWindow(inspected(), 10_000, 5)).toEqual({ startedAt: START, until: START + 10_000 });
    expect(stableWindow(inspected({}, { startedAt: null }), 10_000, 5)).toEqual({ startedAt: 5, until: 10_005 });
  });
});
