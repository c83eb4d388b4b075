/**
 * A small load test of the HTTP API on loopback (bounded in count and time): 50 concurrent
 * clients read status while 20 specs are written and changed through the API. Every request must
 * succeed; the figures (requests/s, p50, p99) are printed, not asserted (timings are not tests).
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  e2eSpec,
  type RunningBerth,
  specDir,
  specHashOf,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { pollUntil } from "../support/poll.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "load-test-token-0123456789abcdef";
const CLIENTS = 50;
const READS_PER_CLIENT = 60;
const SPECS = 20;

const id = testIds();
let controller: RunningBerth | undefined;
afterEach(async () => {
  if (controller) expect(await controller.stop()).toBe(0);
  controller = undefined;
});

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

describe("the HTTP API under load", () => {
  it("answers every status read of 50 concurrent clients while 20 specs change", async () => {
    const c = id("api-load");
    controller = await startBerth(
      ["--id", c, "--specs", specDir({}), "--runtime-specs", tempDir("berth-rt-"), "--concurrency", "8"],
      {
        BERTH_API_TOKEN: TOKEN,
        BERTH_LOG_LEVEL: "info",
      },
    );
    const base = controller.url;
    expect(await pollUntil(async () => (await fetch(`${base}/readyz`)).status === 200, 30_000)).toBe(true);
    const names = Array.from({ length: SPECS }, (_, i) => `${c}-s${i}`);
    const text = (name: string, round: number): string => e2eSpec(name, [`env: { ROUND: "${round}" }`]);

    const failures: string[] = [];
    const latencies: number[] = [];
    const reader = async (client: number): Promise<void> => {
      for (let i = 0; i < READS_PER_CLIENT; i++) {
        const url = i % 3 === 0 ? `${base}/v1/specs/${names[(client + i) % SPECS]}` : `${base}/v1/specs`;
        const started = performance.now();
        try {
          const res = await fetch(url);
          await res.arrayBuffer();
          // A spec not written yet is a 404; anything else is a failure.
          if (res.status !== 200 && res.status !== 404) failures.push(`${url}: ${res.status}`);
        } catch (err) {
          failures.push(`${url}: ${(err as Error).message}`);
        }
        latencies.push(performance.now() - started);
      }
    };
    const writer = async (): Promise<void> => {
      for (const round of [1, 2]) {
        for (const name of names) {
          const res = await fetch(`${base}/v1/specs/${name}`, {
            method: "PUT",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/yaml" },
            body: text(name, round),
          });
          if (res.status !== 200 && res.status !== 201) failures.push(`PUT ${name}: ${res.status} ${await res.text()}`);
        }
      }
    };

    const started = performance.now();
    await Promise.all([writer(), ...Array.from({ length: CLIENTS }, (_, i) => reader(i))]);
    const seconds = (performance.now() - started) / 1000;
    expect(failures).toEqual([]);
    expect(latencies.length).toBe(CLIENTS * READS_PER_CLIENT);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `api load: ${latencies.length} status reads by ${CLIENTS} clients while ${SPECS} specs changed twice: ` +
        `${(latencies.length / seconds).toFixed(0)} requests/s, p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(sorted, 99).toFixed(1)} ms`,
    );
    // And the host converges to the second round: each spec's one container runs its round-2 hash.
    const round2 = new Map(names.map((name) => [name, specHashOf(text(name, 2))]));
    const done = await waitContainers(
      c,
      `the ${SPECS} specs' containers running their second round`,
      (cs) =>
        cs.length === SPECS && cs.every((x) => x.state === "running" && x.labels["berth.hash"] === round2.get(x.name)),
      { timeoutMs: 120_000, explain: () => controller?.recentLogs() ?? "" },
    );
    expect(done.map((x) => x.name).sort()).toEqual([...names].sort());
  }, 240_000);
});
