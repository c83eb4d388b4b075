/**
 * The berth image, built from the Dockerfile without a registry (its base is a Node image made
 * from the host's own Node by scripts/build-node-image.sh) and run as docs/deploy.md says: as its
 * non-root user with the socket's group added, the Docker socket and a read-only specs folder
 * mounted, on a user-defined network. The specs converge, `network: auto` resolves to that
 * network, /readyz answers through a port published on loopback, and the image's HEALTHCHECK
 * turns healthy. The image stays cached for the next run.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil, pollValue } from "../support/poll.js";
import { cleanup, docker, e2eSpec, specDir, testId, waitContainers } from "../support/e2e.js";

const NODE_IMAGE = "berth-test/node:local";
const IMAGE = "berth-test/berth:ci";
/** What `docker build .` needs; .dockerignore filters these further. */
const CONTEXT = [
  "Dockerfile",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "scripts/bundle.mjs",
  "bin",
  "schemas",
  "src",
];
const BERTH_UID = "10001";

const ID = testId("image");
const NETWORK = `${ID}-net`;
const BERTH = `${ID}-berth`;
const APP = `${ID}-app`;

/** The Docker socket's path on this host (the engine must be local to be mounted). */
function socketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (host === undefined || host === "") return "/var/run/docker.sock";
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  throw new Error(`the image test mounts the Docker socket, so it needs a unix:// DOCKER_HOST, not ${host}`);
}

/** Docker's predefined proxy build arguments, passed on when set (npm ci runs in the build). */
function proxyArgs(): Record<string, string> {
  const names = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];
  return Object.fromEntries(names.flatMap((n) => (process.env[n] ? [[n, process.env[n]]] : [])));
}

/** Builds IMAGE from the working tree through the Engine API, as `docker build` would. */
async function buildImage(): Promise<void> {
  const stream = await docker.buildImage(
    { context: process.cwd(), src: CONTEXT },
    { t: IMAGE, buildargs: { NODE_IMAGE, ...proxyArgs() }, rm: true, forcerm: true },
  );
  const output = await new Promise<{ stream?: string; error?: string }[]>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: { stream?: string; error?: string }[]) =>
      err ? reject(err) : resolve(out),
    );
  });
  const failed = output.find((o) => o.error !== undefined);
  if (failed) {
    const tail = output
      .map((o) => o.stream ?? "")
      .join("")
      .split("\n")
      .slice(-30)
      .join("\n");
    throw new Error(`docker build of ${IMAGE} failed: ${failed.error}\n${tail}`);
  }
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

async function removeAll(): Promise<void> {
  await docker
    .getContainer(BERTH)
    .remove({ force: true })
    .catch(() => undefined);
  await cleanup(ID);
  await docker
    .getNetwork(NETWORK)
    .remove()
    .catch(() => undefined);
}

beforeAll(async () => {
  await removeAll(); // leftovers of an interrupted run with the same pid
  execFileSync("bash", ["scripts/build-node-image.sh", NODE_IMAGE], { stdio: "inherit" });
  await buildImage();
}, 300_000);

afterAll(removeAll);

describe("the berth image", () => {
  it("runs berth as a non-root user with the socket and read-only specs: converges, network auto, ready, healthy", async () => {
    const image = await docker.getImage(IMAGE).inspect();
    expect(image.Config.User).toBe(`${BERTH_UID}:${BERTH_UID}`);
    expect(image.Config.Healthcheck?.Test?.join(" ")).toContain("/healthz");

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

    // The image's HEALTHCHECK (node -e, /healthz) turns healthy.
    const health = await pollValue(
      async () => (await berth.inspect()).State.Health?.Status,
      (s) => s === "healthy",
      30_000,
    );
    expect(health, await diagnose()).toBe("healthy");

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
});
