/**
 * A watchdog for the shared Docker engine of the real-engine tests. Docker 20.10 (Debian 12's
 * docker.io) can deadlock under container churn (moby/moby#46661: fixed in 20.10.27), after which
 * every start and stop hangs while list calls still answer. When that happens, the tests that
 * follow fail with timeouts that say nothing about the cause. The probe below runs a container's
 * whole life (create, start, remove) with a deadline; when it does not finish, it asks the daemon
 * for its goroutine stacks (SIGUSR1), keeps them, and fails with a summary of where they wait.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { pollUntil } from "./poll.js";

const PROBE_IMAGE = "berth-test/busybox:latest";
const PID_FILE = "/var/run/docker.pid";
const EXEC_ROOT = "/var/run/docker";

/** Why the probe failed, or null when the engine ran a container's whole life in time. */
export async function probeEngine(deadlineMs: number): Promise<string | null> {
  const docker = new Docker();
  const name = `berth-probe-${process.pid}-${Date.now()}`;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`did not create, start and remove a container within ${deadlineMs} ms`),
      deadlineMs,
    );
  });
  const life = (async (): Promise<string | null> => {
    const c = await docker.createContainer({
      name,
      Image: PROBE_IMAGE,
      Cmd: ["sleep", "30"],
      Labels: { "berth.test/probe": "1" },
      HostConfig: { Init: true, AutoRemove: false },
    });
    await c.start();
    await c.remove({ force: true });
    return null;
  })().catch((err: unknown) => `failed: ${(err as Error).message}`);
  try {
    return await Promise.race([life, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asks the main daemon for its goroutine stacks and returns where the blocked ones wait, grouped
 * (the full dump stays in the daemon's exec root). Empty when this process cannot signal it.
 */
export async function dumpEngineStacks(): Promise<string> {
  if (process.env.DOCKER_HOST || !existsSync(PID_FILE)) return "";
  const before = new Set(stackFiles());
  try {
    process.kill(Number(readFileSync(PID_FILE, "utf8").trim()), "SIGUSR1");
  } catch (err) {
    return `(could not signal dockerd: ${(err as Error).message})`;
  }
  let dump: string | undefined;
  await pollUntil(() => {
    dump = stackFiles().find((f) => !before.has(f));
    return dump !== undefined && statSync(dump).size > 0;
  }, 10_000);
  if (!dump) return "(dockerd wrote no goroutine dump)";
  return `goroutine dump: ${dump}\n${summarizeStacks(readFileSync(dump, "utf8"))}`;
}

function stackFiles(): string[] {
  try {
    return readdirSync(EXEC_ROOT)
      .filter((f) => f.startsWith("goroutine-stacks-"))
      .map((f) => path.join(EXEC_ROOT, f));
  } catch {
    return [];
  }
}

/** Goroutines waiting on a lock, or on anything for a minute or more, grouped by their first frames. */
export function summarizeStacks(dump: string): string {
  const groups = new Map<string, number>();
  for (const block of dump.split(/\n\n+/)) {
    const head = /^goroutine \d+ \[([^\],]+)(?:, (\d+) minutes)?/.exec(block);
    if (!head || !(head[2] || head[1] === "semacquire")) continue;
    const frames = block
      .split("\n")
      .slice(1)
      .filter((l) => !l.startsWith("\t") && !l.startsWith("runtime.") && !l.startsWith("sync."))
      .slice(0, 4)
      .map((l) => l.replace(/\(0x[^)]*\)$/, "").replace(/\(\.\.\.\)$/, ""));
    const key = `[${head[1]}] ${frames.join(" < ")}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([k, n]) => `  ${n}× ${k}`)
    .join("\n");
}
