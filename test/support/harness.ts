/** The whole controller on the in-memory Docker fake and a fake clock, with a real spec folder. */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type App, createApp } from "../../src/app.js";
import { buildConfig, type RawOptions } from "../../src/config.js";
import type { PassResult } from "../../src/loop/reconciler.js";
import type { SpecStatus } from "../../src/core/status.js";
import { silentLogger } from "../../src/util/log.js";
import { FakeClock, settle } from "./fake-clock.js";
import { FakeDocker } from "./fake-docker.js";
import { tempDir } from "./tmp.js";

export interface Harness {
  readonly app: App;
  readonly docker: FakeDocker;
  readonly clock: FakeClock;
  readonly dir: string;
  readonly passes: PassResult[];
  /** Fires the periodic resync, as node-cron would. */
  resync(): void;
  write(file: string, text: string): void;
  remove(file: string): void;
  /** Starts the controller (observe-first) and lets the first operations run. */
  start(): Promise<void>;
  /** Asks for a pass that re-reads the specs (what the file watch does) and runs it. */
  changed(): Promise<void>;
  status(name: string): SpecStatus | undefined;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  raw?: RawOptions;
  random?: () => number;
  docker?: FakeDocker;
  clock?: FakeClock;
  /** Coalescing of passes while operations run (the product's 250 ms; 20 ms by default here). */
  busyCoalesceMs?: number;
}

export function harness(files: Record<string, string>, options: HarnessOptions = {}): Promise<Harness> {
  return Promise.resolve(build(files, options));
}

function build(files: Record<string, string>, options: HarnessOptions): Harness {
  const dir = tempDir("berth-loop-");
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  const clock = options.clock ?? new FakeClock();
  const docker = options.docker ?? new FakeDocker(() => clock.now());
  const passes: PassResult[] = [];
  let tick: () => void = () => undefined;
  const app = createApp(buildConfig({ specs: [dir], id: "test", ...options.raw }), {
    log: silentLogger(),
    docker: { port: docker },
    clock,
    scheduleResync: (fn) => {
      tick = fn;
      return { stop: () => undefined };
    },
    watch: false,
    tuning: {
      backoff: { baseMs: 1000, maxMs: 300_000, random: options.random ?? (() => 0.5) },
      healthPollMs: 10,
      // The loop tests step the clock in small amounts; the longer coalescing under load has its own test.
      busyCoalesceMs: options.busyCoalesceMs ?? 20,
    },
    hooks: { onPass: (result) => passes.push(result) },
  });
  clock.busy = () => app.controller.passing;
  const h: Harness = {
    app,
    docker,
    clock,
    dir,
    passes,
    resync: () => {
      tick();
    },
    write: (file, text) => {
      writeFileSync(path.join(dir, file), text);
    },
    remove: (file) => {
      rmSync(path.join(dir, file));
    },
    start: async () => {
      let done = false;
      const started = app.controller.start().then(() => (done = true));
      while (!done) await clock.advance(5);
      await started;
      await clock.advance(50);
    },
    changed: async () => {
      app.controller.requestPass(true, 0);
      await clock.advance(50);
    },
    status: (name) => app.controller.last?.report.specs.find((s) => s.name === name),
    stop: async () => {
      const stopping = app.controller.stop();
      await settle();
      await stopping;
    },
  };
  return h;
}

/**
 * Each container of `version` exits with code 3 one second after it starts, and the engine starts
 * it again; until the returned function is called (a fix outside the spec): containers started
 * after it stay up.
 */
export function crashing(x: Harness, version: string): () => void {
  let fixed = false;
  const start = x.docker.startContainer.bind(x.docker);
  x.docker.startContainer = async (id: string) => {
    await start(id);
    const c = x.docker.containers.get(id);
    if (fixed || !c?.body.Env?.includes(`VERSION=${version}`)) return;
    x.clock.at(x.clock.now() + 1_000, () => {
      x.docker.crash(c.name, 3, { running: true });
    });
  };
  return () => {
    fixed = true;
  };
}

/** Container name → its VERSION, for berth's containers. */
export function versions(x: Harness): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of x.docker.containers.values()) {
    const env = (c.body.Env ?? []).find((e) => e.startsWith("VERSION="));
    out[c.name] = env?.slice("VERSION=".length) ?? "";
  }
  return out;
}

/**
 * A harness running `spec("1")` (web.yaml), then given `spec("2")`, whose containers crash a
 * second after they start (crashing), three seconds on: a rollout of a version that did not stay
 * up. `fix` ends the crashes (a fix outside the spec).
 */
export async function crashingRollout(
  spec: (version: string) => string,
): Promise<Harness & { readonly fix: () => void }> {
  const x = await harness({ "web.yaml": spec("1") });
  await x.start();
  const fix = crashing(x, "2");
  x.write("web.yaml", spec("2"));
  x.resync();
  await x.clock.advance(3_000);
  return Object.assign(x, { fix });
}
