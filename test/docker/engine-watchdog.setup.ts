/**
 * Runs after every real-engine test file: the shared engine must still run a container's whole
 * life. If it does not, this file fails with where the daemon's goroutines wait, instead of every
 * later file failing with timeouts that do not say why (see test/support/engine-watchdog.ts).
 */
import { afterAll } from "vitest";
import { dumpEngineStacks, probeEngine } from "../support/engine-watchdog.js";

afterAll(async () => {
  const problem = await probeEngine(45_000);
  if (problem === null) return;
  const stacks = await dumpEngineStacks();
  throw new Error(`The Docker engine stopped working after this file: the probe ${problem}.\n${stacks}`);
}, 70_000);
