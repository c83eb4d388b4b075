/**
 * Finding 8: the host lock (host/lock.ts) — one controller per id on a host. Taken, refused with
 * the holder named, released, recovered after its holder died by kill -9 (a stale socket file),
 * recovered by exactly one of several racing starters, and never blocking another id. What a
 * holder answers is not trusted: it is escaped when shown. Whole `berth run` processes against a
 * real engine: test/docker/host-lock.test.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  acquireHostLock,
  describeHolder,
  type HostLock,
  prepareStateDir,
  resolveStateDir,
} from "../../../src/host/lock.js";
import { tempDir } from "../../support/tmp.js";

const held: HostLock[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const lock of held.splice(0)) await lock.release();
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

async function take(stateDir: string, id = "c1", command = "run"): Promise<HostLock> {
  const lock = await acquireHostLock({ stateDir, controllerId: id, command, version: "9.9.9", answerTimeoutMs: 500 });
  held.push(lock);
  return lock;
}

/** A process that holds a socket at `file` and can be killed without cleaning up. */
async function holderProcess(file: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `require("net").createServer((s) => s.end("{}\\n")).listen(${JSON.stringify(file)}, () => console.log("up"))`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  await new Promise((resolve) => child.stdout?.once("data", resolve));
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

describe("the host lock (finding 8)", () => {
  it("refuses a second taker of the same id, naming the holder; another id is not blocked", async () => {
    const dir = tempDir();
    const first = await take(dir);
    first.setListen("http://127.0.0.1:7435");
    expect(first.path).toBe(path.join(dir, "c1.sock"));
    const refused = (await take(dir, "c1", "apply").catch((err: unknown) => err)) as Error;
    expect(refused).toMatchObject({ code: "BERTH_LOCKED" });
    expect(refused.message).toMatch(
      new RegExp(
        `^controller id "c1" is already held on this host by berth 9\\.9\\.9 \\(run, pid ${process.pid} on host .+, started \\d{4}-.+Z, HTTP API on http://127\\.0\\.0\\.1:7435\\); its lock is ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/c1\\.sock\\.`,
      ),
    );
    await take(dir, "c2"); // another id
    await first.release();
    held.splice(held.indexOf(first), 1);
    expect(existsSync(first.path)).toBe(false);
    await take(dir); // free again
  });

  it("recovers a lock whose holder died by kill -9, and not one whose holder lives", async () => {
    const dir = tempDir();
    const file = path.join(dir, "c1.sock");
    const holder = await holderProcess(file);
    await expect(take(dir)).rejects.toMatchObject({ code: "BERTH_LOCKED" });
    await kill9(holder);
    expect(existsSync(file)).toBe(true); // the stale socket file stays behind
    const lock = await take(dir);
    expect(lock.path).toBe(file);
    await expect(take(dir)).rejects.toMatchObject({ code: "BERTH_LOCKED" });
  });

  it("lets exactly one of several racing starters recover a stale lock", async () => {
    for (let round = 0; round < 5; round++) {
      const dir = tempDir();
      await kill9(await holderProcess(path.join(dir, "c1.sock")));
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => take(dir)));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "BERTH_LOCKED" });
    }
  });

  it("refuses a holder that listens but does not answer", async () => {
    const dir = tempDir();
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(path.join(dir, "c1.sock"), resolve));
    try {
      const refused = (await take(dir).catch((err: unknown) => err)) as Error;
      expect(refused.message).toContain("a process that listens on the lock but does not answer");
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("shows what a holder answers escaped and cut, never raw", () => {
    const hostile = JSON.stringify({
      berth: "1\u001b[2J",
      command: "run",
      pid: 1,
      hostname: "h".repeat(500),
      startedAt: "x",
    });
    const text = describeHolder(`${hostile}\n`);
    expect(text).not.toContain("\u001b");
    expect(text).toContain("\\u001b[2J");
    expect(text).toContain(`${"h".repeat(80)}…`);
    expect(describeHolder("not json")).toBe("a process that does not say who it is");
  });

  it("keeps its state folder private: made 0700, a group- or world-open one of berth's own closed", async () => {
    const dir = path.join(tempDir(), "state");
    expect(await prepareStateDir(dir)).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o777);
    await prepareStateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it.runIf(process.getuid?.() === 0)("refuses a state folder another user owns", async () => {
    const dir = path.join(tempDir(), "theirs");
    mkdirSync(dir);
    chownSync(dir, 4242, 4242);
    await expect(prepareStateDir(dir)).rejects.toThrow(/belongs to uid 4242/);
  });

  it("refuses a state folder whose lock path would be too long for a socket", async () => {
    const dir = path.join(tempDir(), "x".repeat(100));
    await expect(take(dir)).rejects.toThrow(/longer than a Unix socket path may be/);
  });

  it("defaults to /run/berth when writable, else $XDG_RUNTIME_DIR/berth, else <tmpdir>/berth-<uid>", async () => {
    expect(await resolveStateDir("/dev/null/x", {}).catch((err: unknown) => (err as Error).message)).toMatch(
      /--state-dir: cannot create/,
    );
    const given = path.join(tempDir(), "given");
    expect(await resolveStateDir(given, {})).toBe(given);
    // As root (the tests' engine host) /run/berth; elsewhere $XDG_RUNTIME_DIR/berth.
    const xdg = tempDir();
    const chosen = await resolveStateDir(null, { XDG_RUNTIME_DIR: xdg });
    expect([path.join(xdg, "berth"), "/run/berth"]).toContain(chosen);
    expect(statSync(chosen).isDirectory()).toBe(true);
  });
});
