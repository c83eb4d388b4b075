/**
 * Artie host-manager compatibility against the real engine (docs/http-api.md, "Artie
 * compatibility"): the example requests of Artie's document, sent as written there (host, port and
 * token substituted), answer with the shapes and codes its backend reads; a create is served from a
 * warm pool when one runs the image; the SSE log stream delivers lines as they are written; the
 * terminal runs what is typed and reports the exit status; and the token, sent in query strings,
 * never reaches berth's log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { pollUntil } from "../support/poll.js";
import {
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  TEST_IMAGE,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = `artie-secret-${process.pid}-0123456789abcdef`;
/** The image of Artie's example create. No registry is reachable: the test image stands in for it. */
const EXAMPLE_IMAGE = "node:24-slim";
/** The volume of Artie's example create. */
const EXAMPLE_VOLUME = "owner-repo-node_modules";

/**
 * The requests of Artie's document (shared/reference/artie-docker-host.md, "Endpoints"), as
 * written there. `<HOST_IP>:8080` becomes berth's address, `$API_SECRET`, `<API_SECRET>` and
 * `<API_SECRET_OR_CALLBACK_SECRET>` the token, `<container_id>` the id the create answered.
 */
const EXAMPLES = {
  health: `curl http://<HOST_IP>:8080/health`,
  list: `curl http://<HOST_IP>:8080/api/containers \\
  -H "Authorization: Bearer $API_SECRET"`,
  get: `curl http://<HOST_IP>:8080/api/containers/<container_id> \\
  -H "Authorization: Bearer $API_SECRET"`,
  create: `curl -X POST http://<HOST_IP>:8080/api/containers \\
  -H "Authorization: Bearer $API_SECRET" \\
  -H "Content-Type: application/json" \\
  -d '{
    "name": "my-project",
    "image": "node:24-slim",
    "ports": [3000],
    "volumeName": "owner-repo-node_modules"
  }'`,
  setup: `curl -X POST http://<HOST_IP>:8080/api/containers/<container_id>/setup \\
  -H "Authorization: Bearer $API_SECRET" \\
  -H "Content-Type: application/json" \\
  -d '{
    "repo": "owner/repo",
    "branch": "main",
    "githubToken": "gho_...",
    "callbackUrl": "https://your-convex.convex.site/docker-status",
    "callbackSecret": "secret123",
    "hasMainImage": false,
    "buildMainImage": true,
    "envVars": {"NODE_ENV": "development"}
  }'`,
  destroy: `curl -X DELETE http://<HOST_IP>:8080/api/containers/<container_id> \\
  -H "Authorization: Bearer $API_SECRET"`,
  exec: `curl -X POST http://<HOST_IP>:8080/api/containers/<container_id>/exec \\
  -H "Authorization: Bearer $API_SECRET" \\
  -H "Content-Type: application/json" \\
  -d '{"command": "ls -la /app", "timeout": 60000}'`,
  terminal: `ws://<HOST_IP>:8080/api/containers/<container_id>/terminal?token=<API_SECRET_OR_CALLBACK_SECRET>`,
  logs: `GET /api/containers/<container_id>/logs?token=<API_SECRET>`,
};

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: unknown;
}

/** The example with berth's address, the token and the container id put in. */
function substitute(text: string, base: string, containerId = ""): string {
  return text
    .replaceAll("http://<HOST_IP>:8080", base)
    .replaceAll("ws://<HOST_IP>:8080", base.replace(/^http/, "ws"))
    .replaceAll("$API_SECRET", TOKEN)
    .replaceAll("<API_SECRET_OR_CALLBACK_SECRET>", TOKEN)
    .replaceAll("<API_SECRET>", TOKEN)
    .replaceAll("<container_id>", containerId);
}

/** Sends a `curl` example as curl would: its method (-X), headers (-H) and body (-d). */
async function replay(example: string, base: string, containerId = ""): Promise<Answer> {
  const text = substitute(example, base, containerId).replace(/\\\n\s*/g, " ");
  const url = /\s(https?:\/\/\S+)/.exec(text)?.[1] ?? "";
  const method = /-X (\w+)/.exec(text)?.[1] ?? (text.includes(" -d ") ? "POST" : "GET");
  const headers = Object.fromEntries(
    [...text.matchAll(/-H "([^:]+): ([^"]*)"/g)].map((m) => [m[1]?.toLowerCase() ?? "", m[2] ?? ""]),
  );
  const data = /-d '([^']*)'/s.exec(text)?.[1];
  const res = await fetch(url, { method, headers, ...(data !== undefined ? { body: data } : {}) });
  const type = res.headers.get("content-type") ?? "";
  const raw = await res.text();
  return { status: res.status, type, body: type.includes("json") && raw ? JSON.parse(raw) : raw };
}

/** A WebSocket terminal: sends `input` once open, collects the output, resolves at the close. */
function terminal(url: string, input: string): Promise<{ output: string; code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let output = "";
    ws.on("open", () => ws.send(input));
    ws.on("message", (data: Buffer) => (output += data.toString("utf8")));
    ws.on("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on("error", reject);
    ws.on("close", (code, reason) => resolve({ output, code, reason: reason.toString("utf8") }));
  });
}

/** Reads an SSE stream's `data:` payloads as they arrive. */
function sseReader(url: string): { events: unknown[]; status: Promise<number>; close: () => void } {
  const events: unknown[] = [];
  const abort = new AbortController();
  const status = fetch(url, { signal: abort.signal }).then((res) => {
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    void (async () => {
      for (;;) {
        const chunk = await reader?.read().catch(() => null);
        if (!chunk || chunk.done) return;
        buffered += decoder.decode(chunk.value, { stream: true });
        let end = buffered.indexOf("\n\n");
        while (end !== -1) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          end = buffered.indexOf("\n\n");
          for (const line of event.split("\n"))
            if (line.startsWith("data: ")) events.push(JSON.parse(line.slice(6)) as unknown);
        }
      }
    })();
    return res.status;
  });
  return { events, status, close: () => abort.abort() };
}

const id = testIds();
let controller: RunningBerth | undefined;
let taggedExampleImage = false;

beforeAll(async () => {
  // Artie's example asks for node:24-slim; without a registry the test image stands in for it
  // (only when the engine has no image of that name: a real one is left as it is).
  const present = await docker
    .getImage(EXAMPLE_IMAGE)
    .inspect()
    .then(() => true)
    .catch(() => false);
  if (!present) {
    await docker.getImage(TEST_IMAGE).tag({ repo: "node", tag: "24-slim" });
    taggedExampleImage = true;
  }
});

afterAll(async () => {
  if (taggedExampleImage)
    await docker
      .getImage(EXAMPLE_IMAGE)
      .remove({ noprune: true })
      .catch(() => undefined);
});

afterEach(async () => {
  if (controller) {
    const running = controller;
    controller = undefined;
    expect(await running.stop()).toBe(0);
    // The token went in query strings (the log stream, the terminal) and headers: never into the log.
    expect(JSON.stringify(running.logs)).not.toContain(TOKEN);
    expect(running.stderr).not.toContain(TOKEN);
  }
});

async function startArtie(name: string, specs: Record<string, string> = {}): Promise<{ c: string; base: string }> {
  const c = id(name);
  controller = await startBerth(
    [
      ...["--id", c, "--specs", specDir(specs), "--runtime-specs", tempDir("berth-artie-rt-")],
      ...["--compat", "artie", "--spawn-timeout", "60s"],
    ],
    { BERTH_API_TOKEN: TOKEN },
  );
  return { c, base: controller.url };
}

describe("Artie's example requests, replayed", () => {
  it("answer with the shapes and codes Artie's backend reads", async () => {
    // A container of berth's that was not made through this API: never reachable through it.
    const { c, base } = await startArtie("artie-replay", { "web.yaml": e2eSpec("artie-web") });
    await waitContainers(c, "the spec file's container running", (cs) => cs.some((x) => x.state === "running"));

    const health = await replay(EXAMPLES.health, base);
    expect(health).toEqual({
      status: 200,
      type: expect.stringContaining("application/json"),
      body: { status: "ok", containerCount: 0, uptime: expect.any(Number) },
    });
    expect(await replay(EXAMPLES.list, base)).toMatchObject({ status: 200, body: [] });

    const created = await replay(EXAMPLES.create, base);
    expect(created).toMatchObject({
      status: 200,
      body: { id: expect.stringMatching(/^[0-9a-f]{12}$/), name: "my-project", hostPort: expect.any(Number) },
    });
    const made = created.body as { id: string; hostPort: number };
    expect(made.hostPort).toBeGreaterThanOrEqual(10000);
    // The host port is published: the engine maps it to the container's port 3000.
    const [container] = (await containersOf(c)).filter((x) => x.id.startsWith(made.id));
    const inspected = await docker.getContainer(container?.id ?? "none").inspect();
    expect(inspected.HostConfig.PortBindings).toEqual({
      "3000/tcp": [{ HostIp: "127.0.0.1", HostPort: String(made.hostPort) }],
    });
    expect(inspected.Mounts).toEqual([
      expect.objectContaining({ Type: "volume", Name: EXAMPLE_VOLUME, Destination: "/app/node_modules" }),
    ]);

    const health2 = await replay(EXAMPLES.health, base);
    expect(health2.body).toMatchObject({ status: "ok", containerCount: 1 });
    const listed = await replay(EXAMPLES.list, base);
    expect(listed.body).toEqual([
      expect.objectContaining({ id: made.id, name: "my-project", hostPort: made.hostPort, status: "running" }),
    ]);
    const one = await replay(EXAMPLES.get, base, made.id);
    expect(one).toMatchObject({ status: 200, body: { id: made.id, name: "my-project", hostPort: made.hostPort } });

    const exec = await replay(EXAMPLES.exec, base, made.id);
    expect(exec).toMatchObject({ status: 200, body: { exitCode: 0, stderr: "" } });
    expect((exec.body as { stdout: string }).stdout).toContain("node_modules");

    const setup = await replay(EXAMPLES.setup, base, made.id);
    expect(setup.status).toBe(501);
    expect((setup.body as { error: string }).error).toContain("spec");

    const shell = await terminal(substitute(EXAMPLES.terminal, base, made.id), "echo hi; exit 3\r");
    expect(shell.output).toMatch(/\r?\nhi\r?\n/);
    expect([shell.code, JSON.parse(shell.reason)]).toEqual([1000, { exitCode: 3 }]);

    const logsPath = substitute(EXAMPLES.logs.replace(/^GET /, ""), base, made.id);
    const logs = sseReader(`${base}${logsPath}`);
    expect(await logs.status).toBe(200);
    logs.close();

    // Without the token: 401; the spec file's container: 404 through this API (and untouched).
    expect((await fetch(`${base}/api/containers`)).status).toBe(401);
    const foreign = (await containersOf(c)).find((x) => x.name === "artie-web");
    for (const ref of [foreign?.id.slice(0, 12) ?? "", "artie-web"])
      expect((await replay(EXAMPLES.get, base, ref)).status).toBe(404);
    expect((await replay(EXAMPLES.destroy, base, "artie-web")).status).toBe(404);

    const destroyed = await replay(EXAMPLES.destroy, base, made.id);
    expect(destroyed).toMatchObject({ status: 200, body: { success: true, id: made.id } });
    expect((await replay(EXAMPLES.get, base, made.id)).status).toBe(404);
    expect((await containersOf(c)).map((x) => x.name)).toEqual(["artie-web"]);
  });
});

describe("a create served from a warm pool", () => {
  it("claims a ready member running that image; delete releases it and the pool refills", async () => {
    const pool = specText("artie-warm", {
      image: TEST_IMAGE,
      extra: [
        'command: ["sleep", "infinity"]',
        "init: true",
        "stopTimeout: 1s",
        "pool: { size: 2 }",
        "ports: [{ containerPort: 3000, hostPort: auto }]",
      ],
    });
    const { c, base } = await startArtie("artie-pool", { "pool.yaml": pool });
    const members = await waitContainers(
      c,
      "two pool members running",
      (cs) => cs.filter((x) => x.state === "running").length === 2,
    );
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const res = await fetch(`${base}/api/containers`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "from the pool", image: TEST_IMAGE, ports: [3000] }),
    });
    expect(res.status).toBe(200);
    const made = (await res.json()) as { id: string; name: string; hostPort: number };
    const member = members.find((m) => m.id.startsWith(made.id));
    expect(member?.name).toMatch(/^artie-warm-[01]$/);
    const bound = (await docker.getContainer(member?.id ?? "").inspect()).HostConfig.PortBindings;
    expect(bound["3000/tcp"]?.[0]?.HostPort).toBe(String(made.hostPort));

    const view = await fetch(`${base}/api/containers/${made.id}`, { headers });
    // A member berth handed over has left its pool: not a pool container (Artie's `pool`).
    expect(await view.json()).toMatchObject({ name: "from the pool", pool: false, containerName: member?.name });

    const gone = await fetch(`${base}/api/containers/${made.id}`, { method: "DELETE", headers });
    expect(gone.status).toBe(200);
    // Released: its container removed (never returned to the pool), and the pool back to two.
    await waitContainers(
      c,
      "the claimed member gone and the pool refilled",
      (cs) => !cs.some((x) => x.id === member?.id) && cs.filter((x) => x.state === "running").length === 2,
    );
  });
});

describe("the log stream", () => {
  it("delivers each line as the container writes it, as data {line, timestamp}", async () => {
    const { base } = await startArtie("artie-sse");
    const res = await fetch(`${base}/api/containers`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "logger", image: TEST_IMAGE }),
    });
    const made = (await res.json()) as { id: string };
    const logs = sseReader(`${base}/api/containers/${made.id}/logs?token=${TOKEN}`);
    try {
      expect(await logs.status).toBe(200);
      const container = docker.getContainer(made.id);
      for (const n of [1, 2, 3]) {
        const before = Date.now();
        // Written to the container's own output (PID 1's stdout), one line at a time.
        const exec = await container.exec({ Cmd: ["sh", "-c", `echo line-${n} > /proc/1/fd/1`] });
        await exec.start({ hijack: true, stdin: false }).then((s) => new Promise((r) => s.on("end", r)));
        // Each arrives while the stream stays open, before the next is written.
        expect(
          await pollUntil(() => logs.events.some((e) => (e as { line: string }).line === `line-${n}`), 15_000),
        ).toBe(true);
        const event = logs.events.find((e) => (e as { line: string }).line === `line-${n}`) as {
          line: string;
          timestamp: number;
        };
        expect(Object.keys(event).sort()).toEqual(["line", "timestamp"]);
        expect(event.timestamp).toBeGreaterThanOrEqual(before - 2000);
        expect(event.timestamp).toBeLessThanOrEqual(Date.now() + 2000);
      }
    } finally {
      logs.close();
    }
  });
});
