/**
 * GET /v1/specs/{name}/rollout: `berth rollout status` in one look over HTTP. Without stableFor,
 * the verdict of the last pass's status (done, waiting, failed, and the line). With it, a spec
 * rolled out is judged by its version's replicas as an inspect tells them now, not as the pass
 * saw them: the replica the pass saw up for long but the engine restarted since fails it. Bad
 * input is a 400 naming the parameter; an unknown spec 404; no pass yet 503.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ContainerStatus, SpecStatus } from "../../../src/core/status.js";
import type { ContainerDetails } from "../../../src/docker/port.js";
import type { StatusSnapshot } from "../../../src/http/server.js";
import { testServer } from "../../support/http-server.js";

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

const web: SpecStatus = {
  name: "web",
  phase: "Running",
  message: "updatePartition 1 keeps web-0 on its version; lower it to roll it",
  file: "specs/web.yaml",
  hash: "h2",
  replicas: { desired: 2, ready: 1, updated: 1, available: 2 },
  containers: [replica(0, false), replica(1, true)],
  lastAction: null,
  lastError: null,
  lastErrorCode: null,
  expiresAt: null,
  retryAt: null,
  collected: false,
};
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
