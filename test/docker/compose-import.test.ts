/**
 * `berth import compose` end to end: one Compose file is brought up by Compose v2
 * (`docker compose up -d`) and, converted by `berth import compose`, by `berth apply`; the
 * containers of the two are compared field by field through `docker inspect` (a named volume and
 * a bind, a tmpfs, ports, replicas with a memory limit, …). They must be equal
 * but for the differences docs/compose.md lists: names (project prefix, replicas numbered from 0), host ports (each side
 * publishes its own free port), tmpfs mounts (Compose: HostConfig.Tmpfs; berth: a tmpfs mount)
 * the stop timeout (berth writes Docker's default of 10 s) and extra hosts' separator (Compose may
 * write HOST=IP, berth writes HOST:IP; the engine reads both).
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ContainerInspectInfo } from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/bundled.js";
import { berth, cleanup, docker, TEST_IMAGE, testId } from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

const ID = testId("compose-import");
/** Compose's project and berth's: the containers, volumes and networks of each are their own. */
const COMPOSE_PROJECT = `bc${process.pid}c`;
const BERTH_PROJECT = `bc${process.pid}b`;

const COMPOSE_FILE = `services:
  app:
    image: ${TEST_IMAGE}
    command: [sleep, infinity]
    environment:
      GREETING: \${GREETING:-hello}
      MODE: e2e
    ports:
      - "127.0.0.1:\${PORT}:8080"
    volumes:
      - data:/data
      - ./conf:/etc/app:ro
    tmpfs:
      - /scratch:size=16m
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
      timeout: 1s
      retries: 2
    restart: unless-stopped
    user: "1000:1000"
    working_dir: /data
    init: true
    read_only: true
    cap_drop: [NET_RAW, MKNOD]
    stop_grace_period: 3s
    stop_signal: SIGINT
    shm_size: 128m
    extra_hosts:
      - "db.internal:10.0.0.5"
      - "gw.internal=host-gateway"
    dns: [10.0.0.2]
    dns_search: corp.example
    dns_opt: ["ndots:2", edns0]
    logging:
      driver: json-file
      options:
        max-size: 1m
        max-file: "2"
  sidecar:
    image: ${TEST_IMAGE}
    command: sleep infinity
    environment:
      - ROLE=sidecar
    restart: on-failure
    cap_drop: [ALL]
  worker:
    image: ${TEST_IMAGE}
    command: [sleep, infinity]
    deploy:
      replicas: 2
      resources:
        limits:
          memory: 32m
volumes:
  data:
`;

let dir: string;
let composePort: number;
let berthPort: number;

function run(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` });
    });
  });
}

const compose = (args: readonly string[], env: Record<string, string> = {}) =>
  run("docker", ["compose", "-p", COMPOSE_PROJECT, "-f", path.join(dir, "compose.yaml"), ...args], env);

async function removeAll(): Promise<void> {
  await cleanup(ID);
  await compose(["down", "-v", "--timeout", "0"]);
  await docker
    .getNetwork(`${BERTH_PROJECT}_default`)
    .remove()
    .catch(() => undefined);
  await docker
    .getVolume(`${BERTH_PROJECT}_data`)
    .remove()
    .catch(() => undefined);
}

beforeAll(async () => {
  dir = tempDir("berth-compose-", "file");
  writeFileSync(path.join(dir, "compose.yaml"), COMPOSE_FILE);
  mkdirSync(path.join(dir, "conf"));
  writeFileSync(path.join(dir, "conf", "app.conf"), "mode = e2e\n");
  composePort = await freePort();
  berthPort = await freePort();
  await removeAll();
}, 120_000);
afterAll(removeAll, 120_000);

/** The fields compared, with each side's own names, ports and tmpfs form made comparable. */
function comparable(c: ContainerInspectInfo, project: string, port: number): Record<string, unknown> {
  const host = c.HostConfig as typeof c.HostConfig & {
    ExtraHosts?: string[] | null;
    DnsSearch?: string[] | null;
    DnsOptions?: string[] | null;
  };
  const own = (s: string): string => s.replaceAll(project, "PROJECT");
  const tmpfs = {
    ...Object.fromEntries(
      Object.entries(c.HostConfig.Tmpfs ?? {}).map(([target, options]) => {
        const size = /size=(\d+)m/.exec(options)?.[1];
        return [target, size === undefined ? null : Number(size) * 1024 * 1024];
      }),
    ),
    ...Object.fromEntries(
      (c.HostConfig.Mounts ?? [])
        .filter((m) => m.Type === "tmpfs")
        .map((m) => [m.Target, m.TmpfsOptions?.SizeBytes ?? null]),
    ),
  };
  const bindings = Object.entries(c.HostConfig.PortBindings ?? {}).map(([key, list]) => [
    key,
    (list as { HostIp: string; HostPort: string }[]).map((b) => ({
      ...b,
      HostPort: b.HostPort === String(port) ? "PORT" : b.HostPort,
    })),
  ]);
  return {
    image: c.Config.Image,
    cmd: c.Config.Cmd,
    entrypoint: c.Config.Entrypoint,
    env: [...c.Config.Env].sort(),
    ports: Object.fromEntries(bindings),
    mounts: c.Mounts.filter((m) => m.Type !== "tmpfs")
      .map((m) => ({
        type: m.Type,
        name: own(m.Name ?? ""),
        source: m.Type === "bind" ? m.Source : "",
        target: m.Destination,
        rw: m.RW,
      }))
      .sort((a, b) => (a.target < b.target ? -1 : 1)),
    tmpfs,
    restart: c.HostConfig.RestartPolicy,
    healthcheck: c.Config.Healthcheck ?? null,
    user: c.Config.User,
    workingDir: c.Config.WorkingDir,
    readOnly: c.HostConfig.ReadonlyRootfs,
    capAdd: [...(c.HostConfig.CapAdd ?? [])].sort(),
    capDrop: [...(c.HostConfig.CapDrop ?? [])].sort(),
    init: c.HostConfig.Init ?? false,
    memory: c.HostConfig.Memory ?? 0,
    // Unset is Docker's default of 10 s, which berth writes out.
    stopTimeout: (c.Config as { StopTimeout?: number }).StopTimeout ?? 10,
    network: own(c.HostConfig.NetworkMode ?? ""),
    extraHosts: (host.ExtraHosts ?? []).map((h: string) => h.replace("=", ":")).sort(),
    dns: [host.Dns ?? [], host.DnsSearch ?? [], host.DnsOptions ?? []],
    shmSize: host.ShmSize,
    stopSignal: (c.Config as { StopSignal?: string }).StopSignal ?? null,
    logConfig: host.LogConfig,
    running: c.State.Running,
  };
}

describe("berth import compose + berth apply gives the containers docker compose up gives", () => {
  it("the converted specs apply, and every compared inspect field is equal", async () => {
    const up = await compose(["up", "-d", "--quiet-pull"], { PORT: String(composePort) });
    expect(up.code, up.out).toBe(0);

    const out = path.join(dir, "specs");
    const imported = await berth(
      [
        "import",
        "compose",
        path.join(dir, "compose.yaml"),
        "-p",
        BERTH_PROJECT,
        "--prefix-names",
        "--out-dir",
        out,
        "--allow-bind",
        dir,
      ],
      { PORT: String(berthPort) },
    );
    expect(imported.code, imported.stderr).toBe(0);
    // Nothing was left out (the bind is admitted by the flag berth apply gets too), and the
    // project's network is a kind: Network document: berth creates it, as Compose does.
    expect(imported.stderr).toContain("0 warnings");
    expect(imported.stderr).not.toContain("policy");
    expect(imported.stderr).toContain("3 services and 1 network");

    const validated = await berth(["validate", out, "--allow-bind", dir]);
    expect(validated.code, validated.stdout).toBe(0);
    const applied = await berth(["apply", "--specs", out, "--id", ID, "--timeout", "60s", "--allow-bind", dir]);
    expect(applied.code, `${applied.stdout}${applied.stderr}`).toBe(0);

    // Compose numbers replicas from 1 (PROJECT-worker-1), berth from 0 (PROJECT-worker-0).
    const pairs = [
      ["app", "app"],
      ["sidecar", "sidecar"],
      ["worker-1", "worker-0"],
      ["worker-2", "worker-1"],
    ].map(([theirs, ours]) => ({
      service: ours ?? "",
      compose: theirs?.startsWith("worker") ? `${COMPOSE_PROJECT}-${theirs}` : `${COMPOSE_PROJECT}-${theirs}-1`,
      berth: `${BERTH_PROJECT}-${ours}`,
    }));
    for (const { service, compose: theirName, berth: ourName } of pairs) {
      const fromCompose = await docker.getContainer(theirName).inspect();
      const fromBerth = await docker.getContainer(ourName).inspect();
      const theirs = comparable(fromCompose, COMPOSE_PROJECT, composePort);
      const ours = comparable(fromBerth, BERTH_PROJECT, berthPort);
      expect({ service, ...ours }).toEqual({ service, ...theirs });
    }
    // The comparison is not vacuous: the fields the Compose file sets are there.
    const app = comparable(await docker.getContainer(`${BERTH_PROJECT}-app`).inspect(), BERTH_PROJECT, berthPort);
    expect(app).toMatchObject({
      cmd: ["sleep", "infinity"],
      ports: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "PORT" }] },
      mounts: [
        { type: "volume", name: "PROJECT_data", source: "", target: "/data", rw: true },
        { type: "bind", name: "", source: path.join(dir, "conf"), target: "/etc/app", rw: false },
      ],
      tmpfs: { "/scratch": 16 * 1024 * 1024 },
      restart: { Name: "unless-stopped" },
      user: "1000:1000",
      readOnly: true,
      init: true,
      capDrop: ["MKNOD", "NET_RAW"],
      stopTimeout: 3,
      stopSignal: "SIGINT",
      shmSize: 128 * 1024 * 1024,
      extraHosts: ["db.internal:10.0.0.5", "gw.internal:host-gateway"],
      dns: [["10.0.0.2"], ["corp.example"], ["ndots:2", "edns0"]],
      logConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
      healthcheck: { Test: ["CMD", "true"], Interval: 2e9, Timeout: 1e9, Retries: 2 },
    });
    expect(app.env).toContain("GREETING=hello");
    const worker = comparable(await docker.getContainer(`${BERTH_PROJECT}-worker-1`).inspect(), BERTH_PROJECT, 0);
    expect(worker).toMatchObject({ memory: 32 * 1024 * 1024, running: true });
    // The network is berth's: made from the imported document and labelled with its controller.
    const network = await docker.getNetwork(`${BERTH_PROJECT}_default`).inspect();
    expect(network.Labels).toMatchObject({ "berth.controller": ID, "berth.object": "Network" });
    // Replicas: two each, no more.
    const berthWorkers = await docker.listContainers({
      all: true,
      filters: { name: [`${BERTH_PROJECT}-worker`] },
    });
    expect(berthWorkers.map((c) => c.Names[0]).sort()).toEqual([
      `/${BERTH_PROJECT}-worker-0`,
      `/${BERTH_PROJECT}-worker-1`,
    ]);
  }, 240_000);
});
