/**
 * The attacks of the HTTP review (issue 14), each performed against the real server and route
 * handlers, with an in-memory engine view and real spec files: cross-site and DNS-rebinding
 * requests, content types a browser may send anywhere, the docker-spawner API reaching past its
 * agents, root agents, path traversal into files beside the runtime folder, bodies buffered
 * before the token check, connections held open, log streams left open by clients that went
 * away, and specs written through the API that freeze a spec of another folder. The attacks that
 * need a running `berth run` and the engine are in test/docker/security-http.test.ts.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildConfig } from "../../../src/config.js";
import { removeSpecFile, writeSpecFile } from "../../../src/host/spec-writer.js";
import { hostAllowed } from "../../../src/http/access.js";
import { LINGER_MS } from "../../../src/http/auth.js";
import { DEFAULT_PARSE_OPTIONS } from "../../../src/manifest/parse.js";
import { RuntimeSpecs } from "../../../src/ops/runtime-specs.js";
import { silentLogger } from "../../../src/util/log.js";
import { pollUntil } from "../../support/poll.js";
import { specText } from "../../support/specs.js";
import {
  agent,
  BEARER,
  loadedRecord,
  managed,
  rawExchange,
  testServer,
  type TestServerOptions,
} from "../../support/http-server.js";
import { tempDir } from "../../support/tmp.js";

const JSON_TYPE = { "content-type": "application/json" };
const YAML_TYPE = { "content-type": "application/yaml" };

const listening: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const app of listening.splice(0)) await app.close();
});

/** The server listening on a free loopback port. */
async function listen(options: TestServerOptions = {}) {
  const s = testServer(options);
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  listening.push(s.app);
  const address = s.app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return { ...s, port: address.port };
}

describe("content types: JSON routes take application/json only; a spec, YAML or JSON (finding 2)", () => {
  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/yaml"])(
    "POST /v1/containers/{name}/exec as %s: 415, nothing run",
    async (type) => {
      const s = testServer({ containers: [managed("web", "web")] });
      const res = await s.app.inject({
        method: "POST",
        url: "/v1/containers/web/exec",
        headers: { ...BEARER, "content-type": type },
        payload: JSON.stringify({ cmd: ["id"] }),
      });
      expect(res.statusCode).toBe(415);
      expect(s.execs).toEqual([]);
    },
  );

  it("POST exec with no content type: 415; with application/json; charset=utf-8: run", async () => {
    const s = testServer({ containers: [managed("web", "web")] });
    const none = await s.app.inject({
      method: "POST",
      url: "/v1/containers/web/exec",
      headers: BEARER,
      payload: Buffer.from(JSON.stringify({ cmd: ["id"] })),
    });
    expect(none.statusCode).toBe(415);
    const ok = await s.app.inject({
      method: "POST",
      url: "/v1/containers/web/exec",
      headers: { ...BEARER, "content-type": "application/json; charset=utf-8" },
      payload: JSON.stringify({ cmd: ["id"] }),
    });
    expect(ok.statusCode).toBe(200);
    expect(s.execs).toHaveLength(1);
  });

  it("PUT /v1/specs/{name}: text/plain and no type are 415; the YAML types and JSON are written", async () => {
    const s = testServer();
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const res = await s.app.inject({
        method: "PUT",
        url: "/v1/specs/web",
        headers: { ...BEARER, "content-type": type },
        payload: specText("web"),
      });
      expect(res.statusCode).toBe(415);
    }
    const none = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: BEARER,
      payload: Buffer.from(specText("web")),
    });
    expect(none.statusCode).toBe(415);
    expect(readdirSync(s.dir)).toEqual([]);
    for (const type of ["application/yaml", "text/yaml", "application/x-yaml", "application/json"]) {
      const res = await s.app.inject({
        method: "PUT",
        url: "/v1/specs/web",
        headers: { ...BEARER, "content-type": type },
        payload: specText("web"),
      });
      expect([200, 201]).toContain(res.statusCode);
    }
    expect(readdirSync(s.dir)).toEqual(["web.yaml"]);
  });

  it("no-token docker-spawner API: a text/plain spawn or exec (a browser's simple request) is 415", async () => {
    const s = testServer({ compat: true, token: null, containers: [agent("tidepool-agent-a")] });
    const spawn = await s.app.inject({
      method: "POST",
      url: "/spawn",
      headers: { "content-type": "text/plain" },
      payload: JSON.stringify({ bead_id: "evil", worktree_path: "/tmp" }),
    });
    const exec = await s.app.inject({
      method: "POST",
      url: "/exec/tidepool-agent-a",
      headers: { "content-type": "text/plain" },
      payload: JSON.stringify({ cmd: ["id"] }),
    });
    expect([spawn.statusCode, exec.statusCode]).toEqual([415, 415]);
    expect(readdirSync(s.dir)).toEqual([]);
    expect(s.execs).toEqual([]);
  });

  it("asks for the token before it looks at the type (401, not 415)", async () => {
    const s = testServer({ containers: [managed("web", "web")] });
    const res = await s.app.inject({
      method: "POST",
      url: "/v1/containers/web/exec",
      headers: { "content-type": "text/plain" },
      payload: "x",
    });
    expect(res.statusCode).toBe(401);
  });
});

describe("the Host header must name loopback or an --allow-host name (finding 2: DNS rebinding)", () => {
  const refused = [
    "evil.example",
    "evil.example:7435",
    "127.0.0.1.evil.example",
    "localhost.evil.example:7435",
    "0.0.0.0:7435",
    "10.0.0.5:7435",
    "[::ffff:7f00:1]:7435",
    "evil.example@127.0.0.1",
    "127.0.0.1:7435/x",
  ];
  const accepted = ["localhost", "localhost:7435", "LOCALHOST:7435", "127.0.0.1:7435", "127.200.3.4", "[::1]:7435"];

  it.each(refused)("Host %j: 403 on reads, spec writes and the no-token compat API; nothing done", async (host) => {
    const s = testServer({ compat: true, token: null, containers: [agent("tidepool-agent-a")] });
    const read = await s.app.inject({ url: "/v1/events", headers: { host } });
    const exec = await s.app.inject({
      method: "POST",
      url: "/exec/tidepool-agent-a",
      headers: { host, ...JSON_TYPE },
      payload: JSON.stringify({ cmd: ["id"] }),
    });
    const spawn = await s.app.inject({
      method: "POST",
      url: "/spawn",
      headers: { host, ...JSON_TYPE },
      payload: JSON.stringify({ bead_id: "b1", worktree_path: "/tmp" }),
    });
    expect([read.statusCode, exec.statusCode, spawn.statusCode]).toEqual([403, 403, 403]);
    expect(s.execs).toEqual([]);
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it.each(accepted)("Host %j is served", async (host) => {
    const s = testServer();
    expect((await s.app.inject({ url: "/v1/events", headers: { host } })).statusCode).toBe(200);
  });

  it("serves the names given with --allow-host (case-insensitive, any port), and only those", async () => {
    const s = testServer({ allowHosts: ["berth", "10.0.0.5", "fd00::1"] });
    for (const host of ["berth", "BERTH:7435", "10.0.0.5:7435", "[fd00::1]:7435"]) {
      expect((await s.app.inject({ url: "/v1/events", headers: { host } })).statusCode).toBe(200);
    }
    for (const host of ["berth.evil.example", "berth-2", "10.0.0.6"]) {
      expect((await s.app.inject({ url: "/v1/events", headers: { host } })).statusCode).toBe(403);
    }
  });

  it("leaves the probes (/healthz, /readyz, /health) open to any Host: they are called by address", async () => {
    const s = testServer({ compat: true });
    const host = "10.1.2.3:7435";
    expect((await s.app.inject({ url: "/healthz", headers: { host } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: "/readyz", headers: { host } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: "/health", headers: { host } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: "/metrics", headers: { host } })).statusCode).toBe(403);
  });

  it("refuses an HTTP/1.0 request without a Host header (a real socket)", async () => {
    const s = await listen();
    const res = await rawExchange(s.port, "GET /v1/events HTTP/1.0\r\n\r\n");
    expect(res.response).toMatch(/^HTTP\/1\.1 403 /);
  });

  it("matches loopback addresses exactly", () => {
    expect(hostAllowed("127.255.255.255:1", [])).toBe(true);
    expect(hostAllowed("127.256.0.1", [])).toBe(false);
    expect(hostAllowed("127.0.0", [])).toBe(false);
    expect(hostAllowed("[::2]", [])).toBe(false);
    expect(hostAllowed(undefined, [])).toBe(false);
  });

  it("refuses --allow-host values that are not names or addresses", () => {
    for (const bad of ["berth:7435", "http://berth", "*", "a b", "evil.example/x"]) {
      expect(() => buildConfig({ allowHost: [bad] })).toThrow(/--allow-host/);
    }
    expect(buildConfig({ allowHost: ["Berth", "[FD00::1]"] }).allowHosts).toEqual(["berth", "[fd00::1]"]);
  });
});

describe("a browser page of another origin cannot drive the API (finding 2: cross-site)", () => {
  const compatServer = (extra: TestServerOptions = {}) =>
    testServer({ compat: true, token: null, containers: [agent("tidepool-agent-a")], ...extra });

  it.each(["https://evil.example", "http://127.0.0.1:8080", "null"])(
    "Origin %s: 403 on spawn, exec, stop and reads; nothing done",
    async (origin) => {
      const s = compatServer();
      writeFileSync(path.join(s.dir, "tidepool-agent-a.yaml"), "kept");
      const spawn = await s.app.inject({
        method: "POST",
        url: "/spawn",
        headers: { origin, ...JSON_TYPE },
        payload: JSON.stringify({ bead_id: "b1", worktree_path: "/tmp" }),
      });
      const exec = await s.app.inject({
        method: "POST",
        url: "/exec/tidepool-agent-a",
        headers: { origin, ...JSON_TYPE },
        payload: JSON.stringify({ cmd: ["id"] }),
      });
      const stop = await s.app.inject({ method: "POST", url: "/stop/tidepool-agent-a", headers: { origin } });
      const read = await s.app.inject({ url: "/v1/events", headers: { origin } });
      expect([spawn.statusCode, exec.statusCode, stop.statusCode, read.statusCode]).toEqual([403, 403, 403, 403]);
      expect(s.execs).toEqual([]);
      expect(readdirSync(s.dir)).toEqual(["tidepool-agent-a.yaml"]);
    },
  );

  it.each(["cross-site", "same-site"])("Sec-Fetch-Site: %s without an Origin (a no-cors GET): 403", async (site) => {
    const s = compatServer();
    const res = await s.app.inject({ url: "/status/tidepool-agent-a", headers: { "sec-fetch-site": site } });
    expect(res.statusCode).toBe(403);
  });

  it("serves a page opened by hand (Sec-Fetch-Site: none) and programs (no Origin)", async () => {
    const s = compatServer();
    for (const headers of [{ "sec-fetch-site": "none" }, { "sec-fetch-site": "same-origin" }, {}]) {
      const res = await s.app.inject({ url: "/status/tidepool-agent-a", headers });
      expect(res.json()).toEqual({ status: "running" });
    }
  });

  it("serves an origin given with --allow-origin, exactly", async () => {
    const s = compatServer({ allowOrigins: ["https://UI.example"] });
    const ok = await s.app.inject({
      url: "/status/tidepool-agent-a",
      headers: { origin: "https://ui.example", "sec-fetch-site": "cross-site" },
    });
    expect(ok.statusCode).toBe(200);
    for (const origin of ["https://ui.example:8443", "http://ui.example", "https://ui.example.evil"]) {
      expect((await s.app.inject({ url: "/status/tidepool-agent-a", headers: { origin } })).statusCode).toBe(403);
    }
    expect(() => buildConfig({ allowOrigin: ["https://ui.example/path"] })).toThrow(/--allow-origin/);
    expect(() => buildConfig({ allowOrigin: ["null"] })).toThrow(/--allow-origin/);
  });
});

describe("the docker-spawner API reaches agents only (finding 2)", () => {
  // An agent; berth's plain container; a container whose spec has the prefix but no role label;
  // one with the role label whose spec does not have the prefix.
  const containers = [
    agent("tidepool-agent-a"),
    managed("web", "web"),
    managed("tidepool-agent-fake", "tidepool-agent-fake"),
    managed("worker", "worker", { "com.tidepool.role": "agent" }),
  ];
  const others = [
    "web",
    "tidepool-agent-fake",
    "worker",
    managed("web", "web").id,
    managed("web", "web").id.slice(0, 12),
  ];

  it.each(others)("exec, status and stop of %s: answered as for an unknown container; nothing done", async (id) => {
    const s = testServer({
      compat: true,
      token: null,
      containers,
      loaded: (dir) => [
        loadedRecord(path.join(dir, "web.yaml"), specText("web")),
        loadedRecord(path.join(dir, "tidepool-agent-fake.yaml"), specText("tidepool-agent-fake")),
      ],
    });
    for (const f of ["web.yaml", "worker.yaml", "tidepool-agent-fake.yaml"]) writeFileSync(path.join(s.dir, f), "kept");
    const exec = await s.app.inject({
      method: "POST",
      url: `/exec/${id}`,
      headers: JSON_TYPE,
      payload: JSON.stringify({ cmd: ["id"] }),
    });
    expect(exec.statusCode).toBe(404);
    expect((await s.app.inject({ url: `/status/${id}` })).json()).toEqual({ status: "not_found" });
    expect((await s.app.inject({ method: "POST", url: `/stop/${id}` })).statusCode).toBe(404);
    expect(s.execs).toEqual([]);
    expect(readdirSync(s.dir).sort()).toEqual(["tidepool-agent-fake.yaml", "web.yaml", "worker.yaml"]);
    expect(s.changes()).toBe(0);
  });

  it("reaches the agent, by name and by ID", async () => {
    const s = testServer({ compat: true, token: null, containers });
    for (const id of ["tidepool-agent-a", agent("tidepool-agent-a").id]) {
      const exec = await s.app.inject({
        method: "POST",
        url: `/exec/${id}`,
        headers: JSON_TYPE,
        payload: JSON.stringify({ cmd: ["id"] }),
      });
      expect(exec.statusCode).toBe(200);
      expect((await s.app.inject({ url: `/status/${id}` })).json()).toEqual({ status: "running" });
    }
    expect(s.execs.map((e) => e.id)).toEqual([agent("tidepool-agent-a").id, agent("tidepool-agent-a").id]);
  });

  it("stops an agent whose container is gone by removing its spec from the runtime folder, an agent's only", async () => {
    const agentSpec = specText("tidepool-agent-gone").replace(
      "metadata:\n",
      'metadata:\n  labels: { "com.tidepool.role": agent }\n',
    );
    const plainSpec = specText("tidepool-agent-plain");
    const s = testServer({
      compat: true,
      token: null,
      containers: [],
      loaded: (dir) => [
        loadedRecord(path.join(dir, "tidepool-agent-gone.yaml"), agentSpec),
        loadedRecord(path.join(dir, "tidepool-agent-plain.yaml"), plainSpec),
        loadedRecord("specs/tidepool-agent-elsewhere.yaml", agentSpec.replace(/-gone/g, "-elsewhere")),
      ],
    });
    for (const name of ["tidepool-agent-gone", "tidepool-agent-plain", "tidepool-agent-elsewhere"])
      writeFileSync(path.join(s.dir, `${name}.yaml`), "x");
    // Not an agent's spec (no role label), and a spec loaded from another folder: kept, and said so.
    expect((await s.app.inject({ method: "POST", url: "/stop/tidepool-agent-plain" })).statusCode).toBe(404);
    expect((await s.app.inject({ method: "POST", url: "/stop/tidepool-agent-elsewhere" })).statusCode).toBe(404);
    expect(readdirSync(s.dir).sort()).toEqual([
      "tidepool-agent-elsewhere.yaml",
      "tidepool-agent-gone.yaml",
      "tidepool-agent-plain.yaml",
    ]);
    // An agent's spec in the runtime folder: removed.
    expect((await s.app.inject({ method: "POST", url: "/stop/tidepool-agent-gone" })).statusCode).toBe(200);
    expect(existsSync(path.join(s.dir, "tidepool-agent-gone.yaml"))).toBe(false);
  });
});

describe("/spawn may not ask for root unless the policy is privileged (finding 2)", () => {
  it.each([
    [{ uid: 0 }, ["uid"]],
    [{ gid: 0 }, ["gid"]],
    [{ uid: 0, gid: 0 }, ["uid", "gid"]],
  ])("%j: 400 naming the fields, nothing written", async (ids, fields) => {
    const s = testServer({ compat: true, token: null });
    const res = await s.app.inject({
      method: "POST",
      url: "/spawn",
      headers: JSON_TYPE,
      payload: JSON.stringify({ bead_id: "b1", worktree_path: "/tmp", ...ids }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual(fields);
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it("under --policy privileged the request gets past that check", async () => {
    const s = testServer({ compat: true, token: null, policyProfile: "privileged" });
    const res = await s.app.inject({
      method: "POST",
      url: "/spawn",
      headers: JSON_TYPE,
      payload: JSON.stringify({ bead_id: "b1", worktree_path: "/tmp", uid: 0, gid: 0 }),
    });
    // Written and waited for (nothing runs it here): not refused for the user.
    expect(res.statusCode).toBe(504);
    expect(s.changes()).toBe(2); // written, then taken back
  });

  it("--spawn-user 0:… needs --policy privileged", () => {
    const compat = { compat: "docker-spawner", spawnImage: "agent", runtimeSpecs: "/rt" };
    expect(() => buildConfig({ ...compat, spawnUser: "0:1000" })).toThrow(/--spawn-user.*privileged/);
    expect(() => buildConfig({ ...compat, spawnUser: "1000:0" })).toThrow(/--spawn-user/);
    expect(buildConfig({ ...compat, spawnUser: "0:0", policy: "privileged" }).compat?.user).toEqual({ uid: 0, gid: 0 });
  });
});

describe("names never become paths outside the runtime folder (finding 3)", () => {
  /** A runtime folder, and victim.yaml beside it. */
  function victimBeside(dir: string): string {
    const victim = path.join(path.dirname(dir), "victim.yaml");
    writeFileSync(victim, "victim");
    return victim;
  }

  it.each(["..%2Fvictim", "%2E%2E%2Fvictim", "..%5Cvictim", "x%2F..%2F..%2Fvictim"])(
    "POST /stop/%s (no token, no container): 400, victim.yaml kept",
    async (id) => {
      const s = testServer({ compat: true, token: null });
      const victim = victimBeside(s.dir);
      const res = await s.app.inject({ method: "POST", url: `/stop/${id}` });
      expect(res.statusCode).toBe(400);
      expect(existsSync(victim)).toBe(true);
    },
  );

  it("DELETE and PUT /v1/specs/..%2Fvictim: 400, victim.yaml kept", async () => {
    const s = testServer();
    const victim = victimBeside(s.dir);
    expect((await s.app.inject({ method: "DELETE", url: "/v1/specs/..%2Fvictim", headers: BEARER })).statusCode).toBe(
      400,
    );
    const put = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/..%2Fvictim",
      headers: { ...BEARER, ...YAML_TYPE },
      payload: specText("victim"),
    });
    expect(put.statusCode).toBe(400);
    expect(existsSync(victim)).toBe(true);
  });

  it("the use case refuses a name that is not a DNS label, whoever calls it", async () => {
    const dir = path.join(tempDir(), "rt");
    mkdirSync(dir);
    const victim = victimBeside(dir);
    const ops = new RuntimeSpecs({
      dir,
      parse: DEFAULT_PARSE_OPTIONS,
      specFile: () => null,
      loaded: () => [],
      changed: () => undefined,
      removing: () => () => undefined,
      log: silentLogger(),
    });
    expect(await ops.remove("../victim")).toEqual({ kind: "bad-name", name: "../victim" });
    expect(await ops.write("../victim", specText("victim"))).toEqual({ kind: "bad-name", name: "../victim" });
    expect(existsSync(victim)).toBe(true);
  });

  it.each(["../victim", "a/../../victim", "..", ".", "", ".hidden", "a/b", "a\\b", "x\0y", "/tmp/victim"])(
    "the spec writer refuses %j with a typed outcome and touches nothing",
    async (name) => {
      const base = tempDir();
      const dir = path.join(base, "rt");
      mkdirSync(dir);
      const victim = victimBeside(dir);
      const written = await writeSpecFile(dir, name, "apiVersion: berth/v1\n");
      const removed = await removeSpecFile(dir, name);
      expect(written).toMatchObject({ ok: false, problem: "outside" });
      expect(removed).toMatchObject({ ok: false, problem: "outside" });
      expect(existsSync(victim)).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it("the spec writer still writes and removes a plain name", async () => {
    const dir = tempDir();
    expect(await writeSpecFile(dir, "web", "x")).toEqual({ ok: true, created: true });
    expect(await removeSpecFile(dir, "web")).toEqual({ ok: true, removed: true });
  });
});

describe("bodies are not read before the token check; connections are bounded (finding 4)", () => {
  const head = (url: string, headers: string) =>
    `PUT ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\nContent-Length: 1048576\r\n${headers}\r\n`;

  it("a 1 MiB body without the token: 401 at once and the connection closed, the body never awaited", async () => {
    const s = await listen();
    const res = await rawExchange(s.port, head("/v1/specs/web", ""), {
      trickle: "a",
      everyMs: 50,
      deadlineMs: 5_000,
      halfOpen: true,
    });
    expect(res.response).toMatch(/^HTTP\/1\.1 401 /);
    expect(res.closedAfterMs).not.toBeNull();
    expect(res.closedAfterMs).toBeLessThan(2_000);
  });

  it("a small body without the token: the client reads its 401, then the connection is closed", async () => {
    const s = await listen();
    const body = "x".repeat(10_000);
    const full = await rawExchange(
      s.port,
      `PUT /v1/specs/web HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      { deadlineMs: 5_000 },
    );
    expect(full.response).toMatch(/^HTTP\/1\.1 401 /);
    expect(full.closedAfterMs).not.toBeNull();
    // Trickled by a client that goes on after berth ended its side: closed after the linger time.
    const trickled = await rawExchange(
      s.port,
      "PUT /v1/specs/web HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\nContent-Length: 60000\r\n\r\n",
      { trickle: "a", everyMs: 50, deadlineMs: 6_000, halfOpen: true },
    );
    expect(trickled.response).toMatch(/^HTTP\/1\.1 401 /);
    expect(trickled.closedAfterMs).toBeGreaterThanOrEqual(LINGER_MS - 100);
    expect(trickled.closedAfterMs).toBeLessThan(LINGER_MS + 1_500);
  });

  it("a chunked body without the token: not waited for, closed at once", async () => {
    const s = await listen();
    const chunk = "x".repeat(16 * 1024);
    const res = await rawExchange(
      s.port,
      "PUT /v1/specs/web HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n",
      { trickle: `${chunk.length.toString(16)}\r\n${chunk}\r\n`, everyMs: 20, deadlineMs: 5_000, halfOpen: true },
    );
    expect(res.closedAfterMs).not.toBeNull();
    expect(res.closedAfterMs).toBeLessThan(LINGER_MS / 2);
  });

  it("a body to an endpoint that does not exist: 404 at once, closed", async () => {
    const s = await listen();
    const res = await rawExchange(s.port, head("/v1/nothing", ""), {
      trickle: "a",
      everyMs: 50,
      deadlineMs: 5_000,
      halfOpen: true,
    });
    expect(res.response).toMatch(/^HTTP\/1\.1 404 /);
    expect(res.closedAfterMs).toBeLessThan(2_000);
  });

  it("a trickled body with the token is cut at the request timeout (408)", async () => {
    const s = await listen({ limits: { requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 } });
    const res = await rawExchange(
      s.port,
      head("/v1/specs/web", `Authorization: Bearer ${BEARER.authorization.slice(7)}\r\n`),
      {
        trickle: "a",
        everyMs: 50,
        deadlineMs: 6_000,
      },
    );
    expect(res.response).toMatch(/^HTTP\/1\.1 408 /);
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(res.closedAfterMs).toBeLessThan(4_000);
  });

  it("headers never finished, or nothing sent: closed at the headers timeout", async () => {
    const s = await listen({ limits: { requestTimeoutMs: 5_000, headersTimeoutMs: 800 } });
    const [partial, silent] = await Promise.all([
      rawExchange(s.port, "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n", {
        trickle: "X-a: b\r\n",
        everyMs: 100,
        deadlineMs: 6_000,
      }),
      rawExchange(s.port, "", { deadlineMs: 6_000 }),
    ]);
    for (const res of [partial, silent]) {
      expect(res.closedAfterMs).not.toBeNull();
      expect(res.closedAfterMs).toBeLessThan(4_000);
    }
  });

  it("caps the connections: past the cap, new ones are closed as they arrive", async () => {
    const s = await listen({ limits: { maxConnections: 3 } });
    const held = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(s.port, "127.0.0.1", () => {
              resolve(socket);
            });
          }),
      ),
    );
    const connections = () =>
      new Promise<number>((resolve) => {
        s.app.server.getConnections((_err, n) => {
          resolve(n);
        });
      });
    expect(await pollUntil(async () => (await connections()) === 3, 2_000)).toBe(true);
    const extra = await rawExchange(s.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", { deadlineMs: 3_000 });
    expect(extra.response).toBe("");
    expect(extra.closedAfterMs).not.toBeNull();
    for (const socket of held) socket.destroy();
    expect(
      await pollUntil(
        async () =>
          (await rawExchange(s.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).response.startsWith(
            "HTTP/1.1 200",
          ),
        3_000,
      ),
    ).toBe(true);
  });

  it("a quiet connection is closed at the idle timeout, but not while an exec runs", async () => {
    const s = await listen({ containers: [managed("web", "web")], execMs: 1_500, limits: { idleTimeoutMs: 500 } });
    const body = JSON.stringify({ cmd: ["sleep"] });
    const exec = await rawExchange(
      s.port,
      `POST /v1/containers/web/exec HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${BEARER.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      { deadlineMs: 5_000 },
    );
    expect(exec.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(exec.closedAfterMs).toBeGreaterThanOrEqual(1_500);
  });
});

describe("follow-log streams are closed when the client goes away (finding 10)", () => {
  it("a client that leaves while the stream is being opened: the stream is closed once open", async () => {
    const s = await listen({ containers: [managed("web", "web")], logsOpenMs: 300 });
    const clients = await Promise.all(
      Array.from({ length: 10 }, () =>
        rawExchange(
          s.port,
          `GET /v1/containers/web/logs?follow=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${BEARER.authorization}\r\n\r\n`,
          { deadlineMs: 100 },
        ),
      ),
    );
    expect(clients.every((c) => c.closedAfterMs === null)).toBe(true); // we hung up, not the server
    expect(await pollUntil(() => s.logStreams.opened === 10 && s.logStreams.closed === 10, 3_000)).toBe(true);
  });

  it("a client that leaves after the stream opened: closed too", async () => {
    const s = await listen({ containers: [managed("web", "web")] });
    await rawExchange(
      s.port,
      `GET /v1/containers/web/logs?follow=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${BEARER.authorization}\r\n\r\n`,
      { deadlineMs: 300 },
    );
    expect(await pollUntil(() => s.logStreams.opened === 1 && s.logStreams.closed === 1, 3_000)).toBe(true);
  });
});

describe("a follow-log stream says open once the engine's stream is open", () => {
  it("headers at once; `event: open` only when the engine answered (a line written after it is delivered)", async () => {
    // The engine answers after 1.5 s; the headers come long before (0.7 s leaves room for a busy machine).
    const s = await listen({ containers: [managed("web", "web")], logsOpenMs: 1_500 });
    const request = `GET /v1/containers/web/logs?follow=true&tail=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${BEARER.authorization}\r\n\r\n`;
    const early = await rawExchange(s.port, request, { deadlineMs: 700 });
    expect(early.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(early.response).not.toContain("event: open");
    const late = await rawExchange(s.port, request, { deadlineMs: 3_000 });
    expect(late.response).toContain("event: open");
  });
});

describe("a spec written through the API never freezes a spec of another folder (finding 9)", () => {
  const pool = loadedRecord("specs/other/pool.yaml", specText("rt-pool", { replicas: 2 }));

  it("PUT rt-pool-1 beside rt-pool (replicas: 2) in another folder: 409 naming that file, nothing written", async () => {
    const s = testServer({ loaded: () => [pool] });
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/rt-pool-1",
      headers: { ...BEARER, ...YAML_TYPE },
      payload: specText("rt-pool-1"),
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ file: "specs/other/pool.yaml" });
    expect(res.json().error).toContain("spec rt-pool in specs/other/pool.yaml");
    expect(readdirSync(s.dir)).toEqual([]);
    expect(s.changes()).toBe(0);
  });

  it("the other way round: a pool whose replica names another folder's spec: 409", async () => {
    const s = testServer({ loaded: () => [loadedRecord("specs/web-1.yaml", specText("web-1"))] });
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: { ...BEARER, ...YAML_TYPE },
      payload: specText("web", { replicas: 3 }),
    });
    expect([res.statusCode, res.json().file]).toEqual([409, "specs/web-1.yaml"]);
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it("replacing the runtime folder's own spec is no clash", async () => {
    const s = testServer({
      loaded: (dir) => [loadedRecord(path.join(dir, "rt-pool.yaml"), specText("rt-pool", { replicas: 2 }))],
    });
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/rt-pool",
      headers: { ...BEARER, ...YAML_TYPE },
      payload: specText("rt-pool", { replicas: 3 }),
    });
    expect(res.statusCode).toBe(201);
  });

  it("before the spec files are loaded, the check cannot be made: 503, nothing written", async () => {
    const s = testServer({ loaded: () => null });
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/web",
      headers: { ...BEARER, ...YAML_TYPE },
      payload: specText("web"),
    });
    expect(res.statusCode).toBe(503);
    expect(readdirSync(s.dir)).toEqual([]);
  });
});
