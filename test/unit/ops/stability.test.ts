/** ops/stability.ts: the exits that fail `berth apply --stable-for`, as lines; Swarm's tasks. */
import { describe, expect, it } from "vitest";
import type { SwarmSpecStatus, SwarmTaskStatus } from "../../../src/core/swarm-status.js";
import { distinctExits, renderExit, swarmExits, type UnstableExit } from "../../../src/ops/stability.js";

const AT = Date.parse("2026-12-04T10:00:00.250Z");

const exit = (over: Partial<UnstableExit>): UnstableExit => ({
  spec: "web",
  name: "web-1",
  state: "running",
  exitCode: 3,
  at: AT,
  restarts: 2,
  error: null,
  ...over,
});

describe("renderExit", () => {
  it.each([
    [exit({}), "web-1 exited with code 3 at 2026-12-04T10:00:00.250Z, running again (2 restarts)"],
    [exit({ restarts: 1 }), "web-1 exited with code 3 at 2026-12-04T10:00:00.250Z, running again (1 restart)"],
    [
      exit({ state: "restarting" }),
      "web-1 exited with code 3 at 2026-12-04T10:00:00.250Z, restarting now (2 restarts)",
    ],
    [exit({ state: "exited", restarts: 0 }), "web-1 exited with code 3 at 2026-12-04T10:00:00.250Z (0 restarts)"],
    [exit({ exitCode: null, restarts: null }), "web-1 exited at 2026-12-04T10:00:00.250Z, running again"],
    [exit({ state: "created", at: null, exitCode: null, restarts: 0 }), "web-1 is created (0 restarts)"],
    [
      exit({ name: "web.2", state: "failed", error: "task: non-zero exit (3)", restarts: null, exitCode: null }),
      "task web.2 failed at 2026-12-04T10:00:00.250Z: task: non-zero exit (3)",
    ],
    [
      exit({ name: "web.1", state: "complete", error: "", restarts: null, exitCode: null }),
      "task web.1 exited with code 0 at 2026-12-04T10:00:00.250Z",
    ],
  ])("%#: %s", (given, line) => {
    expect(renderExit(given)).toBe(line);
  });
});

describe("distinctExits", () => {
  it("keeps each container once, the first seen, by spec then name", () => {
    const first = exit({ name: "web-1", exitCode: 3 });
    expect(
      distinctExits([
        exit({ spec: "web", name: "web-2" }),
        first,
        exit({ name: "web-1", exitCode: 4 }),
        exit({ spec: "api", name: "api" }),
      ]).map((e) => [e.name, e.exitCode]),
    ).toEqual([
      ["api", 3],
      ["web-1", 3],
      ["web-2", 3],
    ]);
  });
});

const task = (over: Partial<SwarmTaskStatus>): SwarmTaskStatus => ({
  id: "t1",
  slot: 1,
  node: "node-a",
  desiredState: "shutdown",
  state: "failed",
  error: "task: non-zero exit (3)",
  since: "2026-12-04T10:00:00.250Z",
  ...over,
});

const service = (name: string, tasks: readonly SwarmTaskStatus[]): SwarmSpecStatus => ({
  name,
  phase: "Running",
  message: "",
  file: `${name}.yaml`,
  hash: "h",
  serviceId: "s",
  canaryServiceId: null,
  desired: 1,
  global: false,
  running: 1,
  updated: 1,
  nodes: ["node-a"],
  lastError: null,
  expiresAt: null,
  tasks,
});

describe("swarmExits", () => {
  it("counts the tasks of long-running specs that ended at or after since", () => {
    const status = [
      service("web", [
        task({ id: "running", desiredState: "running", state: "running", error: null }),
        task({ id: "failed" }),
        task({ id: "complete", slot: 2, state: "complete", error: null }),
        task({ id: "rejected", slot: 3, state: "rejected", error: "no such image" }),
        task({ id: "updated away", slot: 4, state: "shutdown", error: null }),
        task({ id: "before", slot: 5, since: "2026-12-04T09:59:59.000Z" }),
        task({ id: "global", slot: null, node: "node-b" }),
      ]),
      service("job", [task({ id: "a run's" })]),
    ];
    expect(swarmExits(status, new Set(["web"]), AT).map((e) => [e.name, e.state, e.error])).toEqual([
      ["web.1", "failed", "task: non-zero exit (3)"],
      ["web.2", "complete", ""],
      ["web.3", "rejected", "no such image"],
      ["web.node-b", "failed", "task: non-zero exit (3)"],
    ]);
  });
});
