/**
 * Finished runs across restarts (docs/runs.md), against a private Docker daemon the test stops and
 * starts again on the same data root (test/support/private-dockerd.ts): a Never run that exited 0,
 * one that exited 3 and an OnFailure run that used up its backoffLimit keep their phase, exit code,
 * container and start time through a daemon restart and then a berth restart; berth starts none
 * of them again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pollUntil, pollValue } from "../support/poll.js";
import { PrivateDockerd } from "../support/private-dockerd.js";
import { berth, type RunningBerth, specDir, startBerth, TEST_IMAGE, testId } from "../support/e2e.js";
import { specText } from "../support/specs.js";

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
