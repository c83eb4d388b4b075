/**
 * The Compose files that put berth in the place of the services it replaces, brought up as their
 * headers say, with the berth image built once from the working tree (without a registry):
 * - deploy/docker-spawner.compose.yaml (docs/http-api.md, "docker-spawner compatibility"): the
 *   socket mounted, port 7435 published on loopback, the token from a Compose secret. A client on
 *   the host and a client in another container on the clients' network (by the service name, as
 *   docker-spawner's clients call it) are refused without the token and served with it; a spawn
 *   joins that network.
 * - deploy/artie.compose.yaml (docs/http-api.md, "Artie compatibility"): port 8080, the token
 *   from a secret; /health open, a create refused without the token and served with it (a host
 *   port from 10000 up that answers on loopback), a delete removes the container.
 * - deploy/ha.compose.yaml (docs/reliability.md, "High availability"): two berths and a Redis (an
 *   image made from the host's redis-server), the password from a secret; one leads and runs the
 *   folder's spec, the other is a standby; stopping the leader hands over to it.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/bundled.js";
import { pollUntil } from "../support/poll.js";
import { cleanup, commitImage, docker, e2eSpec, removeImage, TEST_IMAGE, testId } from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

const NODE_IMAGE = "berth-test/node:local";
const ID = testId("deploy-spawner");
const IMAGE = `berth-test/berth:${ID}`;
const AGENT_IMAGE = `berth-test/${ID}-agent:latest`;
const PROJECT = ID.toLowerCase().replace(/[^a-z0-9-]/g, "-");
const NETWORK = `${ID}-clients`;
const TOKEN = "deploy-token-0123456789abcdef";
const BERTH_UID = 10001;

let env: Record<string, string> = {};
let base = "";
const ARTIE_ID = `${ID}-artie`;
const ARTIE_PROJECT = `${PROJECT}-artie`;
let artieEnv: Record<string, string> = {};
let artieBase = "";
const HA_ID = `${ID}-ha`;
const HA_PROJECT = `${PROJECT}-ha`;
const REDIS_IMAGE = "berth-test/redis:local";
let haEnv: Record<string, string> = {};
const ha = (args: readonly string[]) => compose(args, "deploy/ha.compose.yaml", HA_PROJECT, haEnv);

/** `docker compose` on the docker-spawner file (or another), with that file's variables; never throws. */
function compose(
  args: readonly string[],
  file = "deploy/docker-spawner.compose.yaml",
  project = PROJECT,
  vars: Record<string, string> = env,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      "docker",
      ["compose", "-p", project, "-f", file, ...args],
      { encoding: "utf8", env: { ...process.env, ...vars }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number(err.code ?? -1) : 0, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** What berth logged, for a failure message. */
const berthLogs = async (): Promise<string> => (await compose(["logs", "--tail", "40"])).output;
const artie = (args: readonly string[]) => compose(args, "deploy/artie.compose.yaml", ARTIE_PROJECT, artieEnv);
const artieLogs = async (): Promise<string> => (await artie(["logs", "--tail", "40"])).output;

beforeAll(async () => {
  execFileSync("bash", ["scripts/build-node-image.sh", NODE_IMAGE], { stdio: "inherit" });
  const built = spawnSync("bash", ["scripts/build-image.sh", "-t", IMAGE, "--build-arg", `NODE_IMAGE=${NODE_IMAGE}`], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (built.status !== 0) throw new Error(`the image build failed:\n${built.stderr.split("\n").slice(-30).join("\n")}`);
  await commitImage(`berth-test/${ID}-agent`, ["sleep", "infinity"]);
  await docker.createNetwork({ Name: NETWORK, Driver: "bridge" });

  // As the file's header says: the token readable by berth's user, a folder of its own for the specs.
  // Both files use it: kept until the file is done.
  const dir = tempDir("berth-deploy-", "file");
  chmodSync(dir, 0o755);
  const tokenFile = path.join(dir, "berth-token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  chownSync(tokenFile, BERTH_UID, BERTH_UID);
  chmodSync(tokenFile, 0o400);
  const agents = path.join(dir, "agents");
  mkdirSync(agents);
  chownSync(agents, BERTH_UID, BERTH_UID);
  const worktrees = path.join(dir, "worktrees");
  mkdirSync(path.join(worktrees, "bead-1"), { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = {
    BERTH_IMAGE: IMAGE,
    BERTH_ID: ID,
    BERTH_PUBLISH: `127.0.0.1:${port}`,
    BERTH_TOKEN_FILE: tokenFile,
    BERTH_AGENTS_DIR: agents,
    WORKTREES: worktrees,
    TIDEPOOL_NETWORK: NETWORK,
    TIDEPOOL_AGENT_IMAGE: AGENT_IMAGE,
    DOCKER_GID: String(statSync("/var/run/docker.sock").gid),
  };

  const artieDir = path.join(dir, "artie");
  mkdirSync(artieDir);
  chownSync(artieDir, BERTH_UID, BERTH_UID);
  const artiePort = await freePort();
  artieBase = `http://127.0.0.1:${artiePort}`;
  artieEnv = {
    BERTH_IMAGE: IMAGE,
    BERTH_ID: ARTIE_ID,
    BERTH_PUBLISH: `127.0.0.1:${artiePort}`,
    BERTH_TOKEN_FILE: tokenFile,
    BERTH_ARTIE_DIR: artieDir,
    ARTIE_IMAGE: TEST_IMAGE,
    DOCKER_GID: env.DOCKER_GID ?? "",
  };

  execFileSync("bash", ["scripts/build-redis-image.sh", REDIS_IMAGE], { stdio: "inherit" });
  const haDir = path.join(dir, "ha");
  mkdirSync(path.join(haDir, "specs"), { recursive: true });
  writeFileSync(path.join(haDir, "specs", "web.yaml"), e2eSpec(`${HA_ID}-web`));
  const password = path.join(haDir, "redis-password");
  writeFileSync(password, "ha-redis-password-0123456789\n");
  // Read by berth (uid 10001) and by redis-server (999) through the Compose secret.
  chmodSync(password, 0o444);
  haEnv = {
    BERTH_IMAGE: IMAGE,
    BERTH_ID: HA_ID,
    BERTH_SPECS_DIR: path.join(haDir, "specs"),
    BERTH_A_PUBLISH: `127.0.0.1:${await freePort()}`,
    BERTH_B_PUBLISH: `127.0.0.1:${await freePort()}`,
    REDIS_IMAGE,
    REDIS_PASSWORD_FILE: password,
    DOCKER_GID: env.DOCKER_GID ?? "",
  };
}, 600_000);

afterAll(async () => {
  await compose(["down", "--timeout", "40"]);
  await artie(["down", "--timeout", "40"]);
  await ha(["down", "--timeout", "40"]);
  await cleanup(ID);
  await cleanup(ARTIE_ID);
  await cleanup(HA_ID);
  await docker
    .getNetwork(NETWORK)
    .remove()
    .catch(() => undefined);
  for (const image of [IMAGE, AGENT_IMAGE, REDIS_IMAGE]) await removeImage(image);
});

describe("deploy/docker-spawner.compose.yaml", () => {
  it("serves docker-spawner's API on 7435 with the token from the secret, to the host and to clients on its network", async () => {
    const up = await compose(["up", "-d", "--no-build"]);
    expect(up.code, up.output).toBe(0);
    const health = () => fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
    expect(await pollUntil(async () => (await health())?.status === 200, 60_000), await berthLogs()).toBe(true);
    expect(await (await fetch(`${base}/health`)).text()).toBe("OK");

    const spawn = (authorization?: string) =>
      fetch(`${base}/spawn`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ bead_id: "bead-1", worktree_path: path.join(env.WORKTREES ?? "", "bead-1") }),
      });
    expect((await spawn()).status).toBe(401);
    const spawned = await spawn(`Bearer ${TOKEN}`);
    const answer = (await spawned.json()) as { container_id: string; hostname: string; error?: string };
    expect(spawned.status, `${answer.error ?? ""}\n${await berthLogs()}`).toBe(200);
    const agent = await docker.getContainer(answer.container_id).inspect();
    expect(Object.keys(agent.NetworkSettings.Networks)).toEqual([NETWORK]);
    expect(agent.Config.Image).toBe(AGENT_IMAGE);

    // A client in another container, calling berth by its service name, as docker-spawner's did.
    const client = (token: string | null) => {
      const header = token ? ["--header", `Authorization: Bearer ${token}`] : [];
      const r = spawnSync(
        "docker",
        [
          ...["run", "--rm", "--network", NETWORK, TEST_IMAGE, "wget", "-q", "-O", "-", ...header],
          `http://docker-spawner:7435/status/${answer.hostname}`,
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
      return `${r.stdout}${r.stderr}`;
    };
    expect(client(null)).toContain("401");
    expect(client(TOKEN)).toBe('{"status":"running"}');

    const stop = await fetch(`${base}/stop/${answer.container_id}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(stop.status).toBe(200);
    expect(await docker.listContainers({ all: true, filters: { id: [answer.container_id] } })).toEqual([]);
  }, 300_000);
});

describe("deploy/artie.compose.yaml", () => {
  it("serves Artie's host-manager API on 8080 with the token from the secret: health, create, delete", async () => {
    const up = await artie(["up", "-d", "--no-build"]);
    expect(up.code, up.output).toBe(0);
    const health = () => fetch(`${artieBase}/health`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
    expect(await pollUntil(async () => (await health())?.status === 200, 60_000), await artieLogs()).toBe(true);
    expect(await (await fetch(`${artieBase}/health`)).json()).toMatchObject({ status: "ok", containerCount: 0 });

    const create = (authorization?: string) =>
      fetch(`${artieBase}/api/containers`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ name: "project-1", ports: [3000] }),
      });
    expect((await create()).status).toBe(401);
    const created = await create(`Bearer ${TOKEN}`);
    const answer = (await created.json()) as { id: string; name: string; hostPort: number; error?: string };
    expect(created.status, `${answer.error ?? ""}\n${await artieLogs()}`).toBe(200);
    expect(answer.hostPort).toBeGreaterThanOrEqual(10_000);
    const made = await docker.getContainer(answer.id).inspect();
    expect(made.State.Running).toBe(true);
    expect(made.Config.Image).toBe(TEST_IMAGE);
    expect(made.HostConfig.PortBindings?.["3000/tcp"]).toEqual([
      { HostIp: "127.0.0.1", HostPort: String(answer.hostPort) },
    ]);

    const removed = await fetch(`${artieBase}/api/containers/${answer.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(removed.status, await artieLogs()).toBe(200);
    expect(await docker.listContainers({ all: true, filters: { id: [answer.id] } })).toEqual([]);
  }, 300_000);
});

describe("deploy/ha.compose.yaml", () => {
  it("runs two berths and a Redis: one leads and runs the spec, the other stands by and takes over when the leader stops", async () => {
    const up = await ha(["up", "-d", "--no-build"]);
    expect(up.code, up.output).toBe(0);
    const logs = async (): Promise<string> => (await ha(["logs", "--tail", "30"])).output;
    const bases = ["BERTH_A_PUBLISH", "BERTH_B_PUBLISH"].map((k) => `http://${haEnv[k] ?? ""}`);
    const roles = () =>
      Promise.all(
        bases.map(async (b) => {
          const res = await fetch(`${b}/readyz?role=leader`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
          return res?.status === 200 ? "leader" : res ? "standby" : "down";
        }),
      );
    // The store is new: the first leader waits one TTL (10 s) before its first write.
    expect(
      await pollUntil(async () => (await roles()).sort().join() === "leader,standby", 90_000),
      `${JSON.stringify(await roles())}\n${await logs()}`,
    ).toBe(true);
    const running = async () =>
      (await docker.listContainers({ filters: { label: [`berth.controller=${HA_ID}`], status: ["running"] } })).map(
        (c) => c.Names[0],
      );
    expect(await pollUntil(async () => (await running()).length === 1, 60_000), await logs()).toBe(true);
    expect(await running()).toEqual([`/${HA_ID}-web`]);

    const leader = (await roles()).indexOf("leader") === 0 ? "berth-a" : "berth-b";
    const standbyBase = bases[leader === "berth-a" ? 1 : 0] ?? "";
    const stopped = await ha(["stop", leader]);
    expect(stopped.code, stopped.output).toBe(0);
    // Released on SIGTERM: the standby leads well before the 10 s lease would run out.
    expect(
      await pollUntil(async () => (await fetch(`${standbyBase}/readyz?role=leader`)).status === 200, 8_000),
      await logs(),
    ).toBe(true);
    expect(await running()).toEqual([`/${HA_ID}-web`]);
  }, 300_000);
});
