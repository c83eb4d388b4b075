/**
 * Artie host-manager compatibility (src/http/routes/artie-compat.ts) without an engine: the specs
 * a create writes, which pool serves it, the shapes of its log events and terminal messages, and
 * the access rules (token on every /api/* route, ?token= only on the streams, only containers made
 * through the API). Against the real engine: test/docker/artie-compat.test.ts.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  ARTIE_NAME_LABEL,
  ARTIE_POOL_LABEL,
  ARTIE_PORT_LABEL,
  artieLogEvents,
  artieSpec,
  artieSpecName,
  artieView,
  poolFor,
} from "../../../src/http/routes/artie-compat.js";
import { controlOf } from "../../../src/http/terminal-socket.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import type { ArtieCompatConfig } from "../../../src/config.js";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { BEARER, managed, TOKEN, testServer } from "../../support/http-server.js";

const OPTIONS: ArtieCompatConfig = { image: "node:24-slim", hostIP: null, network: "auto", waitMs: 1000 };

/** The spec a create writes, parsed and validated as berth loads it. */
function written(body: Parameters<typeof artieSpec>[1], options = OPTIONS): NormalizedSpec {
  const { name, text } = artieSpec(artieSpecName(body.name, "a1b2c3"), body, options);
  // As a berth run with --allow-host-ip 0.0.0.0 loads it.
  const policy = { ...DEFAULT_PARSE_OPTIONS.policy, allowHostIPs: ["0.0.0.0"] };
  const parsed = parseSpecText(text, `rt/${name}.yaml`, { ...DEFAULT_PARSE_OPTIONS, policy });
  expect(parsed.issues).toEqual([]);
  const spec = parsed.documents[0]?.spec;
  if (!spec) throw new Error("no document");
  return spec;
}

describe("the spec of a create", () => {
  it.each([
    ["my-project", "artie-my-project-a1b2c3"],
    ["My Project (main)", "artie-my-project-main-a1b2c3"],
    ["--", "artie-a1b2c3"],
    ["x".repeat(100), `artie-${"x".repeat(50)}-a1b2c3`],
  ])("names %j's spec %s (a DNS label)", (name, expected) => {
    expect(artieSpecName(name, "a1b2c3")).toBe(expected);
    expect(expected.length).toBeLessThanOrEqual(63);
  });

  it("runs the image, each port on an automatic host port, the volume at /app/node_modules", () => {
    const spec = written({ name: "my-project", ports: [3000, 5173], volumeName: "owner-repo-node_modules" });
    expect(spec.image).toBe("node:24-slim");
    expect(spec.command).toEqual(["sleep", "infinity"]);
    expect(spec.labels).toEqual({ [ARTIE_NAME_LABEL]: "my-project", [ARTIE_PORT_LABEL]: "3000" });
    expect(spec.ports.map((p) => [p.containerPort, p.hostPort, p.hostIP])).toEqual([
      [3000, "auto", "127.0.0.1"],
      [5173, "auto", "127.0.0.1"],
    ]);
    expect(spec.mounts).toEqual([
      expect.objectContaining({ type: "volume", source: "owner-repo-node_modules", target: "/app/node_modules" }),
    ]);
  });

  it("labels a create that says pool: true a pool container (Artie's meaning), and no other", () => {
    expect(written({ name: "warm", pool: true }).labels).toEqual({
      [ARTIE_NAME_LABEL]: "warm",
      [ARTIE_PORT_LABEL]: "3000",
      [ARTIE_POOL_LABEL]: "true",
    });
    expect(written({ name: "mine", pool: false }).labels[ARTIE_POOL_LABEL]).toBeUndefined();
  });

  it("takes Artie's defaults (port 3000), the image asked for, and --artie-host-ip", () => {
    const spec = written({ name: "p", image: "dev:2" }, { ...OPTIONS, hostIP: "0.0.0.0" });
    expect(spec.image).toBe("dev:2");
    expect(spec.ports.map((p) => [p.containerPort, p.hostIP])).toEqual([[3000, "0.0.0.0"]]);
  });
});

describe("the pool a create is served from", () => {
  const pool = (name: string, image: string, extra = ""): NormalizedSpec => {
    const text = `apiVersion: berth/v1\nkind: Container\nmetadata: { name: ${name} }\nspec:\n  image: ${image}\n  pool: { size: 2 }\n  ports: [{ containerPort: 3000, hostPort: auto }]\n${extra}`;
    const spec = parseSpecText(text, `${name}.yaml`, DEFAULT_PARSE_OPTIONS).documents[0]?.spec;
    if (!spec) throw new Error("no pool");
    return spec;
  };
  const pools = [
    pool("web-b", "node:24-slim"),
    pool("web-a", "docker.io/library/node:24-slim"),
    pool("py", "python:3"),
    pool(
      "cached",
      "node:24-slim",
      "  mounts: [{ type: volume, source: o-r-node_modules, target: /app/node_modules }]\n",
    ),
  ];

  it("is the first pool by name running the same image (references normalized) with the ports asked for", () => {
    expect(poolFor(pools, { name: "x" }, "node:24-slim")).toBe("cached");
    expect(poolFor(pools, { name: "x", image: "python:3" }, "node:24-slim")).toBe("py");
    expect(poolFor(pools.slice(0, 3), { name: "x" }, "node:24-slim")).toBe("web-a");
  });

  it("is none when no pool publishes a port asked for, runs another image, or lacks the volume", () => {
    expect(poolFor(pools, { name: "x", ports: [3000, 8080] }, "node:24-slim")).toBeNull();
    expect(poolFor(pools, { name: "x", image: "ruby:3" }, "node:24-slim")).toBeNull();
    expect(poolFor(pools, { name: "x", volumeName: "other-node_modules" }, "node:24-slim")).toBeNull();
    expect(poolFor(pools, { name: "x", volumeName: "o-r-node_modules" }, "node:24-slim")).toBe("cached");
  });
});

describe("stream shapes", () => {
  it("writes each log line as Artie's event: data {line, timestamp in ms}, nothing else", () => {
    const format = artieLogEvents(() => 42);
    expect(format.open(managed("a", "a"))).toBeNull();
    expect(format.line({ stream: "stdout", time: "2024-02-16T22:50:56.789123456Z", line: "[dev] ready" })).toBe(
      'data: {"line":"[dev] ready","timestamp":1708123856789}\n\n',
    );
    expect(format.line({ stream: "stderr", time: null, line: "x" })).toBe('data: {"line":"x","timestamp":42}\n\n');
    expect(format.end()).toBeNull();
  });

  it.each([
    ['{"type":"resize","cols":120,"rows":40}', { type: "resize", size: { cols: 120, rows: 40 } }],
    ['{"type":"input","data":"ls\\r"}', { type: "input", data: "ls\r" }],
    ['{"type":"resize","cols":0,"rows":40}', null],
    ['{"type":"other"}', null],
    ["{not json", null],
    ["echo hi\r", null],
  ])("reads the terminal message %s as %j", (text, expected) => {
    expect(controlOf(text)).toEqual(expected);
  });

  it("shows a container with the name the client gave, its first host port, and whether a pool served it", () => {
    const c = {
      ...managed("artie-p-a1b2c3", "artie-p-a1b2c3", { [ARTIE_NAME_LABEL]: "p" }),
      ports: [{ containerPort: 3000, protocol: "tcp", hostPort: 10004, hostIP: "127.0.0.1" }],
    };
    expect(artieView(c, undefined)).toMatchObject({ name: "p", hostPort: 10004, pool: false, status: "running" });
  });

  it("shows the host port of the first port the create asked for, in whatever order the engine lists them", () => {
    const c = {
      ...managed("artie-p-a1b2c3", "artie-p-a1b2c3", { [ARTIE_NAME_LABEL]: "p", [ARTIE_PORT_LABEL]: "5173" }),
      ports: [
        { containerPort: 3000, protocol: "tcp", hostPort: 10004, hostIP: "127.0.0.1" },
        { containerPort: 5173, protocol: "tcp", hostPort: 10005, hostIP: "127.0.0.1" },
      ],
    };
    expect(artieView(c, undefined)).toMatchObject({ hostPort: 10005 });
  });

  it("shows pool: true for a container made with pool: true, false for one a claim holds", () => {
    const warm = managed("artie-w-a1b2c3", "artie-w-a1b2c3", { [ARTIE_NAME_LABEL]: "w", [ARTIE_POOL_LABEL]: "true" });
    expect(artieView(warm, undefined)).toMatchObject({ name: "w", pool: true });
    const member = managed("web-0", "web");
    const claim = {
      claim: "artie-mine-a1b2c3",
      pool: "web",
      container: member.id,
      name: member.name,
      phase: "Bound" as const,
      hostPorts: [],
      labels: { [ARTIE_NAME_LABEL]: "mine" },
      expiresAt: null,
      claimedAt: "2031-01-01T00:00:00.000Z",
    };
    expect(artieView(member, claim)).toMatchObject({ name: "mine", pool: false });
  });
});

describe("access", () => {
  const made = managed("artie-p-a1b2c3", "artie-p-a1b2c3", { [ARTIE_NAME_LABEL]: "p" });
  const other = managed("web", "web");

  it("answers /health without a token, counting only the containers made through the API", async () => {
    const s = testServer({ artie: true, containers: [made, other] });
    const res = await s.app.inject({ url: "/health" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok", containerCount: 1, uptime: expect.any(Number) });
  });

  it("asks for the bearer token on every /api/* route; ?token= only on the log stream and terminal", async () => {
    const s = testServer({ artie: true, containers: [made] });
    const routes: [string, string][] = [
      ["GET", "/api/containers"],
      ["GET", `/api/containers/${made.name}`],
      ["DELETE", `/api/containers/${made.name}`],
      ["POST", `/api/containers/${made.name}/setup`],
    ];
    for (const [method, url] of routes) {
      expect((await s.app.inject({ method: method as "GET", url })).statusCode).toBe(401);
      expect((await s.app.inject({ method: method as "GET", url: `${url}?token=${TOKEN}` })).statusCode).toBe(401);
    }
    const listed = await s.app.inject({ url: "/api/containers", headers: BEARER });
    expect(listed.json()).toEqual([expect.objectContaining({ name: "p", containerName: made.name })]);
    const bad = await s.app.inject({ url: `/api/containers/${made.name}/logs?token=wrong-token-0123456789` });
    expect(bad.statusCode).toBe(401);
  });

  it("reaches only the containers made through the API: any other of berth's is a 404", async () => {
    const s = testServer({ artie: true, containers: [made, other] });
    for (const [method, url] of [
      ["GET", "/api/containers/web"],
      ["DELETE", "/api/containers/web"],
      ["GET", `/api/containers/web/logs?token=${TOKEN}`],
    ] as const) {
      expect((await s.app.inject({ method, url, headers: BEARER })).statusCode).toBe(404);
    }
    const exec = await s.app.inject({
      method: "POST",
      url: "/api/containers/web/exec",
      headers: { ...BEARER, "content-type": "application/json" },
      payload: { command: "id" },
    });
    expect(exec.statusCode).toBe(404);
    expect(s.execs).toEqual([]);
  });

  it("runs an exec's command string in a shell, its timeout in ms", async () => {
    const s = testServer({ artie: true, containers: [made] });
    const res = await s.app.inject({
      method: "POST",
      url: `/api/containers/${made.name}/exec`,
      headers: { ...BEARER, "content-type": "application/json" },
      payload: { command: "ls -la /app", timeout: 60000 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ exitCode: 0, stdout: "ran", stderr: "" });
    expect(s.execs[0]?.request).toMatchObject({ cmd: ["sh", "-c", "ls -la /app"], timeoutMs: 60000 });
  });

  it("answers setup with 501 naming the declarative way", async () => {
    const s = testServer({ artie: true, containers: [made] });
    const res = await s.app.inject({
      method: "POST",
      url: `/api/containers/${made.name}/setup`,
      headers: { ...BEARER, "content-type": "application/json" },
      payload: { repo: "owner/repo", branch: "main" },
    });
    expect(res.statusCode).toBe(501);
    expect(res.json().error).toMatch(/spec .*PUT \/v1\/specs/);
  });

  it("is not served without --compat artie", async () => {
    const s = testServer({ containers: [made] });
    expect((await s.app.inject({ url: "/api/containers", headers: BEARER })).statusCode).toBe(404);
  });

  it("takes ?token= on the native log stream too, and not on the native exec", async () => {
    const s = testServer({ containers: [other] });
    // Past the token, the container is looked for (and not found).
    expect((await s.app.inject({ url: `/v1/containers/gone/logs?token=${TOKEN}` })).statusCode).toBe(404);
    expect((await s.app.inject({ url: "/v1/containers/gone/logs?token=wrong-token-0123456789" })).statusCode).toBe(401);
    const exec = await s.app.inject({
      method: "POST",
      url: `/v1/containers/web/exec?token=${TOKEN}`,
      headers: { "content-type": "application/json" },
      payload: { cmd: ["id"] },
    });
    expect(exec.statusCode).toBe(401);
  });
});

describe("the token in a query string", () => {
  it("never reaches the log: a failed request is logged with its path, without the query", async () => {
    let logged = "";
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged += chunk.toString();
        done();
      },
    });
    const s = testServer({ artie: true, listFails: new Error("engine gone"), log: pino({ level: "debug" }, sink) });
    for (const url of [`/api/containers/abc/logs?token=${TOKEN}`, `/v1/containers/web/logs?token=${TOKEN}`]) {
      const res = await s.app.inject({ url });
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain(TOKEN);
    }
    expect(logged).toContain('"url":"/api/containers/abc/logs"');
    expect(logged).toContain('"url":"/v1/containers/web/logs"');
    expect(logged).not.toContain(TOKEN);
  });
});

describe("the WebSocket terminal's upgrade", () => {
  const box = managed("web", "web");

  it("passes the Host, Origin and token rules and the container lookup before anything is upgraded", async () => {
    const s = testServer({ containers: [box] });
    await s.app.ready();
    const open = (url: string, headers: Record<string, string> = {}) =>
      s.app.injectWS(url, { headers: { host: "127.0.0.1", ...headers } });
    await expect(open("/v1/containers/web/terminal")).rejects.toThrow("401");
    await expect(
      open(`/v1/containers/web/terminal?token=${TOKEN}`, { origin: "https://evil.example" }),
    ).rejects.toThrow("403");
    await expect(open(`/v1/containers/web/terminal?token=${TOKEN}`, { host: "evil.example" })).rejects.toThrow("403");
    await expect(open(`/v1/containers/gone/terminal?token=${TOKEN}`)).rejects.toThrow("404");
    await expect(open(`/v1/containers/web/terminal?token=${TOKEN}&cols=0`)).rejects.toThrow("400");
    // Upgraded (over a real socket); this engine has no interactive exec: closed with 1011 and why.
    const address = await s.app.listen({ host: "127.0.0.1", port: 0 });
    const ws = new WebSocket(`${address.replace(/^http/, "ws")}/v1/containers/web/terminal`, { headers: BEARER });
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      ws.on("close", (c: number, r: Buffer) => resolve([c, r.toString()])),
    );
    expect([code, reason]).toEqual([1011, "interactive exec is not available on this engine"]);
    await s.app.close();
  });
});
