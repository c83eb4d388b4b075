/**
 * Fault f: `kill -9` of the controller at random points (a seeded, repeatable sequence) of a
 * 50-spec convergence and of a 50-spec replacement, 20 times. After each kill berth is started
 * again, and every run must end converged: exactly the 50 containers, all running the current
 * version, no duplicates, no leftover temporary containers.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  specHashOf,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { prng } from "../support/prng.js";
import { pollUntil } from "../support/poll.js";

const SEED = Number(process.env.BERTH_KILL_SEED ?? 20261123);
const RUNS = 20;
const SPECS = 50;
const id = testIds();
/** The controller of the moment (the victim, then the survivor): stopped before the cleanup. */
let controller: RunningBerth | undefined;

afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

describe("fault f: kill -9 at random points, 20 times", () => {
  it(
    `always ends converged, without duplicates or leftovers (seed ${SEED})`,
    async () => {
      const c = id("kill9x20");
      const random = prng(SEED);
      const names = Array.from({ length: SPECS }, (_, i) => `${c}-${String(i).padStart(2, "0")}`);
      let version = 1;
      const text = (name: string) => e2eSpec(name, [`env: { V: "${version}" }`]);
      const dir = specDir(Object.fromEntries(names.map((n) => [`${n}.yaml`, text(n)])));
      // Every spec file of a version differs only by name, which the hash leaves out.
      const expectedHash = () => specHashOf(text(names[0] as string));
      const report: string[] = [];

      for (let run = 0; run < RUNS; run++) {
        const phase = run % 2 === 0 ? "convergence" : "replacement";
        if (phase === "convergence") {
          const all = await containersOf(c);
          await Promise.all(all.map((x) => docker.getContainer(x.id).remove({ force: true })));
        } else {
          version++;
          for (const n of names) writeFileSync(path.join(dir, `${n}.yaml`), text(n));
        }
        // The random point: after a random number of the run's 50 operations have completed.
        const after = Math.floor(random() * SPECS);
        const victim = await startBerth(["--id", c, "--specs", dir, "--concurrency", "8"]);
        controller = victim;
        const done = () => victim.logs.filter((l) => l.msg === "action completed").length;
        expect(await pollUntil(() => done() >= after, 60_000, 5)).toBe(true);
        await victim.kill9();
        controller = undefined;
        const completed = done();
        const midway = await containersOf(c);
        const at = `run ${run + 1} (${phase}, killed after ${completed} of ${SPECS} operations)`;

        const survivor = await startBerth(["--id", c, "--specs", dir, "--concurrency", "8"]);
        controller = survivor;
        const hash = expectedHash();
        const final = await waitContainers(
          c,
          `${at}: the ${SPECS} containers running with hash ${hash.slice(0, 12)}`,
          (cs) =>
            cs.length === SPECS &&
            cs.every((x, i) => x.name === names[i] && x.state === "running" && x.labels["berth.hash"] === hash),
          { timeoutMs: 120_000, explain: () => survivor.recentLogs() },
        );
        expect(await survivor.stop()).toBe(0);
        controller = undefined;
        report.push(
          `${at}: ${midway.length} containers at the kill, ` +
            `${midway.filter((x) => x.name.endsWith(".next")).length} temporary`,
        );
        expect(
          final.map((x) => [x.name, x.state, x.labels["berth.hash"]]),
          at,
        ).toEqual(names.map((n) => [n, "running", hash]));
        expect(final.filter((x) => x.name.endsWith(".next"))).toEqual([]);
        expect(new Set(final.map((x) => x.id)).size).toBe(SPECS);
        // Nothing else turns up once the survivor is gone: no duplicate or leftover it left half-made.
        const settled = await containersOf(c);
        expect(
          settled.map((x) => [x.id, x.state]),
          at,
        ).toEqual(final.map((x) => [x.id, "running"]));
      }
      console.log(`fault f, seed ${SEED}:\n  ${report.join("\n  ")}`);
    },
    30 * 60_000,
  );
});
