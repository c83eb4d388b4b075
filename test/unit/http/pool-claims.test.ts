/**
 * POST /v1/pools/{name}/claims as a client sends it (src/http/routes/pools.ts): real HTTP requests
 * to the real server on 127.0.0.1, its claims served by the real use case (src/ops/pools.ts) over
 * a pool held in memory with one ready member, on a clock of the test's (the server's and the
 * pool's). What the request may be: no body at all (every field is optional), and a ttl or
 * expiresAt that leaves the claim a time to live — not one that expired before its answer.
 * Against the real engine: test/docker/pools.test.ts.
 */
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { labelKeys } from "../../../src/core/labels.js";
import type { ClaimRecord } from "../../../src/core/pool.js";
import { memoryPools } from "../../support/claims.js";
import { ownership } from "../../../src/core/ownership.js";
import { buildServer } from "../../../src/http/server.js";
import { ManagedContainers } from "../../../src/ops/containers.js";
import { EventLog } from "../../../src/ops/event-log.js";
import { silentLogger } from "../../../src/util/log.js";
import { FakeClock } from "../../support/fake-clock.js";
import { BEARER } from "../../support/http-server.js";
import { container, CONTROLLER, desired, KEYS } from "../../support/plan-fixtures.js";

/** The server's time: after the real one, so that a check made with Date.now() would pass what this one refuses. */
const NOW = Date.UTC(2031, 0, 1, 12, 0, 0);
const web = desired("web", { extra: ["pool: { size: 1 }"] });

const listening: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const app of listening.splice(0)) await app.close();
});

/** The server on a free loopback port, with pool `web` and its one ready member; the claims recorded. */
async function poolServer() {
  const log = silentLogger();
  const clock = new FakeClock(NOW);
  const records: ClaimRecord[] = [];
  const pools = memoryPools(records, {
    docker: {
      listContainers: () => Promise.resolve([container(web, { name: "web-0", replica: 0, id: "a".repeat(64) })]),
      removeContainer: () => Promise.resolve(),
    },
    owner: ownership(KEYS, CONTROLLER),
    desired: (name) => (name === "web" ? { spec: web.spec, hash: web.hash } : null),
    clock,
  });
  const app = buildServer({
    log,
    controllerId: "default",
    readiness: () => ({ ready: true, reason: null }),
    apiToken: BEARER.authorization.slice("Bearer ".length),
    loopback: true,
    status: () => null,
    events: new EventLog(10),
    metrics: null,
    specs: null,
    pools,
    containers: new ManagedContainers(
      { listContainers: () => Promise.resolve([]) },
      {
        exec: () => Promise.reject(new Error("no exec here")),
        logs: () => Promise.reject(new Error("no logs here")),
      },
      ownership(labelKeys(), "default"),
      log,
    ),
    compat: null,
    now: () => clock.now(),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  listening.push(app);
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return { port: address.port, records };
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * POST /v1/pools/web/claims with exactly these headers (besides Host and the token) and body:
 * node adds no Content-Type, Content-Length or Transfer-Encoding of its own.
 */
function claim(port: number, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/pools/web/claims",
        headers: { ...BEARER, ...headers },
        // A connection of its own: a refused request's connection is ended after its answer (auth.ts, refuse).
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        });
      },
    );
    req.on("error", reject);
    // Without a body and a Content-Length, node would send an empty chunked body: end with no body at all.
    if (body === undefined) req.useChunkedEncodingByDefault = false;
    req.end(body);
  });
}

/** A claim with this JSON body, sent as application/json. */
function claimJson(port: number, body: Record<string, unknown>): Promise<Answer> {
  const text = JSON.stringify(body);
  return claim(port, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) }, text);
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe("POST /v1/pools/{name}/claims: the body is optional", () => {
  it("no body at all (no Content-Type, no Content-Length): claimed as if the body were {}", async () => {
    const s = await poolServer();
    const res = await claim(s.port, {});
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ pool: "web", name: "web-0", phase: "Bound", labels: {}, expiresAt: null });
    expect(res.body.claim).toMatch(/^c-[0-9a-f]{10}$/);
    expect(s.records).toHaveLength(1);
  });

  it("Content-Length: 0 without a Content-Type, or an empty application/json body: claimed", async () => {
    const s = await poolServer();
    const empty = await claim(s.port, { "content-length": "0" });
    expect(empty.status).toBe(201);
    expect(empty.body).toMatchObject({ name: "web-0", expiresAt: null });
    const second = await poolServer();
    const emptyJson = await claim(second.port, { "content-type": "application/json", "content-length": "0" }, "");
    expect(emptyJson.status).toBe(201);
  });

  it("a body without a Content-Type, or of another type, is still 415 and claims nothing", async () => {
    const s = await poolServer();
    const text = JSON.stringify({ name: "a" });
    const length = String(Buffer.byteLength(text));
    const untyped = await claim(s.port, { "content-length": length }, text);
    expect(untyped).toEqual({
      status: 415,
      body: { error: "the request body must be sent as application/json (Content-Type: none)" },
    });
    // A chunked body is refused without being waited for: the client may see the answer or a reset.
    const chunked = await claim(s.port, { "transfer-encoding": "chunked" }, text).catch(() => null);
    expect(chunked?.status ?? 415).toBe(415);
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/yaml"]) {
      const res = await claim(s.port, { "content-type": type, "content-length": length }, text);
      expect(res.status).toBe(415);
      expect(res.body.error).toBe(`the request body must be sent as application/json (Content-Type: ${type})`);
    }
    // An empty body declared as another type is refused too: the type is checked before the body is read.
    const emptyForm = await claim(s.port, {
      "content-type": "application/x-www-form-urlencoded",
      "content-length": "0",
    });
    expect(emptyForm.status).toBe(415);
    expect(s.records).toEqual([]);
  });
});

describe("POST /v1/pools/{name}/claims: a ttl or expiresAt must leave the claim time to live", () => {
  it.each(["0s", "0ms", "0m0s", "0.4ms"])("ttl %s: 400 naming what is valid, nothing claimed", async (ttl) => {
    const s = await poolServer();
    const res = await claimJson(s.port, { ttl, wait: "0s" });
    expect(res).toEqual({
      status: 400,
      body: {
        error: `ttl: ${JSON.stringify(ttl)} is not a time to live: give a duration longer than 0 (e.g. 30s, 10m, 1h), or no ttl for a claim until released`,
      },
    });
    expect(s.records).toEqual([]);
  });

  it("a ttl past the last time a date can name: 400, not a 500 when the answer is written", async () => {
    const s = await poolServer();
    const res = await claimJson(s.port, { ttl: "2450000000h" });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(
      'ttl: "2450000000h" is too long: the claim would expire after the latest time there is',
    );
    expect(s.records).toEqual([]);
  });

  it.each([
    ["long past", "2020-01-01T00:00:00Z"],
    ["past by the server's clock, though not by the real one", iso(NOW - 1000)],
    ["now", iso(NOW)],
    ["now, in another offset", "2031-01-01T13:00:00+01:00"],
  ])("expiresAt %s: 400 naming the server's time, nothing claimed", async (_what, expiresAt) => {
    const s = await poolServer();
    const res = await claimJson(s.port, { expiresAt });
    expect(res).toEqual({
      status: 400,
      body: {
        error: `expiresAt: ${JSON.stringify(expiresAt)} is not in the future (it is now 2031-01-01T12:00:00.000Z): give a later RFC 3339 time, a ttl, or never`,
      },
    });
    expect(s.records).toEqual([]);
  });

  it("the smallest ttl and the nearest expiresAt are claimed, expiring after they were claimed", async () => {
    const s = await poolServer();
    const ttl = await claimJson(s.port, { name: "short", ttl: "1ms", wait: "0s" });
    expect(ttl.status).toBe(201);
    expect(ttl.body).toMatchObject({ claim: "short", claimedAt: iso(NOW), expiresAt: iso(NOW + 1) });
    const t = await poolServer();
    const at = await claimJson(t.port, { name: "soon", expiresAt: iso(NOW + 1) });
    expect(at.status).toBe(201);
    expect(at.body).toMatchObject({ claim: "soon", claimedAt: iso(NOW), expiresAt: iso(NOW + 1) });
    const u = await poolServer();
    const never = await claimJson(u.port, { name: "kept", expiresAt: "never", wait: "0s" });
    expect(never.status).toBe(201);
    expect(never.body).toMatchObject({ claim: "kept", expiresAt: null });
  });

  it("the checks that were there stay: not a duration, not a time, both given", async () => {
    const s = await poolServer();
    expect(await claimJson(s.port, { ttl: "-1s" })).toEqual({
      status: 400,
      body: { error: 'ttl: "-1s" is not a duration (e.g. 500ms, 10s, 1m30s)' },
    });
    expect((await claimJson(s.port, { expiresAt: "yesterday" })).status).toBe(400);
    expect(await claimJson(s.port, { ttl: "1m", expiresAt: iso(NOW + 60_000) })).toEqual({
      status: 400,
      body: { error: "give ttl or expiresAt, not both" },
    });
    expect(s.records).toEqual([]);
  });
});
