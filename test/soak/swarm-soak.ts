/**
 * The chaos soak under `--target swarm`: `npm run soak:swarm -- --minutes N --seed S`.
 *
 * On a one-node swarm in a private Docker daemon (its own network namespace; restarting it
 * disturbs nothing else), with `berth run --target swarm` behind a proxy that records every call
 * it makes, a seeded mix of: spec adds, edits (a new version, sometimes new replicas) and deletes;
 * broken files later fixed; expiries; suspend and resume; a service removed by hand (`docker
 * service rm`) and one scaled by hand; a task's container removed (`docker rm -f`, Swarm makes
 * another); controller SIGKILL and restart; a restart of the manager's daemon; and services berth
 * does not own, some holding the name of a spec to come, some with berth's labels of another id.
 * The sequence of operations is a function of the seed.
 *
 * `--partitions`: the chaos also sets specs' updatePartition (canaries as a second service,
 * NAME_canary, or the whole rollout held), half the time with a new version, and lowers it
 * again; when chaos stops, every spec of 2 or more replicas rolls a new version with one canary.
 * The end is then checked twice: with
 * the partitions as they are (a spec whose own service is of an older version keeps min(P, R)
 * tasks of a version it had, and NAME_canary runs R − P of the current one; otherwise one service,
 * current, and no canaries' service), then with every partition lowered to 0 (one service each,
 * current, no canaries left).
 *
 * At the end, chaos stops, every file is made valid, berth is left running, and the soak waits
 * for convergence, then checks the invariants:
 *   - every valid, unexpired spec whose name no other service holds has exactly one service of
 *     berth's, of the spec's current hash, scaled to its replicas (0 when suspended), its update
 *     not paused, and that many tasks running;
 *   - nothing expired or deleted has a service left;
 *   - no service berth does not own was touched (same ID and version; berth sent no write for it);
 *   - every service update berth sent carried its spec in the body, only the version in the URL;
 *   - one Swarm secret per spec whose service reads one (every other spec has a secretEnv entry),
 *     none left of deleted or expired specs, and the secret's value in no request's URL.
 * It prints a one-line verdict with counts and exits 0 (pass) or 1 (fail).
 *
 * `--nodes 2`: the swarm is two nodes (test/support/swarm-cluster.ts: a manager and a worker, each
 * a private daemon in a namespace of its own, linked on 10.213.9.0/24), and the chaos also stops
 * the worker's daemon and starts it again (Swarm moves its tasks to the manager), and drains the
 * worker and makes it active again; a task's container removed by hand may be on either node.
 * When chaos stops the worker is up and active again, every running spec rolls a new version (so
 * that Swarm places tasks on both nodes again), and the same invariants must hold; the verdict
 * counts the tasks on each node.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { formatTime } from "../../src/core/units.js";
import { FaultProxy } from "../support/fault-proxy.js";
import type { PrivateDockerd } from "../support/private-dockerd.js";
import { startPrivateSwarm } from "../support/private-swarm.js";
import { SwarmCluster } from "../support/swarm-cluster.js";
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

const IMAGE = "berth-test/busybox:latest";
const BIN = path.resolve("bin/berth.js");

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "2" },
    seed: { type: "string", default: "1" },
    specs: { type: "string", default: "8" },
    partitions: { type: "boolean", default: false },
    nodes: { type: "string", default: "1" },
  },
});
const NODES = Number(values.nodes);
if (NODES !== 1 && NODES !== 2) throw new Error(`--nodes ${values.nodes}: 1 or 2`);
const PARTITIONS = values.partitions;
const MINUTES = Number(values.minutes);
const SEED = Number(values.seed);
const MAX_SPECS = Number(values.specs);
/** The controller id, and the name of berth's log: one per variant, so that soaks can run side by side. */
const ID = `swarm-soak-${SEED}${PARTITIONS ? "-partitions" : ""}${NODES === 2 ? "-2nodes" : ""}`;

const random = prng(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

/** `secret`: the spec has a secretEnv entry (a Swarm secret berth makes, named by the value's keyed digest). */
type Spec = ChaosSpec & {
  readonly secret: boolean;
  /** spec.updatePartition (--partitions); 0 rolls every task. */
  partition: number;
};

/** The value every secretEnv entry reads (SWSOAK_TOKEN in berth's environment): it must appear in no request's URL. */
const SECRET = `swsoak-${SEED}-${randomBytes(8).toString("hex")}`;

function specYaml(s: Spec): string {
  return [
    "apiVersion: berth/v1",
    "kind: Container",
    "metadata:",
    `  name: ${s.name}`,
    "spec:",
    `  image: ${IMAGE}`,
    '  command: ["sleep", "3600"]',
    "  stopTimeout: 1s",
    `  env: { VERSION: "${s.version}" }`,
    `  replicas: ${s.replicas}`,
    ...(s.partition > 0 ? [`  updatePartition: ${s.partition}`] : []),
    ...(s.secret ? ["  secretEnv: { TOKEN: { fromHostEnv: SWSOAK_TOKEN } }"] : []),
    `  suspended: ${s.suspended}`,
    `  expiresAt: "${s.expiresAt === null ? "never" : formatTime(s.expiresAt)}"`,
    "",
  ].join("\n");
}

const expectedHash = (s: Spec): string => hashOf(specYaml(s), s.name);

/** A service as the soak reads it from the manager. */
interface Service {
  readonly ID: string;
  readonly Version: { readonly Index: number };
  readonly Spec: {
    readonly Name: string;
    readonly Labels?: Record<string, string>;
    readonly Mode: { readonly Replicated?: { readonly Replicas?: number } };
    readonly TaskTemplate: { readonly ContainerSpec: { readonly Env?: readonly string[] } };
  };
  readonly UpdateStatus?: { readonly State?: string; readonly Message?: string };
}

const tally = new Tally(
  new Set([
    "docker service rm",
    "docker service scale",
    "docker rm -f",
    "kill -9",
    "daemon restart",
    "worker restart",
    "worker drained",
    "broken file",
  ]),
);
const count = (what: string): void => tally.count(what);

async function main(): Promise<number> {
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), "berth-swarm-soak-"));
  const cluster = NODES === 2 ? await SwarmCluster.start([IMAGE], { subnet: "10.213.9" }) : null;
  const daemon = cluster?.manager ?? (await startPrivateSwarm([IMAGE]));
  /** The daemons whose containers run tasks: the manager's, and the worker's while it is up. */
  const engines = (): PrivateDockerd[] => [daemon, ...(cluster?.worker.running ? [cluster.worker] : [])];
  let lastWorkerRestart = 0;
  let drained = false;
  const proxy = await FaultProxy.start(daemon.socketPath);
  const docker = daemon.docker;
  const specs = new Map<string, Spec>();
  const gone = new Set<string>();
  const strangers: { id: string; name: string; version: number }[] = [];
  let berth: ChildProcess | null = null;
  const exits = new Exits();
  let nextName = 0;
  let lastKill = 0;

  const logPath = path.join(tmpdir(), `berth-${ID}.log`);
  const logFd = openSync(logPath, "w");
  const file = (name: string) => path.join(dir, `${name}.yaml`);
  const write = (s: Spec) =>
    writeFileSync(file(s.name), s.broken ? `${specYaml(s).slice(0, 40)}: [broken\n` : specYaml(s));
  const alive = (p: ChildProcess | null): p is ChildProcess =>
    p !== null && p.exitCode === null && p.signalCode === null;
  const startBerth = () => {
    berth = spawn(
      process.execPath,
      [
        BIN,
        "run",
        "--target",
        "swarm",
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
      ],
      {
        env: {
          ...process.env,
          DOCKER_HOST: proxy.dockerHost,
          BERTH_STATE_DIR: path.join(daemon.dir, "state"),
          SWSOAK_TOKEN: SECRET,
        },
        stdio: ["ignore", logFd, logFd],
      },
    );
    exits.watch(berth, "berth");
  };
  const ours = async (): Promise<Service[]> =>
    (await docker.listServices({ filters: { label: [`berth.controller=${ID}`] } })) as Service[];

  const operations: [number, () => void | Promise<void>][] = [
    ...specOperations<Spec>({
      specs,
      gone,
      random,
      make: () =>
        specs.size >= MAX_SPECS
          ? null
          : {
              // Every other spec reads a secret.
              secret: nextName % 2 === 1,
              name: `swsoak${SEED}-s${nextName++}`,
              version: 1,
              // With --partitions up to 3, so that a partition leaves canaries more often.
              replicas: 1 + Math.floor(random() * (PARTITIONS ? 3 : 2)),
              suspended: false,
              expiresAt: null,
              broken: false,
              partition: 0,
            },
      replicas: () => 1 + Math.floor(random() * (PARTITIONS ? 3 : 2)),
      write,
      remove: (s) => rmSync(file(s.name)),
      count,
    }),
    [
      PARTITIONS ? 4 : 0,
      () => {
        const s = specs.size > 0 ? pick([...specs.values()]) : null;
        if (!s || s.broken) return;
        // Canaries (1 … replicas - 1), the whole rollout held (replicas), or lowered again (0);
        // half the time with a new version, as a canary's rollout is committed.
        s.partition = random() < 0.4 ? 0 : 1 + Math.floor(random() * s.replicas);
        const rollout = s.partition > 0 && random() < 0.5;
        if (rollout) s.version++;
        write(s);
        count(s.partition === 0 ? "partition lowered" : rollout ? "canary rollout" : "partition");
      },
    ],
    [
      2,
      async () => {
        const list = await ours();
        if (list.length === 0) return;
        await docker
          .getService(pick(list).ID)
          .remove()
          .catch(() => undefined);
        count("docker service rm");
      },
    ],
    [
      2,
      async () => {
        const list = (await ours()).filter((s) => s.Spec.Mode.Replicated !== undefined);
        if (list.length === 0) return;
        const service = pick(list);
        const replicas = Math.floor(random() * 4);
        await docker
          .getService(service.ID)
          .update({ ...service.Spec, Mode: { Replicated: { Replicas: replicas } }, version: service.Version.Index })
          .catch(() => undefined);
        count("docker service scale");
      },
    ],
    [
      2,
      async () => {
        const node = pick(engines());
        const tasks = await node.docker
          .listContainers({ filters: { label: ["com.docker.swarm.service.name"] } })
          .catch(() => []);
        const mine = tasks.filter((c) => c.Labels["com.docker.swarm.service.name"]?.startsWith(`swsoak${SEED}-s`));
        if (mine.length === 0) return;
        await node.docker
          .getContainer(pick(mine).Id)
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
        berth?.kill("SIGKILL");
        await sleep(500 + Math.floor(random() * 2000));
        startBerth();
        count("kill -9");
      },
    ],
    [1, daemonRestart(daemon, { started, minutes: MINUTES, random }, 4000, count)],
    [
      cluster ? 1 : 0,
      async () => {
        // The worker's engine stops (its tasks are moved to the manager once it is seen down), then comes back.
        if (!cluster || Date.now() - lastWorkerRestart < 30_000) return;
        lastWorkerRestart = Date.now();
        await cluster.worker.stop();
        await sleep(2000 + Math.floor(random() * 6000));
        await cluster.worker.start();
        count("worker restart");
      },
    ],
    [
      cluster ? 1 : 0,
      async () => {
        if (!cluster) return;
        drained = !drained;
        await cluster.setWorkerAvailability(drained ? "drain" : "active").catch(() => {
          drained = !drained;
        });
        count(drained ? "worker drained" : "worker active");
      },
    ],
    [
      1,
      async () => {
        if (strangers.length >= 4) return;
        // Some hold the name of a spec to come (a Conflict); some carry berth's labels of another id.
        const holdsName = random() < 0.5;
        const name = holdsName ? `swsoak${SEED}-s${nextName + 1}` : `swsoak${SEED}-stranger${strangers.length}`;
        const labels: Record<string, string> = holdsName
          ? {}
          : { "berth.controller": `${ID}-other`, "berth.spec": `swsoak${SEED}-s0`, "berth.hash": "x" };
        try {
          const created = (await docker.createService({
            Name: name,
            Labels: labels,
            TaskTemplate: { ContainerSpec: { Image: IMAGE, Command: ["sleep", "3600"] } },
            Mode: { Replicated: { Replicas: 1 } },
          })) as { id?: string; ID?: string };
          const id = created.id ?? created.ID ?? "";
          const made = (await docker.getService(id).inspect()) as Service;
          strangers.push({ id, name, version: made.Version.Index });
          count("stranger");
        } catch {
          // The name was taken meanwhile: no stranger this time.
        }
      },
    ],
  ];
  const nextOperation = weighted(operations, random);

  const problems: string[] = [];
  let convergedInMs = -1;
  try {
    startBerth();
    const deadline = started + MINUTES * 60_000;
    while (Date.now() < deadline) {
      await nextOperation()();
      count("operations");
      await sleep(200 + Math.floor(random() * 1300));
    }

    // Chaos stops: every file valid, berth running, the daemon up.
    if (!daemon.running) await daemon.start();
    if (cluster) {
      if (!cluster.worker.running) await cluster.worker.start();
      await cluster.setWorkerAvailability("active");
      if ((await cluster.waitWorker("ready")) === undefined) problems.push("the worker did not come back ready");
    }
    fixBroken({ specs, write });
    if (PARTITIONS)
      // Whatever the chaos left, a canary's whole life is checked: every spec of 2 or more replicas
      // rolls a new version with 1 canary now, and every partition is lowered below.
      for (const s of specs.values()) {
        if (s.suspended || s.replicas < 2) continue;
        s.partition = s.replicas - 1;
        s.version++;
        write(s);
        count("canary rollout at the end");
      }
    else if (cluster)
      // The worker is back: every running spec rolls a new version, so that Swarm places tasks on
      // both nodes again (a drain or a stop had moved them all to the manager) and they are checked there.
      for (const s of specs.values()) {
        if (s.suspended) continue;
        s.version++;
        write(s);
        count("rollout at the end");
      }
    if (!alive(berth)) startBerth();
    const calm = Date.now();
    /** `partitioned`: a spec's own service may be held at an older version by its updatePartition. */
    const check = async (partitioned: boolean): Promise<string[]> => {
      const now = Date.now();
      const found: string[] = [];
      const services = await ours();
      for (const s of specs.values()) {
        const mine = services.filter((v) => v.Spec.Labels?.["berth.spec"] === s.name);
        if (s.expiresAt !== null && s.expiresAt <= now) {
          if (mine.length > 0) found.push(`${s.name} expired but has ${mine.length} service(s)`);
          continue;
        }
        // A name held by a service berth does not own: that spec is in Conflict, by design.
        if (strangers.some((x) => x.name === s.name)) continue;
        const own = mine.filter((v) => v.Spec.Name === s.name);
        const canaries = mine.filter((v) => v.Spec.Name === `${s.name}_canary`);
        const others = mine.filter((v) => !own.includes(v) && !canaries.includes(v));
        if (own.length !== 1 || canaries.length > 1 || others.length > 0) {
          found.push(`${s.name}: services ${mine.map((v) => v.Spec.Name).join(", ") || "none"}`);
          continue;
        }
        const service = own[0] as Service;
        const replicas = s.suspended ? 0 : s.replicas;
        const version = (v: Service): number =>
          Number(
            (v.Spec.TaskTemplate.ContainerSpec.Env ?? []).find((e) => e.startsWith("VERSION="))?.slice(8) ?? "NaN",
          );
        // A secret's keyed digest is in the hash: its version is read from the env instead.
        const current = (v: Service): boolean =>
          s.secret ? version(v) === s.version : v.Spec.Labels?.["berth.hash"] === expectedHash(s);
        // updatePartition holds the spec's own service at a version the spec had, while it is not current.
        const split = partitioned && s.partition > 0 && replicas > 0 && !current(service);
        const held = split ? Math.min(s.partition, replicas) : replicas;
        if (split && !(version(service) >= 1 && version(service) < s.version))
          found.push(`${s.name}: its service, held by updatePartition ${s.partition}, is of no version the spec had`);
        if (!split && !current(service)) found.push(`${s.name}: its service has an old hash`);
        const expected: [Service, number][] = [[service, held]];
        const canary = canaries[0];
        if (split && replicas - held > 0) {
          if (!canary) found.push(`${s.name}: no canaries' service, expected ${replicas - held} canaries`);
          else {
            if (!current(canary)) found.push(`${s.name}: its canaries' service has an old hash`);
            if (canary.Spec.Labels?.["berth.canary"] !== "true")
              found.push(`${s.name}_canary is not labelled a canary`);
            expected.push([canary, replicas - held]);
          }
        } else if (canary) found.push(`${s.name}: a canaries' service remains (updatePartition ${s.partition})`);
        for (const [v, want] of expected) {
          if (v.Spec.Mode.Replicated?.Replicas !== want)
            found.push(`${v.Spec.Name}: ${v.Spec.Mode.Replicated?.Replicas} replicas, expected ${want}`);
          if (v.UpdateStatus?.State === "paused")
            found.push(`${v.Spec.Name}: its update is paused: ${v.UpdateStatus.Message ?? ""}`);
          const tasks = (await docker.listTasks({ filters: { service: [v.ID] } })) as {
            DesiredState: string;
            Status: { State: string };
          }[];
          const running = tasks.filter((t) => t.DesiredState === "running" && t.Status.State === "running").length;
          if (running !== want) found.push(`${v.Spec.Name}: ${running} tasks running, expected ${want}`);
        }
      }
      for (const name of gone) {
        const left = services.filter((v) => v.Spec.Labels?.["berth.spec"] === name && !specs.has(name));
        if (left.length > 0) found.push(`${name} is deleted but has ${left.length} service(s)`);
      }
      // One Swarm secret per spec with a service that reads one; none of deleted or expired specs.
      const reading = new Set(
        [...specs.values()]
          .filter((x) => x.secret && !(x.expiresAt !== null && x.expiresAt <= now))
          .filter((x) => !strangers.some((y) => y.name === x.name))
          .map((x) => x.name),
      );
      const secrets = (await docker.listSecrets({ filters: { label: [`berth.controller=${ID}`] } })) as {
        Spec: { Labels?: Record<string, string> };
      }[];
      const held = secrets.map((x) => x.Spec.Labels?.["berth.spec"] ?? "?");
      for (const name of reading) {
        const n = held.filter((h) => h === name).length;
        if (n !== 1) found.push(`${name}: ${n} secrets, expected 1`);
      }
      for (const name of new Set(held.filter((h) => !reading.has(h))))
        found.push(`${name}: a secret remains that no service reads`);
      return found;
    };
    const settle = async (partitioned: boolean): Promise<string[]> =>
      (await until(async () => (await check(partitioned)).length === 0, 180_000, 1000)) ? [] : check(partitioned);
    problems.push(...(await settle(PARTITIONS)));
    convergedInMs = Date.now() - calm;
    if (cluster) {
      // Where the converged tasks run: the worker took part, not the manager alone.
      const tasks = (await docker.listTasks({ filters: { "desired-state": ["running"] } })) as { NodeID?: string }[];
      const worker = await cluster.waitWorker("ready");
      tally.counts["tasks on the worker at the end"] = tasks.filter((t) => t.NodeID === worker?.ID).length;
      tally.counts["tasks on the manager at the end"] = tasks.filter((t) => t.NodeID !== worker?.ID).length;
    }
    if (PARTITIONS) {
      tally.counts["partitioned at the end"] = [...specs.values()].filter((s) => s.partition > 0).length;
      // Every partition lowered: the spec's own services roll to the current version, the canaries go.
      for (const s of specs.values()) {
        if (s.partition === 0) continue;
        s.partition = 0;
        write(s);
      }
      problems.push(...(await settle(false)).map((p) => `with every updatePartition lowered: ${p}`));
    }

    // Services berth does not own: still there, never updated, and berth sent no write for them.
    const all = (await docker.listServices()) as Service[];
    for (const x of strangers) {
      const now = all.find((v) => v.ID === x.id);
      if (!now) problems.push(`service ${x.name}, not berth's, was removed`);
      else if (now.Version.Index !== x.version) problems.push(`service ${x.name}, not berth's, was updated`);
      // Its ID or its name as the path's service (a prefix of another service's name is not it).
      const named = new RegExp(`/services/(${x.id}|${x.name})(/|\\?|$)`);
      const touched = proxy.seen.filter((r) => r.method !== "GET" && named.test(r.path));
      if (touched.length > 0)
        problems.push(`berth sent ${touched.map((t) => `${t.method} ${t.path}`).join(", ")} for service ${x.name}`);
    }
    // A secret's value (or its base64, as the secret's Data) is in no request's URL.
    const forms = [
      SECRET,
      Buffer.from(SECRET).toString("base64"),
      encodeURIComponent(Buffer.from(SECRET).toString("base64")),
    ];
    const shown = proxy.seen.filter((r) => forms.some((f) => r.path.includes(f)));
    if (shown.length > 0)
      problems.push(
        `${shown.length} request URL(s) carried the secret's value: ${shown[0]?.method} ${shown[0]?.path.split("?")[0]}`,
      );
    // A service update's spec goes in its body: its URL carries the version alone.
    const leaky = proxy.seen.filter(
      (r) =>
        r.method === "POST" && /\/services\/[^/]+\/update\?/.test(r.path) && !/\/update\?version=\d+$/.test(r.path),
    );
    if (leaky.length > 0)
      problems.push(
        `${leaky.length} service update(s) carried more than the version in the URL: ${leaky[0]?.path.slice(0, 160)}`,
      );
    problems.push(...exits.end());
  } finally {
    (berth as ChildProcess | null)?.kill("SIGTERM");
    await proxy.close();
    await (cluster ?? daemon).destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  printVerdict(
    `swarm soak seed=${SEED} minutes=${MINUTES}${cluster ? " nodes=2" : ""}`,
    tally,
    convergedInMs,
    problems,
    [logPath],
  );
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
