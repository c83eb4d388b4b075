/**
 * spec.stableFor's hold on a rollout in the planner (core/plan/rollout.ts), golden: while a
 * spec's containers are of two versions (hash, image), one of the current version that the engine
 * restarted, that is not running or that is unhealthy holds the replacements of the rest, and only
 * those: a repair still goes, a spec without stableFor is not held, and a newer version rolls out
 * again. Under StartFirst the stopped record of a rejected version (web-0.rejected) holds while it
 * is of the current version, and goes once the spec or the image moves on.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ObservedContainer, ObservedRun, ObservedState } from "../../../src/core/observed.js";
import { type PlanInput, plan } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import { container, desired, IMAGE, input, observed, OPTIONS, resetIds } from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const HELD =
  "! web: rollout held: web-0 of this version exited with code 3 and was restarted by the engine (2 restarts); " +
  "the others keep their version until the spec changes; berth rollout retry web makes it again (stableFor) (Failed)\n";

const RUN: ObservedRun = {
  createdAt: NOW - 60_000,
  startedAt: NOW - 50_000,
  finishedAt: null,
  oomKilled: false,
  restartCount: 0,
  lastExit: null,
  settled: false,
};
/** Restarted twice by the engine after exiting with code 3; `restarting` or already `running` again. */
const crashed = (c: ObservedContainer, state: "restarting" | "running" = "restarting"): ObservedContainer => ({
  ...c,
  state,
  run: { ...RUN, restartCount: 2, lastExit: { code: state === "running" ? null : 3, at: NOW - 1_000 } },
});

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly expected: string;
}

const web = (extra: readonly string[] = ["stableFor: 10s"]) =>
  desired("web", { replicas: 3, extra: ["updateStrategy: StopFirst", ...extra] });

/** web-0 of the current version (id 0001…), `first` making it what the case needs; web-1 and web-2 of the old one. */
function midRollout(d: ReturnType<typeof web>, first: (c: ObservedContainer) => ObservedContainer): Case {
  return {
    input: input([d]),
    observed: observed([
      first({ ...container(d, { name: "web-0", replica: 0 }), run: RUN }),
      container(d, { name: "web-1", replica: 1, hash: "old" }),
      container(d, { name: "web-2", replica: 2, hash: "old" }),
    ]),
    expected: "",
  };
}

const REST =
  "replace web-1 [0002aaaabbbb] StopFirst: hash changed\nreplace web-2 [0003aaaabbbb] StopFirst: hash changed\n";

const NEW_IMAGE = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const startFirst = (extra: readonly string[] = ["stableFor: 10s"]) => desired("web", { replicas: 2, extra });
const REJECTED =
  "! web: rollout held: web-0.rejected, this version's replacement, did not stay up for 10s and is kept stopped " +
  "for its logs; the others keep their version until the spec or its image changes; " +
  "berth rollout retry web tries this version again (stableFor) (Failed)\n";

/** web-0 and web-1 of an old version; the record of web-0's rejected replacement, of `record`'s version. */
function rejected(d: ReturnType<typeof startFirst>, record: { hash?: string; imageId?: string }, old = "old"): Case {
  return {
    input: input([d]),
    observed: observed([
      container(d, { name: "web-0", replica: 0, hash: old }),
      container(d, { name: "web-1", replica: 1, hash: old }),
      container(d, { name: "web-0.rejected", replica: 0, state: "exited", exitCode: 3, ...record }),
    ]),
    expected: "",
  };
}
const ROLL =
  "replace web-0 [0001aaaabbbb] StartFirst: hash changed\nreplace web-1 [0002aaaabbbb] StartFirst: hash changed\n";

const cases: Record<string, () => Case> = {
  "the new version stayed up: the rollout goes on": () => ({ ...midRollout(web(), (c) => c), expected: REST }),
  "the new version is restarting after a crash: the rest holds, Failed": () => ({
    ...midRollout(web(), (c) => crashed(c)),
    expected: HELD,
  }),
  "running again after a crash (its code known only from an inspect then: none): the rest holds": () => ({
    ...midRollout(web(), (c) => crashed(c, "running")),
    expected: HELD.replace("exited with code 3", "exited"),
  }),
  "unhealthy: the rest holds": () => ({
    ...midRollout(web(), (c) => ({ ...c, health: "unhealthy" })),
    expected:
      "! web: rollout held: web-0 of this version became unhealthy; the others keep their version until the spec changes; berth rollout retry web makes it again (stableFor) (Failed)\n",
  }),
  "a repair is not held: a dead container of this version is still replaced": () => {
    const d = web();
    const dead = { ...container(d, { name: "web-1", replica: 1 }), state: "dead" as const };
    return {
      input: input([d]),
      observed: observed([
        crashed({ ...container(d, { name: "web-0", replica: 0 }), run: RUN }),
        dead,
        container(d, { name: "web-2", replica: 2, hash: "old" }),
      ]),
      expected: `replace web-1 [0001aaaabbbb] StopFirst: dead\n${HELD}`,
    };
  },
  "a spec without stableFor is not held": () => ({ ...midRollout(web([]), (c) => crashed(c)), expected: REST }),
  "the crashed one is of an older version: the new version rolls out over it": () => {
    const d = web(["stableFor: 10s", "env: { VERSION: '3' }"]);
    return {
      input: input([d]),
      observed: observed([
        crashed(container(d, { name: "web-0", replica: 0, hash: "v2" })),
        container(d, { name: "web-1", replica: 1, hash: "old" }),
      ]),
      expected:
        "replace web-0 [0001aaaabbbb] StopFirst: hash changed\n" +
        "replace web-1 [0002aaaabbbb] StopFirst: hash changed\n" +
        "create  web-2: not found\n",
    };
  },
  "every container of this version: no rollout, nothing held (a crash loop is the engine's)": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([
        crashed(container(d, { name: "web-0", replica: 0 })),
        container(d, { name: "web-1", replica: 1 }),
        container(d, { name: "web-2", replica: 2 }),
      ]),
      expected: "nothing to do\n",
    };
  },
  "an image update is a rollout too: web-0 on the new image crashed, the others keep the old image": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed(
        [
          crashed({ ...container(d, { name: "web-0", replica: 0, imageId: NEW_IMAGE }), run: RUN }),
          container(d, { name: "web-1", replica: 1 }),
          container(d, { name: "web-2", replica: 2 }),
        ],
        { imageIds: { [IMAGE]: NEW_IMAGE } },
      ),
      expected: HELD,
    };
  },
  "StartFirst: the record of this version's rejected replacement holds the rollout": () => ({
    ...rejected(startFirst(), {}),
    expected: REJECTED,
  }),
  "StartFirst: a batch's records of this version (updateParallelism) all stay, and hold": () => {
    const d = startFirst(["stableFor: 10s", "updateParallelism: 2"]);
    const c = rejected(d, {});
    const second = container(d, { name: "web-1.rejected", replica: 1, state: "exited", exitCode: 3 });
    return { ...c, observed: { ...c.observed, containers: [...c.observed.containers, second] }, expected: REJECTED };
  },
  "StartFirst: a record of an older version goes, and the new version rolls out": () => ({
    ...rejected(startFirst(), { hash: "v2" }),
    expected: `remove  web-0.rejected [0003aaaabbbb]: old rejection\n${ROLL}`,
  }),
  "StartFirst: the image moved on since the record (same spec): it goes, and the new image rolls out": () => {
    const d = startFirst();
    const c = rejected(d, {}, d.hash);
    return {
      ...c,
      observed: { ...c.observed, imageIds: new Map([[IMAGE, NEW_IMAGE]]) },
      expected:
        "remove  web-0.rejected [0003aaaabbbb]: old rejection\n" +
        "replace web-0 [0001aaaabbbb] StartFirst: image updated\nreplace web-1 [0002aaaabbbb] StartFirst: image updated\n",
    };
  },
  "StartFirst: the image the record ran is the tag's still: held, though the spec is the same": () => {
    const d = startFirst();
    const c = rejected(d, { imageId: NEW_IMAGE }, d.hash);
    return {
      ...c,
      observed: { ...c.observed, imageIds: new Map([[IMAGE, NEW_IMAGE]]) },
      expected: REJECTED,
    };
  },
  "StartFirst: every replica of this version (nothing to roll out): the record goes": () => ({
    ...rejected(startFirst(), {}, startFirst().hash),
    expected: "remove  web-0.rejected [0003aaaabbbb]: old rejection\n",
  }),
  "StartFirst: a spec without stableFor holds nothing; the record goes": () => {
    const d = startFirst([]);
    return { ...rejected(d, {}), expected: `remove  web-0.rejected [0003aaaabbbb]: old rejection\n${ROLL}` };
  },
};

describe("plan: a rollout held by stableFor (golden)", () => {
  beforeEach(resetIds);
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const c = make();
      expect(renderPlan(plan(c.input, c.observed, NOW, OPTIONS))).toBe(c.expected);
    });
  }
});

/** web-0 … web-(n-1) of an old version, `replicas` 3 and `updatePartition` as given. */
const partitioned = (partition: number, extra: readonly string[] = []) =>
  desired("web", { replicas: 3, extra: [`updatePartition: ${partition}`, ...extra] });
const allOld = (d: ReturnType<typeof partitioned>): ObservedState =>
  observed([0, 1, 2].map((i) => container(d, { name: `web-${i}`, replica: i, hash: "old" })));

const partitionCases: Record<string, () => Case> = {
  "updatePartition 2 of 3: only web-2 rolls (a canary); web-0 and web-1 keep their version": () => {
    const d = partitioned(2);
    return {
      input: input([d]),
      observed: allOld(d),
      expected:
        "replace web-2 [0003aaaabbbb] StartFirst: hash changed\n" +
        "! web: updatePartition 2 keeps web-0 and web-1 on their version; lower it to roll them\n",
    };
  },
  "updatePartition at the replica count: nothing rolls (the rollout is paused)": () => {
    const d = partitioned(3);
    return {
      input: input([d]),
      observed: allOld(d),
      expected: "! web: updatePartition 3 keeps web-0, web-1 and web-2 on their version; lower it to roll them\n",
    };
  },
  "the canary rolled: nothing to do but the note, which names the one replica left": () => {
    const d = partitioned(1);
    return {
      input: input([d]),
      observed: observed([
        container(d, { name: "web-0", replica: 0, hash: "old" }),
        container(d, { name: "web-1", replica: 1 }),
        container(d, { name: "web-2", replica: 2 }),
      ]),
      expected: "! web: updatePartition 1 keeps web-0 on its version; lower it to roll it\n",
    };
  },
  "lowered to 0: the rest roll": () => {
    const d = partitioned(0);
    return {
      input: input([d]),
      observed: observed([
        container(d, { name: "web-0", replica: 0, hash: "old" }),
        container(d, { name: "web-1", replica: 1, hash: "old" }),
        container(d, { name: "web-2", replica: 2 }),
      ]),
      expected:
        "replace web-0 [0001aaaabbbb] StartFirst: hash changed\nreplace web-1 [0002aaaabbbb] StartFirst: hash changed\n",
    };
  },
  "an image update is held by the partition too": () => {
    const d = partitioned(2, ["updateStrategy: StopFirst"]);
    return {
      input: input([d]),
      observed: observed(
        [0, 1, 2].map((i) => container(d, { name: `web-${i}`, replica: i })),
        { imageIds: { [IMAGE]: NEW_IMAGE } },
      ),
      expected:
        "replace web-2 [0003aaaabbbb] StopFirst: image updated\n" +
        "! web: updatePartition 2 keeps web-0 and web-1 on their version; lower it to roll them\n",
    };
  },
  "below the partition, an exited replica is started again on its version, a dead one made again at this one": () => {
    const d = partitioned(3);
    return {
      input: input([d]),
      observed: observed([
        container(d, { name: "web-0", replica: 0, hash: "old", state: "exited", exitCode: 1 }),
        { ...container(d, { name: "web-1", replica: 1, hash: "old" }), state: "dead" as const },
        container(d, { name: "web-2", replica: 2, hash: "old" }),
      ]),
      expected:
        "start   web-0 [0001aaaabbbb]: exited\n" +
        "replace web-1 [0002aaaabbbb] StopFirst: dead\n" +
        "! web: updatePartition 3 keeps web-0 and web-2 on their version; lower it to roll them\n",
    };
  },
  "a replacement begun before the partition was raised is finished": () => {
    const d = partitioned(3);
    return {
      input: input([d]),
      observed: observed([
        container(d, { name: "web-0", replica: 0, hash: "old" }),
        container(d, { name: "web-0.next", replica: 0 }),
        container(d, { name: "web-1", replica: 1, hash: "old" }),
        container(d, { name: "web-2", replica: 2, hash: "old" }),
      ]),
      expected:
        "finish  web-0.next [0002aaaabbbb] -> web-0, removing web-0 [0001aaaabbbb]: interrupted replacement\n" +
        "! web: updatePartition 3 keeps web-1 and web-2 on their version; lower it to roll them\n",
    };
  },
  "a canary that crashed within its stableFor holds the rest once the partition is lowered": () => {
    const d = partitioned(0, ["updateStrategy: StopFirst", "stableFor: 10s"]);
    return {
      input: input([d]),
      observed: observed([
        container(d, { name: "web-0", replica: 0, hash: "old" }),
        container(d, { name: "web-1", replica: 1, hash: "old" }),
        crashed({ ...container(d, { name: "web-2", replica: 2 }), run: RUN }),
      ]),
      expected: HELD.replace("web-0 of this version", "web-2 of this version"),
    };
  },
  "StopFirst: a canary the engine restarted while the partition keeps the rest holds, whenever it crashed": () => {
    const d = partitioned(2, ["updateStrategy: StopFirst", "stableFor: 10s"]);
    return {
      input: input([d]),
      observed: observed([
        container(d, { name: "web-0", replica: 0, hash: "old" }),
        container(d, { name: "web-1", replica: 1, hash: "old" }),
        crashed(container(d, { name: "web-2", replica: 2 }), "running"),
      ]),
      expected:
        "! web: updatePartition 2 keeps web-0 and web-1 on their version; lower it to roll them\n" +
        HELD.replace("web-0 of this version exited with code 3", "web-2 of this version exited"),
    };
  },
};

describe("plan: a rollout partitioned by updatePartition (golden)", () => {
  beforeEach(resetIds);
  for (const [name, make] of Object.entries(partitionCases)) {
    it(name, () => {
      const c = make();
      expect(renderPlan(plan(c.input, c.observed, NOW, OPTIONS))).toBe(c.expected);
    });
  }
});
