/**
 * `--target swarm` (docs/swarm.md) end to end, through the built CLI, on a single-node swarm: a
 * private dockerd in its own network namespace (test/support/private-dockerd.ts, loopback up)
 * where `swarm init --advertise-addr 127.0.0.1` is made — never on the shared engine.
 * - apply makes one labelled service per spec and its replicas run; plan then exits 0;
 * - an env change is a service update (same service ID, a newer version, start-first), and plan
 *   names the changed field first;
 * - suspended scales to 0; a deleted file removes its service, under the prune guard;
 * - `berth run` removes a service when its spec expires;
 * - `berth logs` prints every task's lines prefixed NAME.SLOT@NODE, stderr on stderr, and follows;
 * - `berth get` lists a service's tasks: node and state, a crashed task's exit, an unplaceable one's reason;
 * - `berth rollout status --stable-for` reads the task history: a task of the version that ended
 *   fails it at once, an older version's failed tasks do not count;
 * - secretEnv becomes Swarm secrets (a file and <KEY>_FILE in the task); a rotation is a new
 *   secret and a start-first update, the old secret removed; the value is in no inspect, label,
 *   plan, status, log or request URL;
 * - a global service runs a task on the node; a published port (host mode) answers inside the
 *   daemon's network namespace, an ingress one is in the service's endpoint;
 * - the bundled specs: what a service can carry converges, the rest is refused at its field;
 * - fields a service cannot carry are refused with their path; placement under engine too; the
 *   admission policy refuses under swarm with the engine target's messages.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, berth, specDir, TEST_IMAGE, testId } from "../support/e2e.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { pollValue } from "../support/poll.js";
import type { PrivateDockerd } from "../support/private-dockerd.js";
import {
  removeServicesOf,
  runningTaskEnvs,
  type ServiceView,
  servicesOf,
  startPrivateSwarm,
} from "../support/private-swarm.js";
import { specText } from "../support/specs.js";

let daemon: PrivateDockerd;

beforeAll(async () => {
  // busybox:latest: the bundled specs' image.
  daemon = await startPrivateSwarm([TEST_IMAGE, "busybox:latest"]);
}, 120_000);
afterAll(async () => {
  // destroy removes the private daemon with its swarm: every service in it is this file's.
  await daemon.destroy();
}, 60_000);

const sleeper = (name: string, extra: readonly string[] = []): string =>
  specText(name, { image: TEST_IMAGE, extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s", ...extra] });

const services = (id: string): Promise<ServiceView[]> => servicesOf(daemon.docker, id);

async function running(serviceName: string): Promise<number> {
  const tasks = (await daemon.docker.listTasks({ filters: { service: [serviceName] } })) as {
    DesiredState: string;
    Status: { State: string };
  }[];
  return tasks.filter((t) => t.DesiredState === "running" && t.Status.State === "running").length;
}

const runningEnvs = (serviceName: string): Promise<string[][]> => runningTaskEnvs(daemon.docker, serviceName);

const swarm = (args: readonly string[], env: Record<string, string> = {}) =>
  berth([...args, "--target", "swarm"], {
    DOCKER_HOST: daemon.dockerHost,
    BERTH_STATE_DIR: path.join(daemon.dir, "state"),
    ...env,
  });

/** The running tasks' container IDs of a service, on the one node. */
async function taskContainers(serviceName: string): Promise<string[]> {
  const tasks = (await daemon.docker.listTasks({ filters: { service: [serviceName] } })) as {
    DesiredState: string;
    Status: { State: string; ContainerStatus?: { ContainerID?: string } };
  }[];
  return tasks
    .filter((t) => t.DesiredState === "running" && t.Status.State === "running")
    .map((t) => t.Status.ContainerStatus?.ContainerID ?? "");
}

/** A command in a task's container, through the private daemon (the docker CLI, as a user would look). */
const execIn = (container: string, command: readonly string[]): string =>
  execFileSync("docker", ["-H", daemon.dockerHost, "exec", container, ...command], { encoding: "utf8" });

/** Everything the engine shows about berth's services, secrets, tasks and their containers, as text. */
async function engineViews(id: string): Promise<string> {
  const mine = await services(id);
  const secrets = await daemon.docker.listSecrets({ filters: { label: [`berth.controller=${id}`] } });
  const tasks = await daemon.docker.listTasks({ filters: { service: mine.map((s) => s.ID) } });
  const containers = await Promise.all(
    (await daemon.docker.listContainers({ all: true })).map((c) => daemon.docker.getContainer(c.Id).inspect()),
  );
  return JSON.stringify({ services: mine, secrets, tasks, containers });
}

describe("berth --target swarm on a one-node swarm", () => {
  it("applies the bundled specs: what a service can carry converges, the rest is refused at its field", async () => {
    const id = testId("swarm-bundled");
    const bundled = path.resolve("specs");
    const applied = await swarm(["apply", "--id", id, "-f", bundled, "--timeout", "60s"]);
    // Docker 26 has no noNewPrivileges in the service API, pools are this host's, and Swarm
    // publishes on every address: each file that asks is refused, where it asks.
    expect(applied.code, applied.stdout + applied.stderr).toBe(1);
    const said = applied.stdout + applied.stderr;
    for (const refusal of [
      "agent.yaml:33:55: spec.securityContext.noNewPrivileges: not under --target swarm",
      "pool.yaml:17:9: spec.pool: not under --target swarm",
      "web.yaml:18:55: spec.ports[0].hostIP: not under --target swarm",
    ])
      expect(said).toContain(refusal);
    const made = await services(id);
    expect(made.map((s) => [s.Spec.Name, s.Spec.Mode.Replicated?.Replicas])).toEqual([
      ["batch-worker", 0],
      ["ticker", 1],
    ]);
    expect(
      await pollValue(
        () => running("ticker"),
        (n) => n === 1,
        30_000,
      ),
    ).toBe(1);
    // Removed again, so that the names are free for nothing else: the files are the repository's.
    for (const s of made) await daemon.docker.getService(s.ID).remove();
  });

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
      [BIN, "run", "--target", "swarm", "--id", id, "-f", dir, "--resync", "1m", "--listen", "off"],
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

  it("a run ends Succeeded or Failed, and apply waits for that, not for its timeout; a file whose name cannot be read keeps its service, Invalid", async () => {
    const id = testId("swarm-run");
    const [ok, bad, web] = [`${id}-ok`, `${id}-bad`, `${id}-web`];
    const job = (name: string, script: string): string =>
      specText(name, {
        image: TEST_IMAGE,
        extra: [`command: ["sh", "-c", ${JSON.stringify(script)}]`, "restartPolicy: Never", "replicas: 2"],
      });
    const dir = specDir({ "ok.yaml": job(ok, "exit 0"), "web.yaml": sleeper(web) });
    const started = Date.now();
    const applied = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(45_000);
    const rowOf = async (name: string) => {
      const data = JSON.parse((await swarm(["status", "--id", id, "-f", dir, "-o", "json"])).stdout) as {
        specs: { name: string; phase: string; message: string; expiresAt: string | null }[];
      };
      return data.specs.find((r) => r.name === name);
    };
    expect(await rowOf(ok)).toMatchObject({ phase: "Succeeded", message: "2/2 tasks completed", expiresAt: null });

    // A run that fails: apply says so at once (exit 1), without waiting out its timeout.
    writeFileSync(path.join(dir, "bad.yaml"), job(bad, "exit 3"));
    const failing = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(failing.code).toBe(1);
    expect(await rowOf(bad)).toMatchObject({
      phase: "Failed",
      message: `run ${bad} failed: task: non-zero exit (3) (2 of 2 tasks failed)`,
    });
    rmSync(path.join(dir, "bad.yaml"));

    // Broken past reading its name: the service stays, and status shows it Invalid with the file's error.
    writeFileSync(path.join(dir, "web.yaml"), "this: is: not: yaml: [\n");
    const status = await swarm(["status", "--id", id, "-f", dir]);
    expect(status.stdout).toMatch(
      new RegExp(
        `${web}\\s+Invalid\\s+1/1\\s+\\S+\\s+never\\s+.*web\\.yaml:1:\\d+: .*\\(its service is kept as it is\\)`,
      ),
    );
    expect((await services(id)).map((x) => x.Spec.Name)).toContain(web);
  }, 120_000);

  it("berth logs prints every task's lines with the task they came from, stderr apart, and follows", async () => {
    const id = testId("swarm-logs");
    const name = `${id}-talk`;
    const dir = specDir({
      "talk.yaml": specText(name, {
        image: TEST_IMAGE,
        replicas: 2,
        extra: ['command: ["sh", "-c", "echo hello; echo oops >&2; exec sleep 3600"]', "stopTimeout: 1s"],
      }),
    });
    expect((await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"])).code).toBe(0);
    const common = ["logs", "--id", id, name];
    // Both tasks' lines, once their containers have written them (and the log driver kept them).
    const both = (text: string): boolean => [1, 2].every((slot) => text.includes(`${name}.${slot}@`));
    const out = await pollValue(
      () => swarm(common),
      (r) => r.code === 0 && both(r.stdout) && both(r.stderr),
      30_000,
      300,
    );
    const lines = (text: string) => text.trim().split("\n").sort();
    expect(lines(out.stdout)).toEqual([
      expect.stringMatching(new RegExp(`^${name}\\.1@\\S+ \\| hello$`)),
      expect.stringMatching(new RegExp(`^${name}\\.2@\\S+ \\| hello$`)),
    ]);
    expect(lines(out.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^${name}\\.1@\\S+ \\| oops$`)),
      expect.stringMatching(new RegExp(`^${name}\\.2@\\S+ \\| oops$`)),
    ]);
    const stamped = await swarm([...common, "--timestamps"]);
    expect(stamped.stdout).toMatch(new RegExp(`^${name}\\.1@\\S+ \\| \\d{4}-\\d\\d-\\d\\dT\\S+Z hello$`, "m"));

    // -f: the lines so far, then it waits for more until interrupted (exit 0).
    const follow = spawn(process.execPath, [BIN, ...common, "--target", "swarm", "-f"], {
      env: { ...process.env, DOCKER_HOST: daemon.dockerHost, BERTH_STATE_DIR: path.join(daemon.dir, "state") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let followed = "";
    follow.stdout?.on("data", (chunk: Buffer) => (followed += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follow.once("close", resolve));
    try {
      expect(await pollValue(() => Promise.resolve(followed), both, 20_000, 100)).toContain("| hello");
      expect(follow.exitCode).toBeNull();
    } finally {
      follow.kill("SIGINT");
    }
    expect(await exited).toBe(0);

    // Only this controller's services: another id's, or no such service, is a usage error.
    const other = await swarm(["logs", "--id", `${id}-other`, name]);
    expect([other.code, other.stderr]).toEqual([
      1,
      expect.stringContaining(`no service ${name} managed by berth --id ${id}-other`),
    ]);
    expect((await swarm(["logs", "--id", id, "--build", name])).stderr).toContain("builds are --target engine's");
    await removeServicesOf(daemon.docker, id);
  }, 120_000);

  it("berth get lists a service's tasks: each replica's node and state, a crashed task's exit, why one cannot be placed", async () => {
    const id = testId("swarm-get");
    const [up, crash, big] = [`${id}-up`, `${id}-crash`, `${id}-big`];
    const dir = specDir({
      "up.yaml": sleeper(up, ["replicas: 2"]),
      "crash.yaml": specText(crash, {
        image: TEST_IMAGE,
        extra: ['command: ["sh", "-c", "exit 3"]', "stopTimeout: 1s"],
      }),
      // More memory reserved than the node has: Swarm cannot place it.
      "big.yaml": sleeper(big, ["resources: { memory: 64Ti, memoryReservation: 64Ti }"]),
    });
    // Two of three never converge: apply says so when its deadline passes.
    expect((await swarm(["apply", "--id", id, "-f", dir, "--timeout", "5s"])).code).toBe(1);
    const node = ((await daemon.docker.listNodes()) as { Description: { Hostname: string } }[])[0]?.Description
      .Hostname;
    expect(node).toBeTruthy();
    const get = (name: string, more: readonly string[] = []) =>
      swarm(["get", "--id", id, "-f", dir, "--server", "off", name, ...more]);

    const upOut = await pollValue(
      () => get(up),
      (r) => (r.stdout.match(/running {2,}running/g) ?? []).length === 2,
      30_000,
      300,
    );
    expect(upOut.code).toBe(0);
    expect(upOut.stdout).toContain("Phase:       Running\n");
    expect(upOut.stdout).toMatch(
      new RegExp(`^ {2}${up}\\.1 +[0-9a-z]{12} +${node} +running +running +yes +\\d+s ago$`, "m"),
    );
    expect(upOut.stdout).toMatch(
      new RegExp(`^ {2}${up}\\.2 +[0-9a-z]{12} +${node} +running +running +yes +\\d+s ago$`, "m"),
    );

    // A task that exits is failed with its exit code, kept below the slot's newer task; while
    // none runs, the spec is Pending in a crash loop.
    const crashed = await pollValue(
      () => get(crash),
      (r) => r.stdout.includes("task: non-zero exit (3)") && r.stdout.includes("; crash loop: "),
      60_000,
      500,
    );
    expect(crashed.stdout).toMatch(
      /^Message: +0\/1 tasks running; crash loop: \d+ tasks? failed \(in Swarm's task history\)$/m,
    );
    expect(crashed.stdout).toMatch(
      new RegExp(
        `^ {3}\\\\_ ${crash}\\.1 +[0-9a-z]{12} +${node} +shutdown +failed +yes +\\d+s ago +task: non-zero exit \\(3\\)$`,
        "m",
      ),
    );

    const stuck = await pollValue(
      () => get(big, ["-o", "json"]),
      (r) => r.stdout.includes("no suitable node"),
      30_000,
      300,
    );
    const status = JSON.parse(stuck.stdout) as { phase: string; tasks: Record<string, unknown>[] };
    expect(status.phase).toBe("Pending");
    expect(status.tasks).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-z]{25}$/),
        slot: 1,
        node: "",
        desiredState: "running",
        state: "pending",
        error: expect.stringMatching(/^no suitable node \(insufficient resources on 1 node\)$/),
        since: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      },
    ]);
    expect((await get(big)).stdout).toMatch(
      new RegExp(`^ {2}${big}\\.1 +[0-9a-z]{12} +- +running +pending .* no suitable node`, "m"),
    );

    const missing = await get(`${id}-none`);
    expect([missing.code, missing.stderr]).toEqual([
      1,
      expect.stringContaining(`no spec ${id}-none (specs: ${big}, ${crash}, ${up})`),
    ]);
    await removeServicesOf(daemon.docker, id);
  }, 150_000);

  it("apply --stable-for fails at a task that crashes after it started, and passes steady ones after the wait", async () => {
    const id = testId("swarm-stable");
    const [up, crash] = [`${id}-up`, `${id}-crash`];
    const dir = specDir({
      "up.yaml": sleeper(up),
      "crash.yaml": specText(crash, {
        image: TEST_IMAGE,
        extra: ['command: ["sh", "-c", "sleep 1; exit 3"]', "stopTimeout: 1s"],
      }),
    });
    const started = Date.now();
    const failed = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "90s", "--stable-for", "30s"]);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout).toMatch(
      new RegExp(`^failed task ${crash}\\.1 failed at \\S+: task: non-zero exit \\(3\\)$`, "m"),
    );
    expect(failed.stdout).toMatch(/^not stable for 30s: 1 task\(s\) ended since apply began$/m);
    expect(failed.stdout).not.toContain(`task ${up}.`);
    // Said when it came, not after the wait.
    expect(Date.now() - started).toBeLessThan(30_000);

    rmSync(path.join(dir, "crash.yaml"));
    const ok = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s", "--stable-for", "3s"]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^converged; waiting 3s for every task to stay up \(--stable-for\)$/m);
    expect(ok.stdout).toMatch(/^converged$/m);
    await removeServicesOf(daemon.docker, id);
  }, 150_000);

  it("rollout status --stable-for: fails at once when Swarm restarts a task of the version, waits out a steady one's window, and counts no older version's failed tasks", async () => {
    const id = testId("swarm-stable-status");
    const web = `${id}-web`;
    const spec = (script: string) =>
      specText(web, {
        image: TEST_IMAGE,
        extra: [`command: ["sh", "-c", ${JSON.stringify(script)}]`, "stopTimeout: 1s"],
      });
    const dir = specDir({ "web.yaml": spec("sleep 6; exit 3") });
    const status = (stableFor: string) =>
      swarm(["rollout", "status", web, "--id", id, "-f", dir, "--stable-for", stableFor, "--timeout", "60s"]);
    const first = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const started = Date.now();
    const crashed = await status("30s");
    expect(crashed.code, crashed.stdout + crashed.stderr).toBe(1);
    expect(crashed.stdout).toMatch(
      new RegExp(`^${web}: rolled out; waiting until ${web}\\.1 has stayed up 30s \\(\\S+Z\\)$`, "m"),
    );
    expect(crashed.stdout).toMatch(
      new RegExp(
        `^${web}: not stable for 30s: ${web}\\.1 (is being restarted by Swarm|was restarted by Swarm \\d+s ago) \\(\\d+ tasks? of the version ended; the last, [0-9a-z]{12}, failed at \\S+Z: task: non-zero exit \\(3\\)`,
        "m",
      ),
    );
    // Said when it came, not after the window.
    expect(Date.now() - started).toBeLessThan(30_000);

    // A steady version: the failed tasks of the one before stay in the slot's history, not counted.
    writeFileSync(path.join(dir, "web.yaml"), spec("sleep 3600"));
    const fixed = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    // berth get marks them: not up to date.
    const get = await swarm(["get", web, "--id", id, "-f", dir, "--server", "off"]);
    expect(get.stdout).toMatch(new RegExp(`^ {2}${web}\\.1 +[0-9a-z]{12} +\\S+ +running +running +yes +`, "m"));
    expect(get.stdout).toMatch(
      new RegExp(
        `^ {3}\\\\_ ${web}\\.1 +[0-9a-z]{12} +\\S+ +shutdown +failed +no +.*task: non-zero exit \\(3\\)$`,
        "m",
      ),
    );
    // Longer than the update took to complete (its 5 s monitor): the task is young, its slot has
    // failed tasks, and only Swarm's word that they are of the version before keeps them out.
    const steady = await status("12s");
    expect(steady.code, steady.stdout + steady.stderr).toBe(0);
    expect(steady.stdout).toMatch(
      new RegExp(`^${web}: rolled out; waiting until ${web}\\.1 has stayed up 12s \\(\\S+Z\\)$`, "m"),
    );
    expect(steady.stdout).toMatch(
      new RegExp(`^${web}: stable: ${web}\\.1 has run 12s or longer without a restart$`, "m"),
    );
    await removeServicesOf(daemon.docker, id);
  }, 150_000);

  it("stableFor is the update's monitor: a version whose task crashes within it pauses the update, apply fails, the other replica keeps the old", async () => {
    const id = testId("swarm-stablefor");
    const web = `${id}-web`;
    const spec = (version: string, script: string) =>
      specText(web, {
        image: TEST_IMAGE,
        replicas: 2,
        extra: [
          `command: ["sh", "-c", ${JSON.stringify(script)}]`,
          `env: { VERSION: "${version}" }`,
          "stableFor: 20s",
          "stopTimeout: 1s",
        ],
      });
    const dir = specDir({ "web.yaml": spec("1", "sleep 3600") });
    const first = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const [service] = await services(id);
    expect(service?.Spec.UpdateConfig).toMatchObject({ Monitor: 20e9, Delay: 20e9, FailureAction: "pause" });
    const rollout = (timeout: string) => swarm(["rollout", "status", web, "--id", id, "-f", dir, "--timeout", timeout]);
    const done = await rollout("30s");
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toBe(`${web}: rolled out: 2 of 2 tasks updated, 2 running\n`);

    writeFileSync(path.join(dir, "web.yaml"), spec("2", "sleep 1; exit 3"));
    const bad = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "90s"]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(/update paused: update paused due to failure or early termination of task/);
    // One task was updated and failed; the other still runs version 1.
    expect((await runningEnvs(web)).filter((env) => env.includes("VERSION=1"))).toHaveLength(1);
    // berth rollout status: the paused update fails it at once.
    const paused = await rollout("30s");
    expect(paused.code, paused.stdout + paused.stderr).toBe(1);
    // The task still on version 1 is not counted updated (Swarm's _up-to-date filter says so).
    expect(paused.stdout).toMatch(
      new RegExp(`^${web}: rollout failed: [01] of 2 tasks updated, \\d running: .*update paused`, "m"),
    );
    // Swarm keeps no record to remove; and a forced update (berth restart) is refused while the
    // update is paused: it would roll version 2 onto the task that still serves version 1.
    const retry = await swarm(["rollout", "retry", web, "--id", id, "-f", dir]);
    expect(retry.code).toBe(1);
    expect(retry.stderr).toContain("a paused update goes on when the spec or its image changes");
    const forced = await swarm(["restart", web, "--id", id, "-f", dir]);
    expect(forced.code, forced.stdout + forced.stderr).toBe(1);
    expect(forced.stderr).toContain(`cannot restart: ${web}'s update is paused (`);
    expect((await runningEnvs(web)).filter((env) => env.includes("VERSION=1"))).toHaveLength(1);
    await removeServicesOf(daemon.docker, id);
  }, 150_000);

  it("berth restart replaces a service's tasks as docker service update --force does, and a later apply undoes nothing", async () => {
    const id = testId("swarm-restart");
    const web = `${id}-web`;
    const dir = specDir({ "web.yaml": sleeper(web, ["replicas: 2"]) });
    const first = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const before = await taskContainers(web);
    expect(before).toHaveLength(2);

    const restarted = await swarm(["restart", web, "--id", id, "-f", dir]);
    expect(restarted.code, restarted.stdout + restarted.stderr).toBe(0);
    expect(restarted.stdout).toMatch(new RegExp(`^restarted ${web}: its tasks were replaced \\(`, "m"));
    expect(restarted.stdout).toMatch(/^1 service restarted$/m);
    const after = await taskContainers(web);
    expect(after).toHaveLength(2);
    expect(after.filter((c) => before.includes(c))).toEqual([]);
    expect((await services(id))[0]?.Spec.TaskTemplate.ForceUpdate).toBe(1);

    // The spec did not change: apply finds nothing to do, and the tasks stay.
    const again = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect((await taskContainers(web)).sort()).toEqual([...after].sort());

    const unknown = await swarm(["restart", `${id}-nope`, "--id", id, "-f", dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`cannot restart: no spec named ${id}-nope`);
    await removeServicesOf(daemon.docker, id);
  }, 150_000);

  it("gives a task's container the spec's hosts, resolver, stop signal and log driver", async () => {
    const id = testId("swarm-host-options");
    const name = `${id}-web`;
    const dir = specDir({
      "web.yaml": sleeper(name, [
        "hostAliases: [{ ip: 10.0.0.5, hostnames: [db.internal, store.internal] }, { ip: host-gateway, hostnames: [gw.internal] }]",
        "dnsConfig: { nameservers: [10.0.0.2], searches: [corp.example], options: [{ name: ndots, value: '2' }] }",
        "stopSignal: SIGQUIT",
        "logging: { driver: local, options: { max-size: 1m } }",
      ]),
    });
    const applied = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const [container] = await pollValue(
      () => taskContainers(name),
      (ids) => ids.length === 1,
      30_000,
      300,
    );
    if (!container) throw new Error("no running task");
    const inspect = await daemon.docker.getContainer(container).inspect();
    expect((inspect.Config as { StopSignal?: string }).StopSignal).toBe("SIGQUIT");
    expect(inspect.HostConfig.LogConfig).toEqual({ Type: "local", Config: { "max-size": "1m" } });
    const hosts = execIn(container, ["cat", "/etc/hosts"]);
    expect(hosts).toMatch(/^10\.0\.0\.5\s+db\.internal$/m);
    expect(hosts).toMatch(/^10\.0\.0\.5\s+store\.internal$/m);
    expect(hosts).toMatch(/^\d+\.\d+\.\d+\.\d+\s+gw\.internal$/m);
    const resolv = execIn(container, ["cat", "/etc/resolv.conf"]);
    expect(resolv).toMatch(/^nameserver 10\.0\.0\.2$/m);
    expect(resolv).toMatch(/^search corp\.example$/m);
    expect(resolv).toMatch(/^options ndots:2$/m);
    await removeServicesOf(daemon.docker, id);
  }, 120_000);

  it("makes secretEnv Swarm secrets, rotates them with a start-first update, and never shows the value", async () => {
    const id = testId("swarm-sec");
    const name = `${id}-s`;
    const secrets = path.join(daemon.dir, `secrets-${id}`);
    mkdirSync(secrets);
    const [first, second] = [`v1-${id}-${process.pid}-hush`, `v2-${id}-${process.pid}-hush`];
    writeFileSync(path.join(secrets, "token"), `${first}\n`);
    const dir = specDir({
      "s.yaml": sleeper(name, ["replicas: 2", `secretEnv: { TOKEN: { fromFile: ${secrets}/token } }`]),
    });
    const args = ["--id", id, "-f", dir, "--allow-secret-dir", secrets];
    const said: string[] = [];
    // berth talks to the engine through a recording proxy: every request's URL is kept.
    const proxy = await FaultProxy.start(daemon.socketPath);
    const run = async (cmd: readonly string[]) => {
      const r = await swarm([...cmd, ...args], { DOCKER_HOST: proxy.dockerHost });
      said.push(r.stdout, r.stderr);
      return r;
    };

    const plan = await run(["plan"]);
    // berth-<id>-<spec>-TOKEN-<digest12>, shortened to Swarm's 64 characters (these names are long).
    const secretLine = /\+ secret (berth-\S+-[0-9a-f]{12})\n/.exec(plan.stdout);
    expect(plan.stdout).toContain(`create  service ${name}: not found\n`);
    expect(secretLine?.[1]?.length).toBeLessThanOrEqual(64);
    const applied = await run(["apply", "--timeout", "60s"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const made = await daemon.docker.listSecrets({ filters: { label: [`berth.controller=${id}`] } });
    expect(made).toHaveLength(1);
    const secret = made[0] as { ID: string; Spec: { Name: string; Labels: Record<string, string> } };
    expect(secret.Spec.Labels).toMatchObject({
      "berth.controller": id,
      "berth.spec": name,
      "berth.secret_key": "TOKEN",
    });
    expect(secret.Spec.Labels["berth.secret_digest"]).toMatch(/^[0-9a-f]{64}$/);
    // The task sees the value as a file, named by TOKEN_FILE.
    const [task] = await taskContainers(name);
    expect(execIn(task ?? "", ["sh", "-c", 'echo "$TOKEN_FILE"; cat "$TOKEN_FILE"'])).toBe(
      `/run/secrets/TOKEN\n${first}`,
    );
    const before = (await services(id))[0] as ServiceView;

    // Rotation: the file changes; a new secret, an update of the same service (start-first), the old secret removed.
    writeFileSync(path.join(secrets, "token"), `${second}\n`);
    const pending = await run(["plan"]);
    expect(pending.stdout).toContain(`update  service ${name} [${before.ID.slice(0, 12)}] StartFirst: hash changed\n`);
    expect(pending.stdout).toContain("    ~ secretEnv.TOKEN: (value changed)\n");
    const rotated = await run(["apply", "--timeout", "60s"]);
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`remove  secret ${secret.Spec.Name}`);
    const after = (await services(id))[0] as ServiceView;
    expect([after.ID, after.Spec.UpdateConfig?.Order]).toEqual([before.ID, "start-first"]);
    expect(after.Version.Index).toBeGreaterThan(before.Version.Index);
    const now = (await daemon.docker.listSecrets({ filters: { label: [`berth.controller=${id}`] } })) as {
      ID: string;
    }[];
    expect(now.map((x) => x.ID)).not.toContain(secret.ID);
    expect(now).toHaveLength(1);
    const tasks = await taskContainers(name);
    expect(tasks).toHaveLength(2);
    for (const t of tasks) expect(execIn(t, ["cat", "/run/secrets/TOKEN"])).toBe(second);
    said.push((await run(["status", "-o", "json"])).stdout, (await run(["plan"])).stdout);

    // Neither value anywhere berth or the engine shows: inspect, labels, plan, apply, status, logs.
    const shown = `${await engineViews(id)}\n${said.join("\n")}`;
    expect(shown).toContain(`TOKEN_FILE=/run/secrets/TOKEN`);
    for (const value of [first, second]) expect(shown.includes(value), "a secret value is shown").toBe(false);
    // Nor in a request's URL (the secret's Data is the value in base64), where a proxy or the
    // engine's debug log keeps it: the secret creates sent it in their bodies only.
    await proxy.close();
    const urls = proxy.seen.map((r) => `${r.method} ${r.path}`);
    expect(urls.filter((u) => u.startsWith("POST /secrets/create"))).toHaveLength(2);
    for (const value of [first, second]) {
      const base64 = Buffer.from(value).toString("base64");
      for (const form of [value, base64, encodeURIComponent(base64)])
        expect(urls.filter((u) => u.includes(form))).toEqual([]);
    }

    // The file gone: the service goes, then its secret.
    rmSync(path.join(dir, "s.yaml"));
    writeFileSync(path.join(dir, "other.yaml"), sleeper(`${id}-o`));
    expect((await swarm(["apply", "--force-prune", "--timeout", "60s", ...args])).code).toBe(0);
    expect((await services(id)).map((x) => x.Spec.Name)).toEqual([`${id}-o`]);
    expect(await daemon.docker.listSecrets({ filters: { label: [`berth.controller=${id}`] } })).toEqual([]);
  }, 120_000);

  it("runs a global service on the node and publishes ports in host and ingress mode", async () => {
    const id = testId("swarm-glob");
    const [g, w] = [`${id}-g`, `${id}-w`];
    const web = (port: number, mode: string, replicas = 1) =>
      specText(w, {
        image: TEST_IMAGE,
        replicas,
        extra: [
          `command: ["sh", "-c", "echo berth-port-ok > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"]`,
          "stopTimeout: 1s",
          `ports: [{ containerPort: 8080, hostPort: ${port}, hostIP: 0.0.0.0, mode: ${mode} }]`,
        ],
      });
    const dir = specDir({ "g.yaml": sleeper(g, ["global: true"]), "w.yaml": web(18480, "host") });
    const args = ["--id", id, "-f", dir, "--allow-host-ip", "0.0.0.0"];
    const applied = await swarm(["apply", "--timeout", "60s", ...args]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const [global, published] = await services(id);
    expect(global?.Spec.Mode).toEqual({ Global: {} });
    expect(await running(g)).toBe(1);
    const data = JSON.parse((await swarm(["status", "-o", "json", ...args])).stdout) as {
      specs: { name: string; phase: string; running: number; desired: number; global: boolean }[];
    };
    expect(data.specs.find((r) => r.name === g)).toMatchObject({
      phase: "Running",
      running: 1,
      desired: 1,
      global: true,
    });
    expect((published as unknown as { Spec: { EndpointSpec: unknown } }).Spec.EndpointSpec).toMatchObject({
      Ports: [{ Protocol: "tcp", TargetPort: 8080, PublishedPort: 18480, PublishMode: "host" }],
    });
    // A host-mode port is the node's: a second task could not bind it while the first runs.
    expect(published?.Spec.UpdateConfig?.Order).toBe("stop-first");
    // Host mode: the node binds the port; fetched from inside the daemon's network namespace.
    const pid = readFileSync(path.join(daemon.dir, "docker.pid"), "utf8").trim();
    // node's fetch inside that namespace (nsenter): the port is the node's, not this host's.
    const fetchIn = (port: number) =>
      execFileSync(
        "nsenter",
        [
          "-t",
          pid,
          "-n",
          process.execPath,
          "-e",
          `fetch("http://127.0.0.1:${port}/index.html").then((r) => r.text()).then((t) => process.stdout.write(t))`,
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
      );
    const answer = await pollValue(
      () =>
        Promise.resolve()
          .then(() => fetchIn(18480))
          .catch(() => ""),
      (text) => text !== "",
      20_000,
      250,
    );
    expect(answer).toBe("berth-port-ok\n");

    // Ingress (the default mode): an update of the service's endpoint. The routing mesh needs IPVS,
    // which this kernel lacks (dockerd: "Could not get ipvs family information"), so the port is
    // checked in the service's endpoint as the engine reports it, not connected to.
    // Two replicas share it (the engine target refuses that), and they update start-first: the
    // mesh serves the port from the old task and the new one alike.
    writeFileSync(path.join(dir, "w.yaml"), web(18481, "ingress", 2));
    expect((await swarm(["apply", "--timeout", "60s", ...args])).code).toBe(0);
    const ingress = (await services(id))[1] as unknown as {
      Spec: { EndpointSpec: unknown; UpdateConfig?: { Order: string } };
      Endpoint: { Ports?: unknown[] };
    };
    expect(ingress.Spec.UpdateConfig?.Order).toBe("start-first");
    expect(await running(w)).toBe(2);
    expect(ingress.Spec.EndpointSpec).toMatchObject({
      Ports: [{ Protocol: "tcp", TargetPort: 8080, PublishedPort: 18481, PublishMode: "ingress" }],
    });
    expect(ingress.Endpoint.Ports).toEqual([expect.objectContaining({ PublishedPort: 18481, PublishMode: "ingress" })]);
  }, 120_000);

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

    // The admission policy: the same refusals, with the same messages, under either target.
    const risky = specDir({
      "r.yaml": sleeper(`${id}-r`, [
        "mounts: [{ type: bind, source: /etc, target: /host-etc }]",
        "securityContext: { capAdd: [SYS_ADMIN] }",
        "ports: [{ containerPort: 80, hostPort: 80, hostIP: 0.0.0.0 }]",
      ]),
    });
    const underSwarm = await swarm(["validate", "-f", risky]);
    const underEngine = await berth(["validate", "-f", risky]);
    expect(underSwarm.code).toBe(1);
    expect(underSwarm.stderr + underSwarm.stdout).toMatch(/spec\.mounts\[0\]\.source: .*\[policy baseline/);
    expect(underSwarm.stderr + underSwarm.stdout).toMatch(/spec\.securityContext\.capAdd\[0\]: .*\[policy baseline/);
    expect(underSwarm.stderr + underSwarm.stdout).toMatch(/spec\.ports\[0\]\.hostPort: host port 80 is outside/);
    expect(underSwarm.stderr + underSwarm.stdout).toBe(underEngine.stderr + underEngine.stdout);
  });
});
