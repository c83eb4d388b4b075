/** The HTTP API through fastify's inject(): no socket, the real handlers and file writes. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Readiness } from "../../src/controller/controller.js";
import { DEFAULT_POLICY } from "../../src/core/policy.js";
import { buildServer, tokenMatches } from "../../src/http/server.js";
import { silentLogger } from "../../src/log.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "0123456789abcdef0123456789abcdef";

function server(
  options: { token?: string | null; runtimeDir?: string | null; elsewhere?: Record<string, string> } = {},
) {
  let readiness: Readiness = { ready: false, reason: "first reconcile not done" };
  let changes = 0;
  const dir = tempDir();
  const runtimeDir = options.runtimeDir === undefined ? dir : options.runtimeDir;
  const app = buildServer({
    log: silentLogger(),
    readiness: () => readiness,
    apiToken: options.token === undefined ? TOKEN : options.token,
    runtimeDir,
    labelPrefix: "berth",
    policy: DEFAULT_POLICY,
    specFile: (name) => options.elsewhere?.[name] ?? null,
    specsChanged: () => {
      changes++;
    },
  });
  return {
    app,
    dir,
    setReady: (r: Readiness) => {
      readiness = r;
    },
    changes: () => changes,
  };
}

const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/yaml" };

describe("health and readiness", () => {
  it("answers /healthz while alive and /readyz with 503 and the reason until ready", async () => {
    const s = server();
    expect((await s.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    const notReady = await s.app.inject({ url: "/readyz" });
    expect([notReady.statusCode, notReady.json()]).toEqual([503, { ready: false, reason: "first reconcile not done" }]);
    s.setReady({ ready: true, reason: null });
    const ready = await s.app.inject({ url: "/readyz" });
    expect([ready.statusCode, ready.json()]).toEqual([200, { ready: true, reason: null }]);
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
