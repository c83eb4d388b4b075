/**
 * Fault f: `kill -9` of the controller at random points (a seeded, repeatable sequence) of a
 * 50-spec convergence and of a 50-spec replacement, 20 times. After each kill berth is started
 * again, and every run must end converged: exactly the 50 containers, all running the current
 * version, no duplicates, no leftover temporary containers.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { specHash } from "../../src/core/hash.js";
import { parseSpecText } from "../../src/manifest/parse.js";
import { cleanup, containersOf, docker, e2eSpec, specDir, startBerth, testId, waitContainers } from "../support/e2e.js";
import { prng } from "../support/prng.js";
import { pollUntil } from "../support/poll.js";

const SEED = Number(process.env.BERTH_KILL_SEED ?? 20261123);
const RUNS = 20;
const SPECS = 50;
const c = testId("kill9x20");

afterAll(async () => {
  await cleanup(c);
});

describe("fault f: kill -9 at random points, 20 times", () => {
  it(
    `always ends converged, without duplicates or leftovers (seed ${SEED})`,
    async () => {
      const random = prng(SEED);
      const names = Array.from({ length: SPECS }, (_, i) => `${c}-${String(i).padStart(2, "0")}`);
      let version = 1;
      const text = (name: string) => e2eSpec(name, [`env: { V: "${version}" }`]);
      const dir = specDir(Object.fromEntries(names.map((n) => [`${n}.yaml`, text(n)])));
      const expectedHash = () => {
        const doc = parseSpecText(text(names[0] as string), "x.yaml").documents[0];
        if (!doc) throw new Error("unparsable");
        return specHash(doc.spec);
      };
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
        const done = () => victim.logs.filter((l) => l.msg === "action completed").length;
        expect(await pollUntil(() => done() >= after, 60_000, 5)).toBe(true);
        await victim.kill9();
        const completed = done();
        const midway = await containersOf(c);

        const survivor = await startBerth(["--id", c, "--specs", dir, "--concurrency", "8"]);
        const hash = expectedHash();
        const final = await waitContainers(
          c,
          (cs) =>
            cs.length === SPECS &&
            cs.every((x, i) => x.name === names[i] && x.state === "running" && x.labels["berth.hash"] === hash),
          120_000,
        );
        expect(await survivor.stop()).toBe(0);
        report.push(
          `run ${run + 1} (${phase}, killed after ${completed} of ${SPECS} operations): ` +
            `${midway.length} containers at the kill, ${midway.filter((x) => x.name.endsWith(".next")).length} temporary`,
        );
        expect(
          final.map((x) => x.name),
          report.at(-1),
        ).toEqual(names);
        expect(final.filter((x) => x.name.endsWith(".next"))).toEqual([]);
        expect(new Set(final.map((x) => x.id)).size).toBe(SPECS);
        expect(await pollUntil(async () => (await containersOf(c)).length === SPECS, 1000)).toBe(true);
      }
      console.log(`fault f, seed ${SEED}:\n  ${report.join("\n  ")}`);
    },
    30 * 60_000,
  );
});
