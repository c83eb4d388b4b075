/**
 * `berth apply` on a copy of the bundled specs, from nothing: every container created with every
 * spec field applied; then `berth plan` has nothing to do and a no-op pass writes nothing and
 * lists at most twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { buildConfig } from "../../src/config.js";
import { WRITE_OPERATIONS } from "../../src/docker/port.js";
import { silentLogger } from "../../src/util/log.js";
import { berth, bundledCopy, cleanup, containersOf, docker } from "../support/e2e.js";

const ID = `e2e-bundled-${process.pid}`;
const NAMES = [
  "web",
  "tidepool-agent-abc",
  "warm-pool-0",
  "warm-pool-1",
  "warm-pool-2",
  "ticker",
  "batch-worker-0",
  "batch-worker-1",
];
const ENV = { DEMO_AGENT_TOKEN: "demo-token-value" };
let dir: string;

beforeAll(async () => {
  await cleanup(ID, NAMES);
  dir = bundledCopy();
});
afterAll(async () => {
  await cleanup(ID, NAMES);
  for (const volume of ["berth-demo-cache", "berth-demo-workspace", `berth-hash-key.${ID}`]) {
    await docker
      .getVolume(volume)
      .remove()
      .catch(() => undefined);
  }
});

describe("berth apply on the bundled specs", () => {
  it("creates every container, waits for health, exits 0", async () => {
    const result = await berth(["apply", "--id", ID, "--specs", dir], ENV);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ok create  web: not found");
    expect(result.stdout).toMatch(/web\s+Running\s+1\/1\s+web\(running,healthy\)/);
    expect(result.stdout).toMatch(/batch-worker\s+Suspended\s+0\/2/);
    expect(result.stdout.trim().split("\n").at(-1)).toBe("converged");
    expect(result.stdout + result.stderr).not.toContain(ENV.DEMO_AGENT_TOKEN);
    const containers = await containersOf(ID);
    expect(containers.map((c) => [c.name, c.state])).toEqual([
      ["ticker", "running"],
      ["tidepool-agent-abc", "running"],
      ["warm-pool-0", "running"],
      ["warm-pool-1", "running"],
      ["warm-pool-2", "running"],
      ["web", "running"],
    ]);
  });

  it("applies every spec field (docker inspect)", async () => {
    const agent = await docker.getContainer("tidepool-agent-abc").inspect();
    expect(agent.Config.Labels).toMatchObject({
      "com.tidepool.bead_id": "tidepool-abc",
      "com.tidepool.role": "agent",
      "berth.controller": ID,
      "berth.spec": "tidepool-agent-abc",
      "berth.replica": "0",
      "berth.expires_at": "2030-01-01T00:00:00Z",
      "berth.source": "agent.yaml",
    });
    expect(agent.Config.Labels["berth.hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(agent.Config.Env).toEqual(expect.arrayContaining(["NODE_ENV=development", "AGENT_TOKEN=demo-token-value"]));
    expect(JSON.stringify(agent.Config.Labels)).not.toContain("demo-token-value");
    expect(agent.Config.User).toBe("1000:1000");
    expect(agent.Config.WorkingDir).toBe("/workspace");
    expect(agent.Config.Hostname).toBe("tidepool-agent-abc");
    expect(agent.Config.Cmd).toEqual(["sleep", "infinity"]);
    expect(agent.HostConfig.Init).toBe(true);
    expect(agent.HostConfig.NetworkMode).toBe("bridge"); // network: auto, outside a container
    expect(agent.HostConfig.Memory).toBe(256 * 2 ** 20);
    expect(agent.HostConfig.MemoryReservation).toBe(128 * 2 ** 20);
    expect(agent.HostConfig.NanoCpus).toBe(1e9);
    expect(agent.HostConfig.PidsLimit).toBe(256);
    expect(agent.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(agent.HostConfig.SecurityOpt).toEqual(["no-new-privileges"]);
    expect(agent.HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
    expect(agent.Mounts.map((m) => [m.Type, m.Name ?? m.Source, m.Destination]).sort()).toEqual([
      ["tmpfs", "", "/tmp"],
      ["volume", "berth-demo-cache", "/cache"],
      ["volume", "berth-demo-workspace", "/workspace"],
    ]);

    const web = await docker.getContainer("web").inspect();
    expect(web.Config.Healthcheck).toEqual({
      Test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"],
      Interval: 5e9,
      Timeout: 2e9,
      Retries: 3,
      StartPeriod: 1e9,
    });
    expect(web.HostConfig.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }] });
    expect(web.HostConfig.ReadonlyRootfs).toBe(true);
    const page = await fetch("http://127.0.0.1:18080/");
    expect(await page.text()).toBe("hello from berth\n");

    const ticker = await docker.getContainer("ticker").inspect();
    expect(ticker.HostConfig.RestartPolicy?.Name).toBe("on-failure");
    expect(ticker.Config.Env).toEqual(expect.arrayContaining(["TZ=UTC"]));
    const pool = await docker.getContainer("warm-pool-2").inspect();
    expect(pool.Config.Labels).toMatchObject({
      "berth.spec": "warm-pool",
      "berth.replica": "2",
      "com.example.pool": "agents",
    });
  });

  it("then berth plan has nothing to do (exit 0)", async () => {
    const result = await berth(["plan", "--id", ID, "--specs", dir], ENV);
    expect(result).toMatchObject({ code: 0, stdout: "nothing to do\n" });
  });

  it("and a no-op reconcile pass makes no write call and at most two list calls", async () => {
    const calls: string[] = [];
    const config = buildConfig({ specs: [dir], id: ID });
    const previous = process.env.DEMO_AGENT_TOKEN;
    process.env.DEMO_AGENT_TOKEN = ENV.DEMO_AGENT_TOKEN;
    try {
      const app = createApp(config, { log: silentLogger(), hooks: { onDockerCall: (op) => calls.push(op) } });
      // A controller's first pass also reads its hash key (the agent spec has secrets), once.
      const first = await app.reconciler.pass({ reload: true });
      expect(first.plan.actions).toEqual([]);
      expect(calls.filter((op) => WRITE_OPERATIONS.has(op))).toEqual([]);
      calls.length = 0;
      const result = await app.reconciler.pass({ reload: true });
      expect(result.plan.actions).toEqual([]);
      expect(result.started).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.DEMO_AGENT_TOKEN;
      else process.env.DEMO_AGENT_TOKEN = previous;
    }
    expect(calls.filter((op) => WRITE_OPERATIONS.has(op))).toEqual([]);
    expect(calls.sort()).toEqual(["images", "list"]);
  });

  it("berth status shows every spec and its containers", async () => {
    const result = await berth(["status", "--id", ID, "--specs", dir, "-o", "json"], ENV);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      specs: { name: string; phase: string; replicas: { ready: number } }[];
    };
    expect(report.specs.map((s) => [s.name, s.phase, s.replicas.ready])).toEqual([
      ["batch-worker", "Suspended", 0],
      ["ticker", "Running", 1],
      ["tidepool-agent-abc", "Running", 1],
      ["warm-pool", "Running", 3],
      ["web", "Running", 1],
    ]);
  });
});
