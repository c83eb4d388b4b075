/**
 * End-to-end helpers: the built CLI (bin/berth.js) as a user runs it, a `berth run` child
 * process, and Docker-side checks and cleanup by controller id (each test has its own).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, afterEach } from "vitest";
import { specHash } from "../../src/core/hash.js";
import { parseSpecText } from "../../src/manifest/parse.js";
import { specText } from "./specs.js";
import { tempDir } from "./tmp.js";
import { pollUntil } from "./poll.js";

export const docker = new Docker();
export const BIN = path.resolve("bin/berth.js");
export const TEST_IMAGE = "berth-test/busybox:latest";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `berth ARGS…` to completion. */
export async function berth(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await berthWithin(args, env);
  return { code, stdout, stderr };
}

export interface BoundedCliResult extends CliResult {
  /** Wall time from spawn to exit (measured, for the report; never asserted tightly). */
  readonly elapsedMs: number;
  /** Still running at killAfterMs, and killed then. */
  readonly killed: boolean;
}

export interface BoundedOptions {
  /** Kill berth if it still runs after this long (default: never). */
  readonly killAfterMs?: number;
  /** A command that runs node (e.g. setpriv …); node's argv follows it. */
  readonly wrap?: readonly string[];
}

/** Runs `berth ARGS…`, measuring how long it took, and killing it if it outlives killAfterMs. */
export function berthWithin(
  args: readonly string[],
  env: Record<string, string> = {},
  options: BoundedOptions = {},
): Promise<BoundedCliResult> {
  const [command, ...prefix] = options.wrap ?? [process.execPath];
  const argv = options.wrap ? [...prefix, process.execPath, BIN, ...args] : [BIN, ...args];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      command ?? process.execPath,
      argv,
      {
        env: { ...process.env, BERTH_LOG_FORMAT: "json", ...env },
        maxBuffer: 16 * 1024 * 1024,
        ...(options.killAfterMs !== undefined ? { timeout: options.killAfterMs, killSignal: "SIGKILL" as const } : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({
          code: typeof code === "number" ? code : 1,
          stdout,
          stderr,
          elapsedMs: performance.now() - started,
          killed: child.killed,
        });
      },
    );
  });
}

export interface RunningBerth {
  readonly child: ChildProcess;
  /** The HTTP API's base URL (berth run listens on a free loopback port in tests). */
  readonly url: string;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Everything the process wrote to stderr so far. */
  readonly stderr: string;
  /** The last `count` log lines and any stderr, for a failure message. */
  recentLogs(count?: number): string;
  waitForLog(msg: string, timeoutMs?: number): Promise<boolean>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to clean up. */
  kill9(): Promise<void>;
}

const running = new Set<ChildProcess>();

afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
});

export interface StartOptions {
  /** A command that runs berth (e.g. unshare …); berth's own argv follows it. */
  readonly wrap?: readonly string[];
  /** Wait for "controller started" (default true). */
  readonly waitStarted?: boolean;
}

/**
 * A test file's `berth run`: `start` it in a test, and it is stopped after that test, whatever
 * the test's outcome. `current` is the one running, if any.
 */
export function controllerPerTest(): {
  start(args: readonly string[], env?: Record<string, string>, options?: StartOptions): Promise<RunningBerth>;
  readonly current: RunningBerth | undefined;
} {
  let current: RunningBerth | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return {
    start: async (args, env = {}, options = {}) => (current = await startBerth(args, env, options)),
    get current() {
      return current;
    },
  };
}

/** Starts `berth run ARGS…` and waits until the controller has started. */
export async function startBerth(
  args: readonly string[],
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<RunningBerth> {
  const listen = args.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"];
  const argv = [BIN, "run", "--log-format", "json", "--log-level", "debug", ...listen, ...args];
  const [command, ...prefix] = options.wrap ?? [process.execPath];
  const child = spawn(command ?? process.execPath, options.wrap ? [...prefix, process.execPath, ...argv] : argv, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const logs: Record<string, unknown>[] = [];
  let buffered = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf("\n");
    while (nl !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: "(unparsed)", line });
      }
    }
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  // "close", not "exit": the output the process wrote before it exited may still be in the pipe at "exit".
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const handle: RunningBerth = {
    child,
    get url() {
      const line = logs.find((l) => l.msg === "http listening");
      return typeof line?.address === "string" ? line.address : "";
    },
    logs,
    get stderr() {
      return stderr;
    },
    recentLogs: (count = 30) =>
      `berth's last ${Math.min(count, logs.length)} log lines:\n${logs
        .slice(-count)
        .map((l) => JSON.stringify(l))
        .join("\n")}${stderr ? `\nberth's stderr:\n${stderr}` : ""}`,
    waitForLog: (msg, timeoutMs = 30_000) => pollUntil(() => logs.some((l) => l.msg === msg), timeoutMs),
    stop: async () => {
      child.kill("SIGTERM");
      const code = await exited;
      running.delete(child);
      return code;
    },
    kill9: async () => {
      child.kill("SIGKILL");
      await exited;
      running.delete(child);
    },
  };
  if (options.waitStarted !== false && !(await handle.waitForLog("controller started", 60_000))) {
    child.kill("SIGKILL");
    throw new Error(`berth run did not start: ${stderr}\n${JSON.stringify(logs.slice(-5))}`);
  }
  return handle;
}

export interface ContainerView {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly labels: Record<string, string>;
  readonly created: number;
}

/** The containers of a controller id. */
export async function containersOf(id: string): Promise<ContainerView[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`berth.controller=${id}`] } });
  return list
    .map((c) => ({ id: c.Id, name: c.Names[0]?.slice(1) ?? "", state: c.State, labels: c.Labels, created: c.Created }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export interface WaitOptions {
  /** How long to wait (default 60 s). */
  readonly timeoutMs?: number;
  /** More to show when the wait fails, e.g. a controller's recent logs. */
  readonly explain?: () => string | Promise<string>;
}

/** One line per container: name, state, and the first 12 characters of its spec hash. */
export function describeContainers(containers: readonly ContainerView[]): string {
  if (containers.length === 0) return "  (none)";
  return containers
    .map((c) => `  ${c.name} ${c.state} hash=${(c.labels["berth.hash"] ?? "-").slice(0, 12)} id=${c.id.slice(0, 12)}`)
    .join("\n");
}

/**
 * Polls until the containers of `id` satisfy `check` and returns them. Throws when they do not
 * within the deadline, saying what was awaited (`what`) and which containers were seen last: a
 * wait that times out is a failed test, never a list to carry on with.
 */
export async function waitContainers(
  id: string,
  what: string,
  check: (containers: ContainerView[]) => boolean,
  options: WaitOptions = {},
): Promise<ContainerView[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  let last: ContainerView[] = [];
  const met = await pollUntil(async () => {
    last = await containersOf(id);
    return check(last);
  }, timeoutMs);
  if (met) return last;
  const extra = options.explain ? `\n${await options.explain()}` : "";
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what} (controller id ${id}); ` +
      `its containers when last listed (${last.length}):\n${describeContainers(last)}${extra}`,
  );
}

/**
 * Removes every container of a controller id (and any named in `names`), then the volumes that
 * carry its label (those berth made for its specs, and its hash-key volume).
 */
export async function cleanup(id: string, names: readonly string[] = []): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`berth.controller=${id}`] } });
  const ids = new Set(list.map((c) => c.Id));
  for (const name of names) {
    const found = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
    for (const c of found) ids.add(c.Id);
  }
  await Promise.all(
    [...ids].map((cid) =>
      docker
        .getContainer(cid)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  const { Volumes } = await docker.listVolumes({ filters: { label: [`berth.controller=${id}`] } });
  await Promise.all(
    (Volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

/** A spec document for end-to-end tests: a quiet container that stops at once. */
export function e2eSpec(name: string, extra: readonly string[] = []): string {
  return specText(name, {
    image: TEST_IMAGE,
    extra: ['command: ["sleep", "infinity"]', "init: true", "stopTimeout: 2s", ...extra],
  });
}

/** The spec hash of the one document in `text`: the berth.hash label its containers carry. */
export function specHashOf(text: string): string {
  const parsed = parseSpecText(text, "spec.yaml");
  const [doc, ...more] = parsed.documents;
  if (!doc || more.length > 0 || parsed.issues.length > 0)
    throw new Error(`not one valid document: ${parsed.issues.map((i) => i.message).join("; ")}`);
  return specHash(doc.spec);
}

/** A fresh spec folder holding `files` (removed after the test, or the file with lifetime "file"). */
export function specDir(files: Record<string, string>, lifetime: "test" | "file" = "test"): string {
  const dir = tempDir("berth-e2e-", lifetime);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

/** A unique controller id for a test. */
export function testId(name: string): string {
  return `e2e-${name}-${process.pid}`;
}

/**
 * Controller ids for the tests of a file, each cleaned up after its test. Call it before
 * registering the hook that stops the test's controller: hooks run last-registered first, so the
 * controller stops before its containers are removed.
 */
export function testIds(): (name: string) => string {
  const used: string[] = [];
  afterEach(async () => {
    for (const id of used.splice(0)) await cleanup(id);
  });
  return (name) => {
    const id = testId(name);
    used.push(id);
    return id;
  };
}

/** Waits for `n` more reconcile passes of a running controller to complete, from now. */
export async function passes(controller: RunningBerth, n: number): Promise<boolean> {
  const from = controller.logs.length;
  return pollUntil(
    () => controller.logs.slice(from).filter((l) => l.msg === "reconcile pass done").length >= n,
    15_000,
  );
}

/** An image `repo:latest` made from the test image with `cmd` as its default command. */
/** The engine has sent `container` a signal (a stop begins with one) since `since` (epoch seconds). */
export async function signalled(container: string, since: number): Promise<boolean> {
  const stream = await docker.getEvents({
    since,
    until: Math.floor(Date.now() / 1000),
    filters: { container: [container], event: ["kill"] },
  });
  let text = "";
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  return text.includes('"kill"');
}

export async function commitImage(repo: string, cmd: readonly string[]): Promise<void> {
  const c = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ["true"] });
  await c.commit({ repo, tag: "latest", changes: `CMD ${JSON.stringify(cmd)}` });
  await c.remove({ force: true });
}

/** Removes an image a test made; one already gone is fine. */
export async function removeImage(ref: string): Promise<void> {
  await docker
    .getImage(ref)
    .remove({ force: true })
    .catch(() => undefined);
}
