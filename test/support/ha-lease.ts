/**
 * The `--ha` lease stores of the HA tests (vitest only: a lock file lives in a test's temporary
 * folder; test/support/redis.ts stays free of vitest, for the bench and the soak).
 */
import path from "node:path";
import type { TestRedis } from "./redis.js";
import { tempDir } from "./tmp.js";

/**
 * The `--ha` store of one test: a lock file of its own, or the file's redis-server (keys are per
 * --id) with a term counter already set, as a store that has had terms before (a store without
 * one makes its first leader wait one TTL: ha.test.ts's Redis-loss test covers that).
 */
export async function testLease(store: "file" | "redis", id: string, redis: () => Promise<TestRedis>): Promise<string> {
  if (store === "file") return `file:${path.join(tempDir(), "lease")}`;
  const server = await redis();
  await server.command(["SET", `berth:{${id}}:term`, "7"]);
  return server.url();
}
