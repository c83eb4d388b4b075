/**
 * Finding 8 against a real engine: two `berth run` with the same --id fought (92 create/remove
 * cycles in 40 s, each removing what the other made). Now a second `berth run` — or `berth
 * apply` — with an id already running refuses to start, naming the holder, while the first keeps
 * running untouched; after `kill -9` of the holder a new one starts (the stale lock is
 * recovered, by exactly one of two racing starters); different ids do not block each other.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  BIN,
  containersOf,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { pollUntil } from "../support/poll.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
const controllers: RunningBerth[] = [];
afterEach(async () => {
  for (const c of controllers.splice(0)) await c.stop();
});

/**
 * Runs `berth ARGS…` to its end, or kills it after `timeoutMs` (a second controller that did
 * start would otherwise run on): the exit code (null: it had to be killed) and stderr.
 */
function once(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, BERTH_LOG_FORMAT: "json", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

async function start(args: readonly string[]): Promise<RunningBerth> {
  const c = await startBerth(args);
  controllers.push(c);
  return c;
}

describe("one controller per id on a host (finding 8)", () => {
  it("refuses a second berth run or apply with the holder named; the first keeps running; other ids run", async () => {
    const c = id("lock");
    const state = tempDir("berth-state-");
    const mine = `${c}-a`;
    const first = await start(["--id", c, "--state-dir", state, "--specs", specDir({ "a.yaml": e2eSpec(mine) })]);
    const [before] = await waitContainers(
      c,
      "one container running",
      (cs) => cs.length === 1 && cs[0]?.state === "running",
    );
    const pid = first.child.pid ?? 0;

    // A second controller with the same id and another folder: it would remove the first's container.
    const other = specDir({ "b.yaml": e2eSpec(`${c}-b`) });
    for (const command of ["run", "apply"]) {
      const listen = command === "run" ? ["--listen", "127.0.0.1:0"] : [];
      const second = await once([command, "--id", c, "--state-dir", state, "--specs", other, ...listen]);
      expect([command, second.code]).toEqual([command, 1]);
      expect(second.stderr).toContain(
        `controller id "${c}" is already held on this host by berth 0.1.0 (run, pid ${pid} on host`,
      );
      expect(second.stderr).toContain(`HTTP API on ${first.url}`);
      expect(second.stderr).toContain(path.join(state, `${c}.sock`));
    }
    // Through BERTH_STATE_DIR too.
    const viaEnv = await once(["run", "--id", c, "--specs", other, "--listen", "off"], { BERTH_STATE_DIR: state });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toContain("is already held on this host");

    // The first is untouched and still answers; nothing of the second's folder was made.
    expect(first.child.exitCode).toBeNull();
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect((await containersOf(c)).map((x) => [x.name, x.id])).toEqual([[mine, before?.id]]);

    // Another id, same state folder, at the same time: not blocked.
    const c2 = id("lock-other");
    await start(["--id", c2, "--state-dir", state, "--specs", specDir({ "x.yaml": e2eSpec(`${c2}-x`) })]);
    await waitContainers(c2, "one container running", (cs) => cs.length === 1 && cs[0]?.state === "running");
    expect((await containersOf(c)).map((x) => x.id)).toEqual([before?.id]);
  });

  it("starts again after kill -9 of the holder (a stale lock), exactly one of two racing starters", async () => {
    const c = id("lock-kill");
    const state = tempDir("berth-state-");
    const dir = specDir({ "a.yaml": e2eSpec(`${c}-a`) });
    const args = ["--id", c, "--state-dir", state, "--specs", dir];
    const first = await startBerth(args);
    await waitContainers(c, "one container running", (cs) => cs.length === 1 && cs[0]?.state === "running");
    await first.kill9();
    expect(existsSync(path.join(state, `${c}.sock`))).toBe(true); // left behind by kill -9

    // Two start at once: one takes the lock, the other is refused naming it.
    const racers = [startBerth(args, {}, { waitStarted: false }), startBerth(args, {}, { waitStarted: false })];
    const [a, b] = await Promise.all(racers);
    if (!a || !b) throw new Error("no racers");
    controllers.push(a, b);
    const exited = (r: RunningBerth): boolean => r.child.exitCode !== null;
    const started = (r: RunningBerth): boolean => r.logs.some((l) => l.msg === "controller started");
    expect(await pollUntil(() => (exited(a) || exited(b)) && (started(a) || started(b)), 60_000)).toBe(true);
    const [winner, loser] = started(a) ? [a, b] : [b, a];
    expect(loser.child.exitCode).toBe(1);
    expect(started(loser)).toBe(false);
    expect(winner.child.exitCode).toBeNull();
    expect((await fetch(`${winner.url}/healthz`)).status).toBe(200);
    const [container] = await waitContainers(
      c,
      "one container running",
      (cs) => cs.length === 1 && cs[0]?.state === "running",
    );
    expect(container?.name).toBe(`${c}-a`);
  });
});
