/**
 * The benchmark starts and stops cleanly (`--smoke`: tiny sizes, seconds): it prints its tables,
 * writes its JSON, and leaves no container behind. CI runs this, never the benchmark itself.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { docker } from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

it("npm run bench -- --smoke runs every section and cleans up", async () => {
  const out = path.join(tempDir("berth-bench-"), "smoke.json");
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      path.resolve("node_modules/.bin/tsx"),
      ["bench/bench.ts", "--smoke", "--out", out],
      { maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? 1 : 0, stdout, stderr });
      },
    );
  });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  for (const title of [
    "start-up",
    "cold convergence",
    "no-op pass",
    "reaction latency",
    "warm pool of 3",
    "failover with --ha redis",
    "RSS of berth run",
    "swarm: 2 services on a one-node swarm",
    "bench done",
  ])
    expect(result.stdout).toContain(title);
  const json = JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>;
  expect(Object.keys(json)).toEqual(
    expect.arrayContaining(["startup", "cold", "noop", "planning", "scaling", "latency", "pools", "ha", "memory"]),
  );
  expect((json.noop as { writes: number }[])[0]?.writes).toBe(0);
  expect(json.swarm).toMatchObject({ n: 2, berthOverStack: expect.any(Number) });
  const left = await docker.listContainers({ all: true });
  expect(left.filter((c) => c.Names.some((n) => n.startsWith("/bench-")))).toEqual([]);
}, 180_000);
