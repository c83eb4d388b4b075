/**
 * `--target swarm` (docs/swarm.md) end to end, through the built CLI, on a single-node swarm: a
 * private dockerd in its own network namespace (test/support/private-dockerd.ts, loopback up)
 * where `swarm init --advertise-addr 127.0.0.1` is made — never on the shared engine.
 * - apply makes one labelled service per spec and its replicas run; plan then exits 0;
 * - an env change is a service update (same service ID, a newer version, start-first), and plan
 *   names the changed field first;
 * - suspended scales to 0; a deleted file removes its service, under the prune guard;
 * - `berth run` removes a service when its spec expires;
 * - fields a service cannot carry are refused with their path; placement under engine too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, berth, specDir, TEST_IMAGE, testId } from "../support/e2e.js";
import { pollValue } from "../support/poll.js";
import { PrivateDockerd } from "../support/private-dockerd.js";
import { specText } from "../support/specs.js";

let daemon: PrivateDockerd;

beforeAll(async () => {
  daemon = await PrivateDockerd.create([TEST_IMAGE], { loopback: true });
  await daemon.docker.swarmInit({ ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1" });
}, 120_000);
afterAll(async () => {
  // destroy removes the private daemon with its swarm: every service in it is this file's.
  await daemon.destroy();
}, 60_000);

const sleeper = (name: string, extra: readonly string[] = []): string =>
  specText(name, { image: TEST_IMAGE, extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s", ...extra] });

interface ServiceView {
  readonly ID: string;
  readonly Version: { Index: number };
  readonly Spec: {
    Name: string;
    Labels: Record<string, string>;
    Mode: { Replicated?: { Replicas: number } };
    UpdateConfig?: { Order: string };
    TaskTemplate: { ContainerSpec: { Env?: string[]; Labels?: Record<string, string> } };
  };
}

async function services(id: string): Promise<ServiceView[]> {
  const list = (await daemon.docker.listServices({ filters: { label: [`berth.controller=${id}`] } })) as ServiceView[];
  return list.sort((a, b) => (a.Spec.Name < b.Spec.Name ? -1 : 1));
}

async function running(serviceName: string): Promise<number> {
  const tasks = (await daemon.docker.listTasks({ filters: { service: [serviceName] } })) as {
    DesiredState: string;
    Status: { State: string };
  }[];
  return tasks.filter((t) => t.DesiredState === "running" && t.Status.State === "running").length;
}

async function runningEnvs(serviceName: string): Promise<string[][]> {
  const tasks = (await daemon.docker.listTasks({ filters: { service: [serviceName] } })) as {
    DesiredState: string;
    Status: { State: string };
    Spec: { ContainerSpec: { Env?: string[] } };
  }[];
  return tasks
    .filter((t) => t.DesiredState === "running" && t.Status.State === "running")
    .map((t) => t.Spec.ContainerSpec.Env ?? []);
}

const swarm = (args: readonly string[]) =>
  berth([...args, "--target", "swarm"], {
    DOCKER_HOST: daemon.dockerHost,
    BERTH_STATE_DIR: path.join(daemon.dir, "state"),
  });

describe("berth --target swarm on a one-node swarm", () => {
  it("applies specs as labelled services, updates one in place, scales, and prunes under the guard", async () => {
    const id = testId("swarm");
    const [a, b, c] = [`${id}-a`, `${id}-b`, `${id}-c`];
    const dir = specDir({
      "a.yaml": sleeper(a, ["replicas: 2", "env: { MODE: one }"]),
      "b.yaml": sleeper(b, ["resources: { memory: 32Mi, memoryReservation: 16Mi }"]),
      "c.yaml": sleeper(c),
    });

    const applied = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(applied.stderr).toBe("");
    expect(applied.code, applied.stdout).toBe(0);
    expect(applied.stdout).toContain(`create  service ${a}: not found`);
    const made = await services(id);
    expect(made.map((s) => s.Spec.Name)).toEqual([a, b, c]);
    const first = made[0] as ServiceView;
    expect(first.Spec.Labels).toMatchObject({ "berth.controller": id, "berth.spec": a, "berth.expires_at": "never" });
    expect(first.Spec.Labels["berth.hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(first.Spec.Mode.Replicated?.Replicas).toBe(2);
    // The tasks' containers never carry the controller label: an engine-target berth would own them.
    expect(first.Spec.TaskTemplate.ContainerSpec.Labels ?? {}).not.toHaveProperty("berth.controller");
    expect(await running(a)).toBe(2);

    const quiet = await swarm(["plan", "--id", id, "-f", dir]);
    expect([quiet.code, quiet.stdout]).toEqual([0, "nothing to do\n"]);
    const status = await swarm(["status", "--id", id, "-f", dir]);
    expect(status.stdout).toMatch(new RegExp(`${a}\\s+Running\\s+2/2`));
    const data = JSON.parse((await swarm(["status", "--id", id, "-f", dir, "-o", "json"])).stdout) as {
      specs: { name: string; phase: string; running: number; desired: number; nodes: string[]; serviceId: string }[];
    };
    expect(data.specs.find((r) => r.name === a)).toMatchObject({
      phase: "Running",
      running: 2,
      desired: 2,
      nodes: [expect.any(String)],
      serviceId: first.ID,
    });

    // An env change: an update of the same service, start-first, with the field named.
    writeFileSync(path.join(dir, "a.yaml"), sleeper(a, ["replicas: 2", "env: { MODE: two }"]));
    const pending = await swarm(["plan", "--id", id, "-f", dir]);
    expect(pending.code).toBe(2);
    expect(pending.stdout).toContain(`update  service ${a} [${first.ID.slice(0, 12)}] StartFirst: hash changed\n`);
    expect(pending.stdout).toContain("    ~ env.MODE: one → two\n");
    expect((await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"])).code).toBe(0);
    const updated = (await services(id))[0] as ServiceView;
    expect(updated.ID).toBe(first.ID);
    expect(updated.Version.Index).toBeGreaterThan(first.Version.Index);
    expect(updated.Spec.UpdateConfig?.Order).toBe("start-first");
    expect(updated.Spec.TaskTemplate.ContainerSpec.Env).toEqual(["MODE=two"]);
    // The tasks rolled: the two running now are new ones, made from the new spec.
    expect(await runningEnvs(a)).toEqual([["MODE=two"], ["MODE=two"]]);

    // Suspended: scaled to 0, the service kept.
    writeFileSync(path.join(dir, "c.yaml"), sleeper(c, ["suspended: true"]));
    const suspended = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(suspended.stdout).toContain(`scale   service ${c}`);
    expect(suspended.stdout).toContain("1 -> 0: suspended");
    expect((await services(id)).find((s) => s.Spec.Name === c)?.Spec.Mode.Replicated?.Replicas).toBe(0);

    // Two of three files gone: more than --prune-max-share 0.5 would go, so nothing does.
    rmSync(path.join(dir, "b.yaml"));
    rmSync(path.join(dir, "c.yaml"));
    const guarded = await swarm(["plan", "--id", id, "-f", dir]);
    expect(guarded.stdout).toContain("! pruning paused: 2 of 3 services would be removed");
    expect(guarded.code).toBe(0);
    // One gone: its service goes.
    writeFileSync(path.join(dir, "c.yaml"), sleeper(c, ["suspended: true"]));
    const pruned = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(pruned.stdout).toContain(`remove  service ${b}`);
    expect(pruned.stdout).toContain(": orphaned");
    expect((await services(id)).map((s) => s.Spec.Name)).toEqual([a, c]);
  }, 90_000);

  it("berth run removes a service when its spec expires", async () => {
    const id = testId("swarm-exp");
    const name = `${id}-x`;
    const expiresAt = new Date(Date.now() + 8_000).toISOString();
    const dir = specDir({ "x.yaml": sleeper(name, [`expiresAt: "${expiresAt}"`]) });
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, "run", "--target", "swarm", "--id", id, "-f", dir, "--resync", "1m"],
      {
        env: { ...process.env, DOCKER_HOST: daemon.dockerHost, BERTH_STATE_DIR: path.join(daemon.dir, "state") },
        stdio: "ignore",
      },
    );
    try {
      const made = await pollValue(
        () => services(id),
        (s) => s.length === 1,
        20_000,
        200,
      );
      expect(Date.parse(made[0]?.Spec.Labels["berth.expires_at"] ?? "")).toBe(Date.parse(expiresAt));
      const gone = await pollValue(
        () => services(id),
        (s) => s.length === 0,
        30_000,
        200,
      );
      expect(gone).toEqual([]);
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    } finally {
      child.kill("SIGTERM");
    }
  }, 60_000);

  it("refuses what a service cannot carry, each at its path, and placement under --target engine", async () => {
    const id = testId("swarm-refuse");
    const dir = specDir({
      "bad.yaml": sleeper(`${id}-bad`, ["network: container:other", "securityContext: { privileged: true }"]),
    });
    const refused = await swarm(["validate", "-f", dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr + refused.stdout).toMatch(/bad\.yaml:\d+:\d+: spec\.network: not under --target swarm/);
    expect(refused.stderr + refused.stdout).toMatch(
      /bad\.yaml:\d+:\d+: spec\.securityContext\.privileged: not under --target swarm/,
    );
    const placed = specDir({ "p.yaml": sleeper(`${id}-p`, ['placement: { constraints: ["node.role==manager"] }']) });
    expect((await swarm(["validate", "-f", placed])).code).toBe(0);
    const engine = await berth(["validate", "-f", placed]);
    expect(engine.code).toBe(1);
    expect(engine.stderr + engine.stdout).toMatch(/p\.yaml:\d+:\d+: spec\.placement: placement is for --target swarm/);
  });
});
