/**
 * The berth image, built as docs/deploy.md says (scripts/build-image.sh: docker build with the OCI
 * labels' build arguments) without a registry (its base is a Node image made from the host's own
 * Node by scripts/build-node-image.sh), and run as docs/deploy.md says: as its non-root user with
 * the socket's group added, the Docker socket and a read-only specs folder mounted, on a
 * user-defined network. The specs converge, `network: auto` resolves to that network, /readyz
 * answers through a port published on loopback, `berth` is on PATH for `docker exec`, and the
 * image's HEALTHCHECK follows readiness: healthy here, unhealthy in a berth with no engine. The
 * image's tag is this run's own, removed afterwards (the build stages stay cached).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil, pollValue } from "../support/poll.js";
import { cleanup, docker, e2eSpec, specDir, testId, waitContainers } from "../support/e2e.js";

const NODE_IMAGE = "berth-test/node:local";
const ID = testId("image");
const IMAGE = `berth-test/berth:${ID}`;
const PKG = JSON.parse(readFileSync("package.json", "utf8")) as {
  version: string;
  description: string;
  license: string;
};
const BERTH_UID = "10001";

const NETWORK = `${ID}-net`;
const BERTH = `${ID}-berth`;
const APP = `${ID}-app`;
/** A berth with no Docker socket: alive, never ready. */
const ORPHAN = `${ID}-nosocket`;

/** The Docker socket's path on this host (the engine must be local to be mounted). */
function socketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (host === undefined || host === "") return "/var/run/docker.sock";
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  throw new Error(`the image test mounts the Docker socket, so it needs a unix:// DOCKER_HOST, not ${host}`);
}

/** Docker's predefined proxy build arguments, passed on when set (npm ci runs in the build). */
function proxyArgs(): string[] {
  const names = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];
  return names.flatMap((n) => (process.env[n] ? ["--build-arg", `${n}=${process.env[n]}`] : []));
}

/** Builds IMAGE from the working tree with the script an operator runs. */
function buildImage(): void {
  const args = ["scripts/build-image.sh", "-t", IMAGE, "--build-arg", `NODE_IMAGE=${NODE_IMAGE}`, ...proxyArgs()];
  const built = spawnSync("bash", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (built.status !== 0) {
    const tail = `${built.stdout}\n${built.stderr}`.split("\n").slice(-40).join("\n");
    throw new Error(`bash ${args.join(" ")} failed (${built.status ?? built.signal}):\n${tail}`);
  }
}

/** `docker exec` as the operator types it: exit code and output. */
function dockerExec(container: string, command: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("docker", ["exec", container, ...command], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A container's stdout and stderr (no TTY: 8-byte frame headers). */
async function logsOf(name: string): Promise<string> {
  const raw = await docker
    .getContainer(name)
    .logs({ stdout: true, stderr: true, follow: false })
    .catch(() => Buffer.alloc(0));
  const chunks: Buffer[] = [];
  for (let at = 0; at + 8 <= raw.length;) {
    const size = raw.readUInt32BE(at + 4);
    chunks.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function removeContainers(): Promise<void> {
  for (const name of [BERTH, ORPHAN]) {
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  }
  await cleanup(ID);
  await docker
    .getNetwork(NETWORK)
    .remove()
    .catch(() => undefined);
}

beforeAll(async () => {
  await removeContainers(); // leftovers of an interrupted run with the same pid
  execFileSync("bash", ["scripts/build-node-image.sh", NODE_IMAGE], { stdio: "inherit" });
  buildImage();
}, 300_000);

afterAll(async () => {
  await removeContainers();
  // The tag and the final stage's layers; the build and deps stages stay cached for the next run.
  await docker
    .getImage(IMAGE)
    .remove({ force: true })
    .catch(() => undefined);
});

describe("the berth image", () => {
  it("runs berth as a non-root user with the socket and read-only specs: converges, network auto, ready, healthy", async () => {
    const image = await docker.getImage(IMAGE).inspect();
    expect(image.Config.User).toBe(`${BERTH_UID}:${BERTH_UID}`);
    expect(image.Config.Healthcheck?.Test?.join(" ")).toContain("/readyz");
    expect(image.Config.Labels).toMatchObject({
      "org.opencontainers.image.title": "berth",
      "org.opencontainers.image.description": PKG.description,
      "org.opencontainers.image.version": PKG.version,
      "org.opencontainers.image.licenses": PKG.license,
    });
    const created = image.Config.Labels?.["org.opencontainers.image.created"] ?? "";
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(created) - Date.now()), created).toBeLessThan(3_600_000);
    expect(image.Config.Labels?.["org.opencontainers.image.source"]).toBeTruthy();
    const head = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    expect(image.Config.Labels?.["org.opencontainers.image.revision"]).toBe(head);

    // Specs as an operator keeps them: world-readable, mounted read-only.
    const specs = specDir({ "app.yaml": e2eSpec(APP, ["network: auto"]) });
    chmodSync(specs, 0o755);
    await docker.createNetwork({ Name: NETWORK, Driver: "bridge" });

    const socket = socketPath();
    const berth = await docker.createContainer({
      name: BERTH,
      Image: IMAGE,
      Env: [`BERTH_ID=${ID}`],
      // The image's healthcheck command, checked every second instead of every 10 s.
      Healthcheck: { Interval: 1_000_000_000, StartPeriod: 30_000_000_000 },
      ExposedPorts: { "7435/tcp": {} },
      HostConfig: {
        Init: true,
        GroupAdd: [String(statSync(socket).gid)],
        Binds: [`${socket}:/var/run/docker.sock`, `${specs}:/specs:ro`],
        NetworkMode: NETWORK,
        PortBindings: { "7435/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
        ReadonlyRootfs: true,
        // The host lock's folder (BERTH_STATE_DIR=/run/berth), writable on a read-only root.
        Tmpfs: { "/run/berth": "" },
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
      },
    });
    await berth.start();
    const diagnose = async (): Promise<string> => `berth's logs:\n${(await logsOf(BERTH)).slice(-4000)}`;

    // The spec converges, on berth's own network.
    const converged = await waitContainers(
      ID,
      `${APP} running`,
      (cs) => cs.some((c) => c.name === APP && c.state === "running"),
      { explain: diagnose },
    );
    expect(
      converged.map((c) => `${c.name} ${c.state}`),
      await diagnose(),
    ).toEqual([`${APP} running`]);
    const app = await docker.getContainer(APP).inspect();
    expect(Object.keys(app.NetworkSettings.Networks)).toEqual([NETWORK]);

    // /readyz through the port published on loopback.
    const inspected = await berth.inspect();
    const hostPort = inspected.NetworkSettings.Ports["7435/tcp"]?.[0]?.HostPort;
    expect(hostPort, "port 7435 is published").toBeTruthy();
    const readyz = await pollValue(
      () =>
        fetch(`http://127.0.0.1:${hostPort}/readyz`)
          .then(async (r) => ({ status: r.status, body: await r.text() }))
          .catch((err: unknown) => ({ status: 0, body: String(err) })),
      (r) => r.status === 200,
      30_000,
    );
    expect(readyz.status, `${readyz.body}\n${await diagnose()}`).toBe(200);
    expect(JSON.parse(readyz.body)).toMatchObject({ ready: true });

    // The image's HEALTHCHECK (node -e, /readyz) turns healthy.
    const health = await pollValue(
      async () => (await berth.inspect()).State.Health?.Status,
      (s) => s === "healthy",
      30_000,
    );
    expect(health, await diagnose()).toBe("healthy");

    // `berth` is on PATH for docker exec, and sees the controller through the container's own env.
    const version = dockerExec(BERTH, ["berth", "--version"]);
    expect(version, await diagnose()).toMatchObject({ code: 0, stdout: `${PKG.version}\n` });
    const status = dockerExec(BERTH, ["berth", "status"]);
    expect(status.code, `${status.stdout}${status.stderr}`).toBe(0);
    expect(status.stdout).toContain(APP);
    expect(status.stderr).toContain("live from the controller");

    // Every process of the container (tini and node) runs as the berth user, not root.
    const top = (await berth.top({ ps_args: "-o pid,uid,args" })) as { Titles: string[]; Processes: string[][] };
    const uidColumn = top.Titles.indexOf("UID");
    expect(top.Processes.length).toBeGreaterThanOrEqual(2);
    expect(top.Processes.map((p) => p[uidColumn]?.trim())).toEqual(top.Processes.map(() => BERTH_UID));

    // docker stop: berth drains and exits 0 through the init; the containers it made keep running.
    await berth.stop({ t: 20 });
    const stopped = await berth.inspect();
    expect(stopped.State.ExitCode, await diagnose()).toBe(0);
    expect(await pollUntil(async () => (await docker.getContainer(APP).inspect()).State.Running, 1000)).toBe(true);
  });

  it("is alive but unhealthy while no engine answers: the HEALTHCHECK is readiness, not liveness", async () => {
    const orphan = await docker.createContainer({
      name: ORPHAN,
      Image: IMAGE,
      Env: [`BERTH_ID=${ID}-nosocket`],
      // No Docker socket mounted. The image's healthcheck command, every second, failing at once.
      Healthcheck: { Interval: 1_000_000_000, Retries: 1, StartPeriod: 1_000_000 },
      HostConfig: { Init: true, Tmpfs: { "/run/berth": "" }, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges"] },
    });
    await orphan.start();
    const state = await pollValue(
      async () => (await orphan.inspect()).State,
      (s) => s.Health?.Status === "unhealthy" || !s.Running,
      30_000,
    );
    const logs = `berth's logs:\n${(await logsOf(ORPHAN)).slice(-4000)}`;
    expect(state.Running, logs).toBe(true);
    expect(state.Health?.Status, logs).toBe("unhealthy");
    const last = state.Health?.Log?.at(-1);
    expect(last?.ExitCode, logs).toBe(1);
  });
});
