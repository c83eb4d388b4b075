/**
 * When a compat create (Artie's create, docker-spawner's /spawn) stops waiting, and with which
 * answer: the one rule table both share (src/http/spec-run.ts).
 */
import { describe, expect, it } from "vitest";
import type { ContainerStatus, SpecStatus } from "../../../src/core/status.js";
import { type RunRules, runOutcome } from "../../../src/http/spec-run.js";
import { specStatus } from "../../support/spec-status.js";

function container(over: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    id: "c1",
    name: "web",
    replica: 0,
    state: "running",
    health: null,
    current: true,
    createdAt: "2026-12-03T00:00:00Z",
    addresses: {},
    hostPorts: {},
    ipv6Addresses: {},
    exitCode: null,
    reason: null,
    startedAt: "2026-12-03T00:00:00Z",
    finishedAt: null,
    restarts: null,
    lastExit: null,
    collected: false,
    ...over,
  };
}

const spec = specStatus;

const exited = container({ state: "exited", exitCode: 0, finishedAt: "2026-12-03T00:00:01Z" });
const ARTIE: RunRules = { failedEnds: true };
const SPAWNER: RunRules = { finishedCounts: true };

// [case, status, rules, expected: "wait" | "ok" | 409 | 502]
const TABLE: [string, SpecStatus, RunRules, "wait" | "ok" | 409 | 502][] = [
  ["running, its container current and running", spec({ phase: "Running", containers: [container()] }), {}, "ok"],
  [
    "Running but the running one is old",
    spec({ phase: "Running", containers: [container({ current: false })] }),
    {},
    "wait",
  ],
  ["not yet seen running", spec({ phase: "Pending" }), ARTIE, "wait"],
  ["Conflict", spec({ phase: "Conflict", message: "name taken" }), {}, 409],
  ["Invalid", spec({ phase: "Invalid" }), SPAWNER, 409],
  ["a pull that failed, still Pending", spec({ lastErrorCode: "BERTH_PULL_FAILED" }), SPAWNER, 502],
  ["a pull refused", spec({ lastErrorCode: "BERTH_PULL_DENIED" }), ARTIE, 502],
  ["an image missing under Never", spec({ phase: "Failed", lastErrorCode: "BERTH_IMAGE_MISSING" }), {}, 502],
  ["another error, retried: waited for", spec({ lastErrorCode: "BERTH_RACE" }), ARTIE, "wait"],
  ["Failed, where Failed ends the wait", spec({ phase: "Failed", lastErrorCode: "BERTH_DOCKER" }), ARTIE, 502],
  [
    "Failed, where its retries are waited for",
    spec({ phase: "Failed", lastErrorCode: "BERTH_DOCKER", retryAt: "2026-12-06T10:00:00Z" }),
    SPAWNER,
    "wait",
  ],
  [
    "Failed with no retry coming (a missing network, a refused create): not waited out",
    spec({ phase: "Failed", message: "network x does not exist", retryAt: null }),
    SPAWNER,
    502,
  ],
  ["ran to its end, where that counts", spec({ phase: "Succeeded", containers: [exited] }), SPAWNER, "ok"],
  ["failed run, where a finished run counts", spec({ phase: "Failed", containers: [exited] }), SPAWNER, "ok"],
  ["ran to its end, where it does not count", spec({ phase: "Succeeded", containers: [exited] }), ARTIE, "wait"],
  [
    "a collected record is no container",
    spec({ phase: "Succeeded", containers: [{ ...exited, id: "" }] }),
    SPAWNER,
    "wait",
  ],
];

describe("runOutcome", () => {
  it.each(TABLE)("%s", (_what, status, rules, expected) => {
    const seen = runOutcome(status, rules);
    if (expected === "wait") expect(seen).toBeNull();
    else if (expected === "ok") expect(seen).toMatchObject({ ok: true });
    else expect(seen).toMatchObject({ ok: false, status: expected, spec: status });
  });

  it("answers with the container that runs, or the one that finished", () => {
    const running = container({ id: "new" });
    const seen = runOutcome(
      spec({ phase: "Running", containers: [container({ id: "old", current: false }), running] }),
      {},
    );
    expect(seen).toEqual({ ok: true, container: running });
    expect(runOutcome(spec({ phase: "Succeeded", containers: [exited] }), SPAWNER)).toEqual({
      ok: true,
      container: exited,
    });
  });
});
