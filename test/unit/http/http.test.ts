/** The HTTP API through fastify's inject(): no socket, the real handlers and file writes. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { LeadershipStatus } from "../../../src/loop/leadership.js";
import { describe, expect, it } from "vitest";
import { specStatus } from "../../support/spec-status.js";
import type { Readiness } from "../../../src/loop/controller.js";
import { ownership } from "../../../src/core/ownership.js";
import { hostPolicyContext } from "../../../src/host/host-paths.js";
import { DEFAULT_PARSE_OPTIONS } from "../../../src/manifest/parse.js";
import { ManagedContainers } from "../../../src/ops/containers.js";
import { EventLog } from "../../../src/ops/event-log.js";
import { RuntimeSpecs } from "../../../src/ops/runtime-specs.js";
import { labelKeys } from "../../../src/core/labels.js";
import type { ObservedContainer } from "../../../src/core/observed.js";
import type { ContainerIO, ExecRequest } from "../../../src/docker/port.js";
import { Metrics } from "../../../src/http/metrics.js";
import { buildServer, type StatusSnapshot, tokenMatches } from "../../../src/http/server.js";
import { silentLogger } from "../../../src/util/log.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

const TOKEN = "0123456789abcdef0123456789abcdef";

interface ServerOptions {
  token?: string | null;
  runtimeDir?: string | null;
  elsewhere?: Record<string, string>;
  containers?: ObservedContainer[];
  status?: StatusSnapshot | null;
  loopback?: boolean;
  compat?: boolean;
  /** Under --ha: this process's role. */
  role?: "leader" | "standby";
  /** Under --ha: what else the election says (beside the role). */
  ha?: Partial<LeadershipStatus>;
}

/** A ContainerIO that records what it was asked and answers from a script. */
function fakeIO() {
  const execs: { id: string; request: ExecRequest }[] = [];
  const io: ContainerIO = {
    exec: (id, request) => {
      execs.push({ id, request });
      return Promise.resolve({
        exitCode: 3,
        stdout: `ran ${request.cmd.join(" ")}`,
        stderr: "warn",
        truncated: false,
        timedOut: false,
        killed: false,
        durationMs: 5,
      });
    },
    logs: (_id, options, handlers) => {
      handlers.onLine({ stream: "stdout", time: "2026-11-23T10:00:00.000000001Z", line: `tail=${options.tail}` });
      handlers.onLine({ stream: "stderr", time: null, line: "oops" });
      handlers.onEnd();
      return Promise.resolve({ close: () => undefined });
    },
  };
  return { io, execs };
}

function server(options: ServerOptions = {}) {
  let readiness: Readiness = { ready: false, reason: "first reconcile not done" };
  let changes = 0;
  /** What the reconciler was told of removals: each mark with whether the file was still there, each undo. */
  const removals: string[] = [];
  const dir = tempDir();
  const runtimeDir = options.runtimeDir === undefined ? dir : options.runtimeDir;
  const events = new EventLog(3);
  const { io, execs } = fakeIO();
  const containers = options.containers ?? [];
  const metrics = new Metrics({ version: "9.8.7", queue: () => ({ queued: 2, inFlight: 1 }) });
  const log = silentLogger();
  const app = buildServer({
    log,
    controllerId: "default",
    readiness: () => readiness,
    apiToken: options.token === undefined ? TOKEN : options.token,
    specs:
      runtimeDir === null
        ? null
        : new RuntimeSpecs({
            dir: runtimeDir,
            parse: { ...DEFAULT_PARSE_OPTIONS, policyContext: hostPolicyContext },
            specFile: (name) => options.elsewhere?.[name] ?? null,
            loaded: () => [],
            changed: () => {
              changes++;
            },
            removing: (spec) => {
              removals.push(`mark ${spec} (file there: ${String(existsSync(path.join(runtimeDir, `${spec}.yaml`)))})`);
              return () => removals.push(`undo ${spec}`);
            },
            log,
          }),
    status: () => options.status ?? null,
    events,
    metrics,
    // The containers this controller's label filter would list.
    containers: new ManagedContainers(
      { listContainers: () => Promise.resolve(containers) },
      io,
      ownership(labelKeys(), "default"),
      log,
    ),
    loopback: options.loopback ?? true,
    compat: options.compat
      ? { image: "agent:latest", network: "auto", user: { uid: 1000, gid: 1000 }, waitMs: 300 }
      : null,
    now: () => Date.parse("2026-11-23T10:00:00Z"),
    ...(options.role
      ? {
          leadership: () => ({
            role: options.role ?? "leader",
            term: options.role === "leader" ? 4 : null,
            leader: "host-a/12/abc",
            leaderUrl: "http://host-a:7435",
            store: "redis://127.0.0.1:6379/0",
            storeError: null,
            blockedBy: null,
            transitions: 1,
            firstWriteInMs: null,
            leaderTerm: 4,
            ...options.ha,
          }),
        }
      : {}),
  });
  return {
    app,
    dir,
    events,
    execs,
    removals,
    metrics,
    setReady: (r: Readiness) => {
      readiness = r;
    },
    changes: () => changes,
  };
}

const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/yaml" };

describe("under --ha", () => {
  it("a standby serves reads and says so; it refuses every write with 503 naming the leader", async () => {
    const s = server({ role: "standby" });
    s.setReady({ ready: true, reason: null });
    const ready = await s.app.inject({ url: "/readyz" });
    expect([ready.statusCode, ready.headers["x-berth-role"], ready.headers["x-berth-leader"]]).toEqual([
      200,
      "standby",
      "http://host-a:7435",
    ]);
    const leader = await s.app.inject({ url: "/readyz?role=leader" });
    expect([leader.statusCode, leader.json()]).toEqual([
      503,
      expect.objectContaining({
        ready: false,
        role: "standby",
        leader: "host-a/12/abc",
        leaderUrl: "http://host-a:7435",
        leaderTerm: 4,
        reason: "standby: another berth leads",
      }),
    ]);
    expect((await s.app.inject({ url: "/v1/events" })).statusCode).toBe(200);
    for (const [method, url] of [
      ["PUT", "/v1/specs/web"],
      ["DELETE", "/v1/specs/web"],
      ["POST", "/v1/containers/web/exec"],
    ] as const) {
      const res = await s.app.inject({ method, url, headers: auth, payload: method === "PUT" ? "x: 1" : undefined });
      expect([method, url, res.statusCode, res.json()]).toEqual([
        method,
        url,
        503,
        expect.objectContaining({
          code: "BERTH_NOT_LEADER",
          leader: "host-a/12/abc",
          leaderUrl: "http://host-a:7435",
          error: expect.stringContaining("serves writes at http://host-a:7435: send them there"),
        }),
      ]);
    }
    expect(s.changes()).toBe(0);
  });

  it.each([
    [
      "holds a first term that waits one TTL: says when it writes, and sends no one elsewhere",
      { leaderUrl: null, firstWriteInMs: 7_000 },
      "this berth holds the lease in a store without earlier terms and makes its first write in 7s: send writes again then",
    ],
    [
      "the store does not answer: no one leads",
      { leader: null, leaderUrl: null, storeError: "connect ECONNREFUSED 127.0.0.1:6379" },
      "this berth is a standby, and no berth can lead while the lease store does not answer (connect ECONNREFUSED 127.0.0.1:6379): try again once it answers",
    ],
    [
      "a berth without --ha holds the host lock",
      { leader: null, leaderUrl: null, blockedBy: "berth 1.0 (run, pid 9)" },
      "this berth is a standby: it does not lead while a berth without --ha holds this id's host lock (berth 1.0 (run, pid 9))",
    ],
    [
      "the leader says no API address",
      { leaderUrl: null },
      "this berth is a standby; the leader (host-a/12/abc) serves writes but says no API address (an older berth, or --listen off): send them to the one whose /readyz?role=leader answers 200",
    ],
    [
      "no one leads now",
      { leader: null, leaderUrl: null },
      "this berth is a standby and no berth leads at the moment (an election takes up to the lease's TTL): try again shortly",
    ],
  ] as const)("a standby's refusal: %s", async (_what, ha, error) => {
    const s = server({ role: "standby", ha });
    const res = await s.app.inject({ method: "DELETE", url: "/v1/specs/web", headers: auth });
    expect([res.statusCode, res.json(), res.headers["x-berth-leader"]]).toEqual([
      503,
      { error, code: "BERTH_NOT_LEADER", leader: "leader" in ha ? null : "host-a/12/abc", leaderUrl: null },
      undefined,
    ]);
  });

  it("the leader answers /readyz?role=leader with 200 and serves writes", async () => {
    const s = server({ role: "leader" });
    s.setReady({ ready: true, reason: null });
    const leader = await s.app.inject({ url: "/readyz?role=leader" });
    expect([leader.statusCode, leader.headers["x-berth-role"], leader.json().term]).toEqual([200, "leader", 4]);
    // The leader's answers do not send anyone elsewhere.
    expect(leader.headers["x-berth-leader"]).toBeUndefined();
    const del = await s.app.inject({ method: "DELETE", url: "/v1/specs/web", headers: auth });
    expect(del.statusCode).not.toBe(503);
  });
});

describe("health and readiness", () => {
  it("answers /healthz while alive and /readyz with 503 and the reason until ready", async () => {
    const s = server();
    expect((await s.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    const notReady = await s.app.inject({ url: "/readyz" });
    expect([notReady.statusCode, notReady.json()]).toEqual([
      503,
      { ready: false, reason: "first reconcile not done", role: "leader" },
    ]);
    s.setReady({ ready: true, reason: null });
    const ready = await s.app.inject({ url: "/readyz" });
    expect([ready.statusCode, ready.json()]).toEqual([200, { ready: true, reason: null, role: "leader" }]);
  });
});

describe("PUT and DELETE /v1/specs/{name}", () => {
  it("writes a valid spec atomically into the runtime directory (201, then 200) and asks for a reconcile", async () => {
    const s = server();
    const first = await s.app.inject({ method: "PUT", url: "/v1/specs/web", headers: auth, payload: specText("web") });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ name: "web", created: true });
    expect(readFileSync(path.join(s.dir, "web.yaml"), "utf8")).toBe(specText("web"));
    const second = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: auth,
      payload: specText("web", { replicas: 2 }),
    });
    expect([second.statusCode, second.json().created]).toEqual([200, false]);
    expect(readdirSync(s.dir)).toEqual(["web.yaml"]); // no temporary file left behind
    expect(s.changes()).toBe(2);
  });

  it("says which part of a request is not valid: a query string's is the query's, not the body's", async () => {
    const s = server();
    const res = await s.app.inject({ url: "/v1/events?limit=0" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: "the request query is not valid", errors: [{ field: "limit" }] });
  });

  it("accepts JSON too (YAML is a superset)", async () => {
    const s = server();
    const body = JSON.stringify({
      apiVersion: "berth/v1",
      kind: "Container",
      metadata: { name: "api" },
      spec: { image: "busybox" },
    });
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/api",
      headers: { ...auth, "content-type": "application/json" },
      payload: body,
    });
    expect(res.statusCode).toBe(201);
  });

  it("refuses an invalid spec with 400 and the same errors as berth validate, writing nothing", async () => {
    const s = server();
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: auth,
      payload: specText("web", { extra: ["workDir: /x"] }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { text: string }) => e.text)).toEqual([
      `${s.dir}/web.yaml:7:3: spec.workDir: unknown field "workDir"; did you mean "workingDir"?`,
    ]);
    expect(existsSync(path.join(s.dir, "web.yaml"))).toBe(false);
    expect(s.changes()).toBe(0);
  });

  it("refuses a body whose metadata.name is not the URL's name", async () => {
    const s = server();
    const res = await s.app.inject({ method: "PUT", url: "/v1/specs/web", headers: auth, payload: specText("api") });
    expect([res.statusCode, res.json().error]).toEqual([
      400,
      'the body must hold one document whose metadata.name is "web" (found: api)',
    ]);
  });

  it("refuses a name that is not a DNS label", async () => {
    const s = server();
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/..%2Fetc",
      headers: auth,
      payload: specText("web"),
    });
    expect(res.statusCode).toBe(400);
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it("refuses an oversized body with 413", async () => {
    const s = server();
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: auth,
      payload: "a".repeat(2 * 1024 * 1024),
    });
    expect(res.statusCode).toBe(413);
  });

  it("will not shadow or delete a spec defined in another spec directory (409)", async () => {
    const s = server({ elsewhere: { web: "specs/web.yaml" } });
    const put = await s.app.inject({ method: "PUT", url: "/v1/specs/web", headers: auth, payload: specText("web") });
    expect([put.statusCode, put.json().error]).toEqual([409, "spec web is defined in specs/web.yaml; change it there"]);
    const del = await s.app.inject({ method: "DELETE", url: "/v1/specs/web", headers: auth });
    expect(del.statusCode).toBe(409);
  });

  it("deletes a runtime spec (200), and says 404 for one that is not there", async () => {
    const s = server();
    await s.app.inject({ method: "PUT", url: "/v1/specs/web", headers: auth, payload: specText("web") });
    const del = await s.app.inject({ method: "DELETE", url: "/v1/specs/web", headers: auth });
    expect([del.statusCode, del.json()]).toEqual([200, { name: "web", removed: true }]);
    expect(existsSync(path.join(s.dir, "web.yaml"))).toBe(false);
    expect((await s.app.inject({ method: "DELETE", url: "/v1/specs/web", headers: auth })).statusCode).toBe(404);
    // Marked deleted before the file went (a pass loading the folder after must find the mark); the
    // mark of a DELETE that removed nothing is undone.
    expect(s.removals).toEqual(["mark web (file there: true)", "mark web (file there: false)", "undo web"]);
  });

  it.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer wrong-token-wrong-token-wrong" }],
    ["another scheme", { authorization: `Basic ${TOKEN}` }],
  ])("refuses %s with 401", async (_what, headers) => {
    const s = server();
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: { ...headers, "content-type": "application/yaml" },
      payload: specText("web"),
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe("Bearer");
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it.each([["bearer"], ["BEARER"], ["Bearer  "]])("takes the token after the scheme %j in any case", async (scheme) => {
    const s = server();
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: { authorization: `${scheme} ${TOKEN}`, "content-type": "application/yaml" },
      payload: specText("web"),
    });
    expect(res.statusCode).toBe(201);
  });

  it("keeps the write endpoints off without a configured token (403), and without a runtime directory", async () => {
    const noToken = server({ token: null });
    const res = await noToken.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: auth,
      payload: specText("web"),
    });
    expect([res.statusCode, res.json().error]).toEqual([
      403,
      "write endpoints are off: start berth with --api-token-file or BERTH_API_TOKEN",
    ]);
    const noDir = server({ runtimeDir: null });
    const res2 = await noDir.app.inject({ method: "DELETE", url: "/v1/specs/web", headers: auth });
    expect([res2.statusCode, res2.json().error]).toEqual([
      403,
      "no runtime spec directory: start berth with --runtime-specs DIR",
    ]);
  });

  it("compares tokens exactly", () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN} `, TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.slice(0, -1), TOKEN)).toBe(false);
  });
});

const box = (
  name: string,
  spec: string,
  state: ObservedContainer["state"] = "running",
  replica = 0,
): ObservedContainer => ({
  id: `${name.replace(/[^a-f0-9]/g, "a").padEnd(12, "b")}${"c".repeat(52)}`,
  name,
  labels: { "berth.controller": "default", "berth.spec": spec, "berth.replica": String(replica), "berth.hash": "h" },
  state,
  exitCode: null,
  health: null,
  imageId: "sha256:1",
  image: "busybox",
  createdAt: 0,
  mounts: [],
});

/** An agent of the docker-spawner API: its spec is tidepool-agent-…, and it carries com.tidepool.role=agent. */
const agentBox = (name: string): ObservedContainer => {
  const c = box(name, name);
  return { ...c, labels: { ...c.labels, "com.tidepool.role": "agent" } };
};

const snapshot: StatusSnapshot = {
  at: Date.parse("2026-11-23T09:59:59Z"),
  report: {
    specs: [
      specStatus({
        phase: "Running",
        file: "specs/web.yaml",
        hash: "h",
        replicas: { desired: 1, ready: 1, updated: 1, available: 1 },
      }),
    ],
    orphans: [],
    notes: [],
  },
};

describe("GET /v1/specs, /v1/specs/{name}, /v1/events", () => {
  it("answers 503 before the first pass, then the last pass's status; 404 for an unknown spec", async () => {
    expect((await server().app.inject({ url: "/v1/specs" })).statusCode).toBe(503);
    const s = server({ status: snapshot });
    const all = await s.app.inject({ url: "/v1/specs" });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({
      controller: "default",
      observedAt: "2026-11-23T09:59:59Z",
      specs: [{ name: "web", phase: "Running" }],
    });
    const one = await s.app.inject({ url: "/v1/specs/web" });
    expect(one.json()).toMatchObject({ name: "web", phase: "Running", file: "specs/web.yaml", hash: "h" });
    const unknown = await s.app.inject({ url: "/v1/specs/nope" });
    expect([unknown.statusCode, unknown.json()]).toEqual([404, { error: "no spec nope" }]);
  });

  it("serves the recent events from a bounded ring, newer than ?since, for ?spec", async () => {
    const s = server();
    for (const spec of ["a", "b", "a", "b"]) {
      s.events.add({
        at: 0,
        spec,
        kind: "create",
        reason: "not found",
        text: `create ${spec}`,
        ok: true,
        error: null,
        durationMs: 1,
      });
    }
    const all = (await s.app.inject({ url: "/v1/events" })).json().events;
    expect(all.map((e: { seq: number }) => e.seq)).toEqual([2, 3, 4]); // capacity 3: the first fell off
    expect(all[0].at).toBe("1970-01-01T00:00:00Z");
    const since = (await s.app.inject({ url: "/v1/events?since=3&spec=b" })).json().events;
    expect(since.map((e: { seq: number }) => e.seq)).toEqual([4]);
    const bad = await s.app.inject({ url: "/v1/events?since=yesterday" });
    expect(bad.statusCode).toBe(400);
  });
});

describe("GET /metrics", () => {
  it("serves Prometheus text with berth's metrics", async () => {
    const s = server();
    s.metrics.dockerCall("create", "ok", 12);
    s.metrics.action({ kind: "remove", spec: "a", container: { id: "x", name: "a" }, reason: "expired" }, null);
    const res = await s.app.inject({ url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/plain");
    for (const line of [
      'berth_docker_calls_total{operation="create",outcome="ok"} 1',
      'berth_actions_total{kind="remove",reason="expired",outcome="ok"} 1',
      'berth_reaped_containers_total{by="spec"} 1',
      "berth_queue_depth 2",
      "berth_operations_in_flight 1",
      'berth_specs{phase="Running"} 0',
      "berth_spec_errors 0",
      "# TYPE berth_reconcile_duration_seconds histogram",
      "berth_events_reconnects_total 0",
    ]) {
      expect(res.body).toContain(line);
    }
  });
});

describe("POST /v1/containers/{name}/exec", () => {
  const containers = [box("web", "web"), box("api-0", "api", "exited")];
  const exec = (s: ReturnType<typeof server>, name: string, body: unknown, headers: Record<string, string> = auth) =>
    s.app.inject({
      method: "POST",
      url: `/v1/containers/${name}/exec`,
      headers: { ...headers, "content-type": "application/json" },
      payload: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("runs the command in berth's container (by container or spec name) and answers exit code and output", async () => {
    const s = server({ containers });
    const res = await exec(s, "web", {
      cmd: ["sh", "-c", "exit 3"],
      workdir: "/tmp",
      env: { A: "1" },
      user: "1000",
      timeout: "5s",
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      container: "web",
      exitCode: 3,
      stdout: "ran sh -c exit 3",
      stderr: "warn",
      timedOut: false,
    });
    expect(s.execs[0]?.request).toMatchObject({
      cmd: ["sh", "-c", "exit 3"],
      workdir: "/tmp",
      env: ["A=1"],
      user: "1000",
      timeoutMs: 5000,
    });
  });

  it.each([
    ["no token", {}, 401],
    ["a wrong token", { authorization: "Bearer wrong-token-wrong-token-wrong" }, 401],
  ])("refuses %s", async (_what, headers, status) => {
    const s = server({ containers });
    expect((await exec(s, "web", { cmd: ["true"] }, headers)).statusCode).toBe(status);
    expect(s.execs).toEqual([]);
  });

  it("is off without a configured token (403)", async () => {
    const s = server({ containers, token: null });
    expect((await exec(s, "web", { cmd: ["true"] })).statusCode).toBe(403);
  });

  it("answers 400 with each field's error for a bad body", async () => {
    const s = server({ containers });
    const res = await exec(s, "web", { cmd: "ls", env: { A: 1 }, colour: "red" });
    expect(res.statusCode).toBe(400);
    const fields = res.json().errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["cmd", "(body)"]));
    expect(res.json().errors.find((e: { field: string }) => e.field === "(body)").message).toContain("colour");
    const noCmd = await exec(s, "web", {});
    expect(noCmd.json().errors).toEqual([{ field: "cmd", message: "must have required property 'cmd'" }]);
    const badTimeout = await exec(s, "web", { cmd: ["true"], timeout: "2h" });
    expect(badTimeout.json().errors).toEqual([
      { field: "timeout", message: "must be a duration from 1ms to 1h, e.g. 30s" },
    ]);
    expect((await exec(s, "web", "{not json")).statusCode).toBe(400);
    expect(s.execs).toEqual([]);
  });

  it("answers 404 for a container berth does not manage, 409 for one that is not running", async () => {
    const s = server({ containers });
    const unknown = await exec(s, "postgres", { cmd: ["true"] });
    expect([unknown.statusCode, unknown.json().error]).toEqual([404, "no container postgres managed by this berth"]);
    expect((await exec(s, "api", { cmd: ["true"] })).statusCode).toBe(409);
  });

  it("refuses an oversized body with 413", async () => {
    const s = server({ containers });
    const res = await exec(s, "web", { cmd: ["echo", "x".repeat(100 * 1024)] });
    expect(res.statusCode).toBe(413);
    expect(s.execs).toEqual([]);
  });
});

describe("GET /v1/containers/{name}/logs", () => {
  it("streams the lines as Server-Sent Events, behind the token, 404 for an unknown container", async () => {
    const s = server({ containers: [box("web", "web")] });
    const res = await s.app.inject({ url: "/v1/containers/web/logs?tail=5", headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/event-stream");
    const events = res.body
      .trim()
      .split("\n\n")
      .map((block) => block.split("\n")[0]);
    expect(events).toEqual(["event: open", "event: log", "event: log", "event: end"]);
    expect(res.body).toContain('data: {"stream":"stdout","time":"2026-11-23T10:00:00.000000001Z","line":"tail=5"}');
    expect((await s.app.inject({ url: "/v1/containers/web/logs" })).statusCode).toBe(401);
    expect((await s.app.inject({ url: "/v1/containers/db/logs", headers: auth })).statusCode).toBe(404);
    const bad = await s.app.inject({ url: "/v1/containers/web/logs?since=last-tuesday", headers: auth });
    expect(bad.statusCode).toBe(400);
  });
});

describe("docker-spawner compatibility", () => {
  const json = { "content-type": "application/json" };
  it("answers GET /health with OK", async () => {
    const res = await server({ compat: true }).app.inject({ url: "/health" });
    expect([res.statusCode, res.body]).toEqual([200, "OK"]);
  });

  it("is not there without --compat", async () => {
    expect((await server().app.inject({ url: "/health" })).statusCode).toBe(404);
  });

  it("serves without a token on loopback only; with a token, asks for it", async () => {
    const open = server({ compat: true, token: null, containers: [agentBox("tidepool-agent-x")] });
    expect((await open.app.inject({ url: "/status/tidepool-agent-x" })).json()).toEqual({ status: "running" });
    const exposed = server({ compat: true, token: null, loopback: false });
    expect((await exposed.app.inject({ url: "/status/x" })).statusCode).toBe(403);
    const guarded = server({ compat: true });
    expect((await guarded.app.inject({ url: "/status/x" })).statusCode).toBe(401);
    const ok = await guarded.app.inject({ url: "/status/x", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.json()).toEqual({ status: "not_found" });
  });

  it("refuses a bad spawn with 400 and the fields, writing nothing", async () => {
    const s = server({ compat: true, token: null });
    const res = await s.app.inject({
      method: "POST",
      url: "/spawn",
      headers: json,
      payload: JSON.stringify({ bead_id: "Bad ID", worktree_path: "relative", uid: -1 }),
    });
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(["bead_id", "uid", "worktree_path"]);
    const past = await s.app.inject({
      method: "POST",
      url: "/spawn",
      headers: json,
      payload: JSON.stringify({ bead_id: "b1", worktree_path: "/tmp", expires_at: "2020-01-01" }),
    });
    expect(past.json().errors[0].field).toBe("expires_at");
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it("refuses a spawn the admission policy refuses (a bind outside --allow-bind) with 400", async () => {
    const s = server({ compat: true, token: null });
    const res = await s.app.inject({
      method: "POST",
      url: "/spawn",
      headers: json,
      payload: JSON.stringify({ bead_id: "b1", worktree_path: "/srv/worktrees/b1", backend: "claude" }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].text).toContain("[policy baseline: bind-allowed-prefix]");
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it("answers exec in docker-spawner's shape (env as KEY=VALUE entries)", async () => {
    const s = server({ compat: true, token: null, containers: [agentBox("tidepool-agent-b1")] });
    const res = await s.app.inject({
      method: "POST",
      url: "/exec/tidepool-agent-b1",
      headers: json,
      payload: JSON.stringify({ cmd: ["cabal", "build"], workdir: "/w", env: ["A=1"], user: "agent" }),
    });
    expect(res.json()).toEqual({ exit_code: 3, stdout: "ran cabal build", stderr: "warn" });
    expect(s.execs[0]?.request).toMatchObject({ env: ["A=1"], user: "agent", workdir: "/w" });
  });
});

describe("every protected endpoint", () => {
  const containers = [box("web", "web"), agentBox("tidepool-agent-a1")];
  const webId = containers[0]?.id ?? "";
  const json = { "content-type": "application/json" };
  type Server = ReturnType<typeof server>;
  const endpoints: {
    method: "GET" | "PUT" | "POST" | "DELETE";
    url: string;
    payload?: string;
    headers?: Record<string, string>;
    /** Served only with --compat docker-spawner. */
    compat?: boolean;
    /** Prepares what the request acts on. */
    before?: (s: Server) => void;
    /** The answer to the authorized request: its status, and its JSON body or its text. */
    status: number;
    body: { json: unknown } | { text: string };
    /** The authorized request's effect, which the refused ones must not have had. */
    done?: (s: Server) => boolean;
  }[] = [
    {
      method: "PUT",
      url: "/v1/specs/web",
      payload: specText("web"),
      headers: { "content-type": "application/yaml" },
      status: 201,
      body: { json: { name: "web", file: "<dir>/web.yaml", created: true } },
      done: (s) => existsSync(path.join(s.dir, "web.yaml")),
    },
    {
      method: "DELETE",
      url: "/v1/specs/web",
      before: (s) => {
        writeFileSync(path.join(s.dir, "web.yaml"), specText("web"));
      },
      status: 200,
      body: { json: { name: "web", removed: true } },
      done: (s) => !existsSync(path.join(s.dir, "web.yaml")),
    },
    {
      method: "POST",
      url: "/v1/containers/web/exec",
      payload: JSON.stringify({ cmd: ["true"] }),
      headers: json,
      status: 200,
      body: {
        json: {
          container: "web",
          exitCode: 3,
          stdout: "ran true",
          stderr: "warn",
          truncated: false,
          timedOut: false,
          killed: false,
          durationMs: 5,
        },
      },
      done: (s) => s.execs.length === 1,
    },
    {
      method: "GET",
      url: "/v1/containers/web/logs",
      status: 200,
      body: {
        text: [
          `event: open\ndata: {"container":"web","id":"${webId}"}\n\n`,
          'event: log\ndata: {"stream":"stdout","time":"2026-11-23T10:00:00.000000001Z","line":"tail=null"}\n\n',
          'event: log\ndata: {"stream":"stderr","time":null,"line":"oops"}\n\n',
          'event: end\ndata: {"error":null}\n\n',
        ].join(""),
      },
    },
    {
      method: "GET",
      url: "/status/tidepool-agent-a1",
      compat: true,
      status: 200,
      body: { json: { status: "running" } },
    },
    {
      method: "POST",
      url: "/exec/tidepool-agent-a1",
      compat: true,
      payload: JSON.stringify({ cmd: ["true"] }),
      headers: json,
      status: 200,
      body: { json: { exit_code: 3, stdout: "ran true", stderr: "warn" } },
      done: (s) => s.execs.length === 1,
    },
    {
      // No such agent: docker-spawner's stop fails on a container that is not there, and so does this one.
      method: "POST",
      url: "/stop/gone",
      compat: true,
      status: 404,
      body: { json: { error: "no agent gone: nothing was stopped" } },
    },
    {
      // Reaches the handler's own check, which comes after the token's.
      method: "POST",
      url: "/spawn",
      compat: true,
      payload: JSON.stringify({ bead_id: "b1", worktree_path: "/tmp", expires_at: "tomorrow" }),
      headers: json,
      status: 400,
      body: {
        json: {
          error: "the request body is not valid",
          errors: [{ field: "expires_at", message: "must be an RFC 3339 time (e.g. 2030-01-01T00:00:00Z) or never" }],
        },
      },
    },
  ];

  it.each(endpoints)("$method $url: 401 without a token or with a wrong one, $status with the right one", async (e) => {
    const s = server({ containers, compat: e.compat ?? false });
    e.before?.(s);
    const send = (authorization?: string) =>
      s.app.inject({
        method: e.method,
        url: e.url,
        headers: { ...e.headers, ...(authorization ? { authorization } : {}) },
        ...(e.payload !== undefined ? { payload: e.payload } : {}),
      });
    for (const refused of [await send(), await send("Bearer wrong-token-wrong-token-wrong")]) {
      expect([refused.statusCode, refused.json()]).toEqual([401, { error: "a valid bearer token is required" }]);
      expect(refused.headers["www-authenticate"]).toBe("Bearer");
    }
    if (e.done) expect(e.done(s)).toBe(false);
    const served = await send(`Bearer ${TOKEN}`);
    expect(served.statusCode).toBe(e.status);
    if ("json" in e.body) {
      expect(served.headers["content-type"]).toContain("application/json");
      expect(JSON.parse(served.body.replaceAll(s.dir, "<dir>"))).toEqual(e.body.json);
    } else {
      expect(served.body).toBe(e.body.text);
    }
    if (e.done) expect(e.done(s)).toBe(true);
  });

  it.each([
    ["/v1/containers/web/exec", { cmd: ["x".repeat(70 * 1024)] }],
    ["/spawn", { bead_id: "b", worktree_path: `/${"x".repeat(70 * 1024)}` }],
    ["/exec/web", { cmd: ["x".repeat(70 * 1024)] }],
  ])("POST %s: 413 over 64 KiB", async (url, body) => {
    const s = server({ containers, compat: true });
    const res = await s.app.inject({
      method: "POST",
      url,
      headers: { ...auth, ...json },
      payload: JSON.stringify(body),
    });
    expect(res.statusCode).toBe(413);
  });

  it("compat exec and status of a container berth does not manage: 404 and not_found", async () => {
    const s = server({ containers, compat: true, token: null });
    const exec = await s.app.inject({
      method: "POST",
      url: "/exec/postgres",
      headers: json,
      payload: '{"cmd":["true"]}',
    });
    expect(exec.statusCode).toBe(404);
    expect((await s.app.inject({ url: "/status/postgres" })).json()).toEqual({ status: "not_found" });
  });
});
