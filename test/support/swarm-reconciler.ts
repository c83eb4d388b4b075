/**
 * A swarm reconciler for loop tests: the real one (loop/swarm-reconciler.ts) on the in-memory
 * Swarm and engine fakes, a local image (no registry: unpinned, no credentials), no secret files,
 * the baseline policy, and controller id `test`.
 */
import { labelKeys } from "../../src/core/labels.js";
import { ownership } from "../../src/core/ownership.js";
import { DEFAULT_POLICY } from "../../src/core/policy/policy.js";
import { LEXICAL_CONTEXT } from "../../src/core/policy/types.js";
import { DesiredStateBuilder } from "../../src/loop/desired.js";
import { SwarmReconciler, type SwarmReconcilerDeps } from "../../src/loop/swarm-reconciler.js";
import { silentLogger } from "../../src/util/log.js";
import type { FakeClock } from "./fake-clock.js";
import { FakeDocker } from "./fake-docker.js";
import type { FakeSwarm } from "./fake-swarm.js";

export const SWARM_KEYS = labelKeys("berth");

export function swarmReconciler(
  loader: SwarmReconcilerDeps["loader"],
  swarm: FakeSwarm,
  clock: FakeClock,
): SwarmReconciler {
  const secrets = { env: {}, readFile: () => Promise.reject(new Error("no files")) };
  return new SwarmReconciler(
    {
      loader,
      builder: new DesiredStateBuilder(secrets),
      swarm,
      secrets,
      policy: DEFAULT_POLICY,
      policyContext: LEXICAL_CONTEXT,
      networks: new FakeDocker(() => clock.now()),
      images: { resolve: (spec) => Promise.resolve({ image: spec.image, credentials: null }) },
      clock,
      log: silentLogger(),
    },
    // The prune guard would keep a lone orphan (one of one is over any share below 1).
    { owner: ownership(SWARM_KEYS, "test"), forcePrune: false, pruneMaxShare: 0.5, concurrency: 4 },
  );
}
