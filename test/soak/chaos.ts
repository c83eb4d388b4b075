/**
 * What the chaos soaks share (soak.ts for the engine target, swarm-soak.ts for --target swarm): a
 * wait with a deadline, the seeded choice of the next operation by weight, and the tally printed
 * in the one-line verdict.
 */

import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { specHash } from "../../src/core/hash.js";
import { parseSpecText } from "../../src/manifest/parse.js";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds or `timeoutMs` passes; a check that throws counts as not yet. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, stepMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

/** The next operation, drawn by weight with `random`: the sequence is a function of the seed. */
export function weighted<T>(operations: readonly (readonly [number, T])[], random: () => number): () => T {
  const total = operations.reduce((n, [w]) => n + w, 0);
  return () => {
    let r = random() * total;
    for (const [w, op] of operations) {
      r -= w;
      if (r < 0) return op;
    }
    return (operations[0] as readonly [number, T])[1];
  };
}

/**
 * The berths that stopped without the soak's signal: one that refuses to start or crashes mid-soak
 * is a problem said as such, not only as containers missing at the end. The soak's own kills
 * (SIGKILL) end a berth by a signal; `end()` is called before the soak's closing SIGTERM.
 */
export class Exits {
  private readonly unexpected: string[] = [];
  private ended = false;

  watch(child: ChildProcess, who: string): void {
    child.once("exit", (code, signal) => {
      if (!this.ended && signal === null) this.unexpected.push(`${who} exited by itself with code ${code}`);
    });
  }

  end(): readonly string[] {
    this.ended = true;
    return this.unexpected;
  }
}

/** Counts of what the chaos did; those in `faults` are summed as the verdict's faults. */
export class Tally {
  readonly counts: Record<string, number> = {};

  constructor(private readonly faults: ReadonlySet<string>) {}

  count(what: string): void {
    this.counts[what] = (this.counts[what] ?? 0) + 1;
  }

  /** `operations=N faults=M` and every other count as `name=N`, for the verdict line. */
  summary(): { operations: number; faults: number; detail: string } {
    const entries = Object.entries(this.counts);
    return {
      operations: this.counts.operations ?? 0,
      faults: entries.filter(([k]) => this.faults.has(k)).reduce((n, [, v]) => n + v, 0),
      detail: entries
        .filter(([k]) => k !== "operations")
        .map(([k, v]) => `${k}=${v}`)
        .join(" "),
    };
  }
}

/** What both soaks keep of a spec they write: the fields their chaos changes. */
export interface ChaosSpec {
  name: string;
  version: number;
  replicas: number;
  suspended: boolean;
  expiresAt: number | null;
  broken: boolean;
}

/** What the spec operations act on: the soak's specs, its files and its seeded choices. */
export interface SpecChaos<S extends ChaosSpec> {
  readonly specs: Map<string, S>;
  /** Deleted specs' names: nothing of them may remain. */
  readonly gone: Set<string>;
  readonly random: () => number;
  /** A new spec to add, or null when there are enough. */
  make(): S | null;
  /** Replicas an edit may set (drawn with random). */
  replicas(): number;
  write(s: S): void;
  remove(s: S): void;
  count(what: string): void;
}

/**
 * The operations on spec files, with their weights, in the order both soaks draw them: add, edit
 * (a new version; sometimes new replicas), delete, a broken file, an expiry, suspend or resume.
 */
export function specOperations<S extends ChaosSpec>(c: SpecChaos<S>): [number, () => void][] {
  const some = (): S | null =>
    c.specs.size > 0 ? ([...c.specs.values()][Math.floor(c.random() * c.specs.size)] as S) : null;
  return [
    [
      5,
      () => {
        const s = c.make();
        if (!s) return;
        c.specs.set(s.name, s);
        c.write(s);
        c.count("add");
      },
    ],
    [
      4,
      () => {
        const s = some();
        if (!s) return;
        s.version++;
        s.broken = false;
        if (c.random() < 0.3) s.replicas = c.replicas();
        c.write(s);
        c.count("edit");
      },
    ],
    [
      2,
      () => {
        const s = some();
        if (!s) return;
        c.specs.delete(s.name);
        c.gone.add(s.name);
        c.remove(s);
        c.count("delete");
      },
    ],
    [
      1,
      () => {
        const s = some();
        if (!s || s.broken) return;
        s.broken = true;
        c.write(s);
        c.count("broken file");
      },
    ],
    [
      1,
      () => {
        const s = some();
        if (!s || s.broken) return;
        s.expiresAt = Date.now() + 3000 + Math.floor(c.random() * 20_000);
        c.write(s);
        c.count("expiry");
      },
    ],
    [
      2,
      () => {
        const s = some();
        if (!s || s.broken) return;
        s.suspended = !s.suspended;
        c.write(s);
        c.count(s.suspended ? "suspend" : "resume");
      },
    ],
  ];
}

/** The broken files made valid (a new version each), as the chaos stops. */
export function fixBroken<S extends ChaosSpec>(c: Pick<SpecChaos<S>, "specs" | "write">): void {
  for (const s of c.specs.values()) {
    if (s.broken) {
      s.broken = false;
      s.version++;
      c.write(s);
    }
  }
}

/**
 * The verdict line (`TITLE: PASS operations=N faults=M converged_in=Xs (counts)`), each problem,
 * and for a failure the log's last 40 warnings and errors: a failing seed is a bug report.
 */
export function printVerdict(
  title: string,
  tally: Tally,
  convergedInMs: number,
  problems: readonly string[],
  logPaths: readonly string[],
): void {
  const { operations, faults, detail } = tally.summary();
  const verdict = problems.length === 0 ? "PASS" : "FAIL";
  console.log(
    `${title}: ${verdict} operations=${operations} faults=${faults} ` +
      `converged_in=${(convergedInMs / 1000).toFixed(1)}s (${detail})`,
  );
  for (const p of problems) console.log(`  ${p}`);
  if (problems.length === 0) return;
  console.log(`  berth's log: ${logPaths.join(", ")}; the first's last warnings and errors:`);
  // Its warnings and errors, and any line that is not a JSON record (what berth says when it
  // refuses to start).
  const lines = readFileSync(logPaths[0] ?? "", "utf8")
    .split("\n")
    .filter((l) => /"level":(40|50|60)/.test(l) || (l.trim() !== "" && !l.startsWith("{")));
  for (const line of lines.slice(-40)) console.log(`    ${line.slice(0, 400)}`);
}

/**
 * The daemon restart, as an operation: at most once per 4 minutes of soak (at least once), not in
 * its first 20 s; down for 2 s plus up to `extraDownMs` more.
 */
export function daemonRestart(
  daemon: { stop(): Promise<void>; start(): Promise<void> },
  soak: { readonly started: number; readonly minutes: number; readonly random: () => number },
  extraDownMs: number,
  count: (what: string) => void,
): () => Promise<void> {
  let restarted = 0;
  return async () => {
    if (restarted >= Math.max(1, Math.floor(soak.minutes / 4)) || Date.now() - soak.started < 20_000) return;
    restarted++;
    await daemon.stop();
    await sleep(2000 + Math.floor(soak.random() * extraDownMs));
    await daemon.start();
    count("daemon restart");
  };
}

/** The spec hash of a spec file's text, as berth computes it (a spec without secrets). */
export function hashOf(yaml: string, name: string): string {
  const doc = parseSpecText(yaml, "soak.yaml").documents[0];
  if (!doc) throw new Error(`soak spec ${name} does not parse`);
  return specHash(doc.spec);
}
