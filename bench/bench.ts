/**
 * `npm run bench [-- --quick | --smoke]`: berth against the raw Docker API and Docker Compose, as
 * ratios against baselines measured in the same run (these machines are shared and noisy).
 *
 *   cold      N specs from nothing to all running: `berth apply` vs raw dockerode create+start
 *             at the same concurrency (the floor), the best raw concurrency of 2/4/8/16, every
 *             create then every start at once (Compose's order), and `docker compose up -d`
 *             (Compose v2) of an equivalent compose file. Median of the runs, and the median of
 *             the per-run ratios.
 *   startup   `berth --version`, `berth validate specs/` and `berth status` against `node -e 0`,
 *             taken in turns, pair by pair: the start-up every command pays.
 *   no-op CLI with N converged, `berth apply` and `berth plan` (the whole command, start-up
 *             included) against `docker compose up -d` on its converged project, in turns.
 *   noop      with N converged, one reconcile pass: Docker calls by kind, wall and CPU time; and
 *             the pure planning cost of 1 000 / 10 000 specs.
 *   latency   with `berth run` running, p50/p95 of: file written → running, file deleted → gone,
 *             `docker rm -f` → replacement running, expiresAt reached → gone.
 *   pools     a warm pool of 3 (docs/pools.md): claim → answer p50/p95 against a raw create+start of
 *             the same container, taken in turns; and the refill of the pool after 3 claims against
 *             3 raw creates+starts one after another (as berth makes a spec's) and 3 at once.
 *   memory    RSS of an idle `berth run` with 0 / 1 000 / 5 000 spec files (suspended: no containers).
 *   scaling   cold convergence and no-op calls from N = 10 to the largest N.
 *   swarm     `berth apply --target swarm` of N services (20 quick, 40 full, 2 smoke) and their
 *             network on a one-node swarm (a private dockerd) against `docker stack deploy
 *             --detach` of the equivalent Compose file, each until every task runs; one run each.
 *
 * Prints a table and writes bench/results/<time>.json. Every run uses its own controller ids and
 * compose project and removes what it made. `--only startup,cold,noopcli` runs some sections;
 * `--cold 40,200`, `--runs 3` and `--raws 4` override the mode's sizes, runs and raw concurrencies,
 * `--concurrency 16` berth's concurrency (and the raw floor's beside it; default 4).
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Docker from "dockerode";
import type * as PlanModule from "../src/core/plan/plan.js";
import { formatTime } from "../src/core/units.js";
import { container, desired, input, observed, OPTIONS } from "../test/support/plan-fixtures.js";
import { pollUntil } from "../test/support/poll.js";
import { PrivateDockerd } from "../test/support/private-dockerd.js";
import { dist, median } from "./support.js";

const { plan } = await dist<typeof PlanModule>("core/plan/plan.js");

const IMAGE = "berth-test/busybox:latest";
const BIN = path.resolve("bin/berth.js");
const TSX = path.resolve("node_modules/.bin/tsx");
const docker = new Docker();

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    out: { type: "string" },
    only: { type: "string" },
    cold: { type: "string" },
    runs: { type: "string" },
    raws: { type: "string" },
    concurrency: { type: "string" },
  },
});
// `npm run bench --quick` hands the flag to npm, which passes it on as npm_config_quick.
const flag = (name: "quick" | "smoke"): boolean => values[name] || process.env[`npm_config_${name}`] === "true";
const MODE = flag("smoke") ? "smoke" : flag("quick") ? "quick" : "full";
const P = {
  smoke: {
    cold: [3],
    runs: 1,
    raws: [4],
    scaling: [3],
    trials: 2,
    memory: [0],
    idleMs: 1000,
    planning: [100],
    compose: false,
    haTrials: 1,
    swarm: 2,
  },
  quick: {
    cold: [40],
    runs: 1,
    raws: [2, 4, 8, 16],
    scaling: [10, 40],
    trials: 10,
    memory: [0, 1000, 5000],
    idleMs: 15_000,
    planning: [1000, 10_000],
    compose: true,
    haTrials: 5,
    swarm: 20,
  },
  full: {
    cold: [40, 200],
    runs: 3,
    raws: [2, 4, 8, 16],
    scaling: [10, 50, 100, 200],
    trials: 20,
    memory: [0, 1000, 5000],
    idleMs: 15_000,
    planning: [1000, 10_000],
    compose: true,
    haTrials: 10,
    swarm: 40,
  },
}[MODE];
const numbers = (list: string): number[] => list.split(",").map((n) => Number.parseInt(n, 10));
if (values.cold !== undefined) P.cold = numbers(values.cold);
if (values.runs !== undefined) P.runs = Number.parseInt(values.runs, 10);
if (values.raws !== undefined) P.raws = numbers(values.raws);
const SECTIONS = [
  "startup",
  "cold",
  "noopcli",
  "noop",
  "scaling",
  "latency",
  "pools",
  "ha",
  "memory",
  "swarm",
] as const;
const only = values.only?.split(",") ?? SECTIONS;
const wanted = (section: (typeof SECTIONS)[number]): boolean => only.includes(section);
/** How many times each command of the start-up and no-op CLI sections runs (in turns). */
const REPEATS = MODE === "smoke" ? 2 : 9;
/** berth's --concurrency in every section, and the raw floor's beside it (`--concurrency N`; berth's default 4). */
const CONCURRENCY = values.concurrency === undefined ? 4 : Number.parseInt(values.concurrency, 10);
const run = `${process.pid}`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const ms = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 1 : 0)} ms` : "-");
const x = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "-");

function sh(
  command: string,
  args: readonly string[],
  timeoutMs = 0,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { maxBuffer: 64 << 20, timeout: timeoutMs, killSignal: "SIGKILL", env },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

async function removeByLabel(label: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

async function running(label: string): Promise<number> {
  return (await docker.listContainers({ filters: { label: [label], status: ["running"] } })).length;
}

// ---- the contenders, on the same image and the same container shape -------------------------

function specYaml(name: string, extra: readonly string[] = []): string {
  return [
    "apiVersion: berth/v1",
    "kind: Container",
    `metadata: { name: ${name} }`,
    "spec:",
    `  image: ${IMAGE}`,
    '  command: ["sleep", "infinity"]',
    "  init: true",
    // `extra` may name the network instead.
    ...(extra.some((e) => e.startsWith("network:")) ? [] : ["  network: none"]),
    "  stopTimeout: 1s",
    ...extra.map((e) => `  ${e}`),
    "",
  ].join("\n");
}

function specFolder(n: number, prefix: string, extra: readonly string[] = []): string {
  const dir = mkdtempSync(path.join(tmpdir(), "berth-bench-"));
  for (let i = 0; i < n; i++) writeFileSync(path.join(dir, `s${i}.yaml`), specYaml(`${prefix}-s${i}`, extra));
  return dir;
}

/**
 * What Compose v2 asks of the engine: every create at once, then every start at once. With the
 * engine the only limit, this is the floor no client order beats by much (docs/benchmarks.md).
 */
/** Compose's order through dockerode: the whole time, and the part the creates took. */
async function rawAllAtOnce(n: number): Promise<{ ms: number; createsMs: number }> {
  const label = `bench.raw=${run}-all-${n}`;
  const [key, value] = label.split("=") as [string, string];
  const started = performance.now();
  const created = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      docker.createContainer({
        name: `bench-raw-${run}-all-${i}`,
        Image: IMAGE,
        Cmd: ["sleep", "infinity"],
        Labels: { [key]: value },
        HostConfig: { Init: true, NetworkMode: "none" },
      }),
    ),
  );
  const createsMs = performance.now() - started;
  await Promise.all(created.map((c) => c.start()));
  const took = performance.now() - started;
  await removeByLabel(label);
  return { ms: took, createsMs };
}

/** The floor: dockerode create+start of N containers, `concurrency` at a time. */
async function rawCold(n: number, concurrency: number): Promise<number> {
  const label = `bench.raw=${run}-${concurrency}-${n}`;
  const [key, value] = label.split("=") as [string, string];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const c = await docker.createContainer({
          name: `bench-raw-${run}-${concurrency}-${i}`,
          Image: IMAGE,
          Cmd: ["sleep", "infinity"],
          Labels: { [key]: value },
          HostConfig: { Init: true, NetworkMode: "none" },
        });
        await c.start();
      }
    }),
  );
  const took = performance.now() - started;
  await removeByLabel(label);
  return took;
}

async function berthCold(n: number, id: string): Promise<number> {
  const dir = specFolder(n, id);
  const started = performance.now();
  const res = await sh(process.execPath, [
    BIN,
    "apply",
    "--id",
    id,
    "--specs",
    dir,
    "--concurrency",
    String(CONCURRENCY),
  ]);
  const took = performance.now() - started;
  if (res.code !== 0) throw new Error(`berth apply failed: ${res.out.slice(-2000)}`);
  rmSync(dir, { recursive: true, force: true });
  return took;
}

/** N services as Compose writes them; for `docker stack deploy`, on the stack's default network (it has no network_mode). */
function composeFile(n: number, stack = false): string {
  const dir = mkdtempSync(path.join(tmpdir(), "berth-bench-compose-"));
  const network = stack ? "" : "    network_mode: none\n";
  const services = Array.from(
    { length: n },
    (_, i) =>
      `  s${i}:\n    image: ${IMAGE}\n    command: ["sleep", "infinity"]\n    init: true\n${network}    stop_grace_period: 1s\n`,
  ).join("");
  const file = path.join(dir, "compose.yaml");
  writeFileSync(file, `services:\n${services}`);
  return file;
}

/** How long `docker compose` may take before it counts as stalled (docker-compose 1.29 did at 200). */
const COMPOSE_TIMEOUT_MS = 180_000;

/** The time `docker compose ARGS` took, or null when it stalled past COMPOSE_TIMEOUT_MS. */
async function compose(file: string, project: string, ...args: string[]): Promise<number | null> {
  const started = performance.now();
  const res = await sh("docker", ["compose", "-p", project, "-f", file, ...args], COMPOSE_TIMEOUT_MS);
  const took = performance.now() - started;
  if (res.code !== 0 && took >= COMPOSE_TIMEOUT_MS) {
    console.error(`bench: docker compose ${args.join(" ")} stalled past ${COMPOSE_TIMEOUT_MS / 1000} s (${project})`);
    return null;
  }
  if (res.code !== 0) throw new Error(`docker compose ${args.join(" ")} failed: ${res.out.slice(-2000)}`);
  return took;
}

/** Compose v2, the `docker compose` plugin users run today (scripts/ensure-compose.sh installs it). */
function ensureCompose(): string | null {
  const version = (): string | null => {
    const res = spawnSync("docker", ["compose", "version", "--short"], { encoding: "utf8" });
    return res.status === 0 ? res.stdout.trim() : null;
  };
  if (version() === null) spawnSync("bash", ["scripts/ensure-compose.sh"], { stdio: "inherit" });
  return version();
}

async function composeDown(project: string): Promise<void> {
  await removeByLabel(`com.docker.compose.project=${project}`);
  const nets = await docker.listNetworks({ filters: { label: [`com.docker.compose.project=${project}`] } });
  await Promise.all(
    nets.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
}

// ---- sections ---------------------------------------------------------------------------------

interface ColdRow {
  n: number;
  berthMs: number;
  rawMs: number;
  bestRaw: { concurrency: number; ms: number };
  /** Every create at once, then every start at once (Compose's order), with Compose only. */
  allAtOnceMs: number | null;
  /** Of that, the creates: the starts are the rest (the engine's floor is its starts). */
  allCreatesMs: number | null;
  composeMs: number | null;
  berthOverRaw: number;
  berthOverBestRaw: number;
  berthOverCompose: number | null;
  /** The smallest and the largest of the per-run ratios to Compose: the spread. */
  berthOverComposeRange: [number, number] | null;
}

async function cold(n: number, withCompose: boolean): Promise<ColdRow> {
  const berthMs: number[] = [];
  const rawMs: number[] = [];
  const composeMs: number[] = [];
  const allAtOnceMs: number[] = [];
  const allCreatesMs: number[] = [];
  const ratios: { raw: number[]; compose: number[] } = { raw: [], compose: [] };
  const raws = new Map<number, number[]>();
  for (let r = 0; r < P.runs; r++) {
    const raw = await rawCold(n, CONCURRENCY);
    const id = `bench-${run}-cold${n}-${r}`;
    const b = await berthCold(n, id);
    await removeByLabel(`berth.controller=${id}`);
    rawMs.push(raw);
    berthMs.push(b);
    ratios.raw.push(b / raw);
    for (const c of P.raws) raws.set(c, [...(raws.get(c) ?? []), c === CONCURRENCY ? raw : await rawCold(n, c)]);
    if (withCompose) {
      const floor = await rawAllAtOnce(n);
      allAtOnceMs.push(floor.ms);
      allCreatesMs.push(floor.createsMs);
      const file = composeFile(n);
      const project = `benchcold${run}${n}${r}`;
      const cm = await compose(file, project, "up", "-d");
      await composeDown(project);
      rmSync(path.dirname(file), { recursive: true, force: true });
      if (cm !== null) {
        composeMs.push(cm);
        ratios.compose.push(b / cm);
      }
    }
  }
  const best = [...raws].map(([c, v]) => ({ concurrency: c, ms: median(v) })).sort((a, b) => a.ms - b.ms)[0] ?? {
    concurrency: CONCURRENCY,
    ms: median(rawMs),
  };
  return {
    n,
    berthMs: median(berthMs),
    rawMs: median(rawMs),
    bestRaw: best,
    allAtOnceMs: allAtOnceMs.length > 0 ? median(allAtOnceMs) : null,
    allCreatesMs: allCreatesMs.length > 0 ? median(allCreatesMs) : null,
    composeMs: composeMs.length > 0 ? median(composeMs) : null,
    berthOverRaw: median(ratios.raw),
    berthOverBestRaw: median(berthMs) / best.ms,
    berthOverCompose: ratios.compose.length > 0 ? median(ratios.compose) : null,
    berthOverComposeRange:
      ratios.compose.length > 0 ? [Math.min(...ratios.compose), Math.max(...ratios.compose)] : null,
  };
}

interface NoopRow {
  n: number;
  calls: Record<string, number>;
  writes: number;
  wallMs: number;
  cpuMs: number;
  /** The engine alone: the same two list calls made with dockerode, side by side. */
  floorMs: number;
}

/** With N converged by berth apply: one pass of a controller (warm, as a resync is), in a process of its own. */
async function noop(n: number): Promise<NoopRow> {
  const id = `bench-${run}-noop${n}`;
  const dir = specFolder(n, id);
  const res = await sh(process.execPath, [BIN, "apply", "--id", id, "--specs", dir, "--concurrency", "8"]);
  if (res.code !== 0) throw new Error(`berth apply failed: ${res.out.slice(-2000)}`);
  const measured = await sh(TSX, [path.resolve("bench/noop-pass.ts"), id, dir]);
  if (measured.code !== 0) throw new Error(`bench/noop-pass.ts failed: ${measured.out.slice(-2000)}`);
  const line = measured.out.split("\n").find((l) => l.startsWith("{")) ?? "";
  const { calls, wallMs, cpuMs, floorMs } = JSON.parse(line) as {
    calls: Record<string, number>;
    wallMs: number;
    cpuMs: number;
    floorMs: number;
  };
  const writes = ["create", "start", "stop", "remove", "rename", "pull"].reduce((s, k) => s + (calls[k] ?? 0), 0);
  await removeByLabel(`berth.controller=${id}`);
  rmSync(dir, { recursive: true, force: true });
  return { n, calls, writes, wallMs, cpuMs, floorMs };
}

/** The wall time of one whole command, as a user's shell would see it; it must exit with `code`. */
async function timed(command: string, args: readonly string[], code = 0): Promise<number> {
  const started = performance.now();
  const res = await sh(command, args);
  const took = performance.now() - started;
  if (res.code !== code) throw new Error(`${command} ${args.join(" ")} exited ${res.code}: ${res.out.slice(-2000)}`);
  return took;
}

interface Paired {
  /** Median wall time of each contender. */
  ms: Record<string, number>;
  /** Median, min and max of each contender's per-round ratio to the baseline. */
  ratio: Record<string, { median: number; min: number; max: number }>;
}

/**
 * The contenders and the baseline, one after another in rounds (after one round unmeasured), so
 * that a machine whose speed drifts during the section moves both sides of each ratio.
 */
async function paired(
  baseline: () => Promise<number>,
  contenders: Record<string, () => Promise<number>>,
): Promise<Paired> {
  const times: Record<string, number[]> = { baseline: [] };
  const ratios: Record<string, number[]> = {};
  for (let r = 0; r <= REPEATS; r++) {
    const base = await baseline();
    if (r > 0) times.baseline?.push(base);
    for (const [name, f] of Object.entries(contenders)) {
      const t = await f();
      if (r === 0) continue;
      (times[name] ??= []).push(t);
      (ratios[name] ??= []).push(t / base);
    }
  }
  return {
    ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])),
    ratio: Object.fromEntries(
      Object.entries(ratios).map(([k, v]) => [k, { median: median(v), min: Math.min(...v), max: Math.max(...v) }]),
    ),
  };
}

/** What every command pays before it does anything: berth's start-up against Node's own. */
async function startup(): Promise<Paired> {
  const berthCmd =
    (...args: string[]) =>
    () =>
      timed(process.execPath, [BIN, ...args]);
  return paired(() => timed(process.execPath, ["-e", "0"]), {
    "berth --version": berthCmd("--version"),
    "berth validate specs/": berthCmd("validate", "specs/"),
    "berth status": berthCmd("status", "--server", "off", "--id", `bench-${run}-startup`, "--specs", "specs/"),
  });
}

/** With N converged: `berth apply` and `berth plan` (no change to make) against Compose v2's `up -d`. */
async function noopCli(n: number): Promise<Paired & { n: number }> {
  const id = `bench-${run}-noopcli${n}`;
  const dir = specFolder(n, id);
  const file = composeFile(n);
  const project = `benchnoop${run}${n}`;
  try {
    await timed(process.execPath, [BIN, "apply", "--id", id, "--specs", dir, "--concurrency", "8"]);
    await compose(file, project, "up", "-d");
    const berthCmd =
      (...args: string[]) =>
      () =>
        timed(process.execPath, [BIN, ...args, "--id", id, "--specs", dir]);
    const result = await paired(
      async () => {
        const took = await compose(file, project, "up", "-d");
        if (took === null) throw new Error("docker compose up -d stalled on a converged project");
        return took;
      },
      { "berth apply": berthCmd("apply"), "berth plan": berthCmd("plan") },
    );
    return { n, ...result };
  } finally {
    await composeDown(project);
    await removeByLabel(`berth.controller=${id}`);
    rmSync(path.dirname(file), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The pure planner on n converged specs: the first plan (cold JIT) and the median of the next 9. */
function planning(n: number): { n: number; firstMs: number; ms: number } {
  const specs = Array.from({ length: n }, (_, i) => desired(`s${i}`));
  const obs = observed(specs.map((d) => container(d)));
  const inp = input(specs);
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    const p = plan(inp, obs, Date.now(), OPTIONS);
    times.push(performance.now() - started);
    if (p.actions.length > 0) throw new Error("planning bench: not converged");
  }
  return { n, firstMs: times[0] ?? NaN, ms: median(times.slice(1)) };
}

interface Latency {
  p50: number;
  p95: number;
  trials: number;
  /** The engine alone doing the same (dockerode, one at a time): p50. */
  floorP50: number;
}

/** Docker events of a controller id, with the engine's timestamps (ms). */
async function eventsOf(
  id: string,
): Promise<{ next(name: string, action: string, after: number, notId?: string): Promise<number>; close(): void }> {
  const stream = (await docker.getEvents({
    filters: { label: [`berth.controller=${id}`], type: ["container"] },
  })) as NodeJS.ReadableStream & {
    destroy(): void;
  };
  const seen: { id: string; name: string; action: string; at: number }[] = [];
  const waiters = new Set<() => void>();
  let buffer = "";
  stream.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    let nl = buffer.indexOf("\n");
    while (nl !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
      try {
        const e = JSON.parse(line) as {
          Action: string;
          timeNano: number;
          Actor: { ID: string; Attributes: Record<string, string> };
        };
        seen.push({ id: e.Actor.ID, name: e.Actor.Attributes.name ?? "", action: e.Action, at: e.timeNano / 1e6 });
        for (const w of waiters) w();
      } catch {
        // a partial line
      }
    }
  });
  return {
    next: async (name, action, after, notId) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const hit = seen.find((e) => e.name === name && e.action === action && e.at >= after && e.id !== notId);
        if (hit) return hit.at;
        if (Date.now() > deadline) throw new Error(`no ${action} of ${name} within 60 s`);
        await new Promise<void>((resolve) => {
          const w = (): void => {
            waiters.delete(w);
            resolve();
          };
          waiters.add(w);
          setTimeout(w, 200);
        });
      }
    },
    close: () => {
      stream.destroy();
    },
  };
}

interface Run {
  readonly child: ChildProcess;
  /** The HTTP API's base URL, as berth logged it ("http listening"). */
  readonly url: string;
}

/**
 * `berth run` on a free loopback port (--listen 127.0.0.1:0), once it says where it listens: the
 * bench talks to that address only, never to whatever else might answer on a guessed port.
 */
async function startRun(
  id: string,
  dir: string,
  extra: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<Run> {
  const args = ["run", "--id", id, "--specs", dir, "--log-format", "json", "--listen", "127.0.0.1:0", ...extra];
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    let found = false;
    const timer = setTimeout(() => {
      fail(new Error(`berth run (${id}) did not log "http listening" within 60 s`));
    }, 60_000);
    const onExit = (code: number | null): void => {
      fail(new Error(`berth run (${id}) exited (${code}) before it listened`));
    };
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.off("exit", onExit);
      child.kill("SIGKILL");
      reject(err);
    };
    child.once("exit", onExit);
    // Read every line, also after the address: a child writing to a full pipe would stall.
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      if (found) return;
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        let entry: { msg?: unknown; address?: unknown };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (entry.msg === "http listening" && typeof entry.address === "string") {
          found = true;
          clearTimeout(timer);
          child.off("exit", onExit);
          resolve(entry.address);
          return;
        }
      }
    });
  });
  return { child, url };
}

async function stopRun(run: Run): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  const exited = new Promise((resolve) => run.child.once("exit", resolve));
  run.child.kill("SIGTERM");
  await exited;
}

async function waitReady(run: Run): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null) throw new Error(`berth run exited (${run.child.exitCode}) before it was ready`);
    try {
      if ((await fetch(`${run.url}/readyz`)).status === 200) return;
    } catch {
      // not answering yet
    }
    await sleep(100);
  }
  throw new Error(`${run.url} not ready`);
}

async function latency(trials: number): Promise<Record<string, Latency>> {
  const id = `bench-${run}-lat`;
  const dir = mkdtempSync(path.join(tmpdir(), "berth-bench-lat-"));
  const events = await eventsOf(id);
  const out: Record<string, number[]> = {
    "file written → running": [],
    "file deleted → gone": [],
    "container removed → replaced": [],
    "expiresAt → gone": [],
  };
  // What the engine alone takes for the same work, measured between the trials: create+start (a
  // file written, a container replaced), stop+remove (a file deleted), a forced remove (expiry).
  const floors: Record<string, number[]> = {
    "file written → running": [],
    "file deleted → gone": [],
    "container removed → replaced": [],
    "expiresAt → gone": [],
  };
  const rawTrial = async (t: number): Promise<void> => {
    const make = async (suffix: string): Promise<{ container: Docker.Container; ms: number }> => {
      const started = performance.now();
      const c = await docker.createContainer({
        name: `bench-raw-${run}-lat${t}${suffix}`,
        Image: IMAGE,
        Cmd: ["sleep", "infinity"],
        Labels: { "bench.raw": `${run}-lat` },
        HostConfig: { Init: true, NetworkMode: "none" },
        StopTimeout: 1,
      });
      await c.start();
      return { container: c, ms: performance.now() - started };
    };
    const a = await make("a");
    floors["file written → running"]?.push(a.ms);
    floors["container removed → replaced"]?.push(a.ms);
    let started = performance.now();
    await a.container.stop();
    await a.container.remove({ force: true });
    floors["file deleted → gone"]?.push(performance.now() - started);
    const b = await make("b");
    started = performance.now();
    await b.container.remove({ force: true });
    floors["expiresAt → gone"]?.push(performance.now() - started);
  };
  let berthRun: Run | undefined;
  try {
    berthRun = await startRun(id, dir, ["--concurrency", String(CONCURRENCY)]);
    // Three containers that stay: deleting the trial's file then removes a quarter of the managed
    // containers, under the prune guard's share (a file deleted from an otherwise empty folder is
    // not pruned, by design).
    for (let i = 0; i < 3; i++) writeFileSync(path.join(dir, `anchor${i}.yaml`), specYaml(`${id}-anchor${i}`));
    await waitReady(berthRun);
    while ((await running(`berth.controller=${id}`)) < 3) await sleep(50);
    for (let t = 0; t < trials; t++) {
      const name = `${id}-t${t}`;
      const file = path.join(dir, `t${t}.yaml`);
      let at = Date.now();
      writeFileSync(file, specYaml(name));
      out["file written → running"]?.push((await events.next(name, "start", at)) - at);
      const old = (await docker.getContainer(name).inspect()).Id;
      at = Date.now();
      await docker.getContainer(name).remove({ force: true });
      // From the engine's own time of the removal: how long berth takes to notice and replace.
      const gone = await events.next(name, "destroy", at - 1000);
      out["container removed → replaced"]?.push((await events.next(name, "start", at, old)) - gone);
      at = Date.now();
      unlinkSync(file);
      out["file deleted → gone"]?.push((await events.next(name, "destroy", at)) - at);
      // Expiry: a spec that expires 1.5 s after it runs.
      const expiring = `${name}-x`;
      const expiresAt = Date.now() + 1500;
      writeFileSync(path.join(dir, `t${t}x.yaml`), specYaml(expiring, [`expiresAt: "${formatTime(expiresAt)}"`]));
      await events.next(expiring, "start", expiresAt - 1500);
      out["expiresAt → gone"]?.push((await events.next(expiring, "destroy", expiresAt)) - expiresAt);
      unlinkSync(path.join(dir, `t${t}x.yaml`));
      await rawTrial(t);
    }
  } finally {
    events.close();
    if (berthRun) await stopRun(berthRun);
    await removeByLabel(`berth.controller=${id}`);
    await removeByLabel(`bench.raw=${run}-lat`);
    rmSync(dir, { recursive: true, force: true });
  }
  return Object.fromEntries(
    Object.entries(out).map(([k, v]) => [
      k,
      { p50: pct(v, 50), p95: pct(v, 95), trials: v.length, floorP50: pct(floors[k] ?? [], 50) },
    ]),
  );
}

/** RSS once idle (V8 returns memory some seconds after the last burst), and the peak. */
async function memory(n: number): Promise<{ n: number; rssMiB: number; peakMiB: number }> {
  const id = `bench-${run}-mem${n}`;
  const dir = specFolder(n, id, ["suspended: true"]);
  // At the default log level: berth says where it listens at info. Idle, it logs nothing more.
  const berthRun = await startRun(id, dir);
  try {
    await waitReady(berthRun);
    await sleep(P.idleMs);
    const status = readFileSync(`/proc/${berthRun.child.pid}/status`, "utf8");
    const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
    return { n, rssMiB: kib("VmRSS"), peakMiB: kib("VmHWM") };
  } finally {
    await stopRun(berthRun);
    await removeByLabel(`berth.controller=${id}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- high availability ----------------------------------------------------------------------------

interface HaBench {
  readonly trials: number;
  readonly ttlMs: number;
  /** kill -9 of the leader → the standby leads (may write), and → a spec added at the kill runs. */
  readonly killLeadP50: number;
  readonly killLeadP95: number;
  readonly killConvergeP50: number;
  readonly killConvergeP95: number;
  /** SIGTERM of the leader → the standby leads, and → a spec added at the stop runs. */
  readonly termLeadP50: number;
  readonly termLeadP95: number;
  readonly termConvergeP50: number;
}

/**
 * Failover with the default lease (10 s TTL, renewed every 2 s) on a redis-server of the bench's
 * own: two berths with one id; in each trial the leader is killed (or stopped) and a spec file is
 * added at that moment; the standby's first chance to write and the new container running are
 * timed. StreamSpace's agent documents 5–15 s for its failover.
 */
async function haBench(trials: number): Promise<HaBench> {
  const { TestRedis } = await import("../test/support/redis.js");
  const redis = await TestRedis.start();
  const id = `bench-${run}-ha`;
  const dir = mkdtempSync(path.join(tmpdir(), "berth-bench-ha-"));
  writeFileSync(path.join(dir, "base.yaml"), specYaml(`${id}-base`));
  const label = `berth.controller=${id}`;
  // A store that has had terms: the first leader does not wait one TTL (docs/reliability.md).
  await redis.command(["SET", `berth:{${id}}:term`, "1"]);
  const start = () => startRun(id, dir, ["--ha", redis.url()]);
  const leads = async (r: Run): Promise<boolean> => {
    try {
      return (await fetch(`${r.url}/readyz?role=leader`)).status === 200;
    } catch {
      return false;
    }
  };
  const runs: Run[] = [await start(), await start()];
  const kill = { lead: [] as number[], converge: [] as number[] };
  const term = { lead: [] as number[], converge: [] as number[] };
  try {
    for (let i = 0; i < 2 * trials; i++) {
      const graceful = i % 2 === 1;
      await until(async () => (await Promise.all(runs.map(leads))).filter(Boolean).length === 1, "one leader", 60_000);
      const flags = await Promise.all(runs.map(leads));
      const leader = runs[flags.indexOf(true)] as Run;
      const standby = runs[flags.indexOf(false)] as Run;
      const name = `${id}-t${i}`;
      const t0 = performance.now();
      if (graceful) void stopRun(leader);
      else leader.child.kill("SIGKILL");
      writeFileSync(path.join(dir, `t${i}.yaml`), specYaml(name));
      await until(() => leads(standby), "the standby to lead", 60_000);
      const led = performance.now() - t0;
      await until(
        async () =>
          (await docker.listContainers({ filters: { label: [label], name: [`^/${name}$`], status: ["running"] } }))
            .length === 1,
        "the spec added at the failover to run",
        60_000,
      );
      const converged = performance.now() - t0;
      (graceful ? term : kill).lead.push(led);
      (graceful ? term : kill).converge.push(converged);
      await stopRun(leader).catch(() => undefined);
      runs.splice(runs.indexOf(leader), 1, await start());
    }
  } finally {
    for (const r of runs) await stopRun(r).catch(() => undefined);
    await redis.kill();
    await removeByLabel(label);
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    trials,
    ttlMs: 10_000,
    killLeadP50: pct(kill.lead, 50),
    killLeadP95: pct(kill.lead, 95),
    killConvergeP50: pct(kill.converge, 50),
    killConvergeP95: pct(kill.converge, 95),
    termLeadP50: pct(term.lead, 50),
    termLeadP95: pct(term.lead, 95),
    termConvergeP50: pct(term.converge, 50),
  };
}

// ---- main ---------------------------------------------------------------------------------------

interface PoolBench {
  readonly trials: number;
  readonly claimP50: number;
  readonly claimP95: number;
  readonly coldP50: number;
  readonly coldP95: number;
  /** claim p50 / cold create+start p50. */
  readonly claimOverCold: number;
  readonly refillMs: number;
  /** 3 raw creates+starts one after another, and 3 at once. */
  readonly raw3SerialMs: number;
  readonly raw3ParallelMs: number;
  readonly refillOverSerial: number;
  readonly refillOverParallel: number;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A pool of 3: claims against cold creates, then the refill after 3 claims against raw creates. */
async function poolBench(trials: number): Promise<PoolBench> {
  const id = `bench-${run}-pool`;
  const token = `bench-${run}-token-0123456789`;
  const pool = `${id}-p`;
  const dir = mkdtempSync(path.join(tmpdir(), "berth-bench-pool-"));
  const runtime = mkdtempSync(path.join(tmpdir(), "berth-bench-rt-"));
  writeFileSync(path.join(dir, "pool.yaml"), specYaml(pool, ["pool: { size: 3, maxCreating: 3 }"]));
  const label = `berth.controller=${id}`;
  const berthRun = await startRun(id, dir, ["--runtime-specs", runtime], { BERTH_API_TOKEN: token });
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const call = async (method: string, url: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${berthRun.url}${url}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`bench: ${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const all = async (): Promise<number> =>
    (await docker.listContainers({ all: true, filters: { label: [label] } })).length;
  try {
    await until(async () => (await running(label)) === 3, "the pool of 3");
    const claims: number[] = [];
    const colds: number[] = [];
    for (let t = 0; t < trials; t++) {
      const started = performance.now();
      await call("POST", `/v1/pools/${pool}/claims`, { name: `t${t}` });
      claims.push(performance.now() - started);
      colds.push(await rawCold(1, 1));
      await until(async () => (await running(label)) === 4, "the refill after a claim");
      await call("DELETE", `/v1/pools/${pool}/claims/t${t}`);
      await until(async () => (await all()) === 3, "the release");
    }
    // The refill: 3 claims, then the time until 3 unclaimed members run again.
    await Promise.all([0, 1, 2].map((i) => call("POST", `/v1/pools/${pool}/claims`, { name: `r${i}` })));
    const refillStarted = performance.now();
    await until(async () => (await running(label)) === 6, "the refill of 3");
    const refillMs = performance.now() - refillStarted;
    const raw3SerialMs = await rawCold(3, 1);
    const raw3ParallelMs = await rawCold(3, 3);
    const claimP50 = pct(claims, 50);
    const coldP50 = pct(colds, 50);
    return {
      trials,
      claimP50,
      claimP95: pct(claims, 95),
      coldP50,
      coldP95: pct(colds, 95),
      claimOverCold: claimP50 / coldP50,
      refillMs,
      raw3SerialMs,
      raw3ParallelMs,
      refillOverSerial: refillMs / raw3SerialMs,
      refillOverParallel: refillMs / raw3ParallelMs,
    };
  } finally {
    await stopRun(berthRun);
    await removeByLabel(label);
    rmSync(dir, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  }
}

interface SwarmBench {
  readonly n: number;
  readonly berthMs: number;
  readonly stackMs: number;
  readonly berthOverStack: number;
}

/** Waits until `n` tasks run on the private swarm (all of its tasks are the bench's); false after 5 minutes. */
async function tasksRunning(daemon: PrivateDockerd, n: number): Promise<boolean> {
  return pollUntil(
    async () => {
      const tasks = (await daemon.docker.listTasks({ filters: { "desired-state": ["running"] } })) as {
        Status?: { State?: string };
      }[];
      return tasks.filter((t) => t.Status?.State === "running").length >= n;
    },
    300_000,
    100,
  );
}

/**
 * `berth apply --target swarm` of N services (and the network they join, as a stack's default
 * one) on a one-node swarm — a private dockerd in a network namespace of its own, as the tests
 * use — against `docker stack deploy --detach` of the equivalent Compose file; each timed until
 * every task runs, polled the same way, in the same run.
 */
async function swarmBench(n: number): Promise<SwarmBench> {
  const daemon = await PrivateDockerd.create([IMAGE], { loopback: true });
  try {
    await daemon.docker.swarmInit({ ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1" });
    const env = { ...process.env, DOCKER_HOST: daemon.dockerHost, BERTH_STATE_DIR: path.join(daemon.dir, "state") };
    const id = `bench-${run}-swarm`;
    const dir = specFolder(n, id, [`network: ${id}-default`]);
    writeFileSync(
      path.join(dir, "network.yaml"),
      `apiVersion: berth/v1\nkind: Network\nmetadata: { name: ${id}-default }\n`,
    );
    const started = performance.now();
    const apply = sh(
      process.execPath,
      [BIN, "apply", "--target", "swarm", "--id", id, "-f", dir, "--concurrency", String(CONCURRENCY)],
      0,
      env,
    );
    if (!(await tasksRunning(daemon, n))) throw new Error("berth apply --target swarm: tasks not running after 5 min");
    const berthMs = performance.now() - started;
    const applied = await apply;
    if (applied.code !== 0) throw new Error(`berth apply --target swarm failed: ${applied.out.slice(-2000)}`);
    rmSync(dir, { recursive: true, force: true });
    for (const s of await daemon.docker.listServices()) await daemon.docker.getService(s.ID).remove();
    const file = composeFile(n, true);
    const stackStarted = performance.now();
    const deployed = await sh("docker", ["stack", "deploy", "--detach=true", "-c", file, id], 0, env);
    if (deployed.code !== 0) throw new Error(`docker stack deploy failed: ${deployed.out.slice(-2000)}`);
    if (!(await tasksRunning(daemon, n))) throw new Error("docker stack deploy: tasks not running after 5 min");
    const stackMs = performance.now() - stackStarted;
    rmSync(path.dirname(file), { recursive: true, force: true });
    return { n, berthMs, stackMs, berthOverStack: berthMs / stackMs };
  } finally {
    // The private daemon goes with its swarm, its services and its tasks.
    await daemon.destroy();
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  await docker.ping();
  if ((await docker.listImages({ filters: { reference: [IMAGE] } })).length === 0) {
    spawnSync("bash", ["scripts/ensure-docker.sh"], { stdio: "inherit" });
  }
  const composeVersion = P.compose && (wanted("cold") || wanted("noopcli")) ? ensureCompose() : null;
  const withCompose = composeVersion !== null;
  const info = await docker.version();
  console.log(
    `berth bench (${MODE}): Docker ${info.Version}, Node ${process.version}, Compose ${composeVersion ?? "-"}, concurrency ${CONCURRENCY}`,
  );
  const pairedRows = (p: Paired, baseline: string) => [
    { command: baseline, median: ms(p.ms.baseline ?? NaN), ratio: "1", "ratio min–max": "" },
    ...Object.entries(p.ratio).map(([name, r]) => ({
      command: name,
      median: ms(p.ms[name] ?? NaN),
      ratio: x(r.median),
      "ratio min–max": `${x(r.min)}–${x(r.max)}`,
    })),
  ];

  let start: Paired | null = null;
  if (wanted("startup")) {
    start = await startup();
    console.log(`\nstart-up: whole commands in turns with node -e 0 (${REPEATS} rounds; ratios per round)`);
    console.table(pairedRows(start, "node -e 0"));
  }

  const coldRows: ColdRow[] = [];
  if (wanted("cold")) {
    for (const n of P.cold) coldRows.push(await cold(n, withCompose));
    console.log("\ncold convergence (median; ratios are medians of per-run ratios)");
    console.table(
      coldRows.map((r) => ({
        N: r.n,
        berth: ms(r.berthMs),
        [`raw c=${CONCURRENCY}`]: ms(r.rawMs),
        "raw best": `${ms(r.bestRaw.ms)} (c=${r.bestRaw.concurrency})`,
        "raw all at once": r.allAtOnceMs === null ? "-" : ms(r.allAtOnceMs),
        "of it creates": r.allCreatesMs === null ? "-" : ms(r.allCreatesMs),
        "compose v2": r.composeMs === null ? "-" : ms(r.composeMs),
        "berth/raw": x(r.berthOverRaw),
        "berth/best raw": x(r.berthOverBestRaw),
        "berth/all at once": r.allAtOnceMs === null ? "-" : x(r.berthMs / r.allAtOnceMs),
        "berth/compose": r.berthOverCompose === null ? "-" : x(r.berthOverCompose),
        "per run": r.berthOverComposeRange === null ? "-" : r.berthOverComposeRange.map(x).join("–"),
      })),
    );
  }

  const noopCliRows: (Paired & { n: number })[] = [];
  if (wanted("noopcli") && withCompose) {
    const n = Math.min(...P.cold);
    noopCliRows.push(await noopCli(n));
    console.log(`\nno-op commands with ${n} converged, in turns with docker compose up -d (${REPEATS} rounds)`);
    for (const row of noopCliRows) console.table(pairedRows(row, "docker compose up -d"));
  }

  const noopRows: NoopRow[] = [];
  const plans: ReturnType<typeof planning>[] = [];
  if (wanted("noop")) {
    for (const n of P.scaling) noopRows.push(await noop(n));
    plans.push(...P.planning.map((n) => planning(n)));
    console.log("\nno-op pass with N converged (warm)");
    console.table(
      noopRows.map((r) => ({
        N: r.n,
        "Docker calls": Object.entries(r.calls)
          .map(([k, v]) => `${k}=${v}`)
          .join(" "),
        writes: r.writes,
        wall: ms(r.wallMs),
        cpu: ms(r.cpuMs),
        "engine alone": ms(r.floorMs),
        "berth beyond": ms(r.wallMs - r.floorMs),
      })),
    );
    console.log(
      plans
        .map((p) => `planning ${p.n} specs (pure, in memory): ${ms(p.ms)} (the first, cold: ${ms(p.firstMs)})`)
        .join("\n"),
    );
  }

  const scalingCold: { n: number; ms: number }[] = [];
  if (wanted("scaling")) {
    for (const n of P.scaling) {
      const id = `bench-${run}-scale${n}`;
      scalingCold.push({ n, ms: await berthCold(n, id) });
      await removeByLabel(`berth.controller=${id}`);
    }
    console.log("\nscaling: berth apply from nothing, and the no-op pass");
    console.table(
      scalingCold.map((s, i) => ({
        N: s.n,
        "apply (cold)": ms(s.ms),
        "per container": ms(s.ms / s.n),
        "no-op calls": Object.values(noopRows[i]?.calls ?? {}).reduce((a, b) => a + b, 0),
        "no-op wall": ms(noopRows[i]?.wallMs ?? NaN),
      })),
    );
  }

  let lat: Record<string, Latency> = {};
  if (wanted("latency")) {
    lat = await latency(P.trials);
    console.log(`\nreaction latency with berth run (${P.trials} trials each)`);
    console.table(
      Object.entries(lat).map(([what, l]) => ({
        what,
        p50: ms(l.p50),
        p95: ms(l.p95),
        "engine alone p50": ms(l.floorP50),
        "berth's share p50": ms(l.p50 - l.floorP50),
      })),
    );
  }

  let pools: PoolBench | null = null;
  if (wanted("pools")) {
    pools = await poolBench(P.trials);
    console.log(
      `\nwarm pool of 3 (${pools.trials} claims, each in turn with a raw create+start of the same container)`,
    );
    console.table([
      { what: "claim → answer", p50: ms(pools.claimP50), p95: ms(pools.claimP95), ratio: x(pools.claimOverCold) },
      { what: "raw create+start (cold)", p50: ms(pools.coldP50), p95: ms(pools.coldP95), ratio: "1" },
      { what: "refill of 3 after 3 claims", p50: ms(pools.refillMs), p95: "", ratio: "" },
      {
        what: "raw 3 creates+starts, one after another",
        p50: ms(pools.raw3SerialMs),
        p95: "",
        ratio: `refill ${x(pools.refillOverSerial)}`,
      },
      {
        what: "raw 3 creates+starts at once",
        p50: ms(pools.raw3ParallelMs),
        p95: "",
        ratio: `refill ${x(pools.refillOverParallel)}`,
      },
    ]);
  }

  let ha: HaBench | null = null;
  if (wanted("ha")) {
    ha = await haBench(P.haTrials);
    console.log(
      `\nfailover with --ha redis (default lease: ${ha.ttlMs / 1000} s TTL, renewed every 2 s; ${ha.trials} trials each; ` +
        "a spec added at the moment of the failure)",
    );
    console.table([
      {
        what: "kill -9 of the leader → standby leads",
        p50: ms(ha.killLeadP50),
        p95: ms(ha.killLeadP95),
        goal: `p95 ≤ TTL + 2 s: ${x(ha.killLeadP95 / (ha.ttlMs + 2000))}`,
      },
      {
        what: "kill -9 → the added spec runs",
        p50: ms(ha.killConvergeP50),
        p95: ms(ha.killConvergeP95),
        goal: `StreamSpace's agent: 5–15 s (p95 ${x(ha.killConvergeP95 / 15_000)} of 15 s)`,
      },
      {
        what: "SIGTERM of the leader → standby leads",
        p50: ms(ha.termLeadP50),
        p95: ms(ha.termLeadP95),
        goal: `≤ 1 s: ${x(ha.termLeadP95 / 1000)}`,
      },
      { what: "SIGTERM → the added spec runs", p50: ms(ha.termConvergeP50), p95: "", goal: "" },
    ]);
  }

  const mem: { n: number; rssMiB: number; peakMiB: number }[] = [];
  if (wanted("memory")) {
    for (const n of P.memory) mem.push(await memory(n));
    console.log(`\nRSS of berth run, idle for ${P.idleMs / 1000} s after the first pass`);
    console.table(
      mem.map((m) => ({ "spec files": m.n, RSS: `${m.rssMiB.toFixed(0)} MiB`, peak: `${m.peakMiB.toFixed(0)} MiB` })),
    );
  }

  let swarm: SwarmBench | null = null;
  if (wanted("swarm")) {
    swarm = await swarmBench(P.swarm);
    console.log(`\nswarm: ${swarm.n} services on a one-node swarm, until every task runs`);
    console.table([
      { command: "berth apply --target swarm", ms: ms(swarm.berthMs), ratio: x(swarm.berthOverStack) },
      { command: "docker stack deploy --detach", ms: ms(swarm.stackMs), ratio: "1" },
    ]);
  }

  const result = {
    mode: MODE,
    at: new Date().toISOString(),
    machine: {
      cpus: (await import("node:os")).cpus().length,
      docker: info.Version,
      node: process.version,
      compose: composeVersion,
    },
    concurrency: CONCURRENCY,
    startup: start,
    cold: coldRows,
    noopCli: noopCliRows,
    noop: noopRows,
    planning: plans,
    scaling: scalingCold,
    latency: lat,
    pools,
    ha,
    memory: mem,
    swarm,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
  const out = values.out ?? path.join("bench", "results", `${result.at.replace(/[:.]/g, "-")}-${MODE}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nbench done in ${result.seconds} s; results in ${out}`);
}

await main();
