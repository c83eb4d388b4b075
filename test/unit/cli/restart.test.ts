/** `berth restart`'s step lines: how long each took, in seconds to a tenth, under either target (docs/swarm.md). */
import { describe, expect, it } from "vitest";
import { stepLine } from "../../../src/cli/commands/restart.js";

describe("a restart step's line", () => {
  it("says a service's time as docs/swarm.md shows it, not as 6s98ms", () => {
    const step = { spec: "sec", service: "sec", outcome: "restarted", detail: "its tasks were replaced" } as const;
    expect(stepLine({ ...step, durationMs: 6098 }, "services")).toBe("restarted sec: its tasks were replaced (6.1s)");
    expect(stepLine({ ...step, durationMs: 14_230 }, "services")).toBe(
      "restarted sec: its tasks were replaced (14.2s)",
    );
  });

  it("says a container's time, and a failure's, the same way", () => {
    const step = { spec: "web", container: "web-0", detail: "healthy" } as const;
    expect(stepLine({ ...step, outcome: "restarted", durationMs: 840 }, "containers")).toBe(
      "restarted web-0: healthy (0.8s)",
    );
    expect(stepLine({ ...step, outcome: "failed", detail: "exited with code 3", durationMs: 2310 }, "containers")).toBe(
      "failed web-0: exited with code 3 (2.3s); the containers after it were not restarted",
    );
  });
});
