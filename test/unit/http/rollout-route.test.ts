/**
 * GET /v1/specs/{name}/rollout: `berth rollout status` in one look over HTTP. Without stableFor,
 * the verdict of the last pass's status (done, waiting, failed, and the line). With it, a spec
 * rolled out is judged by its version's replicas as an inspect tells them now, not as the pass
 * saw them: the replica the pass saw up for long but the engine restarted since fails it. Bad
 * input is a 400 naming the parameter; an unknown spec 404; no pass yet 503. Under swarm the
 * same route judges from Swarm's update state, and with stableFor from the service's tasks listed
 * now, Swarm asked which are of its current spec (an older version's failed task is no restart).
 */
import { afterEach, describe, expect, it } from "vitest";
import { specStatus } from "../../support/spec-status.js";
import type { ContainerStatus, SpecStatus } from "../../../src/core/status.js";
import type { ContainerDetails } from "../../../src/docker/port.js";
import type { SwarmSpecStatus, ObservedTask } from "../../../src/core/swarm-status.js";
import { Metrics } from "../../../src/http/metrics.js";
import { buildServer, type StatusSnapshot } from "../../../src/http/server.js";
import { EventLog } from "../../../src/ops/event-log.js";
import { swarmRolloutVerdict } from "../../../src/ops/rollout-verdict.js";
import { silentLogger } from "../../../src/util/log.js";
import { testServer } from "../../support/http-server.js";
import { SWARM_SPEC } from "../../support/swarm-status.js";

const NOW = Date.parse("2026-12-05T12:00:00Z");
const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

const replica = (n: number, current: boolean): ContainerStatus => ({
  id: `id-web-${n}`,
  name: `web-${n}`,
  replica: n,
  state: "running",
  health: null,
  current,
  createdAt: iso(NOW - 30 * MIN),
  addresses: {},
  hostPorts: {},
  ipv6Addresses: {},
  exitCode: null,
  reason: null,
  // As the pass saw it: up 30 minutes, never restarted.
  startedAt: iso(NOW - 30 * MIN),
  finishedAt: null,
  restarts: 0,
  lastExit: null,
  collected: false,
});

const web: SpecStatus = specStatus({
  phase: "Running",
  message: "updatePartition 1 keeps web-0 on its version; lower it to roll it",
  file: "specs/web.yaml",
  hash: "h2",
  replicas: { desired: 2, ready: 1, updated: 1, available: 2 },
  containers: [replica(0, false), replica(1, true)],
});
const snapshot = (specs: SpecStatus[]): StatusSnapshot => ({
  at: NOW - 1000,
  report: { specs, orphans: [], notes: [] },
});

/** The engine's inspect of web-1 now: restarted 20 s ago after exit code 3. */
const restarted = (id: string): ContainerDetails | null =>
  id === "id-web-1"
    ? {
        id,
        name: "web-1",
        labels: {},
        state: "running",
        exitCode: null,
        health: null,
        imageId: "sha256:1",
        image: "busybox",
        createdAt: NOW - 30 * MIN,
        mounts: [],
        networks: [],
        run: {
          createdAt: NOW - 30 * MIN,
          startedAt: NOW - 20_000,
          finishedAt: null,
          oomKilled: false,
          restartCount: 1,
          lastExit: { code: 3, at: NOW - 20_100 },
          settled: false,
        },
      }
    : null;

let server: ReturnType<typeof testServer> | undefined;
afterEach(async () => {
  await server?.app.close();
  server = undefined;
});

const get = async (url: string, status: StatusSnapshot | null = snapshot([web])) => {
  server = testServer({ status, inspect: restarted, now: () => NOW });
  const res = await server.app.inject({ method: "GET", url });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
};

describe("GET /v1/specs/{name}/rollout", () => {
  it("without stableFor: the last pass's verdict, its line, phase and counts", async () => {
    expect(await get("/v1/specs/web/rollout")).toEqual({
      status: 200,
      body: {
        observedAt: "2026-12-05T11:59:59Z",
        name: "web",
        state: "complete",
        line: "web: rolled out: 1 of 2 updated, 1 ready, 2 available: updatePartition 1 keeps web-0 on its version; lower it to roll it",
        phase: "Running",
        replicas: { desired: 2, ready: 1, updated: 1, available: 2 },
      },
    });
  });

  it("with stableFor: the canary inspected now, restarted since the pass, fails it", async () => {
    const { status, body } = await get("/v1/specs/web/rollout?stableFor=10m");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      state: "failed",
      line: "web: not stable for 10m: web-1 was restarted by the engine 20s ago (1 restart, its last exit code 3 at 2026-12-05T11:59:39.900Z)",
    });
  });

  it("with stableFor, a canary gone since the pass: waiting, its start not known", async () => {
    const moved = { ...web, containers: [replica(0, false), { ...replica(1, true), id: "id-gone" }] };
    const { body } = await get("/v1/specs/web/rollout?stableFor=10m", snapshot([moved]));
    expect(body).toMatchObject({ state: "waiting", line: "web: rolled out; waiting to learn when web-1 started" });
  });

  it("with stableFor, a spec still rolling out is judged as without it", async () => {
    const rolling: SpecStatus = { ...web, phase: "Updating", message: null };
    const { body } = await get("/v1/specs/web/rollout?stableFor=10m", snapshot([rolling]));
    expect(body).toMatchObject({
      state: "waiting",
      line: "web: waiting for the rollout: 1 of 2 updated, 1 ready, 2 available",
    });
  });

  it.each([
    ["/v1/specs/web/rollout?stableFor=soon", 400, /^stableFor: /],
    ["/v1/specs/web/rollout?stableFor=0s", 400, /^stableFor: give a duration longer than 0s$/],
    ["/v1/specs/nope/rollout", 404, /^no spec nope$/],
  ])("%s answers %i", async (url, code, error) => {
    const { status, body } = await get(url);
    expect(status).toBe(code);
    expect(body.error).toMatch(error);
  });

  it("answers 503 before the first pass", async () => {
    expect((await get("/v1/specs/web/rollout", null)).status).toBe(503);
  });
});

describe("GET /v1/specs/{name}/rollout under --target swarm", () => {
  /** The manager's task list now: slot 1 replaced by the update 2 min ago, its old task failed before; slot 2 as given. */
  const taskList = (slot2: readonly Omit<ObservedTask, "serviceId" | "node">[]) => {
    const asked: string[][] = [];
    const tasks: Omit<ObservedTask, "serviceId" | "node">[] = [
      {
        id: "old1",
        slot: 1,
        desiredState: "shutdown",
        state: "failed",
        error: "task: non-zero exit (1)",
        at: NOW - 3 * MIN,
      },
      { id: "new1", slot: 1, desiredState: "running", state: "running", error: "", at: NOW - 2 * MIN },
      ...slot2,
    ];
    const listTasks = (_ids: readonly string[], mixed: readonly string[] = []): Promise<ObservedTask[]> => {
      asked.push([...mixed]);
      return Promise.resolve(
        tasks.map((t) => ({
          ...t,
          serviceId: "svc1",
          node: "node-a",
          // Swarm's _up-to-date filter, asked only of the services in mixed.
          ...(mixed.includes("svc1") && t.id.startsWith("old") ? { outdated: true as const } : {}),
        })),
      );
    };
    return { asked, listTasks };
  };

  const swarmGet = async (
    url: string,
    spec: SwarmSpecStatus,
    slot2: Omit<ObservedTask, "serviceId" | "node">[],
    manager = taskList(slot2),
  ) => {
    const app = buildServer({
      target: "swarm",
      log: silentLogger(),
      controllerId: "prod",
      readiness: () => ({ ready: true, reason: null }),
      apiToken: null,
      loopback: true,
      swarmStatus: () => ({ specs: [spec], networks: [], notes: [], at: NOW - 1000 }),
      rollout: (s, stableForMs) => swarmRolloutVerdict({ swarm: manager, now: () => NOW }, s, stableForMs),
      events: new EventLog(),
      metrics: new Metrics({ version: "1.2.3", target: "swarm", gitSources: [] }),
      now: () => NOW,
      gitSources: null,
      specs: null,
    });
    try {
      const res = await app.inject({ method: "GET", url });
      return { status: res.statusCode, body: res.json<Record<string, unknown>>(), asked: manager.asked };
    } finally {
      await app.close();
    }
  };
  const steady = [{ id: "new2", slot: 2, desiredState: "running", state: "running", error: "", at: NOW - 30 * MIN }];

  it("without stableFor: Swarm's update state, the tasks counted; no task list asked", async () => {
    expect(await swarmGet("/v1/specs/web/rollout", SWARM_SPEC, steady)).toEqual({
      status: 200,
      body: {
        observedAt: "2026-12-05T11:59:59Z",
        name: "web",
        state: "complete",
        line: "web: rolled out: 2 of 2 tasks updated, 2 running",
        phase: "Running",
        tasks: { running: 2, desired: 2, updated: 2 },
      },
      asked: [],
    });
  });

  it("with stableFor: the tasks listed now, the older version's failed task not a restart", async () => {
    const { body, asked } = await swarmGet("/v1/specs/web/rollout?stableFor=10m", SWARM_SPEC, steady);
    expect(body).toMatchObject({
      state: "waiting",
      line: "web: rolled out; waiting until web.1 has stayed up 10m (2026-12-05T12:08:00Z)",
    });
    expect(asked).toEqual([["svc1"]]);
  });

  it("with stableFor: a task of the version that failed since the pass fails it", async () => {
    const crashed = [
      {
        id: "new2",
        slot: 2,
        desiredState: "shutdown",
        state: "failed",
        error: "task: non-zero exit (3)",
        at: NOW - 20_000,
      },
      { id: "next2", slot: 2, desiredState: "running", state: "running", error: "", at: NOW - 15_000 },
    ];
    const { body } = await swarmGet("/v1/specs/web/rollout?stableFor=1m", SWARM_SPEC, crashed);
    expect(body).toMatchObject({
      state: "failed",
      line: "web: not stable for 1m: web.2 was restarted by Swarm 15s ago (1 task of the version ended; the last, new2, failed at 2026-12-05T11:59:40Z: task: non-zero exit (3))",
    });
  });

  it("with stableFor under an updatePartition: both services' tasks listed, only the canaries' judged", async () => {
    const asked: string[][] = [];
    const task = (id: string, serviceId: string, slot: number, ago: number): ObservedTask => ({
      id,
      slot,
      serviceId,
      node: "node-a",
      desiredState: "running",
      state: "running",
      error: "",
      at: NOW - ago,
    });
    // The held tasks started a minute ago (young, were they judged); the canary 30 minutes ago.
    const listTasks = (ids: readonly string[], mixed: readonly string[] = []): Promise<ObservedTask[]> => {
      asked.push([...ids], [...mixed]);
      return Promise.resolve(
        [task("held1", "svc1", 1, MIN), task("held2", "svc1", 2, MIN), task("can1", "svc2", 1, 30 * MIN)].filter((t) =>
          ids.includes(t.serviceId),
        ),
      );
    };
    const partitioned: SwarmSpecStatus = {
      ...SWARM_SPEC,
      desired: 3,
      running: 3,
      updated: 1,
      canaryServiceId: "svc2",
      partition:
        "updatePartition 2 keeps 2 tasks of service web on their version, 1 task of web_canary on the spec's; lower it to roll them",
    };
    const { body } = await swarmGet("/v1/specs/web/rollout?stableFor=10m", partitioned, [], { asked, listTasks });
    expect(body).toMatchObject({
      state: "complete",
      line: "web: stable: web_canary.1 has run 10m or longer without a restart",
    });
    expect(asked).toEqual([
      ["svc1", "svc2"],
      ["svc1", "svc2"],
    ]);
    // Without stableFor: rolled out as far as the partition lets it, and it says so.
    expect((await swarmGet("/v1/specs/web/rollout", partitioned, [], { asked, listTasks })).body).toMatchObject({
      state: "complete",
      line: "web: rolled out: 1 of 3 tasks updated, 3 running: updatePartition 2 keeps 2 tasks of service web on their version, 1 task of web_canary on the spec's; lower it to roll them",
    });
  });

  it("with stableFor, a service Pending while Swarm replaces a task of the version that ended: failed, not waiting", async () => {
    const pending: SwarmSpecStatus = { ...SWARM_SPEC, phase: "Pending", message: "1/2 tasks running", running: 1 };
    const restarting = [
      {
        id: "new2",
        slot: 2,
        desiredState: "shutdown",
        state: "failed",
        error: "task: non-zero exit (3)",
        at: NOW - 2_000,
      },
      { id: "next2", slot: 2, desiredState: "ready", state: "ready", error: "", at: NOW - 1_000 },
    ];
    const without = await swarmGet("/v1/specs/web/rollout", pending, restarting);
    expect(without.body).toMatchObject({
      state: "waiting",
      line: "web: waiting for the rollout: 2 of 2 tasks updated, 1 running: 1/2 tasks running",
    });
    const { body } = await swarmGet("/v1/specs/web/rollout?stableFor=1m", pending, restarting);
    expect(body).toMatchObject({
      state: "failed",
      line: "web: not stable for 1m: web.2 is being restarted by Swarm (1 task of the version ended; the last, new2, failed at 2026-12-05T11:59:58Z: task: non-zero exit (3); it is ready now)",
    });
  });

  it("with stableFor, a service Pending that was never placed waits, as without it", async () => {
    const pending: SwarmSpecStatus = { ...SWARM_SPEC, phase: "Pending", message: "1/2 tasks running", running: 1 };
    const placing = [
      { id: "new2", slot: 2, desiredState: "running", state: "pending", error: "no suitable node", at: NOW - 2_000 },
    ];
    const { body } = await swarmGet("/v1/specs/web/rollout?stableFor=1m", pending, placing);
    expect(body).toMatchObject({
      state: "waiting",
      line: "web: waiting for the rollout: 2 of 2 tasks updated, 1 running: 1/2 tasks running",
    });
  });

  it("answers 404 for an unknown spec and 400 for a bad stableFor, as under the engine target", async () => {
    expect((await swarmGet("/v1/specs/nope/rollout", SWARM_SPEC, steady)).status).toBe(404);
    expect((await swarmGet("/v1/specs/web/rollout?stableFor=0s", SWARM_SPEC, steady)).status).toBe(400);
  });
});
