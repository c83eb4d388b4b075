/**
 * Runs that finish (docs/runs.md), end to end against the real engine through the built CLI:
 * Succeeded, Failed with the exit code, OOMKilled; never run again by a new berth process, with
 * the engine's own restart policy "no"; activeDeadline stops a run (DeadlineExceeded);
 * ttlAfterFinished removes the container, and a spec written through the API with it; a
 * docker-spawner agent that exits reads `exited` until it is stopped.
 */
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pollUntil, pollValue } from "../support/poll.js";
import {
  berth,
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
  waitContainers,
} from "../support/e2e.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "runs-test-token-0123456789abcdef";
const auth = { authorization: `Bearer ${TOKEN}` };
const AGENT_IMAGE = `berth-test/runs-agent-${process.pid}:latest`;

const id = testIds();
let controller: RunningBerth | undefined;

afterEach(async () => {
  if (controller) {
    expect(await controller.stop()).toBe(0);
    controller = undefined;
  }
});

// An agent that works for a moment and exits.
beforeAll(() => commitImage(AGENT_IMAGE.split(":")[0] ?? "", ["sh", "-c", "sleep 1; exit 0"]));
afterAll(() => removeImage(AGENT_IMAGE));

/** A run: busybox's sh with `script`, restartPolicy Never. */
const run = (name: string, script: string, extra: readonly string[] = []): string =>
  specText(name, {
    image: TEST_IMAGE,
    extra: [`command: ["sh", "-c", ${JSON.stringify(script)}]`, "restartPolicy: Never", "stopTimeout: 2s", ...extra],
  });

interface ContainerOutcome {
  readonly id: string;
  readonly state: string;
  readonly exitCode: number | null;
  readonly reason: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly collected: boolean;
}

interface SpecView {
  readonly phase: string;
  readonly message: string | null;
  readonly collected: boolean;
  readonly containers: readonly ContainerOutcome[];
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${controller?.url}${url}`, { headers: auth });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The spec's status once `check` holds (GET /v1/specs/{name}); fails the test with the last seen otherwise. */
async function specOnce(name: string, what: string, check: (s: SpecView) => boolean): Promise<SpecView> {
  let last: unknown = null;
  const found = await pollValue(
    async () => {
      const answer = await get(`/v1/specs/${name}`);
      last = answer.body;
      return answer.status === 200 ? (answer.body as unknown as SpecView) : null;
    },
    (s) => s !== null && check(s),
    60_000,
  );
  if (found === null || !check(found))
    throw new Error(
      `${name}: no ${what} within 60 s; last seen ${JSON.stringify(last)}\n${controller?.recentLogs() ?? ""}`,
    );
  return found;
}

describe("runs that finish", () => {
  it("exit 0 is Succeeded, exit 3 Failed with its code, an OOM kill Failed OOMKilled; a new berth runs none again", async () => {
    const c = id("runs-outcome");
    const [ok, bad, oom] = [`${c}-ok`, `${c}-bad`, `${c}-oom`];
    const dir = specDir({
      "ok.yaml": run(ok, "exit 0"),
      "bad.yaml": run(bad, "exit 3"),
      "oom.yaml": run(oom, 'x=$(head -c 200m /dev/zero | tr "\\0" a)', ["resources: { memory: 8Mi }"]),
    });
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1s"], { BERTH_API_TOKEN: TOKEN });

    const succeeded = await specOnce(ok, "Succeeded", (s) => s.phase === "Succeeded");
    expect(succeeded.containers).toEqual([
      expect.objectContaining({ state: "exited", exitCode: 0, reason: "Completed", collected: false }),
    ]);
    // (The engine may stamp a process this short as finished a few ms before it was started.)
    expect(succeeded.containers[0]?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(succeeded.containers[0]?.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const failed = await specOnce(bad, "Failed", (s) => s.phase === "Failed");
    expect(failed.message).toBe(`run ${bad} failed: Error (exit code 3)`);
    expect(failed.containers[0]).toMatchObject({ exitCode: 3, reason: "Error" });
    const killed = await specOnce(oom, "Failed", (s) => s.phase === "Failed");
    expect(killed.containers[0]).toMatchObject({ exitCode: 137, reason: "OOMKilled" });

    // The engine itself never restarts a run: its restart policy is "no".
    const before = await containersOf(c);
    for (const x of before) {
      const inspected = await docker.getContainer(x.id).inspect();
      expect(inspected.HostConfig.RestartPolicy?.Name).toBe("no");
      expect(inspected.State.Status).toBe("exited");
    }
    const startedAt = await Promise.all(
      before.map(async (x) => (await docker.getContainer(x.id).inspect()).State.StartedAt),
    );

    // A new berth process, a few resyncs later: the same stopped containers, never started again.
    expect(await controller.stop()).toBe(0);
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1s"], { BERTH_API_TOKEN: TOKEN });
    await specOnce(ok, "Succeeded after a restart", (s) => s.phase === "Succeeded");
    const logs = controller.logs;
    const from = logs.length;
    expect(
      await pollUntil(() => logs.slice(from).filter((l) => l.msg === "reconcile pass done").length >= 3, 15_000),
    ).toBe(true);
    const after = await containersOf(c);
    expect(after.map((x) => [x.id, x.state])).toEqual(before.map((x) => [x.id, "exited"]));
    expect(
      await Promise.all(after.map(async (x) => (await docker.getContainer(x.id).inspect()).State.StartedAt)),
    ).toEqual(startedAt);

    // berth status -o json says the same, from the live controller.
    const status = await berth(["status", "-o", "json", "--id", c, "--specs", dir]);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as {
      specs: { name: string; phase: string; containers: ContainerOutcome[] }[];
    };
    expect(report.specs.map((s) => [s.name, s.phase, s.containers[0]?.exitCode, s.containers[0]?.reason])).toEqual([
      [bad, "Failed", 3, "Error"],
      [ok, "Succeeded", 0, "Completed"],
      [oom, "Failed", 137, "OOMKilled"],
    ]);
    const got = await berth(["get", bad, "--id", c, "--specs", dir]);
    expect(got.stdout).toMatch(/exited \(Error, exit 3, finished \d{4}-/);
    const metrics = await (await fetch(`${controller.url}/metrics`)).text();
    expect(metrics).toContain('berth_specs{phase="Succeeded"} 1');
    expect(metrics).toContain('berth_specs{phase="Failed"} 2');
  });

  it("a finished run started again by hand reads its new finish, though it exits with the same code", async () => {
    const c = id("runs-rerun");
    const name = `${c}-job`;
    const dir = specDir({ "job.yaml": run(name, "exit 0") });
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1h"], { BERTH_API_TOKEN: TOKEN });
    const first = await specOnce(name, "Succeeded", (s) => s.phase === "Succeeded");
    const container = docker.getContainer(first.containers[0]?.id ?? "");
    const before = (await container.inspect()).State.FinishedAt;
    await container.start();
    const again = await pollValue(
      async () => (await container.inspect()).State,
      (st) => st.Status === "exited" && st.FinishedAt !== before,
      30_000,
    );
    expect([again.Status, again.ExitCode]).toEqual(["exited", 0]);
    // The engine's times have nanoseconds; berth reports milliseconds.
    const finished = await specOnce(
      name,
      "the second finish",
      (s) => Date.parse(s.containers[0]?.finishedAt ?? "") === Date.parse(again.FinishedAt),
    );
    expect(finished.phase).toBe("Succeeded");
    expect(finished.containers[0]?.id).toBe(first.containers[0]?.id);
  });

  it("OnFailure, backoffLimit 2, exit 3 at once: two restarts told, then the engine's last exit as the run's end", async () => {
    const c = id("runs-retries");
    const name = `${c}-of3`;
    const dir = specDir({
      "of3.yaml": specText(name, {
        image: TEST_IMAGE,
        extra: ['command: ["sh", "-c", "exit 3"]', "restartPolicy: OnFailure", "backoffLimit: 2", "stopTimeout: 2s"],
      }),
    });
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1s"], { BERTH_API_TOKEN: TOKEN });
    const failed = await specOnce(name, "Failed", (s) => s.phase === "Failed");
    expect(failed.containers[0]).toMatchObject({ state: "exited", exitCode: 3, reason: "Error" });
    const inspected = await docker.getContainer(failed.containers[0]?.id ?? "").inspect();
    expect([inspected.State.Status, inspected.RestartCount]).toEqual(["exited", 2]);

    interface Told {
      readonly kind: string;
      readonly reason: string;
      readonly ok: boolean;
      readonly text: string;
    }
    const told = async (): Promise<Told[]> =>
      ((await get(`/v1/events?spec=${name}`)).body.events as Told[]).filter(
        (e) => e.kind === "restarted" || e.kind === "finished",
      );
    // Told from the pass that sees the run end (Failed above comes from the same pass).
    const events = await pollValue(told, (es) => es.some((e) => e.kind === "finished"), 30_000);
    // A few passes later nothing more is told.
    expect(await passes(controller, 3)).toBe(true);
    expect(await told(), controller.recentLogs()).toEqual(events);
    const exitAt = Date.parse(inspected.State.FinishedAt);
    const at = (e: Told | undefined): number => Date.parse(/ at (\S+)$/.exec(e?.text ?? "")?.[1] ?? "");
    // The run's end is told once, last, at the engine's last exit.
    const finished = events.filter((e) => e.kind === "finished");
    expect(
      finished.map((e) => [e.reason, e.ok]),
      JSON.stringify(events),
    ).toEqual([["Error", false]]);
    expect(events.at(-1)).toBe(finished[0]);
    expect(finished[0]?.text).toMatch(new RegExp(`^finished ${name}: Error, exit code 3, at `));
    expect(at(finished[0])).toBe(exitAt);
    // Each restart is told at most once, of an exit before the last (never the last as a restart).
    // A pass sees a restart only while the container runs or waits to restart after it; on a
    // busy machine a window of a few hundred ms can fall between two passes, so one may go untold.
    const restarts = events.filter((e) => e.kind === "restarted");
    expect(restarts.length, JSON.stringify(events)).toBeLessThanOrEqual(2);
    for (const r of restarts) {
      expect(r.text).toMatch(new RegExp(`^restarted ${name} \\([12] restarts?\\): exited with code 3 at `));
      expect(at(r)).toBeLessThan(exitAt);
    }
    expect(new Set(restarts.map(at)).size).toBe(restarts.length);
  });

  it("activeDeadline: 2s stops a run of sleep 60: Failed, DeadlineExceeded, which a longer deadline later does not undo", async () => {
    const c = id("runs-deadline");
    const name = `${c}-slow`;
    const slow = (deadline: string): string =>
      specText(name, {
        image: TEST_IMAGE,
        extra: [
          `command: ["sh", "-c", "exec sleep 60"]`,
          "restartPolicy: OnFailure",
          "stopTimeout: 2s",
          `activeDeadline: ${deadline}`,
          "init: true",
        ],
      });
    const dir = specDir({ "slow.yaml": slow("2s") });
    const started = Date.now();
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1h"], { BERTH_API_TOKEN: TOKEN });
    const failed = await specOnce(name, "Failed", (s) => s.phase === "Failed");
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(failed.message).toMatch(/ran past its activeDeadline and was stopped/);
    expect(failed.containers[0]).toMatchObject({ state: "exited", reason: "DeadlineExceeded" });
    // The deadline counts from the container's creation (the engine's Created), which comes before
    // its start by however long the engine took to start it: measured from Created, not StartedAt.
    const { id: runId, finishedAt } = failed.containers[0] as ContainerOutcome;
    const created = Date.parse((await docker.getContainer(runId).inspect()).Created);
    expect(Date.parse(finishedAt ?? "") - created).toBeGreaterThanOrEqual(2000);
    expect(Date.parse(finishedAt ?? "") - created).toBeLessThan(20_000);

    // berth marked the stop before it made it (a volume naming the container)...
    const marks = async (): Promise<string[]> =>
      (
        (await docker.listVolumes({ filters: { label: [`berth.controller=${c}`, "berth.deadline_stop"] } })).Volumes ??
        []
      )
        .filter((v) => v.Labels["berth.deadline_stop"] === runId)
        .map((v) => v.Name);
    expect(await marks()).toHaveLength(1);
    // ...so a longer deadline written afterwards leaves the run as it ended: exit 143 under
    // OnFailure is not a failure to start again, and the reason stays DeadlineExceeded.
    const startedAt = (await docker.getContainer(runId).inspect()).State.StartedAt;
    writeFileSync(path.join(dir, "slow.yaml"), slow("1h"));
    expect(await passes(controller, 1)).toBe(true);
    expect(await berth(["plan", "--id", c, "--specs", dir])).toMatchObject({ code: 0, stdout: "nothing to do\n" });
    const after = await specOnce(name, "Failed", (s) => s.phase === "Failed");
    expect(after.containers[0]).toMatchObject({ id: runId, state: "exited", reason: "DeadlineExceeded" });
    expect((await docker.getContainer(runId).inspect()).State.StartedAt).toBe(startedAt);
    // The mark goes with its container: here replaced by a new run (another command).
    writeFileSync(path.join(dir, "slow.yaml"), slow("1h").replace("exec sleep 60", "exit 0"));
    expect(
      await pollUntil(
        async () => (await containersOf(c)).every((x) => x.id !== runId) && (await marks()).length === 0,
        30_000,
      ),
    ).toBe(true);
  });

  it("ttlAfterFinished: 2s removes the container and the spec written through the API; a folder's spec keeps its outcome", async () => {
    const c = id("runs-ttl");
    const runtime = tempDir("berth-runtime-");
    const kept = `${c}-kept`;
    const dir = specDir({ "kept.yaml": run(kept, "exit 0", ["ttlAfterFinished: 2s"]) });
    controller = await startBerth(["--id", c, "--specs", dir, "--runtime-specs", runtime, "--resync", "1h"], {
      BERTH_API_TOKEN: TOKEN,
    });
    const name = `${c}-api`;
    const put = await fetch(`${controller.url}/v1/specs/${name}`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/yaml" },
      body: run(name, "exit 0", ["ttlAfterFinished: 2s"]),
    });
    expect(put.status, await put.text()).toBeLessThan(300);
    expect(existsSync(path.join(runtime, `${name}.yaml`))).toBe(true);

    // The runtime spec: it finishes, then its container, spec file and record all go.
    await specOnce(name, "Succeeded", (s) => s.phase === "Succeeded");
    expect(
      await pollUntil(async () => (await get(`/v1/specs/${name}`)).status === 404, 60_000),
      controller.recentLogs(),
    ).toBe(true);
    expect(existsSync(path.join(runtime, `${name}.yaml`))).toBe(false);
    await waitContainers(c, `no container of ${name}`, (cs) => !cs.some((x) => x.name === name));

    // The folder's spec: its container is gone, the spec reports Succeeded from its run's record.
    const collected = await specOnce(kept, "collected", (s) => s.collected);
    expect(collected.phase).toBe("Succeeded");
    expect(collected.containers).toEqual([expect.objectContaining({ id: "", collected: true, exitCode: 0 })]);
    await waitContainers(c, "no containers", (cs) => cs.length === 0);
    const volumes = async (): Promise<string[]> =>
      (
        (await docker.listVolumes({ filters: { label: [`berth.controller=${c}`, "berth.finished"] } })).Volumes ?? []
      ).map((v) => v.Name);
    expect(await pollUntil(async () => (await volumes()).length === 1, 30_000)).toBe(true);
    expect((await volumes())[0]).toMatch(new RegExp(`^berth-run\\.${c}\\.${kept}\\.[0-9a-f]{12}$`));
  });

  it("docker-spawner: an agent that exits reads exited, and stays until /stop", async () => {
    const c = id("runs-agent");
    const worktree = tempDir("berth-worktree-");
    controller = await startBerth([
      ...["--id", c, "--specs", specDir({}), "--runtime-specs", tempDir("berth-runtime-")],
      ...["--compat", "docker-spawner", "--spawn-image", AGENT_IMAGE, "--spawn-timeout", "30s"],
      ...["--network", "none", "--allow-bind", worktree, "--resync", "1s"],
    ]);
    const bead = `b${process.pid}`;
    const spawn = await fetch(`${controller.url}/spawn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ bead_id: bead, worktree_path: worktree }),
    });
    const spawned = (await spawn.json()) as { container_id?: string; error?: string };
    expect(spawn.status, spawned.error).toBe(200);
    const status = async (): Promise<string> =>
      ((await (await fetch(`${controller?.url}/status/${spawned.container_id ?? ""}`)).json()) as { status: string })
        .status;
    expect(await pollUntil(async () => (await status()) === "exited", 30_000), controller.recentLogs()).toBe(true);
    // A few resyncs later it is still there, still exited: not restarted.
    const logs = controller.logs;
    const from = logs.length;
    expect(
      await pollUntil(() => logs.slice(from).filter((l) => l.msg === "reconcile pass done").length >= 3, 15_000),
    ).toBe(true);
    expect(await status()).toBe("exited");
    expect((await docker.getContainer(spawned.container_id ?? "").inspect()).RestartCount).toBe(0);

    const stop = await fetch(`${controller.url}/stop/${spawned.container_id ?? ""}`, { method: "POST" });
    expect(stop.status).toBe(200);
    expect(await status()).toBe("not_found");
  });
});
