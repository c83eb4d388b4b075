/**
 * `berth apply` on a copy of the bundled specs, from nothing: every container created with every
 * spec field applied; then `berth plan` has nothing to do and a no-op pass writes nothing and
 * lists at most twice.
 *
 * The copy is the test's own (test/support/bundled.ts): its container names, named volumes and
 * host port are derived from the test's controller id or picked free, so that it runs beside
 * someone following the Quick start on the same host, and cleans up only what it made.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { buildConfig } from "../../src/config.js";
import { WRITE_OPERATIONS } from "../../src/docker/port.js";
import { silentLogger } from "../../src/util/log.js";
import { type PrivateBundle, privateBundle } from "../support/bundled.js";
import { berth, cleanup, containersOf, docker } from "../support/e2e.js";

const ID = `e2e-bundled-${process.pid}`;
const ENV = { DEMO_AGENT_TOKEN: "demo-token-value" };
let bundle: PrivateBundle;
let dir: string;
/** The copy's name of a bundled spec. */
let n: (bundled: string) => string;

async function removeOurVolumes(): Promise<void> {
  for (const volume of Object.values(bundle.volumes)) {
    await docker
      .getVolume(volume)
      .remove()
      .catch(() => undefined);
  }
}

beforeAll(async () => {
  bundle = await privateBundle(ID);
  dir = bundle.dir;
  n = (bundled) => {
    const name = bundle.names[bundled];
    if (name === undefined) throw new Error(`no bundled spec ${bundled}`);
    return name;
  };
  // Leftovers of an earlier run with the same id (a reused pid), and nothing else.
  await cleanup(ID);
  await removeOurVolumes();
});
afterAll(async () => {
  await cleanup(ID);
  await removeOurVolumes();
});

describe("berth apply on the bundled specs", () => {
  it("the copy gives every spec, named volume and host port one of its own", () => {
    expect(bundle.names).toEqual({
      "tidepool-agent-abc": `${ID}-tidepool-agent-abc`,
      "warm-pool": `${ID}-warm-pool`,
      web: `${ID}-web`,
      ticker: `${ID}-ticker`,
      "batch-worker": `${ID}-batch-worker`,
    });
    expect(bundle.volumes).toEqual({
      "berth-demo-workspace": `${ID}-berth-demo-workspace`,
      "berth-demo-cache": `${ID}-berth-demo-cache`,
    });
    expect(Object.keys(bundle.hostPorts)).toEqual(["18080"]);
    expect(bundle.hostPorts[18080]).not.toBe(18080);
  });

  it("creates every container, waits for health, exits 0", async () => {
    const result = await berth(["apply", "--id", ID, "--specs", dir], ENV);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`ok create  ${n("web")}: not found`);
    expect(result.stdout).toMatch(new RegExp(`${n("web")}\\s+Running\\s+1/1\\s+${n("web")}\\(running,healthy\\)`));
    expect(result.stdout).toMatch(new RegExp(`${n("batch-worker")}\\s+Suspended\\s+0/2`));
    expect(result.stdout.trim().split("\n").at(-1)).toBe("converged");
    expect(result.stdout + result.stderr).not.toContain(ENV.DEMO_AGENT_TOKEN);
    const containers = await containersOf(ID);
    expect(containers.map((c) => [c.name, c.state])).toEqual([
      [n("ticker"), "running"],
      [n("tidepool-agent-abc"), "running"],
      [`${n("warm-pool")}-0`, "running"],
      [`${n("warm-pool")}-1`, "running"],
      [`${n("warm-pool")}-2`, "running"],
      [n("web"), "running"],
    ]);
  });

  it("applies every spec field (docker inspect)", async () => {
    const agent = await docker.getContainer(n("tidepool-agent-abc")).inspect();
    expect(agent.Config.Labels).toMatchObject({
      "com.tidepool.bead_id": "tidepool-abc",
      "com.tidepool.role": "agent",
      "berth.controller": ID,
      "berth.spec": n("tidepool-agent-abc"),
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
      ["volume", bundle.volumes["berth-demo-cache"], "/cache"],
      ["volume", bundle.volumes["berth-demo-workspace"], "/workspace"],
    ]);

    const web = await docker.getContainer(n("web")).inspect();
    expect(web.Config.Healthcheck).toEqual({
      Test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"],
      Interval: 5e9,
      Timeout: 2e9,
      Retries: 3,
      StartPeriod: 1e9,
    });
    const port = bundle.hostPorts[18080];
    expect(web.HostConfig.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }] });
    expect(web.HostConfig.ReadonlyRootfs).toBe(true);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(await page.text()).toBe("hello from berth\n");

    const ticker = await docker.getContainer(n("ticker")).inspect();
    expect(ticker.HostConfig.RestartPolicy?.Name).toBe("on-failure");
    expect(ticker.Config.Env).toEqual(expect.arrayContaining(["TZ=UTC"]));
    const pool = await docker.getContainer(`${n("warm-pool")}-2`).inspect();
    expect(pool.Config.Labels).toMatchObject({
      "berth.spec": n("warm-pool"),
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
      [n("batch-worker"), "Suspended", 0],
      [n("ticker"), "Running", 1],
      [n("tidepool-agent-abc"), "Running", 1],
      [n("warm-pool"), "Running", 3],
      [n("web"), "Running", 1],
    ]);
  });
});
