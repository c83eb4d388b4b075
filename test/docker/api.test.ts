/**
 * The HTTP API of `berth run` against the real engine: status, events and metrics; spec writes;
 * exec (output, exit code, env/workdir/user, timeout kill, output cap) and logs (SSE, follow);
 * and the docker-spawner compatibility flow, spawn → status → exec → reaped at expiry / stopped.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatTime } from "../../src/core/units.js";
import { pollUntil, pollValue } from "../support/poll.js";
import {
  berth,
  cleanup,
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
import { tempDir } from "../support/tmp.js";

const TOKEN = "api-test-token-0123456789abcdef";
const AGENT_IMAGE = "berth-test/agent:latest";
const auth = { authorization: `Bearer ${TOKEN}` };

const id = testIds();
let controller: RunningBerth | undefined;
const strangers: string[] = [];

afterEach(async () => {
  if (controller) {
    expect(await controller.stop()).toBe(0);
    controller = undefined;
  }
  for (const name of strangers.splice(0)) await cleanup("none", [name]);
});

beforeAll(async () => {
  // An agent image whose default command keeps running, made from the local test image.
  const c = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ["true"] });
  await c.commit({ repo: "berth-test/agent", tag: "latest", changes: 'CMD ["sleep", "infinity"]' });
  await c.remove({ force: true });
});

afterAll(async () => {
  await docker
    .getImage(AGENT_IMAGE)
    .remove({ force: true })
    .catch(() => undefined);
});

async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = auth,
): Promise<{ status: number; json: () => Record<string, unknown>; text: string }> {
  const res = await fetch(`${controller?.url}${url}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const ready = () => pollUntil(async () => (await call("GET", "/readyz")).status === 200, 30_000);

describe("status, events and metrics", () => {
  it("serves each spec's status, the recent events and Prometheus metrics of a converged host", async () => {
    const c = id("api-status");
    const dir = specDir({ "web.yaml": e2eSpec(`${c}-web`) });
    controller = await startBerth(["--id", c, "--specs", dir], { BERTH_API_TOKEN: TOKEN });
    await waitContainers(c, `${c}-web running`, (cs) => cs.length === 1 && cs[0]?.state === "running");
    expect(await ready()).toBe(true);

    const spec = await pollValue(
      async () => (await call("GET", `/v1/specs/${c}-web`)).json(),
      (s) => s.phase === "Running",
      10_000,
    );
    const [container] = await containersOf(c);
    expect(spec).toMatchObject({ name: `${c}-web`, phase: "Running", replicas: { desired: 1, ready: 1 } });
    expect((spec.containers as { id: string }[])[0]?.id).toBe(container?.id);
    const all = (await call("GET", "/v1/specs")).json();
    expect((all.specs as { name: string }[]).map((s) => s.name)).toEqual([`${c}-web`]);
    expect((await call("GET", "/v1/specs/nope")).status).toBe(404);

    const events = (await call("GET", `/v1/events?spec=${c}-web`)).json().events as Record<string, unknown>[];
    expect(events[0]).toMatchObject({ spec: `${c}-web`, kind: "create", reason: "not found", ok: true });

    const metrics = (await call("GET", "/metrics")).text;
    expect(metrics).toContain('berth_docker_calls_total{operation="create",outcome="ok"} 1');
    expect(metrics).toContain('berth_actions_total{kind="create",reason="not_found",outcome="ok"} 1');
    expect(metrics).toContain('berth_specs{phase="Running"} 1');
    expect(metrics).toContain('berth_managed_containers{state="running"} 1');
    expect(metrics).toMatch(/berth_reconciles_total\{result="ok"\} [1-9]/);
  });

  it("writes and removes a spec through PUT and DELETE, and the host follows", async () => {
    const c = id("api-put");
    const runtime = tempDir("berth-runtime-");
    controller = await startBerth(["--id", c, "--specs", specDir({}), "--runtime-specs", runtime], {
      BERTH_API_TOKEN: TOKEN,
    });
    const name = `${c}-put`;
    const put = await call("PUT", `/v1/specs/${name}`, e2eSpec(name), { ...auth, "content-type": "application/yaml" });
    expect(put.status).toBe(201);
    const created = await waitContainers(c, `${name} running`, (cs) => cs[0]?.state === "running");
    expect(created.map((x) => x.name)).toEqual([name]);
    expect((await call("DELETE", `/v1/specs/${name}`)).status).toBe(200);
    await waitContainers(c, `${name} removed`, (cs) => cs.length === 0);
  });
});

describe("exec and logs", () => {
  async function withContainer(command: string): Promise<{ c: string; name: string }> {
    const c = id(`api-io-${Math.random().toString(36).slice(2, 6)}`);
    const name = `${c}-box`;
    const dir = specDir({ "box.yaml": e2eSpec(name, []).replace('["sleep", "infinity"]', command) });
    controller = await startBerth(["--id", c, "--specs", dir], { BERTH_API_TOKEN: TOKEN });
    await waitContainers(c, `${name} running`, (cs) => cs.length === 1 && cs[0]?.state === "running");
    return { c, name };
  }

  it("runs a command: exit code, stdout and stderr apart, env, workdir and user", async () => {
    const { name } = await withContainer('["sleep", "infinity"]');
    const res = await call("POST", `/v1/containers/${name}/exec`, {
      cmd: ["sh", "-c", 'echo "$GREETING"; pwd; id -u; echo oops >&2; exit 7'],
      env: { GREETING: "hello" },
      workdir: "/tmp",
      user: "1234",
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      container: name,
      exitCode: 7,
      stdout: "hello\n/tmp\n1234\n",
      stderr: "oops\n",
      truncated: false,
      timedOut: false,
    });
    // The spec name reaches its container too; a container berth does not manage is never reachable.
    const stranger = `berth-api-stranger-${process.pid}`;
    strangers.push(stranger);
    await (await docker.createContainer({ name: stranger, Image: TEST_IMAGE, Cmd: ["sleep", "infinity"] })).start();
    expect((await call("POST", `/v1/containers/${stranger}/exec`, { cmd: ["true"] })).status).toBe(404);
    expect((await call("GET", `/v1/containers/${stranger}/logs`)).status).toBe(404);
  });

  it("kills a command at its timeout, and cuts output at 1 MiB", async () => {
    const { name } = await withContainer('["sleep", "infinity"]');
    const res = await call("POST", `/v1/containers/${name}/exec`, { cmd: ["sleep", "31"], timeout: "1s" });
    expect(res.json()).toMatchObject({ exitCode: null, timedOut: true, killed: true });
    const top = async () => (await docker.getContainer(name).top()) as { Processes: string[][] };
    expect(await pollUntil(async () => !JSON.stringify(await top()).includes("sleep 31"), 5000)).toBe(true);

    const big = await call("POST", `/v1/containers/${name}/exec`, { cmd: ["head", "-c", "3000000", "/dev/zero"] });
    const body = big.json();
    expect([body.exitCode, body.truncated, (body.stdout as string).length]).toEqual([0, true, 1024 * 1024]);
  });

  it("streams logs as Server-Sent Events: the tail, then followed lines as they come", async () => {
    const { name } = await withContainer('["sh", "-c", "echo one; echo two >&2; exec sleep infinity"]');
    const lines = await pollValue(
      async () => (await call("GET", `/v1/containers/${name}/logs?tail=10`)).text,
      (text) => text.includes('"line":"two"'),
      10_000,
    );
    expect(lines).toContain('"stream":"stdout"');
    expect(lines).toMatch(/event: log\ndata: \{"stream":"stderr","time":"[^"]+Z","line":"two"\}/);
    expect(lines.trim().endsWith('event: end\ndata: {"error":null}')).toBe(true);

    // Follow: a line written after the request arrives on the open stream.
    const abort = new AbortController();
    const res = await fetch(`${controller?.url}/v1/containers/${name}/logs?follow=true&tail=0`, {
      headers: auth,
      signal: abort.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let seen = "";
    const got = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        seen += Buffer.from(value).toString("utf8");
        if (seen.includes('"line":"three"')) return true;
      }
    })();
    expect(await pollUntil(() => seen.includes("event: open"), 10_000)).toBe(true);
    await call("POST", `/v1/containers/${name}/exec`, { cmd: ["sh", "-c", "echo three > /proc/1/fd/1"] });
    expect(await Promise.race([got, new Promise((r) => setTimeout(() => r("timeout"), 10_000))])).toBe(true);
    abort.abort();
  });
});

describe("docker-spawner compatibility", () => {
  it("spawn → status → exec → reaped at expires_at; spawn → stop; the shapes docker-spawner clients expect", async () => {
    const c = id("api-spawner");
    const worktrees = tempDir("berth-worktrees-");
    const worktree = path.join(worktrees, "bead-one");
    mkdirSync(worktree);
    writeFileSync(path.join(worktree, "README"), "hello\n");
    const runtime = tempDir("berth-runtime-");
    controller = await startBerth(
      [
        "--id",
        c,
        "--specs",
        specDir({}),
        "--runtime-specs",
        runtime,
        "--compat",
        "docker-spawner",
        "--spawn-image",
        AGENT_IMAGE,
        "--network",
        "none",
        "--allow-bind",
        worktrees,
      ],
      {},
    );
    expect(await ready()).toBe(true);
    const health = await call("GET", "/health", undefined, {});
    expect([health.status, health.text]).toEqual([200, "OK"]);

    const bead = `one-${process.pid}`;
    const expiresAt = formatTime(Date.now() + 8000);
    const spawned = await call(
      "POST",
      "/spawn",
      { bead_id: bead, worktree_path: worktree, backend: "claude", uid: 1234, gid: 1234, expires_at: expiresAt },
      {},
    );
    expect(spawned.status).toBe(200);
    const { container_id: cid, hostname } = spawned.json() as { container_id: string; hostname: string };
    expect(hostname).toBe(`tidepool-agent-${bead}`);
    const inspect = await docker.getContainer(cid).inspect();
    expect(inspect.Config.Labels).toMatchObject({
      "com.tidepool.bead_id": bead,
      "com.tidepool.role": "agent",
      "com.tidepool.expires_at": expiresAt,
      "berth.controller": c,
    });
    expect(inspect.Config.User).toBe("1234:1234");
    expect(inspect.Config.Env).toEqual(expect.arrayContaining([`TIDEPOOL_BEAD_ID=${bead}`, "TIDEPOOL_BACKEND=claude"]));
    expect(inspect.Mounts.map((m) => [m.Source, m.Destination])).toEqual([[worktree, `/worktrees/${bead}`]]);

    expect((await call("GET", `/status/${cid}`, undefined, {})).json()).toEqual({ status: "running" });
    expect((await call("GET", `/status/${hostname}`, undefined, {})).json()).toEqual({ status: "running" });
    const exec = await call(
      "POST",
      `/exec/${cid}`,
      { cmd: ["sh", "-c", `cat /worktrees/${bead}/README; id -u; echo e >&2`], workdir: "/", env: ["X=1"] },
      {},
    );
    expect(exec.json()).toEqual({ exit_code: 0, stdout: "hello\n1234\n", stderr: "e\n" });

    // Reaped at its expires_at, and not recreated.
    expect(await pollUntil(async () => (await containersOf(c)).length === 0, 20_000)).toBe(true);
    expect((await call("GET", `/status/${cid}`, undefined, {})).json()).toEqual({ status: "not_found" });

    const two = await call(
      "POST",
      "/spawn",
      { bead_id: `two-${process.pid}`, worktree_path: worktree, backend: "gemini" },
      {},
    );
    expect(two.status).toBe(200);
    const twoId = (two.json() as { container_id: string }).container_id;
    const stop = await call("POST", `/stop/${twoId}`, undefined, {});
    expect(stop.status).toBe(200);
    expect(await containersOf(c)).toEqual([]);
    expect(existsSync(path.join(runtime, `tidepool-agent-two-${process.pid}.yaml`))).toBe(false);
    expect((await call("GET", `/status/${twoId}`, undefined, {})).json()).toEqual({ status: "not_found" });
    // Nothing left to stop: said so, as docker-spawner's stop of a container that is not there.
    expect((await call("POST", `/stop/${twoId}`, undefined, {})).status).toBe(404);
  });
});

describe("the CLI's operator commands", () => {
  it("status and get read a running controller live, or Docker and the files; exec and logs reach berth's containers", async () => {
    const c = id("api-cli");
    const name = `${c}-box`;
    const dir = specDir({
      "box.yaml": e2eSpec(name).replace(
        '["sleep", "infinity"]',
        '["sh", "-c", "echo one; echo two >&2; exec sleep infinity"]',
      ),
    });
    controller = await startBerth(["--id", c, "--specs", dir]);
    await waitContainers(c, `${name} running`, (cs) => cs.length === 1 && cs[0]?.state === "running");
    expect(await ready()).toBe(true);
    const common = ["--id", c, "--specs", dir];

    const live = await berth(["status", ...common, "--server", controller.url]);
    expect([live.code, live.stderr]).toEqual([
      0,
      expect.stringContaining(`live from the controller at ${controller.url}`),
    ]);
    expect(live.stdout).toMatch(new RegExp(`${name}\\s+Running\\s+1/1`));
    const offline = await berth(["status", ...common, "--server", "off"]);
    expect([offline.code, offline.stderr]).toEqual([0, ""]);
    expect(offline.stdout).toMatch(new RegExp(`${name}\\s+Running\\s+1/1`));
    // Another controller's status is not taken for ours.
    const other = await berth(["status", "--id", `${c}-other`, "--specs", dir, "--server", controller.url]);
    expect(other.stderr).not.toContain("live from");

    const get = await berth(["get", name, ...common, "--server", controller.url]);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^Name: +\S+\nPhase: +Running\n/);
    expect(get.stdout).toContain("Last action: create (not found)");
    const json = JSON.parse((await berth(["get", name, ...common, "-o", "json", "--server", "off"])).stdout);
    expect(json).toMatchObject({ name, phase: "Running" });
    expect((await berth(["get", "nope", ...common])).code).toBe(1);

    // exec and logs read no specs: they take the controller id alone.
    const exec = await berth([
      "exec",
      "--id",
      c,
      "-e",
      "X=42",
      name,
      "--",
      "sh",
      "-c",
      'echo "x=$X"; echo e >&2; exit 3',
    ]);
    expect([exec.code, exec.stdout, exec.stderr]).toEqual([3, "x=42\n", "e\n"]);
    const logs = await berth(["logs", "--id", c, name]);
    expect([logs.code, logs.stdout, logs.stderr]).toEqual([0, "one\n", "two\n"]);
    const stranger = await berth(["exec", "--id", c, "some-other-container", "--", "true"]);
    expect([stranger.code, stranger.stderr]).toEqual([
      1,
      expect.stringContaining("no container some-other-container managed by berth"),
    ]);
  });
});
