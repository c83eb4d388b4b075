/**
 * The docker-spawner compatibility API when an agent does not come up or go (docs/http-api.md,
 * "docker-spawner compatibility"): POST /spawn answers 502 at once when its image cannot be
 * pulled, 504 when the agent does not run within --spawn-timeout and 409 when its spec goes
 * Conflict or Invalid, and in each case removes the
 * spec it wrote, so that no agent appears later unasked; POST /stop answers 504 when the agent's
 * container is still there after --spawn-timeout.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../support/poll.js";
import {
  commitImage,
  containersOf,
  docker,
  passes,
  removeImage,
  type RunningBerth,
  signalled,
  specDir,
  startBerth,
  TEST_IMAGE,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const RUN = process.pid;
/** An agent image whose process is PID 1 without a handler for SIGTERM: `docker stop` waits its full timeout. */
const STUBBORN_IMAGE = `berth-test/spawn-stubborn-${RUN}:latest`;
/**
 * An agent image whose container cannot run at all: its command does not exist, so the engine
 * refuses to start it. (An agent that starts and exits at once is another case: agents are runs,
 * restartPolicy Never, and /spawn answers 200 for one that already ended: test/docker/runs.test.ts.)
 */
const BROKEN_IMAGE = `berth-test/spawn-broken-${RUN}:latest`;
/** An image no pull can bring: its registry refuses connections. */
const UNPULLABLE_IMAGE = `127.0.0.1:9/berth-missing-${RUN}:latest`;

const id = testIds();
let controller: RunningBerth | undefined;
const strangers: string[] = [];

afterEach(async () => {
  if (controller) {
    expect(await controller.stop()).toBe(0);
    controller = undefined;
  }
  // Containers this test made itself, outside berth: by ID, never by name.
  for (const cid of strangers.splice(0)) {
    await docker
      .getContainer(cid)
      .remove({ force: true })
      .catch(() => undefined);
  }
});

beforeAll(async () => {
  await commitImage(`berth-test/spawn-stubborn-${RUN}`, ["sleep", "infinity"]);
  await commitImage(`berth-test/spawn-broken-${RUN}`, ["/no/such/agent"]);
});

afterAll(async () => {
  for (const image of [STUBBORN_IMAGE, BROKEN_IMAGE]) await removeImage(image);
});

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly ms: number;
}

async function post(url: string, body?: unknown): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${controller?.url}${url}`, {
    method: "POST",
    ...(body !== undefined ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    ms: Date.now() - started,
  };
}

interface Spawner {
  readonly c: string;
  readonly runtime: string;
  readonly worktree: string;
}

/** `berth run --compat docker-spawner` with its own runtime spec folder and a worktree it may mount. */
async function startSpawner(
  name: string,
  image: string,
  spawnTimeout: string,
  staticSpecs: Record<string, string> = {},
): Promise<Spawner> {
  const c = id(name);
  const worktree = tempDir("berth-worktree-");
  const runtime = tempDir("berth-runtime-");
  controller = await startBerth([
    ...["--id", c, "--specs", specDir(staticSpecs), "--runtime-specs", runtime],
    ...["--compat", "docker-spawner", "--spawn-image", image, "--spawn-timeout", spawnTimeout],
    ...["--network", "none", "--allow-bind", worktree],
    // A full pass (re-reading the specs) every second: "later" is a few passes away.
    ...["--resync", "1s"],
  ]);
  return { c, runtime, worktree };
}

/** Every container of that exact name, whoever made it. */
async function named(name: string): Promise<{ id: string; state: string; labels: Record<string, string> }[]> {
  const list = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  return list.map((x) => ({ id: x.Id, state: x.State, labels: x.Labels }));
}

/** Waits for `n` more reconcile passes to complete, from now. */
const passesNow = (n: number): Promise<boolean> => (controller ? passes(controller, n) : Promise.resolve(false));

/** berth's status of a spec: 404 once no spec file defines it any more. */
async function specStatus(name: string): Promise<number> {
  return (await fetch(`${controller?.url}/v1/specs/${name}`)).status;
}

describe("POST /spawn that does not come up", () => {
  it("answers 502 with the pull's message as soon as the image cannot be pulled, not at --spawn-timeout, and removes the spec it wrote", async () => {
    const { c, runtime, worktree } = await startSpawner("spawn-nopull", UNPULLABLE_IMAGE, "10m");
    const bead = `nopull-${RUN}`;
    const name = `tidepool-agent-${bead}`;

    const answer = await post("/spawn", { bead_id: bead, worktree_path: worktree });
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({
      error: expect.stringMatching(
        new RegExp(
          `^agent ${name} cannot start: pulling image ${UNPULLABLE_IMAGE} failed \\(.+\\).*; its spec was removed$`,
        ),
      ),
    });
    // Nothing retries a spawn whose spec is gone: the answer does not say it will.
    expect(String(answer.body.error)).not.toMatch(/retries/);
    // The pull's failure answered, not the end of the wait (a 504 would come after 10 minutes).
    expect(answer.ms).toBeLessThan(10 * 60_000);
    expect(readdirSync(runtime)).toEqual([]);

    // berth stops wanting it, and nothing of that name exists, berth's or anyone's.
    expect(await pollUntil(async () => (await specStatus(name)) === 404, 10_000)).toBe(true);
    expect(await named(name)).toEqual([]);
    // Nor later: the failed pull's retries, had they survived the spec, come within these passes.
    expect(await passesNow(3)).toBe(true);
    expect(await named(name)).toEqual([]);
    expect(await containersOf(c)).toEqual([]);
  });

  it("answers 502 as soon as the engine refuses to start the agent's container (not at the timeout), removes the spec, and berth removes the container it made", async () => {
    const { c, runtime, worktree } = await startSpawner("spawn-broken", BROKEN_IMAGE, "60s");
    const bead = `broken-${RUN}`;
    const name = `tidepool-agent-${bead}`;

    const answer = await post("/spawn", { bead_id: bead, worktree_path: worktree });
    expect(answer.status, JSON.stringify(answer.body)).toBe(502);
    // What it reports is berth's status of the spec: the container was made, its start refused
    // (retried once as a start that failed, then refused for good: no retry is coming).
    expect(answer.body.error).toMatch(
      new RegExp(`^agent ${name} cannot start: .*Docker start: .*/no/such/agent.*; its spec was removed$`),
    );
    expect(answer.ms).toBeLessThan(60_000);
    expect(existsSync(path.join(runtime, `${name}.yaml`))).toBe(false);

    // The container berth created for it goes with its spec, and no other takes its place.
    expect(await pollUntil(async () => (await specStatus(name)) === 404, 10_000)).toBe(true);
    expect(await pollUntil(async () => (await named(name)).length === 0, 30_000)).toBe(true);
    expect(await passesNow(3)).toBe(true);
    expect(await named(name)).toEqual([]);
    expect(await containersOf(c)).toEqual([]);
  });
});

describe("POST /spawn whose spec cannot be applied", () => {
  it("answers 409 when a container berth does not own holds the agent's name, and leaves that container alone", async () => {
    const { c, runtime, worktree } = await startSpawner("spawn-conflict", STUBBORN_IMAGE, "30s");
    const bead = `conflict-${RUN}`;
    const name = `tidepool-agent-${bead}`;
    const stranger = await docker.createContainer({ name, Image: TEST_IMAGE, Cmd: ["sleep", "infinity"] });
    strangers.push(stranger.id);
    await stranger.start();

    const answer = await post("/spawn", { bead_id: bead, worktree_path: worktree });
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatch(new RegExp(`^agent ${name} cannot start: .*${name}.*; its spec was removed$`));
    // Answered as soon as the conflict showed, not at the timeout.
    expect(answer.ms).toBeLessThan(30_000);
    expect(readdirSync(runtime)).toEqual([]);

    expect(await pollUntil(async () => (await specStatus(name)) === 404, 10_000)).toBe(true);
    const holders = await named(name);
    expect(holders.map((h) => [h.id, h.state])).toEqual([[stranger.id, "running"]]);
    expect(holders[0]?.labels["berth.controller"]).toBeUndefined();
    expect(await containersOf(c)).toEqual([]);
  });

  it("answers 409 before writing when the agent's name is a replica of another spec's, and that spec's containers stay", async () => {
    const pool = `tidepool-agent-pool${RUN}`;
    const { c, runtime, worktree } = await startSpawner("spawn-invalid", STUBBORN_IMAGE, "30s", {
      "pool.yaml": specText(pool, {
        image: TEST_IMAGE,
        replicas: 2,
        extra: ['command: ["sleep", "infinity"]', "init: true", "stopTimeout: 1s"],
      }),
    });
    const before = await waitContainers(
      c,
      "the containers as expected",
      (cs) => cs.length === 2 && cs.every((x) => x.state === "running"),
    );
    const poolPhase = async () =>
      ((await (await fetch(`${controller?.url}/v1/specs/${pool}`)).json()) as { phase: string }).phase;
    expect(await pollUntil(async () => (await poolPhase()) === "Running", 15_000)).toBe(true);
    // tidepool-agent-pool<RUN>-1 is the pool's second replica.
    const bead = `pool${RUN}-1`;
    const name = `tidepool-agent-${bead}`;

    const answer = await post("/spawn", { bead_id: bead, worktree_path: worktree });
    // The clash is found before anything is written (the cross-file checks run on the write).
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatch(
      new RegExp(`^spec ${name} clashes with spec ${pool} in .*pool\\.yaml: .*unique.*; nothing was written$`),
    );
    expect(answer.ms).toBeLessThan(30_000);
    expect(readdirSync(runtime)).toEqual([]);

    // No spec was ever written for the agent; the pool stays valid, its containers were never
    // touched, and berth made no container for the agent's name.
    expect(await specStatus(name)).toBe(404);
    expect(await poolPhase()).toBe("Running");
    const after = await containersOf(c);
    expect(after.map((x) => [x.id, x.name, x.state])).toEqual(before.map((x) => [x.id, x.name, "running"]));
    expect(after.filter((x) => x.labels["berth.spec"] === name)).toEqual([]);
  });
});

describe("POST /stop in flight when berth is told to stop", () => {
  it("answers 200 once the drain has stopped and removed the agent, before berth exits", async () => {
    // The agent's PID 1 ignores SIGTERM: its stop takes the 10 s stop timeout, so SIGTERM reaches
    // berth while the stop is in flight; the drain (30 s by default) lets it finish.
    const { runtime, worktree } = await startSpawner("stop-sigterm", STUBBORN_IMAGE, "60s");
    const bead = `termstop-${RUN}`;
    const spawned = await post("/spawn", { bead_id: bead, worktree_path: worktree });
    expect(spawned.status).toBe(200);
    const cid = spawned.body.container_id as string;

    const since = Math.floor(Date.now() / 1000) - 1;
    const stop = post(`/stop/${cid}`);
    // The stop has begun: its spec is gone and the engine has sent the agent its SIGTERM.
    expect(
      await pollUntil(async () => readdirSync(runtime).length === 0 && (await signalled(cid, since)), 20_000),
    ).toBe(true);
    const exited = controller?.stop();
    controller = undefined;

    const answer = await stop;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({});
    expect(await exited).toBe(0);
    expect(await named(`tidepool-agent-${bead}`)).toEqual([]);
  });
});

describe("POST /stop that does not finish in time", () => {
  it("answers 504 when the agent is still there after --spawn-timeout, with its spec already removed; the container goes later", async () => {
    // The agent's PID 1 ignores SIGTERM: stopping it takes its stopTimeout (10 s) before SIGKILL,
    // longer than the 5 s /stop waits (and /spawn has to come up).
    const { c, runtime, worktree } = await startSpawner("stop-slow", STUBBORN_IMAGE, "5s");
    const bead = `slowstop-${RUN}`;
    const name = `tidepool-agent-${bead}`;
    const spawned = await post("/spawn", { bead_id: bead, worktree_path: worktree });
    expect(spawned.status).toBe(200);
    const cid = spawned.body.container_id as string;

    const stop = await post(`/stop/${cid}`);
    expect(stop.status).toBe(504);
    expect(stop.body).toEqual({ error: `agent ${name}: its spec is removed but the container is still there` });
    expect(stop.ms).toBeGreaterThanOrEqual(5000);
    expect(readdirSync(runtime)).toEqual([]);
    expect((await docker.getContainer(cid).inspect()).State.Running).toBe(true);

    // The stop goes on: the container is gone once its stop timeout has run out, not recreated.
    expect(await pollUntil(async () => (await named(name)).length === 0, 30_000)).toBe(true);
    expect(await containersOf(c)).toEqual([]);
    // Now nothing is there to stop, and the answer says so, as docker-spawner's did.
    expect(await post(`/stop/${cid}`)).toMatchObject({
      status: 404,
      body: { error: `no agent ${cid}: nothing was stopped` },
    });
  });
});
