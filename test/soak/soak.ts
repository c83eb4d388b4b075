/**
 * The chaos soak: `npm run soak -- --minutes N --seed S`.
 *
 * Against a private Docker daemon (so that restarting it disturbs nothing else), with berth
 * behind a proxy that records every call it makes, a seeded mix of: spec adds, edits and
 * deletes; broken files later fixed; expiries; suspend and resume; external `docker stop` and
 * `docker rm -f`; controller SIGKILL and restart; a daemon restart; and containers berth does not
 * own, some holding the name of a spec. The sequence of operations is a function of the seed, so
 * a failing seed is a reproducible bug report (timings vary; the operations do not).
 *
 * At the end, chaos stops, every file is made valid, berth is left running, and the soak waits
 * for convergence, then checks the invariants:
 *   - every valid, unexpired spec has exactly its replicas, named as it names them, with the
 *     current hash: running, or stopped when suspended;
 *   - nothing expired or deleted remains;
 *   - no temporary (.next) container remains;
 *   - no container berth does not own was touched (same ID; berth never sent a write for it).
 * It prints a one-line verdict with counts and exits 0 (pass) or 1 (fail).
 *
 * `--partitions`: the chaos also sets specs' updatePartition (a canary, or the whole rollout held)
 * and lowers it again. The end is then checked twice: with the partitions as they are (replicas
 * from the partition up of the current hash, those below it of a version the spec once had:
 * kept, or made again at the current one), then with every partition lowered to 0 (the invariants
 * above: the rest rolled). Without the flag the sequence of a seed is what it always was.
 *
 * `--ha redis` (or `--ha file`): two berths with the soak's id, one leading (docs/reliability.md),
 * on a redis-server of the soak's own (or a lock file); the chaos adds pauses of the leader past
 * its lease (SIGSTOP, SIGCONT) and Redis restarts that lose everything, and its kill -9 aims at
 * the leader. One more invariant: no overlapping write terms — every Docker write either berth
 * made is logged with its term, and the writes of each term span a stretch of time no other
 * term's writes fall into, in growing terms.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { formatTime } from "../../src/core/units.js";
import { prng } from "../support/prng.js";
import {
  type ChaosSpec,
  daemonRestart,
  Exits,
  fixBroken,
  hashOf,
  printVerdict,
  sleep,
  specOperations,
  Tally,
  until,
  weighted,
} from "./chaos.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { PrivateDockerd } from "../support/private-dockerd.js";
import { TestRedis } from "../support/redis.js";
import { overlappingTerms } from "../support/write-terms.js";

const IMAGE = "berth-test/busybox:latest";
const BIN = path.resolve("bin/berth.js");

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "2" },
    seed: { type: "string", default: "1" },
    specs: { type: "string", default: "16" },
    ha: { type: "string" },
    partitions: { type: "boolean", default: false },
  },
});
const PARTITIONS = values.partitions;
const HA = values.ha ?? null;
if (HA !== null && HA !== "redis" && HA !== "file") throw new Error(`--ha: ${HA} is not redis or file`);
/** The HA soak's leases: short, so that failovers happen many times in a few minutes. */
const HA_TTL_MS = 3_000;
const MINUTES = Number(values.minutes);
const SEED = Number(values.seed);
const MAX_SPECS = Number(values.specs);
/**
 * The controller id, and the name of berth's log: one per variant, so that soaks of the same seed
 * can run side by side (berth refuses to run beside an --ha group of its own id, as it should).
 */
const ID = `soak-${SEED}${PARTITIONS ? "-partitions" : ""}${HA === null ? "" : `-ha-${HA}`}`;

const random = prng(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

interface Spec extends ChaosSpec {
  /** spec.updatePartition (--partitions); 0 rolls every replica. */
  partition: number;
  /** The hash of every valid version written: what a replica a partition keeps may be of. */
  hashes: Set<string>;
}

function specYaml(s: Spec): string {
  return [
    "apiVersion: berth/v1",
    "kind: Container",
    "metadata:",
    `  name: ${s.name}`,
    "spec:",
    `  image: ${IMAGE}`,
    '  command: ["sleep", "infinity"]',
    "  init: true",
    "  network: none",
    "  stopTimeout: 2s",
    `  env: { VERSION: "${s.version}" }`,
    `  replicas: ${s.replicas}`,
    ...(s.partition > 0 ? [`  updatePartition: ${s.partition}`] : []),
    `  suspended: ${s.suspended}`,
    `  expiresAt: "${s.expiresAt === null ? "never" : formatTime(s.expiresAt)}"`,
    "",
  ].join("\n");
}

const expectedHash = (s: Spec): string => hashOf(specYaml(s), s.name);

const tally = new Tally(
  new Set([
    "docker stop",
    "docker rm -f",
    "kill -9",
    "daemon restart",
    "broken file",
    "look-alike",
    "leader paused",
    "redis restart",
  ]),
);
const { counts } = tally;
const count = (what: string): void => tally.count(what);

/** Every Docker write a berth logged (at debug level, with its term), from its log file. */
function loggedWrites(logPath: string): { term: number; at: number }[] {
  return readFileSync(logPath, "utf8")
    .split("\n")
    .filter((l) => l.includes('"msg":"docker write"'))
    .map((l) => JSON.parse(l) as { term: number; time: number })
    .map((w) => ({ term: w.term, at: w.time }));
}

async function main(): Promise<number> {
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), "berth-soak-"));
  const daemon = await PrivateDockerd.create([IMAGE]);
  const proxy = await FaultProxy.start(daemon.socketPath);
  const docker = daemon.docker;
  const specs = new Map<string, Spec>();
  const gone = new Set<string>(); // deleted or expired spec names
  const lookalikes: { id: string; name: string }[] = [];
  const instances = HA === null ? 1 : 2;
  const procs: (ChildProcess | null)[] = Array.from({ length: instances }, () => null);
  const exits = new Exits();
  const redis = HA === "redis" ? await TestRedis.start() : null;
  const haArgs =
    HA === null
      ? []
      : [
          "--ha",
          redis ? redis.url() : `file:${path.join(mkdtempSync(path.join(tmpdir(), "berth-soak-lease-")), "lease")}`,
          "--ha-ttl",
          `${HA_TTL_MS}ms`,
          "--ha-renew",
          "500ms",
          "--log-level",
          "debug",
        ];
  let nextName = 0;
  let lastKill = 0;

  const logPaths = procs.map((_, i) => path.join(tmpdir(), `berth-${ID}${HA ? `-${i}` : ""}.log`));
  const logFds = logPaths.map((p) => openSync(p, "w"));
  const file = (name: string) => path.join(dir, `${name}.yaml`);
  const write = (s: Spec) => {
    writeFileSync(file(s.name), s.broken ? `${specYaml(s).slice(0, 40)}: [broken\n` : specYaml(s));
    if (!s.broken) s.hashes.add(expectedHash(s));
  };
  const alive = (p: ChildProcess | null): p is ChildProcess =>
    p !== null && p.exitCode === null && p.signalCode === null;
  /** Which berth leads, by its log's last word on it (-1: none says it does). */
  const leaderIndex = (): number =>
    logPaths.findIndex((p) => {
      const said = readFileSync(p, "utf8")
        .split("\n")
        .filter((l) => /"msg":"(leading|stepped down; standby|lease released|berth run)"/.test(l));
      return said.at(-1)?.includes('"msg":"leading"') ?? false;
    });
  const startBerth = (i = 0) => {
    procs[i] = spawn(
      process.execPath,
      [
        BIN,
        "run",
        "--id",
        ID,
        "--specs",
        dir,
        "--resync",
        "5s",
        "--listen",
        "off",
        "--log-format",
        "json",
        "--concurrency",
        "4",
        ...haArgs,
      ],
      { env: { ...process.env, DOCKER_HOST: proxy.dockerHost }, stdio: ["ignore", logFds[i], logFds[i]] },
    );
    exits.watch(procs[i], HA === null ? "berth" : `berth ${i}`);
  };
  const ours = async () =>
    (await docker.listContainers({ all: true, filters: { label: [`berth.controller=${ID}`] } })).map((c) => ({
      id: c.Id,
      name: c.Names[0]?.slice(1) ?? "",
      state: c.State,
      labels: c.Labels,
    }));

  const operations: [number, () => void | Promise<void>][] = [
    ...specOperations<Spec>({
      specs,
      gone,
      random,
      make: () =>
        specs.size >= MAX_SPECS
          ? null
          : {
              name: `soak${SEED}-s${nextName++}`,
              version: 1,
              replicas: 1 + Math.floor(random() * 3),
              suspended: false,
              expiresAt: null,
              broken: false,
              partition: 0,
              hashes: new Set(),
            },
      replicas: () => 1 + Math.floor(random() * 3),
      write,
      remove: (s) => rmSync(file(s.name)),
      count,
    }),
    [
      PARTITIONS ? 4 : 0,
      () => {
        const s = specs.size > 0 ? pick([...specs.values()]) : null;
        if (!s || s.broken) return;
        // A canary (1 … replicas - 1), the whole rollout held (replicas), or lowered again (0).
        s.partition = random() < 0.4 ? 0 : 1 + Math.floor(random() * s.replicas);
        write(s);
        count(s.partition === 0 ? "partition lowered" : "partition");
      },
    ],
    [
      3,
      async () => {
        const list = (await ours()).filter((c) => c.state === "running");
        if (list.length === 0) return;
        await docker
          .getContainer(pick(list).id)
          .stop({ t: 1 })
          .catch(() => undefined);
        count("docker stop");
      },
    ],
    [
      3,
      async () => {
        const list = await ours();
        if (list.length === 0) return;
        await docker
          .getContainer(pick(list).id)
          .remove({ force: true })
          .catch(() => undefined);
        count("docker rm -f");
      },
    ],
    [
      1,
      async () => {
        if (Date.now() - lastKill < 20_000) return;
        lastKill = Date.now();
        // Under --ha, the leader (else either).
        const i = Math.max(0, leaderIndex());
        procs[i]?.kill("SIGKILL");
        await sleep(500 + Math.floor(random() * 2000));
        startBerth(i);
        count("kill -9");
      },
    ],
    [
      HA === null ? 0 : 1,
      async () => {
        const p = procs[leaderIndex()] ?? null;
        if (!alive(p)) return;
        // Past its lease: a standby takes over meanwhile; the old leader must write nothing after.
        p.kill("SIGSTOP");
        await sleep(HA_TTL_MS + 500 + Math.floor(random() * 2500));
        p.kill("SIGCONT");
        count("leader paused");
      },
    ],
    [
      redis === null ? 0 : 1,
      async () => {
        if (!redis) return;
        await redis.kill();
        await sleep(Math.floor(random() * 2000));
        await redis.restart();
        count("redis restart");
      },
    ],
    [1, daemonRestart(daemon, { started, minutes: MINUTES, random }, 6000, count)],
    [
      1,
      async () => {
        if (lookalikes.length >= 5) return;
        // Some hold the name of a spec to come (a Conflict); some copy berth's labels with another id.
        const holdsName = random() < 0.5;
        const name = holdsName ? `soak${SEED}-s${nextName + 1}` : `soak${SEED}-stranger${lookalikes.length}`;
        const labels: Record<string, string> = holdsName
          ? {}
          : {
              "berth.controller": `${ID}-other`,
              "berth.spec": `soak${SEED}-s0`,
              "berth.replica": "0",
              "berth.hash": "x",
            };
        try {
          const c = await docker.createContainer({
            name,
            Image: IMAGE,
            Cmd: ["sleep", "infinity"],
            Labels: labels,
            HostConfig: { Init: true, NetworkMode: "none", RestartPolicy: { Name: "unless-stopped" } },
          });
          await c.start();
          lookalikes.push({ id: c.id, name });
          count("look-alike");
        } catch {
          // The name was taken meanwhile: no look-alike this time.
        }
      },
    ],
  ];
  const nextOperation = weighted(operations, random);

  const problems: string[] = [];
  let convergedInMs = -1;
  try {
    for (let i = 0; i < instances; i++) startBerth(i);
    const deadline = started + MINUTES * 60_000;
    while (Date.now() < deadline) {
      await nextOperation()();
      count("operations");
      await sleep(200 + Math.floor(random() * 1300));
    }

    // Chaos stops: every file valid, berth running, the daemon up.
    if (!daemon.running) await daemon.start();
    fixBroken({ specs, write });
    for (let i = 0; i < instances; i++) if (!alive(procs[i] ?? null)) startBerth(i);
    const calm = Date.now();
    /** `partitioned`: a replica below its spec's partition may be of any version the spec had. */
    const check = async (partitioned: boolean): Promise<string[]> => {
      const now = Date.now();
      const found: string[] = [];
      const containers = await ours();
      for (const s of specs.values()) {
        const mine = containers
          .filter((c) => c.labels["berth.spec"] === s.name)
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        if (s.expiresAt !== null && s.expiresAt <= now) {
          if (mine.length > 0) found.push(`${s.name} expired but has ${mine.length} container(s)`);
          continue;
        }
        const names = s.replicas === 1 ? [s.name] : Array.from({ length: s.replicas }, (_, i) => `${s.name}-${i}`);
        // A name held by a container berth does not own: that spec is in Conflict, by design.
        if (names.some((n) => lookalikes.some((l) => l.name === n))) continue;
        const hash = expectedHash(s);
        if (s.suspended) {
          if (mine.some((c) => c.state === "running")) found.push(`${s.name} is suspended but runs`);
          continue;
        }
        if (mine.map((c) => c.name).join() !== names.join())
          found.push(`${s.name}: containers ${mine.map((c) => c.name).join(",")}, expected ${names.join(",")}`);
        for (const c of mine) {
          if (c.state !== "running") found.push(`${c.name} is ${c.state}`);
          const kept = partitioned && Number(c.labels["berth.replica"]) < s.partition;
          if (kept) {
            if (!s.hashes.has(c.labels["berth.hash"] ?? ""))
              found.push(`${c.name}, kept by updatePartition ${s.partition}, is of no version the spec had`);
          } else if (c.labels["berth.hash"] !== hash) found.push(`${c.name} has an old hash`);
        }
      }
      for (const name of gone) {
        const left = containers.filter((c) => c.labels["berth.spec"] === name && !specs.has(name));
        if (left.length > 0) found.push(`${name} is deleted but has ${left.length} container(s)`);
      }
      for (const c of containers) if (c.name.endsWith(".next")) found.push(`temporary container ${c.name} remains`);
      return found;
    };
    const settle = async (partitioned: boolean): Promise<string[]> =>
      (await until(async () => (await check(partitioned)).length === 0, 180_000, 500)) ? [] : check(partitioned);
    problems.push(...(await settle(PARTITIONS)));
    convergedInMs = Date.now() - calm;
    if (PARTITIONS) {
      counts["partitioned at the end"] = [...specs.values()].filter((s) => s.partition > 0).length;
      // Every partition lowered: the replicas it kept roll to the current version.
      for (const s of specs.values()) {
        if (s.partition === 0) continue;
        s.partition = 0;
        write(s);
      }
      problems.push(...(await settle(false)).map((p) => `with every updatePartition lowered: ${p}`));
    }

    // Containers berth does not own: still there, and berth never wrote to them.
    const all = await docker.listContainers({ all: true });
    for (const l of lookalikes) {
      if (!all.some((c) => c.Id === l.id)) problems.push(`look-alike ${l.name} was removed`);
      const touched = proxy.seen.filter(
        (r) => r.method !== "GET" && (r.path.includes(l.id) || new RegExp(`[?&]name=${l.name}(&|$)`).test(r.path)),
      );
      if (touched.length > 0)
        problems.push(`berth sent ${touched.map((t) => `${t.method} ${t.path}`).join(", ")} for look-alike ${l.name}`);
    }
    if (HA !== null) {
      const writes = logPaths.flatMap(loggedWrites);
      if (writes.length === 0) problems.push("no Docker write was logged with a term");
      problems.push(...overlappingTerms(writes));
      counts.terms = new Set(writes.map((w) => w.term)).size;
    }
    problems.push(...exits.end());
  } finally {
    for (const p of procs) p?.kill("SIGTERM");
    await redis?.kill();
    await proxy.close();
    await daemon.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  printVerdict(
    `soak seed=${SEED} minutes=${MINUTES}${HA ? ` ha=${HA}` : ""}`,
    tally,
    convergedInMs,
    problems,
    logPaths,
  );
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
