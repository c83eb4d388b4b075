/**
 * `berth run --target swarm`'s HTTP API through fastify's inject() (http/routes/swarm.ts): the
 * same server as the engine target's, given the swarm's status. GET /v1/specs answers the
 * services and networks of the last pass; /readyz says why it is not ready; PUT and DELETE
 * /v1/specs/{name} write the runtime folder; every route of the engine target that reaches this host answers 501 naming the target, after the token check it
 * has there; /metrics offers the services' series and not the containers'.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { GitSourceStatus } from "../../../src/core/git-source.js";
import { Metrics } from "../../../src/http/metrics.js";
import { ENGINE_ONLY_ROUTES } from "../../../src/http/routes/swarm.js";
import { buildServer, type SwarmStatusSnapshot } from "../../../src/http/server.js";
import { SwarmPasses } from "../../../src/loop/swarm-passes.js";
import type { SwarmPassResult } from "../../../src/loop/swarm-reconciler.js";
import { DEFAULT_PARSE_OPTIONS } from "../../../src/manifest/parse.js";
import { EventLog } from "../../../src/ops/event-log.js";
import { RuntimeSpecs } from "../../../src/ops/runtime-specs.js";
import { silentLogger } from "../../../src/util/log.js";
import { specText } from "../../support/specs.js";
import { SWARM_NETWORK, SWARM_SPEC } from "../../support/swarm-status.js";
import { tempDir } from "../../support/tmp.js";

const TOKEN = "0123456789abcdef0123456789abcdef";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const AT = Date.parse("2026-12-03T17:00:00Z");

const SNAPSHOT: SwarmStatusSnapshot = {
  specs: [SWARM_SPEC],
  networks: [SWARM_NETWORK],
  notes: [],
  at: AT,
};

function swarmServer(
  status: SwarmStatusSnapshot | null = SNAPSHOT,
  sources: readonly GitSourceStatus[] = [],
  specs: RuntimeSpecs | null = null,
) {
  const metrics = new Metrics({ version: "1.2.3", target: "swarm", gitSources: sources.map((s) => s.name) });
  const app = buildServer({
    target: "swarm",
    log: silentLogger(),
    controllerId: "prod",
    readiness: () =>
      status
        ? { ready: true, reason: null }
        : { ready: false, reason: "the last reconcile pass failed: not a manager" },
    apiToken: TOKEN,
    loopback: true,
    swarmStatus: () => status,
    events: new EventLog(),
    metrics,
    now: () => AT,
    gitSources: sources.length > 0 ? { list: () => [...sources], syncAll: () => Promise.resolve() } : null,
    specs,
  });
  return { app, metrics };
}

describe("the HTTP API under --target swarm", () => {
  it("answers the services' status and berth's networks at GET /v1/specs, and one spec", async () => {
    const { app } = swarmServer();
    const all = await app.inject({ method: "GET", url: "/v1/specs" });
    expect(all.statusCode).toBe(200);
    expect(all.headers["x-berth-controller"]).toBe("prod");
    expect(all.json()).toEqual({
      controller: "prod",
      target: "swarm",
      observedAt: "2026-12-03T17:00:00Z",
      specs: SNAPSHOT.specs,
      networks: SNAPSHOT.networks,
      notes: [],
    });
    const one = await app.inject({ method: "GET", url: "/v1/specs/web" });
    expect(one.json()).toMatchObject({ name: "web", running: 2, observedAt: "2026-12-03T17:00:00Z" });
    expect((await app.inject({ method: "GET", url: "/v1/specs/nope" })).statusCode).toBe(404);
  });

  it("with --git, adds the sources and their revisions to GET /v1/specs, and their fetch series to /metrics", async () => {
    const source = {
      name: "deploy-main-1234abcd",
      url: "file:///srv/deploy.git",
      ref: "main",
      path: "",
      specDir: "/run/berth/git/prod/deploy-main-1234abcd/specs",
      revision: "0123456789abcdef0123456789abcdef01234567",
      shortRevision: "0123456789ab",
      committedAt: "2026-12-03T16:00:00.000Z",
      subject: "web: 2 replicas",
      lastFetchAt: "2026-12-03T16:59:00.000Z",
      lastAttemptAt: "2026-12-03T16:59:00.000Z",
      lastError: null,
      failures: 0,
      fetching: false,
      invalidFiles: [],
      brokenAt: null,
    };
    const { app, metrics } = swarmServer(SNAPSHOT, [source]);
    const all = await app.inject({ method: "GET", url: "/v1/specs" });
    expect(all.json()).toMatchObject({ target: "swarm", specs: SNAPSHOT.specs, sources: [source] });
    metrics.gitFetch(source.name, null, AT);
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toContain(`berth_source_last_fetch_timestamp_seconds{source="${source.name}"} ${AT / 1000}\n`);
    expect(text).toContain(`berth_source_fetch_failures_total{source="${source.name}"} 0\n`);
    // Without --git, no sources in the status.
    expect((await swarmServer().app.inject({ method: "GET", url: "/v1/specs" })).json()).not.toHaveProperty("sources");
  });

  it("says why it is not ready, and serves no status before a pass", async () => {
    const { app } = swarmServer(null);
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect([ready.statusCode, ready.json()]).toEqual([
      503,
      { ready: false, reason: "the last reconcile pass failed: not a manager", role: "leader" },
    ]);
    expect((await app.inject({ method: "GET", url: "/v1/specs" })).statusCode).toBe(503);
    expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });

  it("answers 501 naming the target on every engine-only route, after the token where the engine asks for one", async () => {
    const { app } = swarmServer();
    const rows: string[] = [];
    for (const r of ENGINE_ONLY_ROUTES) {
      const url = r.url.replace(/:(\w+)/g, "x");
      const bare = await app.inject({ method: r.method, url });
      const authed = await app.inject({ method: r.method, url, headers: { authorization: `Bearer ${TOKEN}` } });
      const body = authed.json<{ error: string; code: string; target: string }>();
      expect([body.code, body.target]).toEqual(["BERTH_TARGET", "swarm"]);
      expect(body.error).toContain("--target");
      rows.push(`${r.method} ${url}: ${bare.statusCode} ${authed.statusCode}`);
    }
    expect(rows.join("\n")).toBe(
      [
        "POST /v1/containers/x/exec: 401 501",
        "GET /v1/containers/x/logs: 401 501",
        "GET /v1/containers/x/terminal: 401 501",
        "POST /v1/pools/x/claims: 401 501",
        "GET /v1/pools/x/claims: 401 501",
        "GET /v1/pools/x/claims/x: 401 501",
        "DELETE /v1/pools/x/claims/x: 401 501",
        "GET /v1/node: 501 501",
        "GET /health: 501 501",
        "POST /spawn: 501 501",
        "GET /status/x: 501 501",
        "POST /stop/x: 501 501",
        "POST /exec/x: 501 501",
        "GET /api/containers: 501 501",
        "POST /api/containers: 501 501",
        "GET /api/containers/x: 501 501",
        "DELETE /api/containers/x: 501 501",
        "POST /api/containers/x/exec: 501 501",
        "GET /api/containers/x/logs: 501 501",
        "GET /api/containers/x/terminal: 501 501",
        "POST /api/containers/x/setup: 501 501",
      ].join("\n"),
    );
    // The Host rule and the unknown-route 404 are the engine target's.
    expect((await app.inject({ method: "GET", url: "/v1/specs", headers: { host: "evil.example" } })).statusCode).toBe(
      403,
    );
    expect((await app.inject({ method: "GET", url: "/v1/nothing" })).statusCode).toBe(404);
  });

  it("writes and removes specs in the runtime folder with --runtime-specs, parsed for the swarm; 403 without it", async () => {
    const dir = tempDir("berth-swarm-rt-");
    const changes: string[] = [];
    const specs = new RuntimeSpecs({
      dir,
      parse: { ...DEFAULT_PARSE_OPTIONS, target: "swarm" },
      specFile: (name) => (name === "web" ? "specs/web.yaml" : null),
      loaded: () => [],
      changed: ({ spec, removed }) => changes.push(`${removed ? "-" : "+"}${spec}`),
      removing: () => () => undefined,
      log: silentLogger(),
    });
    const { app } = swarmServer(SNAPSHOT, [], specs);
    const yaml = { "content-type": "application/yaml" };
    const put = (name: string, text: string, headers: Record<string, string> = { ...yaml, ...AUTH }) =>
      app.inject({ method: "PUT", url: `/v1/specs/${name}`, headers, payload: text });
    // Placement is a swarm field: the engine target would refuse it, the swarm's parse takes it.
    const agent = specText("agent-1", { extra: ["placement: { constraints: [node.role==worker] }"] });
    expect((await put("agent-1", agent, yaml)).statusCode).toBe(401);
    const created = await put("agent-1", agent);
    expect([created.statusCode, created.json()]).toEqual([201, expect.objectContaining({ created: true })]);
    expect(readFileSync(path.join(dir, "agent-1.yaml"), "utf8")).toBe(agent);
    const bad = await put("agent-2", specText("agent-2", { extra: ["replicas: -1"] }));
    expect(bad.statusCode).toBe(400);
    expect(existsSync(path.join(dir, "agent-2.yaml"))).toBe(false);
    // A spec of the spec folder is changed there, not here.
    expect((await put("web", specText("web"))).statusCode).toBe(409);
    const removed = await app.inject({ method: "DELETE", url: "/v1/specs/agent-1", headers: AUTH });
    expect([removed.statusCode, existsSync(path.join(dir, "agent-1.yaml"))]).toEqual([200, false]);
    expect(changes).toEqual(["+agent-1", "-agent-1"]);
    // Without --runtime-specs: the engine target's answer.
    const none = await swarmServer().app.inject({ method: "PUT", url: "/v1/specs/x", headers: { ...yaml, ...AUTH } });
    expect([none.statusCode, none.json<{ error: string }>().error]).toEqual([
      403,
      "no runtime spec directory: start berth with --runtime-specs DIR",
    ]);
  });

  it("offers the pass and service series in /metrics, not the containers', the capacity's or the queue's", async () => {
    const { app, metrics } = swarmServer();
    const passes = new SwarmPasses();
    const result = {
      status: SNAPSHOT.specs,
      networks: SNAPSHOT.networks,
      snapshot: { issues: [], input: { prunePaused: null }, directories: [] },
      plan: { actions: [], notes: [], nextWakeAt: null },
      networkPlan: { actions: [], notes: [], nextWakeAt: null },
      durationMs: 40,
      at: AT,
    } as unknown as SwarmPassResult;
    passes.passed(result);
    metrics.swarmPass(result);
    metrics.swarmAction(
      { kind: "scale", spec: "web", service: { id: "s", version: 1 }, from: 1, to: 2, reason: "replicas changed" },
      null,
    );
    metrics.eventsReconnected();
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    for (const line of [
      'berth_reconciles_total{result="ok"} 1',
      'berth_reconciles_total{result="error"} 0',
      "berth_reconcile_duration_seconds_count 1",
      'berth_specs{phase="Running"} 1',
      'berth_specs{phase="Failed"} 0',
      "berth_managed_services 1",
      'berth_service_replicas{state="desired"} 2',
      'berth_service_replicas{state="running"} 2',
      'berth_service_replicas{state="updated"} 2',
      'berth_actions_total{kind="scale",reason="replicas_changed",outcome="ok"} 1',
      // The manager's service events stream, re-opened once.
      "berth_events_reconnects_total 1",
    ])
      expect(text).toContain(`${line}\n`);
    for (const name of ["berth_managed_containers", "berth_capacity_", "berth_queue_depth", "berth_reaped_"])
      expect(text).not.toContain(name);
    expect(passes.readiness()).toEqual({ ready: true, reason: null });
    passes.failed("This node is not a swarm manager.");
    expect(passes.readiness()).toEqual({
      ready: false,
      reason: "the last reconcile pass failed: This node is not a swarm manager.",
    });
  });
});
