/**
 * The operator commands against the real engine, through the built CLI: `berth reap` (dry and
 * not, a spec's expiry and --reap-label on other tools' containers), `berth exec` (timeout kill,
 * exit code and output), `berth logs` (--tail, --since, a line longer than 16 KiB, -f until
 * SIGINT), and a controller under a non-default --label-prefix, which a default-prefix controller
 * with the same id never touches.
 */
import { type ChildProcess, type ChildProcessByStdio, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { formatTime } from "../../src/core/units.js";
import { pollUntil, pollValue } from "../support/poll.js";
import { berth, BIN, cleanup, containersOf, docker, e2eSpec, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";

const id = testIds();
/** Containers berth did not make, removed after each test. */
const strangers: string[] = [];
/** Controller ids whose containers carry acme.berth.* labels, removed after each test. */
const acmeIds: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const c of acmeIds.splice(0)) {
    const list = await docker.listContainers({ all: true, filters: { label: [`acme.berth.controller=${c}`] } });
    strangers.push(...list.map((x) => x.Names[0]?.slice(1) ?? ""));
  }
  await cleanup("none", strangers.splice(0));
});

const short = (containerId: string): string => containerId.slice(0, 12);

/** Runs a command in a container through the Engine API (not through berth): exit code and output. */
async function dockerExec(
  containerId: string,
  cmd: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let stdout = "";
  let stderr = "";
  const out = new PassThrough().setEncoding("utf8").on("data", (s: string) => (stdout += s));
  const err = new PassThrough().setEncoding("utf8").on("data", (s: string) => (stderr += s));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
  });
  const info = await exec.inspect();
  return { code: info.ExitCode, stdout, stderr };
}

/** `berth ARGS…` as a child of this test (stopped after it), its log as JSON, its output piped. */
function spawnBerth(args: readonly string[]): ChildProcessByStdio<null, Readable, Readable> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, BERTH_LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return child;
}

/**
 * Runs `berth ARGS…` like berth() does, and also measures how long the process lives on after its
 * last output: a command that is done must not be held open (by a timer, a socket) before it exits.
 */
function berthTimed(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string; lingerMs: number }> {
  const child = spawnBerth(args);
  let stdout = "";
  let stderr = "";
  let lastOutputAt = performance.now();
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
    lastOutputAt = performance.now();
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
    lastOutputAt = performance.now();
  });
  return new Promise((resolve) => {
    // "close": after the exit and the last of the output.
    child.once("close", (code) => {
      resolve({ code, stdout, stderr, lingerMs: performance.now() - lastOutputAt });
    });
  });
}

/** Writes a line to the container's log: to PID 1's stdout (fd 1) or stderr (fd 2). */
async function logLine(containerId: string, text: string, fd: 1 | 2 = 1): Promise<void> {
  const result = await dockerExec(containerId, ["sh", "-c", `echo ${text} > /proc/1/fd/${fd}`]);
  expect(result.code).toBe(0);
}

/** One quiet container of `berth apply` for controller `c`; its ID. */
async function applyOne(c: string, name: string): Promise<string> {
  const result = await berth(["apply", "--id", c, "--specs", specDir({ "box.yaml": e2eSpec(name) })]);
  expect([result.code, result.stderr]).toEqual([0, ""]);
  const [container] = await containersOf(c);
  expect(container?.name).toBe(name);
  return container?.id ?? "";
}

/** The containers whose label `key` is `value`, any owner: name → [ID, state]. */
async function labelled(key: string, value: string): Promise<Record<string, [string, string]>> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${key}=${value}`] } });
  return Object.fromEntries(list.map((c) => [c.Names[0]?.slice(1) ?? "", [c.Id, c.State]]));
}

describe("berth reap", () => {
  it("--dry-run lists a spec's expired container and removes nothing; reap removes it, says so, and only it", async () => {
    const c = id("reap-spec");
    const [old, keep] = [`${c}-old`, `${c}-keep`];
    const oldSpec = (expiresAt: string) => e2eSpec(old, [`expiresAt: "${expiresAt}"`]);
    const dir = specDir({ "old.yaml": oldSpec("2099-01-01T00:00:00Z"), "keep.yaml": e2eSpec(keep) });
    const applied = await berth(["apply", "--id", c, "--specs", dir]);
    expect([applied.code, applied.stderr]).toEqual([0, ""]);
    const before = await containersOf(c);
    expect(before.map((x) => [x.name, x.state])).toEqual([
      [keep, "running"],
      [old, "running"],
    ]);
    const oldId = before.find((x) => x.name === old)?.id ?? "";

    writeFileSync(path.join(dir, "old.yaml"), oldSpec(formatTime(Date.now() - 60_000)));
    const dry = await berth(["reap", "--dry-run", "--id", c, "--specs", dir]);
    expect(dry).toEqual({
      code: 0,
      stdout: `would remove ${old} [${short(oldId)}]: expired\n1 expired container found\n`,
      stderr: "",
    });
    expect(await containersOf(c)).toEqual(before);

    const reaped = await berth(["reap", "--id", c, "--specs", dir]);
    expect(reaped).toEqual({
      code: 0,
      stdout: `removed ${old} [${short(oldId)}]: expired\n1 expired container removed\n`,
      stderr: "",
    });
    expect(await containersOf(c)).toEqual(before.filter((x) => x.name === keep));

    // Nothing is left to reap, and the expired spec is not recreated.
    const again = await berth(["reap", "--id", c, "--specs", dir]);
    expect(again).toEqual({ code: 0, stdout: "0 expired containers removed\n", stderr: "" });
    expect(await containersOf(c)).toEqual(before.filter((x) => x.name === keep));
  });

  it("--reap-label KEY removes another tool's container past its time, and leaves a future one and never", async () => {
    const c = id("reap-label");
    const key = `com.berth-test-${process.pid}.expires_at`;
    const past = formatTime(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const values: Record<string, string> = { past, future: "2099-01-01T00:00:00Z", never: "never" };
    for (const [suffix, value] of Object.entries(values)) {
      const name = `${c}-${suffix}`;
      strangers.push(name);
      const container = await docker.createContainer({
        name,
        Image: TEST_IMAGE,
        Cmd: ["sleep", "300"],
        Labels: { [key]: value, "com.berth-test.run": c },
        HostConfig: { Init: true },
      });
      await container.start();
    }
    const before = await labelled("com.berth-test.run", c);
    const pastId = before[`${c}-past`]?.[0] ?? "";
    // berth's own spec folder: reap converges nothing, it only removes.
    const dir = specDir({ "x.yaml": e2eSpec(`${c}-x`) });

    const dry = await berth(["reap", "--dry-run", "--reap-label", key, "--id", c, "--specs", dir]);
    expect(dry).toEqual({
      code: 0,
      stdout: `would remove ${c}-past [${short(pastId)}]: ${key}=${past}\n1 expired container found\n`,
      stderr: "",
    });
    expect(await labelled("com.berth-test.run", c)).toEqual(before);

    const reaped = await berth(["reap", "--reap-label", key, "--id", c, "--specs", dir]);
    expect(reaped).toEqual({
      code: 0,
      stdout: `removed ${c}-past [${short(pastId)}]: ${key}=${past}\n1 expired container removed\n`,
      stderr: "",
    });
    expect(await labelled("com.berth-test.run", c)).toEqual({
      [`${c}-future`]: before[`${c}-future`],
      [`${c}-never`]: before[`${c}-never`],
    });
    expect(await containersOf(c)).toEqual([]);
  });
});

describe("berth exec", () => {
  it("--timeout 1s kills the command and exits 124", async () => {
    const c = id("exec-timeout");
    const name = `${c}-box`;
    const containerId = await applyOne(c, name);
    const started = Date.now();
    const result = await berthTimed(["exec", "--id", c, "--timeout", "1s", name, "--", "sleep", "30"]);
    expect([result.code, result.stdout, result.stderr]).toEqual([124, "", "berth: timed out after 1s; killed\n"]);
    expect(Date.now() - started).toBeLessThan(15_000);
    // Once it has said so, it exits: nothing it started (the wait for the killed command's output
    // to end) holds it open for seconds.
    expect(result.lingerMs).toBeLessThan(1500);
    // The command is gone from the container (asked through the Engine API, not berth).
    const processes = await pollValue(
      async () => (await dockerExec(containerId, ["ps", "-o", "args"])).stdout.split("\n"),
      (lines) => !lines.includes("sleep 30"),
      5000,
    );
    expect(processes).toContain("sleep infinity");
    expect(processes).not.toContain("sleep 30");
  });

  it("exits with the command's exit code and passes its stdout and stderr through", async () => {
    const c = id("exec-code");
    const name = `${c}-box`;
    await applyOne(c, name);
    const result = await berth(["exec", "--id", c, name, "--", "sh", "-c", "echo out; echo err >&2; exit 7"]);
    expect(result).toEqual({ code: 7, stdout: "out\n", stderr: "err\n" });
  });
});

describe("berth logs", () => {
  it("--tail N prints only the last N lines", async () => {
    const c = id("logs-tail");
    const name = `${c}-box`;
    const containerId = await applyOne(c, name);
    await dockerExec(containerId, ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done > /proc/1/fd/1"]);
    const all = await pollValue(
      () => berth(["logs", "--id", c, name]),
      (r) => r.stdout.endsWith("line5\n"),
      10_000,
    );
    expect(all).toEqual({ code: 0, stdout: "line1\nline2\nline3\nline4\nline5\n", stderr: "" });
    expect(await berth(["logs", "--id", c, "--tail", "2", name])).toEqual({
      code: 0,
      stdout: "line4\nline5\n",
      stderr: "",
    });
  });

  it("--since keeps the lines after an RFC 3339 time, or within a duration", async () => {
    const c = id("logs-since");
    const name = `${c}-box`;
    const containerId = await applyOne(c, name);
    await logLine(containerId, "early");
    // The time Docker gave the line (to the millisecond): the cut is the next whole second.
    const stamped = await pollValue(
      async () => (await berth(["logs", "-t", "--id", c, name])).stdout,
      (out) => out.includes(" early\n"),
      10_000,
    );
    const early = Date.parse(stamped.split(" ")[0]?.replace(/(\.\d{1,3})\d*Z$/, "$1Z") ?? "");
    expect(Number.isNaN(early)).toBe(false);
    const cut = (Math.floor(early / 1000) + 1) * 1000;
    expect(await pollUntil(() => Date.now() > cut, 3000)).toBe(true);
    await logLine(containerId, "late");
    expect(
      await pollUntil(async () => (await berth(["logs", "--id", c, name])).stdout.includes("late\n"), 10_000),
    ).toBe(true);

    expect(await berth(["logs", "--id", c, "--since", formatTime(cut), name])).toEqual({
      code: 0,
      stdout: "late\n",
      stderr: "",
    });

    // A duration counts back from now: a line every 0.2 s from here on, and `early` at least 3 s
    // old, so `--since 2s` (whole seconds) has ticks and never `early`.
    await dockerExec(containerId, ["sh", "-c", "(while :; do echo tick; sleep 0.2; done) > /proc/1/fd/1 2>&1 &"]);
    expect(
      await pollUntil(async () => (await berth(["logs", "--id", c, "--tail", "1", name])).stdout === "tick\n", 10_000),
    ).toBe(true);
    expect(await pollUntil(() => Date.now() >= early + 3000, 4000)).toBe(true);
    const recent = await berth(["logs", "--id", c, "--since", "2s", name]);
    expect([recent.code, recent.stderr]).toEqual([0, ""]);
    const lines = recent.stdout.trimEnd().split("\n");
    expect(lines).not.toContain("early");
    expect(lines).toContain("tick");
    expect(new Set(lines)).toEqual(new Set(lines.includes("late") ? ["late", "tick"] : ["tick"]));
    const hour = (await berth(["logs", "--id", c, "--since", "1h", name])).stdout;
    expect(hour.startsWith("early\nlate\ntick\n")).toBe(true);
  });

  it("prints a line longer than the engine's 16 KiB log messages whole, once, without the engine's times inside", async () => {
    const c = id("logs-long");
    const name = `${c}-box`;
    const containerId = await applyOne(c, name);
    // json-file stores these lines as partial messages of 16 KiB, each stamped in the logs stream.
    const wrote = await dockerExec(containerId, [
      "sh",
      "-c",
      "{ head -c 40000 /dev/zero | tr '\\0' x; echo; echo short; } > /proc/1/fd/1; " +
        "{ head -c 20000 /dev/zero | tr '\\0' e; echo; } > /proc/1/fd/2",
    ]);
    expect(wrote.code).toBe(0);
    const [long, short, err] = ["x".repeat(40_000), "short", "e".repeat(20_000)];
    const logs = await pollValue(
      () => berth(["logs", "--id", c, name]),
      (r) => r.stdout.endsWith("short\n") && r.stderr.endsWith("e\n"),
      10_000,
    );
    expect(logs).toEqual({ code: 0, stdout: `${long}\n${short}\n`, stderr: `${err}\n` });
    // With -t, each line has one time: its own, in front.
    const stamped = await berth(["logs", "-t", "--id", c, name]);
    const stamps = /\d{4}-\d\d-\d\dT\S+Z /g;
    expect([stamped.stdout.match(stamps)?.length, stamped.stderr.match(stamps)?.length]).toEqual([2, 1]);
    expect(stamped.stdout.replace(/^\S+ /gm, "")).toBe(logs.stdout);
    expect(stamped.stderr.replace(/^\S+ /gm, "")).toBe(logs.stderr);
  });

  it("-f prints lines written after it started, until SIGINT, then exits 0", async () => {
    const c = id("logs-follow");
    const name = `${c}-box`;
    const containerId = await applyOne(c, name);
    await logLine(containerId, "before");
    expect(await pollUntil(async () => (await berth(["logs", "--id", c, name])).stdout === "before\n", 10_000)).toBe(
      true,
    );

    const child = spawn(process.execPath, [BIN, "logs", "-f", "--id", c, name], {
      env: { ...process.env, BERTH_LOG_FORMAT: "json" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));

    // Attached once the old line is printed; then new lines, on both streams, follow.
    expect(await pollUntil(() => stdout === "before\n", 15_000)).toBe(true);
    await logLine(containerId, "after-1");
    await logLine(containerId, "after-2", 2);
    await logLine(containerId, "after-3");
    expect(await pollUntil(() => stdout === "before\nafter-1\nafter-3\n" && stderr === "after-2\n", 10_000)).toBe(true);
    expect(child.exitCode).toBeNull();

    child.kill("SIGINT");
    const code = await Promise.race([
      exit,
      new Promise<"still running">((r) => setTimeout(() => r("still running"), 10_000)),
    ]);
    expect(code).toBe(0);
    expect([stdout, stderr]).toEqual(["before\nafter-1\nafter-3\n", "after-2\n"]);
  });
});

/**
 * Spawns `berth ARGS…` with its stdout a pipe whose reading end this test closes: after the first
 * line (as `| head -1` does), or with `closeAt: "start"` before anything is written. Resolves at
 * the exit with the code, what came before the close, and all of stderr.
 */
function berthHead(
  args: readonly string[],
  options: { readonly closeAt?: "first-line" | "start"; readonly killAfterMs?: number } = {},
): {
  readonly firstLine: Promise<string>;
  readonly done: Promise<{ code: number | null; line: string; stderr: string }>;
} {
  const child = spawnBerth(args);
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  let seen: (line: string) => void = () => undefined;
  const firstLine = new Promise<string>((resolve) => (seen = resolve));
  if (options.closeAt === "start") {
    child.stdout.destroy();
    seen("");
  } else {
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      const end = stdout.indexOf("\n");
      if (end < 0) return;
      // The reader has its line and goes: the pipe's reading end is closed.
      child.stdout.destroy();
      stdout = stdout.slice(0, end + 1);
      seen(stdout);
    });
  }
  const killer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 60_000);
  const done = new Promise<{ code: number | null; line: string; stderr: string }>((resolve) => {
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, line: stdout, stderr });
    });
  });
  return { firstLine, done };
}

/** What a crash on a closed stdout leaves on stderr: Node's unhandled 'error' event, a stack. */
const CRASH = /Unhandled 'error'|EPIPE|^\s+at /m;

describe("a reader that closes berth's output early (| head -1)", () => {
  it("apply with a failure to report: ends quietly with its own exit code, 1", async () => {
    const c = id("epipe-apply");
    const specs = specDir({
      "nope.yaml": e2eSpec(`${c}-nope`, ["imagePullPolicy: Never"]).replace(TEST_IMAGE, "berth-test/nope:1"),
    });
    const { done } = berthHead(["apply", "--id", c, "--specs", specs, "--timeout", "10s"]);
    const result = await done;
    expect(result.line).toMatch(/^(failed|\u2717) /);
    expect(result.stderr).not.toMatch(CRASH);
    expect(result.code).toBe(1);
  });

  it("logs -f: the next line after the reader went ends it quietly, exit 0", async () => {
    const c = id("epipe-logs");
    const name = `${c}-box`;
    const containerId = await applyOne(c, name);
    await logLine(containerId, "before");
    expect(await pollUntil(async () => (await berth(["logs", "--id", c, name])).stdout === "before\n", 10_000)).toBe(
      true,
    );
    const { firstLine, done } = berthHead(["logs", "-f", "--id", c, name]);
    expect(await firstLine).toBe("before\n");
    // Lines until berth writes into the closed pipe; it must then end by itself.
    const writer = setInterval(() => void logLine(containerId, "after").catch(() => undefined), 300);
    try {
      const result = await Promise.race([
        done,
        new Promise<"still running">((r) => setTimeout(() => r("still running"), 15_000)),
      ]);
      expect(result).toEqual({ code: 0, line: "before\n", stderr: "" });
    } finally {
      clearInterval(writer);
    }
  });

  it("exec, its output at the end or as it comes (-i): the command's own exit code, no stack trace", async () => {
    const c = id("epipe-exec");
    const name = `${c}-box`;
    await applyOne(c, name);
    const atEnd = await berthHead(["exec", "--id", c, name, "--", "sh", "-c", "sleep 1; seq 1 20000; exit 3"], {
      closeAt: "start",
    }).done;
    expect(atEnd.stderr).not.toMatch(CRASH);
    expect(atEnd.code).toBe(3);
    // -i streams the output as the command writes it: the lines after the first meet a closed pipe.
    const streamed = await berthHead([
      "exec",
      "-i",
      "--id",
      c,
      name,
      "--",
      "sh",
      "-c",
      "echo first; sleep 1; seq 1 20000; sleep 1; echo last; exit 4",
    ]).done;
    expect(streamed.line).toBe("first\n");
    expect(streamed.stderr).not.toMatch(CRASH);
    expect(streamed.code).toBe(4);
  });
});

describe("--label-prefix", () => {
  it("labels acme.berth.* only; status under that prefix sees them; the default prefix with the same id never removes or adopts them", async () => {
    const c = id("prefix");
    const web = `${c}-web`;
    const other = `${c}-other`;
    acmeIds.push(c);
    const acme = ["--label-prefix", "acme.berth"];
    const dir = specDir({ "web.yaml": e2eSpec(web) });
    const applied = await berth(["apply", ...acme, "--id", c, "--specs", dir]);
    expect([applied.code, applied.stderr]).toEqual([0, ""]);

    const ours = await docker.listContainers({ all: true, filters: { label: [`acme.berth.controller=${c}`] } });
    expect(ours.map((x) => [x.Names[0], x.State])).toEqual([[`/${web}`, "running"]]);
    const [container] = ours;
    const labels = container?.Labels ?? {};
    expect(labels).toEqual({
      "acme.berth.controller": c,
      "acme.berth.spec": web,
      "acme.berth.replica": "0",
      "acme.berth.hash": expect.stringMatching(/^[0-9a-f]{64}$/),
      "acme.berth.expires_at": "never",
      "acme.berth.source": "web.yaml",
      "acme.berth.applied": expect.stringMatching(/^\{"spec":/),
    });
    expect(Object.keys(labels).filter((k) => k.startsWith("berth."))).toEqual([]);
    expect(await containersOf(c)).toEqual([]);

    const status = await berth(["status", ...acme, "--id", c, "--specs", dir, "--server", "off"]);
    expect([status.code, status.stderr]).toEqual([0, ""]);
    expect(status.stdout).toMatch(new RegExp(`^${web}\\s+Running\\s+1/1\\s+${web}\\(running\\)`, "m"));

    const unchanged = async () => {
      const info = await docker.getContainer(container?.Id ?? "").inspect();
      return [info.Id, info.State.Running, info.State.StartedAt, info.Config.Labels];
    };
    const was = await unchanged();

    // Same id, default prefix, another spec and --force-prune: were web its own, it would be
    // pruned as an orphan. It is not: only `other` is created, under berth.*.
    const plainDir = specDir({ "other.yaml": e2eSpec(other) });
    const plain = await berth(["apply", "--id", c, "--force-prune", "--specs", plainDir]);
    expect([plain.code, plain.stderr]).toEqual([0, ""]);
    expect(plain.stdout).not.toContain(web);
    expect((await containersOf(c)).map((x) => [x.name, x.state])).toEqual([[other, "running"]]);
    expect(await unchanged()).toEqual(was);

    // Same id, default prefix, the same spec too: the name is another's (Conflict), never adopted.
    writeFileSync(path.join(plainDir, "web.yaml"), e2eSpec(web));
    const status2 = await berth(["status", "--id", c, "--specs", plainDir, "--server", "off"]);
    expect(status2.stdout).toMatch(new RegExp(`^${web}\\s+Conflict\\s+0/1\\s+-`, "m"));
    const same = await berth(["apply", "--id", c, "--specs", plainDir, "--timeout", "30s"]);
    expect(same.code).toBe(1);
    expect(same.stdout).toContain(
      `${web}: the name ${web} is held by container [${short(container?.Id ?? "")}], which berth does not own`,
    );
    expect(await unchanged()).toEqual(was);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([other]);
  });
});
