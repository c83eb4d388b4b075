/**
 * `berth rollout status`'s verdict on one look at a spec's status (core/rollout-status.ts),
 * golden: done when the version waited for runs (or is deliberately not running), waiting while
 * it rolls out, while a failure is retried, or while the controller has not read the files'
 * version yet; failed when it will not finish without a change. Under swarm, Swarm's update state
 * (the service's phase) decides, and its tasks are counted. --stable-for (stabilityState): every
 * replica of the version must have stayed up so long since its last start; one restarted within
 * it, down or unhealthy fails it at once, one restarted longer ago has stayed up since.
 */
import { describe, expect, it } from "vitest";
import {
  type RolloutView,
  rolloutState,
  stabilityState,
  swarmRolloutView,
  swarmStabilityState,
} from "../../../src/core/rollout-status.js";
import type { ContainerStatus } from "../../../src/core/status.js";
import type { SwarmSpecStatus, SwarmTaskStatus } from "../../../src/core/swarm-status.js";

const base: RolloutView = {
  name: "web",
  phase: "Running",
  message: null,
  hash: "h2",
  retryAt: null,
  replicas: { desired: 3, ready: 3, updated: 3, available: 3 },
};
const view = (over: Partial<RolloutView>): RolloutView => ({ ...base, ...over });
const rolling = { desired: 3, ready: 1, updated: 1, available: 3 };

const rows: [string, RolloutView | undefined, string | null, string, string][] = [
  ["done", base, "h2", "complete", "web: rolled out: 3 of 3 updated, 3 ready, 3 available"],
  [
    "done, the files not holding it (a Git source)",
    base,
    null,
    "complete",
    "web: rolled out: 3 of 3 updated, 3 ready, 3 available",
  ],
  [
    "the controller still on the old version",
    view({ hash: "h1" }),
    "h2",
    "waiting",
    "web: waiting for the controller to read its new version",
  ],
  [
    "done as far as its partition (updatePartition)",
    view({
      message: "updatePartition 2 keeps web-0 and web-1 on their version; lower it to roll them",
      replicas: { desired: 3, ready: 1, updated: 1, available: 3 },
    }),
    "h2",
    "complete",
    "web: rolled out: 1 of 3 updated, 1 ready, 3 available: updatePartition 2 keeps web-0 and web-1 on their version; lower it to roll them",
  ],
  ["a new spec not read yet", undefined, "h2", "waiting", "web: waiting for the controller to read it"],
  ["no such spec", undefined, null, "failed", "web: no spec of that name"],
  [
    "under way",
    view({ phase: "Updating", replicas: rolling }),
    "h2",
    "waiting",
    "web: waiting for the rollout: 1 of 3 updated, 1 ready, 3 available",
  ],
  [
    "a crash loop while under way",
    view({ phase: "Pending", message: "crash loop: web-0 is restarting", replicas: rolling }),
    "h2",
    "waiting",
    "web: waiting for the rollout: 1 of 3 updated, 1 ready, 3 available: crash loop: web-0 is restarting",
  ],
  [
    "a failure retried with backoff",
    view({ phase: "Failed", message: "pull failed (retrying at T)", retryAt: "T", replicas: rolling }),
    "h2",
    "waiting",
    "web: waiting for the rollout: 1 of 3 updated, 1 ready, 3 available: pull failed (retrying at T)",
  ],
  [
    "a held rollout",
    view({
      phase: "Failed",
      message: "rollout held: web-0.rejected …",
      replicas: { ...rolling, ready: 0, updated: 0 },
    }),
    "h2",
    "failed",
    "web: rollout failed: 0 of 3 updated, 0 ready, 3 available: rollout held: web-0.rejected …",
  ],
  [
    "an invalid file",
    view({ phase: "Invalid", message: "web.yaml:3:1 …", hash: null }),
    null,
    "failed",
    "web: rollout failed (Invalid): web.yaml:3:1 …",
  ],
  [
    "a name conflict",
    view({ phase: "Conflict", message: "the name web-0 is held" }),
    "h2",
    "failed",
    "web: rollout failed (Conflict): the name web-0 is held",
  ],
  ["a run that succeeded", view({ phase: "Succeeded" }), "h2", "complete", "web: rolled out: its run succeeded"],
  ["suspended", view({ phase: "Suspended" }), "h2", "complete", "web: suspended (spec.suspended): nothing of it runs"],
  ["expired", view({ phase: "Expired" }), "h2", "complete", "web: expired (spec.expiresAt): its containers are reaped"],
];

describe("rolloutState", () => {
  for (const [name, status, expected, kind, line] of rows) {
    it(name, () => {
      expect(rolloutState("web", status, expected)).toEqual({ kind, line });
    });
  }
});

describe("rolloutState under swarm (swarmRolloutView)", () => {
  const service = (over: Partial<SwarmSpecStatus>): SwarmSpecStatus => ({
    name: "web",
    phase: "Running",
    message: "2/2 tasks running",
    file: "web.yaml",
    hash: "h2",
    serviceId: "svc",
    canaryServiceId: null,
    desired: 2,
    global: false,
    running: 2,
    updated: 2,
    nodes: ["node-1"],
    lastError: null,
    expiresAt: null,
    tasks: [],
    ...over,
  });
  const rows: [string, SwarmSpecStatus, string, string][] = [
    [
      "done: its message says no more than its phase",
      service({}),
      "complete",
      "web: rolled out: 2 of 2 tasks updated, 2 running",
    ],
    [
      "Swarm rolling the service: one task of the new spec",
      service({ phase: "Updating", message: "rolling update, 2/2 tasks running", updated: 1 }),
      "waiting",
      "web: waiting for the rollout: 1 of 2 tasks updated, 2 running: rolling update, 2/2 tasks running",
    ],
    [
      "the update paused",
      service({ phase: "Failed", message: "update paused: task failed", running: 1, updated: 1 }),
      "failed",
      "web: rollout failed: 1 of 2 tasks updated, 1 running: update paused: task failed",
    ],
  ];
  for (const [name, status, kind, line] of rows) {
    it(name, () => {
      expect(rolloutState("web", swarmRolloutView(status), "h2")).toEqual({ kind, line });
    });
  }
});

describe("stabilityState (--stable-for)", () => {
  const NOW = Date.parse("2026-12-05T12:00:00Z");
  const MIN = 60_000;
  const at = (ms: number): string => new Date(NOW - ms).toISOString();
  const replica = (n: number, over: Partial<ContainerStatus> = {}): ContainerStatus => ({
    id: `id${n}`,
    name: `web-${n}`,
    replica: n,
    state: "running",
    health: null,
    current: true,
    createdAt: at(20 * MIN),
    addresses: {},
    hostPorts: {},
    ipv6Addresses: {},
    exitCode: null,
    reason: null,
    startedAt: at(20 * MIN),
    finishedAt: null,
    restarts: 0,
    lastExit: null,
    collected: false,
    ...over,
  });
  // A canary (web-2) beside two replicas of the old version, which the wait does not look at.
  const old = [
    replica(0, { current: false, restarts: 4, startedAt: at(MIN) }),
    replica(1, { current: false, state: "exited" }),
  ];
  const crash = { exitCode: 3, at: "2026-12-05T11:59:30Z" };
  const rows: [string, ContainerStatus[], string, string][] = [
    [
      "every replica up longer: stable",
      [replica(0), replica(1)],
      "complete",
      "web: stable: web-0 and web-1 have run 10m or longer without a restart",
    ],
    [
      "a canary up longer; the old version not looked at",
      [...old, replica(2)],
      "complete",
      "web: stable: web-2 has run 10m or longer without a restart",
    ],
    [
      "a canary up 4m: waiting until its start + 10m",
      [...old, replica(2, { startedAt: at(4 * MIN + 300) })],
      "waiting",
      "web: rolled out; waiting until web-2 has stayed up 10m (2026-12-05T12:06:00Z)",
    ],
    [
      "two young ones: the later end",
      [replica(0, { startedAt: at(MIN) }), replica(1, { startedAt: at(3 * MIN) }), replica(2)],
      "waiting",
      "web: rolled out; waiting until web-0 and web-1 have stayed up 10m (2026-12-05T12:09:00Z)",
    ],
    [
      "restarted by the engine 29s ago: fails at once",
      [...old, replica(2, { restarts: 1, startedAt: at(29_000), lastExit: crash })],
      "failed",
      "web: not stable for 10m: web-2 was restarted by the engine 29s ago (1 restart, its last exit code 3 at 2026-12-05T11:59:30Z)",
    ],
    [
      "restarted longer ago than 10m: it has stayed up since",
      [replica(0, { restarts: 2, startedAt: at(11 * MIN) })],
      "complete",
      "web: stable: web-0 has run 10m or longer without a restart",
    ],
    [
      "being restarted (the engine's back-off)",
      [
        replica(0),
        replica(1, { state: "restarting", restarts: 3, lastExit: { exitCode: null, at: "2026-12-05T11:59:58Z" } }),
      ],
      "failed",
      "web: not stable for 10m: web-1 is being restarted by the engine (3 restarts, its last exit at 2026-12-05T11:59:58Z)",
    ],
    [
      "listed running, inspected as it died: its last exit after its last start",
      [replica(0, { restarts: 1, startedAt: at(4_000), lastExit: { exitCode: 3, at: at(10) } })],
      "failed",
      "web: not stable for 10m: web-0 is being restarted by the engine (1 restart, its last exit code 3 at 2026-12-05T11:59:59.990Z)",
    ],
    [
      "exited",
      [replica(0, { state: "exited", lastExit: crash })],
      "failed",
      "web: not stable for 10m: web-0 is exited (exit code 3)",
    ],
    ["no replicas (replicas: 0)", [], "complete", "web: stable: it has no replicas"],
    ["unhealthy", [replica(0, { health: "unhealthy" })], "failed", "web: not stable for 10m: web-0 is unhealthy"],
    [
      "a start not known (not inspected): waiting",
      [replica(0), replica(1, { startedAt: null, restarts: null })],
      "waiting",
      "web: rolled out; waiting to learn when web-1 started",
    ],
    [
      "a replacement under way and a rejected record are not replicas",
      [
        replica(0),
        replica(0, { name: "web-0.next", startedAt: at(1000) }),
        replica(1, { name: "web-1.rejected", state: "exited" }),
      ],
      "complete",
      "web: stable: web-0 has run 10m or longer without a restart",
    ],
  ];
  for (const [name, containers, kind, line] of rows) {
    it(name, () => {
      expect(stabilityState("web", containers, 10 * MIN, NOW)).toEqual({ kind, line });
    });
  }
});

describe("swarmStabilityState (--stable-for under swarm, from the task history)", () => {
  const NOW = Date.parse("2026-12-05T12:00:00Z");
  const MIN = 60_000;
  const at = (ms: number): string => new Date(NOW - ms).toISOString();
  const task = (slot: number | null, over: Partial<SwarmTaskStatus> = {}): SwarmTaskStatus => ({
    id: `task${slot ?? "g"}aaaaaaaaaaaaaaa`,
    slot,
    node: "node-a",
    desiredState: "running",
    state: "running",
    error: null,
    since: at(20 * MIN),
    ...over,
  });
  const ended = (slot: number | null, ago: number, over: Partial<SwarmTaskStatus> = {}): SwarmTaskStatus =>
    task(slot, {
      id: `end${slot}${ago}bbbbbbbbbbbbbbbb`,
      desiredState: "shutdown",
      state: "failed",
      error: "task: non-zero exit (3)",
      since: at(ago),
      ...over,
    });
  // Slot 2's tasks of the version before: replaced by the update, one failed before it.
  const before = [
    ended(2, 30 * MIN, { outdated: true }),
    task(2, { id: "oldrunning0000000", desiredState: "shutdown", state: "shutdown", since: at(MIN), outdated: true }),
  ];
  const rows: [string, SwarmTaskStatus[], string, string][] = [
    [
      "every slot's task up longer: stable",
      [task(1), task(2)],
      "complete",
      "web: stable: web.1 and web.2 have run 10m or longer without a restart",
    ],
    [
      "the version before's tasks, ended or failed, are not looked at",
      [...before, task(2, { since: at(11 * MIN) }), task(1)],
      "complete",
      "web: stable: web.1 and web.2 have run 10m or longer without a restart",
    ],
    [
      "a slot up 4m: waiting until its start + 10m",
      [task(1), ...before, task(2, { since: at(4 * MIN + 300) })],
      "waiting",
      "web: rolled out; waiting until web.2 has stayed up 10m (2026-12-05T12:06:00Z)",
    ],
    [
      "a task of the version failed and Swarm started another 29s ago: fails at once",
      [task(1), ended(2, 31_000), task(2, { since: at(29_000) })],
      "failed",
      "web: not stable for 10m: web.2 was restarted by Swarm 29s ago (1 task of the version ended; the last, end231000bbb, failed at 2026-12-05T11:59:29Z: task: non-zero exit (3))",
    ],
    [
      "restarted longer ago than 10m: it has stayed up since",
      [ended(1, 40 * MIN), ended(1, 21 * MIN), task(1)],
      "complete",
      "web: stable: web.1 has run 10m or longer without a restart",
    ],
    [
      "being replaced after a task ended (the restart delay): fails at once",
      [
        task(1),
        ended(2, 2_000, { state: "complete", error: null }),
        task(2, { desiredState: "ready", state: "ready", since: at(1_000) }),
      ],
      "failed",
      "web: not stable for 10m: web.2 is being restarted by Swarm (1 task of the version ended; the last, end22000bbbb, exited with code 0 at 2026-12-05T11:59:58Z; it is ready now)",
    ],
    [
      "two ended: counted, the newest named",
      [
        ended(1, 90_000),
        ended(1, 50_000, { state: "rejected", error: "No such image" }),
        task(1, { state: "starting", since: at(1_000) }),
      ],
      "failed",
      "web: not stable for 10m: web.1 is being restarted by Swarm (2 tasks of the version ended; the last, end150000bbb, rejected at 2026-12-05T11:59:10Z: No such image; it is starting now)",
    ],
    [
      "a slot not running yet, none ended (placing): waiting",
      [task(1), task(2, { state: "pending", since: at(1_000) })],
      "waiting",
      "web: rolled out; waiting for web.2 to run",
    ],
    [
      "a global service: its tasks by node",
      [task(null, { node: "node-b" }), task(null, { node: "node-a", since: at(MIN) })],
      "waiting",
      "web: rolled out; waiting until web.node-a has stayed up 10m (2026-12-05T12:09:00Z)",
    ],
    [
      "under an updatePartition: the held tasks (outdated) are not looked at; the canaries', by their own slots",
      [
        task(1, { outdated: true, since: at(MIN) }),
        task(2, { outdated: true }),
        task(1, { id: "canary1aaaaaaaaa", canary: true }),
      ],
      "complete",
      "web: stable: web_canary.1 has run 10m or longer without a restart",
    ],
    [
      "a canary restarted: named as its service's task",
      [
        task(1, { outdated: true }),
        ended(1, 31_000, { canary: true }),
        task(1, { id: "canary1bbbbbbbbb", canary: true, since: at(29_000) }),
      ],
      "failed",
      "web: not stable for 10m: web_canary.1 was restarted by Swarm 29s ago (1 task of the version ended; the last, end131000bbb, failed at 2026-12-05T11:59:29Z: task: non-zero exit (3))",
    ],
    ["no tasks (replicas: 0)", [], "complete", "web: stable: it has no tasks"],
    [
      "a running task whose start Swarm did not give: waiting",
      [task(1, { since: null })],
      "waiting",
      "web: rolled out; waiting to learn when web.1 started",
    ],
  ];
  for (const [name, tasks, kind, line] of rows) {
    it(name, () => {
      expect(swarmStabilityState("web", tasks, 10 * MIN, NOW)).toEqual({ kind, line });
    });
  }
});
