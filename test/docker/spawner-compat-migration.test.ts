/**
 * Replacing docker-spawner with berth (docs/http-api.md, "docker-spawner compatibility"):
 * the agents the original started stay reachable (status, exec, stop) and are otherwise left
 * alone; a stop of nothing says so; a bead re-spawned with another body is a conflict, not a
 * second agent; bead ids that are not DNS labels are mapped; an expiry in the past spawns and
 * reaps at once; exec output is whole up to 16 MiB; docker-spawner's variables configure it.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { agentName } from "../../src/core/agent-name.js";
import { pollUntil, pollValue } from "../support/poll.js";
import {
  commitImage,
  containersOf,
  docker,
  passes,
  removeImage,
  type RunningBerth,
  specDir,
  startBerth,
  TEST_IMAGE,
  testIds,
} from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

const RUN = process.pid;
/** The agents' image: a process that stays up, as an agent does. */
const AGENT_IMAGE = `berth-test/spawn-migrate-${RUN}:latest`;

const id = testIds();
let controller: RunningBerth | undefined;
/** Containers this test made itself, outside berth: removed by ID, never by name. */
const handMade: string[] = [];

beforeAll(async () => {
  await commitImage(`berth-test/spawn-migrate-${RUN}`, ["sleep", "infinity"]);
});

afterEach(async () => {
  if (controller) {
    expect(await controller.stop()).toBe(0);
    controller = undefined;
  }
  for (const cid of handMade.splice(0))
    await docker
      .getContainer(cid)
      .remove({ force: true })
      .catch(() => undefined);
});

afterAll(async () => {
  await removeImage(AGENT_IMAGE);
});

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(method: "GET" | "POST", url: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${controller?.url}${url}`, {
    method,
    ...(body !== undefined ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const statusOf = async (agent: string): Promise<unknown> => (await call("GET", `/status/${agent}`)).body.status;

/** `berth run --compat docker-spawner` with its own runtime folder and a worktree folder it may mount. */
async function startSpawner(
  name: string,
  args: readonly string[] = ["--spawn-image", AGENT_IMAGE, "--network", "none"],
  env: Record<string, string> = {},
): Promise<{ c: string; worktrees: string; runtime: string }> {
  const c = id(name);
  const worktrees = tempDir("berth-worktrees-");
  const runtime = tempDir("berth-runtime-");
  controller = await startBerth(
    [
      ...["--id", c, "--specs", specDir({}), "--runtime-specs", runtime, "--compat", "docker-spawner"],
      ...["--allow-bind", worktrees, "--resync", "1s", "--spawn-timeout", "60s", ...args],
    ],
    env,
  );
  return { c, worktrees, runtime };
}

/** A container as docker-spawner made one: its name and labels, none of berth's. */
async function originalAgent(bead: string, expiresAt = "never"): Promise<{ id: string; name: string }> {
  const name = `tidepool-agent-${bead}`;
  const container = await docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ["sleep", "infinity"],
    Hostname: name,
    Labels: { "com.tidepool.bead_id": bead, "com.tidepool.role": "agent", "com.tidepool.expires_at": expiresAt },
    HostConfig: { Init: true, NetworkMode: "none" },
  });
  handMade.push(container.id);
  await container.start();
  return { id: container.id, name };
}

async function stateOf(cid: string): Promise<string | null> {
  return docker
    .getContainer(cid)
    .inspect()
    .then((i) => i.State.Status)
    .catch(() => null);
}

/** Every container of that exact name, whoever made it. */
async function named(name: string): Promise<{ id: string; state: string }[]> {
  const list = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  return list.map((x) => ({ id: x.Id, state: x.State }));
}

describe("agents docker-spawner started", () => {
  it("are reached by status, exec and stop (which stops and removes them), and otherwise left alone; a stop of nothing is a 404", async () => {
    const { c } = await startSpawner("migrate-original");
    const old = await originalAgent(`old-${RUN}`);
    // One whose docker-spawner expiry has passed: berth reaps it only when told to (--reap-label).
    const expired = await originalAgent(`expired-${RUN}`, "2020-01-01T00:00:00Z");
    // Not an agent (no role label): out of reach, as before.
    const stranger = await docker.createContainer({
      name: `tidepool-agent-stranger-${RUN}`,
      Image: TEST_IMAGE,
      Cmd: ["sleep", "infinity"],
      HostConfig: { Init: true, NetworkMode: "none" },
    });
    handMade.push(stranger.id);
    await stranger.start();

    for (const ref of [old.name, old.id, old.id.slice(0, 12)]) expect(await statusOf(ref)).toBe("running");
    const exec = await call("POST", `/exec/${old.name}`, { cmd: ["sh", "-c", "hostname; echo e >&2; exit 3"] });
    expect(exec).toEqual({ status: 200, body: { exit_code: 3, stdout: `${old.name}\n`, stderr: "e\n" } });

    expect(await statusOf(stranger.id)).toBe("not_found");
    expect((await call("POST", `/exec/${stranger.id}`, { cmd: ["true"] })).status).toBe(404);
    expect(await call("POST", `/stop/${stranger.id}`)).toEqual({
      status: 404,
      body: { error: `no agent ${stranger.id}: nothing was stopped` },
    });

    // Passes go by: berth owns none of them, prunes none, reaps none.
    expect(await passes(controller as RunningBerth, 3)).toBe(true);
    for (const cid of [old.id, expired.id, stranger.id]) expect(await stateOf(cid)).toBe("running");
    expect(await containersOf(c)).toEqual([]);

    // /stop stops and removes it, as docker-spawner's did, before it answers.
    expect(await call("POST", `/stop/${old.id}`)).toEqual({ status: 200, body: {} });
    expect(await stateOf(old.id)).toBeNull();
    expect(await statusOf(old.id)).toBe("not_found");
    expect((await call("POST", `/stop/${old.id}`)).status).toBe(404);
    // An exited one too.
    await docker.getContainer(expired.id).stop({ t: 1 });
    // The engine's container list can trail a stop that already returned (its exit is recorded
    // for lists a moment after the stop's wait ends): poll, with a deadline.
    expect(
      await pollValue(
        () => statusOf(expired.name),
        (s) => s === "exited",
        10_000,
      ),
    ).toBe("exited");
    expect((await call("POST", `/stop/${expired.name}`)).status).toBe(200);
    expect(await stateOf(expired.id)).toBeNull();
    expect(await stateOf(stranger.id)).toBe("running");
  });
});

describe("POST /spawn", () => {
  it("of a bead that has an agent: the same body answers that agent, another is a 409 that changes nothing; after /stop it spawns anew", async () => {
    const { c, worktrees } = await startSpawner("migrate-respawn");
    const bead = `again-${RUN}`;
    const name = `tidepool-agent-${bead}`;
    const body = { bead_id: bead, worktree_path: worktrees, backend: "claude" };

    const first = await call("POST", "/spawn", body);
    expect(first).toEqual({ status: 200, body: { container_id: expect.any(String), hostname: name } });
    const firstId = first.body.container_id as string;
    // A client's retry: the agent it already has.
    expect(await call("POST", "/spawn", body)).toEqual(first);

    const other = await call("POST", "/spawn", { ...body, backend: "gemini" });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatch(
      new RegExp(`^agent ${name} already exists \\(container ${firstId.slice(0, 12)}, running\\)`),
    );
    // Nothing changed: one agent, the first, running from the first body.
    expect(await passes(controller as RunningBerth, 2)).toBe(true);
    expect(await named(name)).toEqual([{ id: firstId, state: "running" }]);
    const inspect = await docker.getContainer(firstId).inspect();
    expect(inspect.Config.Env).toContain("TIDEPOOL_BACKEND=claude");

    expect((await call("POST", `/stop/${firstId}`)).status).toBe(200);
    const second = await call("POST", "/spawn", { ...body, backend: "gemini" });
    expect(second.status).toBe(200);
    const secondId = second.body.container_id as string;
    expect(secondId).not.toBe(firstId);
    expect(await named(name)).toEqual([{ id: secondId, state: "running" }]);
    expect((await containersOf(c)).map((x) => x.id)).toEqual([secondId]);
    expect((await call("POST", `/stop/${secondId}`)).status).toBe(200);
    expect(await containersOf(c)).toEqual([]);
  });

  it("takes the bead ids docker-spawner took, under DNS names that keep the id in a label; the original's name form reaches them", async () => {
    const { c, worktrees } = await startSpawner("migrate-ids");
    for (const bead of [`TP-${RUN}`, `tidepool-abc${RUN}.1`, `bd_${RUN}`]) {
      const worktree = path.join(worktrees, bead);
      mkdirSync(worktree);
      const spawned = await call("POST", "/spawn", { bead_id: bead, worktree_path: worktree });
      const name = agentName(bead);
      expect(name).toMatch(/^tidepool-agent-[a-z0-9-]+--[0-9a-f]{8}$/);
      expect(spawned).toEqual({ status: 200, body: { container_id: expect.any(String), hostname: name } });
      const cid = spawned.body.container_id as string;
      const inspect = await docker.getContainer(cid).inspect();
      expect(inspect.Name).toBe(`/${name}`);
      expect(inspect.Config.Labels).toMatchObject({ "com.tidepool.bead_id": bead, "com.tidepool.role": "agent" });
      expect(inspect.Config.Env).toContain(`TIDEPOOL_BEAD_ID=${bead}`);
      expect(inspect.Mounts.map((m) => m.Destination)).toEqual([`/worktrees/${bead}`]);
      // The name docker-spawner would have given it reaches it too.
      expect(await statusOf(`tidepool-agent-${bead}`)).toBe("running");
      expect((await call("POST", `/stop/tidepool-agent-${bead}`)).status).toBe(200);
      expect(await stateOf(cid)).toBeNull();
    }
    expect(await containersOf(c)).toEqual([]);
  });

  it("with expires_at in the past: spawns the agent, answers its id, and reaps it at once", async () => {
    const { c, worktrees } = await startSpawner("migrate-expired");
    const bead = `late-${RUN}`;
    const spawned = await call("POST", "/spawn", {
      bead_id: bead,
      worktree_path: worktrees,
      expires_at: "2026-01-26T00:00:00Z",
    });
    expect(spawned).toEqual({
      status: 200,
      body: { container_id: expect.any(String), hostname: `tidepool-agent-${bead}`, expired: true },
    });
    const cid = spawned.body.container_id as string;
    expect(await pollUntil(async () => (await stateOf(cid)) === null, 30_000)).toBe(true);
    expect(await statusOf(cid)).toBe("not_found");
    // Not recreated while its spec stays (Expired).
    expect(await passes(controller as RunningBerth, 3)).toBe(true);
    expect(await containersOf(c)).toEqual([]);
    const spec = (await (await fetch(`${controller?.url}/v1/specs/tidepool-agent-${bead}`)).json()) as {
      phase: string;
    };
    expect(spec.phase).toBe("Expired");
  });
});

describe("POST /exec", () => {
  it("answers output over 1 MiB whole, up to 16 MiB a stream; past that cut, with truncated: true", async () => {
    const { worktrees } = await startSpawner("migrate-exec");
    const spawned = await call("POST", "/spawn", { bead_id: `big-${RUN}`, worktree_path: worktrees });
    expect(spawned.status).toBe(200);
    const cid = spawned.body.container_id as string;
    const produce = (bytes: number, fd: 1 | 2) => ({
      cmd: ["sh", "-c", `head -c ${bytes} /dev/zero | tr '\\0' a >&${fd}`],
    });

    const three = await call("POST", `/exec/${cid}`, produce(3 * 1024 * 1024, 1));
    expect(three.status).toBe(200);
    expect(Object.keys(three.body).sort()).toEqual(["exit_code", "stderr", "stdout"]);
    expect((three.body.stdout as string).length).toBe(3 * 1024 * 1024);
    expect(/^a*$/.test(three.body.stdout as string)).toBe(true);

    const over = await call("POST", `/exec/${cid}`, produce(17 * 1024 * 1024, 2));
    expect(over.status).toBe(200);
    expect(over.body).toMatchObject({ exit_code: 0, stdout: "", truncated: true });
    expect((over.body.stderr as string).length).toBe(16 * 1024 * 1024);
    expect((await call("POST", `/stop/${cid}`)).status).toBe(200);
  });
});

describe("configuration", () => {
  it("takes docker-spawner's TIDEPOOL_AGENT_IMAGE, HOST_UID, HOST_GID and TIDEPOOL_NETWORK; berth's own flags win", async () => {
    const env = {
      TIDEPOOL_AGENT_IMAGE: AGENT_IMAGE,
      HOST_UID: "1234",
      HOST_GID: "1235",
      TIDEPOOL_NETWORK: "none",
    };
    const { worktrees } = await startSpawner("migrate-env", [], env);
    const spawned = await call("POST", "/spawn", { bead_id: `env-${RUN}`, worktree_path: worktrees });
    expect(spawned.status).toBe(200);
    const inspect = await docker.getContainer(spawned.body.container_id as string).inspect();
    expect([inspect.Config.Image, inspect.Config.User, inspect.HostConfig.NetworkMode]).toEqual([
      AGENT_IMAGE,
      "1234:1235",
      "none",
    ]);
    expect((await call("POST", `/stop/${inspect.Id}`)).status).toBe(200);
    expect(await controller?.stop()).toBe(0);
    controller = undefined;

    // A flag beats the variable.
    const flagged = await startSpawner("migrate-env-flags", ["--spawn-user", "2000:2001"], env);
    const again = await call("POST", "/spawn", { bead_id: `flag-${RUN}`, worktree_path: flagged.worktrees });
    expect(again.status).toBe(200);
    const user = (await docker.getContainer(again.body.container_id as string).inspect()).Config.User;
    expect(user).toBe("2000:2001");
    expect((await call("POST", `/stop/${again.body.container_id as string}`)).status).toBe(200);
  });
});
