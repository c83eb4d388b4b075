/**
 * State berth keeps in the engine and the runtime folder, across restarts of the Docker daemon
 * (a private one the test stops and starts again on the same data root:
 * test/support/private-dockerd.ts) and of berth:
 * - finished runs (docs/runs.md): a Never run that exited 0, one that exited 3 and an OnFailure
 *   run that used up its backoffLimit keep their phase, exit code, container and start time;
 *   berth starts none of them again;
 * - claims on a warm pool (docs/pools.md): a claimed member stays its claim's (same container,
 *   never handed out again, never replaced), and the pool is back to its size beside it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pollUntil, pollValue } from "../support/poll.js";
import { PrivateDockerd } from "../support/private-dockerd.js";
import { berth, type RunningBerth, specDir, startBerth, TEST_IMAGE, testId } from "../support/e2e.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "runs-restart-token-0123456789abcdef";
const auth = { authorization: `Bearer ${TOKEN}` };

let daemon: PrivateDockerd;
let controller: RunningBerth | undefined;

beforeAll(async () => {
  daemon = await PrivateDockerd.create([TEST_IMAGE]);
}, 120_000);
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});
afterAll(async () => {
  // destroy removes every container of the private daemon: all of them are this file's.
  await daemon.destroy();
});

/** A run of busybox's sh with `script`, on no network (the private daemon has its own namespace). */
const run = (name: string, script: string, extra: readonly string[]): string =>
  specText(name, {
    image: TEST_IMAGE,
    extra: [`command: ["sh", "-c", ${JSON.stringify(script)}]`, "network: none", "stopTimeout: 2s", ...extra],
  });

interface SpecView {
  readonly phase: string;
  readonly containers: readonly { id: string; exitCode: number | null; reason: string | null }[];
}

/** What the engine says of a container: the facts a start by anyone would change. */
async function engineView(id: string): Promise<{ id: string; status: string; startedAt: string; restarts: number }> {
  const c = await daemon.docker.getContainer(id).inspect();
  return { id: c.Id, status: c.State.Status, startedAt: c.State.StartedAt, restarts: c.RestartCount };
}

describe("finished runs across a Docker daemon restart and a berth restart", () => {
  it("keep their phase, exit code, container and start time; berth starts none of them again", async () => {
    const c = testId("runs-restart");
    const [ok, bad, retry] = [`${c}-ok`, `${c}-bad`, `${c}-retry`];
    const names = [bad, ok, retry];
    const dir = specDir({
      "ok.yaml": run(ok, "exit 0", ["restartPolicy: Never"]),
      "bad.yaml": run(bad, "exit 3", ["restartPolicy: Never"]),
      "retry.yaml": run(retry, "exit 3", ["restartPolicy: OnFailure", "backoffLimit: 2"]),
    });
    const env = { DOCKER_HOST: daemon.dockerHost, BERTH_API_TOKEN: TOKEN };
    const start = async (): Promise<RunningBerth> => startBerth(["--id", c, "--specs", dir, "--resync", "1s"], env);
    controller = await start();

    const specs = async (): Promise<Map<string, SpecView>> => {
      const views = new Map<string, SpecView>();
      for (const name of names) {
        const res = await fetch(`${controller?.url ?? ""}/v1/specs/${name}`, { headers: auth });
        if (res.status === 200) views.set(name, (await res.json()) as SpecView);
      }
      return views;
    };
    const outcome = (views: Map<string, SpecView>) =>
      names.map((n) => {
        const v = views.get(n);
        const x = v?.containers[0];
        return [n, v?.phase, x?.exitCode, x?.reason];
      });
    const expected = [
      [bad, "Failed", 3, "Error"],
      [ok, "Succeeded", 0, "Completed"],
      [retry, "Failed", 3, "Error"],
    ];
    const finished = await pollValue(specs, (v) => JSON.stringify(outcome(v)) === JSON.stringify(expected), 60_000);
    expect(outcome(finished), controller.recentLogs()).toEqual(expected);
    const ids = names.map((n) => finished.get(n)?.containers[0]?.id ?? "");
    const before = await Promise.all(ids.map(engineView));
    // The engine retried the OnFailure run twice (its backoffLimit), then left it exited.
    expect(before.map((x) => [x.status, x.restarts])).toEqual([
      ["exited", 0],
      ["exited", 0],
      ["exited", 2],
    ]);

    /** After a few more passes, nothing has changed and berth has acted on nothing since `from`. */
    const unchanged = async (what: string, from: number): Promise<void> => {
      const logs = controller?.logs ?? [];
      const passes = () => logs.slice(from).filter((l) => l.msg === "reconcile pass done").length;
      expect(await pollUntil(() => passes() >= 3, 30_000), `${what}: 3 passes\n${controller?.recentLogs()}`).toBe(true);
      expect(outcome(await specs()), what).toEqual(expected);
      expect(await Promise.all(ids.map(engineView)), what).toEqual(before);
      const acted = logs
        .slice(from)
        .filter((l) => l.msg === "action completed" || String(l.msg).startsWith("action failed"));
      expect(acted, what).toEqual([]);
    };

    // The daemon restarts (stopped, started again on the same data root); berth reconnects.
    let from = controller.logs.length;
    await daemon.stop();
    await daemon.start();
    expect(await controller.waitForLog("Docker events reconnected", 60_000), controller.recentLogs()).toBe(true);
    from = controller.logs.findIndex((l, i) => i >= from && l.msg === "Docker events reconnected");
    await unchanged("after the daemon restart", from);

    // berth itself restarts.
    expect(await controller.stop()).toBe(0);
    controller = await start();
    await unchanged("after the berth restart", 0);
    const status = await berth(["status", "-o", "json", "--id", c, "--specs", dir], env);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as {
      specs: { name: string; phase: string; containers: { exitCode: number | null; reason: string | null }[] }[];
    };
    expect(report.specs.map((s) => [s.name, s.phase, s.containers[0]?.exitCode, s.containers[0]?.reason])).toEqual(
      expected,
    );
  }, 240_000);
});

describe("claims on a warm pool across a Docker daemon restart and a berth restart", () => {
  it("the claimed member stays the claim's, is never handed out again; the pool is back to its size", async () => {
    const c = testId("pool-restart");
    const pool = `${c}-web`;
    const runtime = tempDir("berth-runtime-");
    const dir = specDir({
      "pool.yaml": specText(pool, {
        image: TEST_IMAGE,
        extra: [
          'command: ["sleep", "infinity"]',
          "init: true",
          "network: none",
          "stopTimeout: 2s",
          "pool: { size: 2 }",
        ],
      }),
    });
    const env = { DOCKER_HOST: daemon.dockerHost, BERTH_API_TOKEN: TOKEN };
    const start = async (): Promise<RunningBerth> =>
      startBerth(["--id", c, "--specs", dir, "--runtime-specs", runtime, "--resync", "1s"], env);
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${controller?.url ?? ""}${url}`, {
        method,
        headers: { ...auth, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const running = async (): Promise<string[]> =>
      (await daemon.docker.listContainers({ all: true, filters: { label: [`berth.controller=${c}`] } }))
        .filter((x) => x.State === "running")
        .map((x) => x.Id);
    controller = await start();
    expect(await pollUntil(async () => (await running()).length === 2, 60_000), controller.recentLogs()).toBe(true);
    const claimed = await call("POST", `/v1/pools/${pool}/claims`, { name: "keep" });
    expect(claimed.status).toBe(201);
    const member = claimed.body.container as string;
    /** The claimed member and exactly two others run, and the claim still names the member. */
    const settled = async (what: string): Promise<string[]> => {
      const ok = await pollUntil(async () => {
        const ids = await running();
        return ids.length === 3 && ids.includes(member);
      }, 60_000);
      expect(ok, `${what}\n${controller?.recentLogs() ?? ""}`).toBe(true);
      const claim = await call("GET", `/v1/pools/${pool}/claims/keep`);
      expect(claim.body, what).toMatchObject({ container: member, phase: "Bound" });
      return running();
    };
    await settled("the pool refilled beside the claim");

    await daemon.stop();
    await daemon.start();
    expect(await controller.waitForLog("Docker events reconnected", 60_000), controller.recentLogs()).toBe(true);
    await settled("after the daemon restart");

    expect(await controller.stop()).toBe(0);
    controller = await start();
    const after = await settled("after the berth restart");
    // A new claim gets one of the pool's members, never the claimed one.
    const next = await call("POST", `/v1/pools/${pool}/claims`, { name: "next", wait: "30s" });
    expect(next.status).toBe(201);
    expect(next.body.container).not.toBe(member);
    expect(after).toContain(next.body.container);
  }, 240_000);
});
