/**
 * Golden planner tests for warm pools and their claims (docs/pools.md): a pool fills to its size
 * at most maxCreating at a time, a claimed member leaves the pool (which refills at the lowest
 * free slot) and is never replaced or pruned, an expired claim's member is removed, and a member
 * whose claim record is gone after release is not in the plan at all (it was removed first).
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ObservedContainer, ObservedState } from "../../../src/core/observed.js";
import { namesToClaim } from "../../../src/core/plan/claims.js";
import { type PlanInput, plan } from "../../../src/core/plan/plan.js";
import type { DesiredSpec } from "../../../src/core/plan/types.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import type { ClaimRecord } from "../../../src/core/pool.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { container, desired, input, KEYS, observed, OPTIONS, resetIds } from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const M = 60_000;

const pool = (size: number, maxCreating = 2): DesiredSpec =>
  desired("web", { extra: [`pool: { size: ${size}, maxCreating: ${maxCreating} }`] });

const member = (d: DesiredSpec, replica: number, extra: Partial<ObservedContainer> = {}): ObservedContainer => ({
  ...container(d, { name: `web-${replica}`, replica }),
  ...extra,
});

const claimOf = (c: ObservedContainer, expiresAt: number | null = null, name = "c1"): ClaimRecord => ({
  name,
  pool: "web",
  containerId: c.id,
  container: c.name,
  expiresAt,
  labels: {},
  claimedAt: NOW - M,
});

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly expected: string;
  readonly nextWakeAt?: number | null;
}

const cases: Record<string, () => Case> = {
  "an empty pool creates maxCreating members at a time, named <pool>-<n> from 0": () => {
    const d = pool(3);
    return {
      input: input([d]),
      observed: observed([]),
      expected: "create  web-0: not found\ncreate  web-1: not found\n",
    };
  },
  "members not yet ready count against maxCreating": () => {
    const d = pool(3);
    return {
      input: input([d]),
      observed: observed([member(d, 0, { health: "starting" })]),
      expected: "create  web-1: not found\n",
    };
  },
  "a full pool of ready members: nothing to do": () => {
    const d = pool(3);
    return {
      input: input([d]),
      observed: observed([member(d, 0), member(d, 1), member(d, 2)]),
      expected: "nothing to do\n",
    };
  },
  "size 1 still names its member web-0": () => {
    const d = pool(1);
    return { input: input([d]), observed: observed([]), expected: "create  web-0: not found\n" };
  },
  "a claimed member leaves the pool: the pool refills at the lowest free slot": () => {
    const d = pool(3);
    const m0 = member(d, 0);
    return {
      input: input([d], { claims: [claimOf(m0)] }),
      observed: observed([m0, member(d, 1), member(d, 2)]),
      expected: "create  web-3: not found\n",
    };
  },
  "a claimed member's slot is free again once it is gone": () => {
    const d = pool(3);
    return {
      input: input([d]),
      observed: observed([member(d, 1), member(d, 2)]),
      expected: "create  web-0: not found\n",
    };
  },
  "a spec change replaces unclaimed members only, never a claimed one": () => {
    const d = pool(2);
    const m0 = member(d, 0, { labels: { ...member(d, 0).labels, [KEYS.hash]: "old" } });
    const m1 = { ...member(d, 1), labels: { ...member(d, 1).labels, [KEYS.hash]: "old" } };
    const m2 = { ...member(d, 2), labels: { ...member(d, 2).labels, [KEYS.hash]: "old" } };
    return {
      input: input([d], { claims: [claimOf(m0)] }),
      observed: observed([m0, m1, m2]),
      expected: `replace web-1 [${m1.id.slice(0, 12)}] StartFirst: hash changed\nreplace web-2 [${m2.id.slice(0, 12)}] StartFirst: hash changed\n`,
    };
  },
  "a pool shrunk keeps its lowest members, never touching claimed ones": () => {
    const d = pool(1);
    const m0 = member(d, 0);
    const m1 = member(d, 1);
    const m2 = member(d, 2);
    return {
      input: input([d], { claims: [claimOf(m0)] }),
      observed: observed([m0, m1, m2]),
      expected: `remove  web-2 [${m2.id.slice(0, 12)}]: scaled down\n`,
    };
  },
  "an expired claim's member is removed; a live one wakes the planner at its expiry": () => {
    const d = pool(1);
    const m0 = member(d, 0);
    const m1 = member(d, 1);
    const m2 = member(d, 2);
    return {
      input: input([d], { claims: [claimOf(m0, NOW - 1), claimOf(m1, NOW + 5 * M, "c2")] }),
      observed: observed([m0, m1, m2]),
      expected: `remove  web-0 [${m0.id.slice(0, 12)}]: claim expired\n`,
      nextWakeAt: NOW + 5 * M,
    };
  },
  "a claimed member outlives its pool spec: not pruned as an orphan": () => {
    const d = pool(2);
    const m0 = member(d, 0);
    const m1 = member(d, 1);
    return {
      input: input([], { claims: [claimOf(m0)] }),
      observed: observed([m0, m1]),
      expected: `remove  web-1 [${m1.id.slice(0, 12)}]: orphaned\n`,
    };
  },
  "a claim waiting on an empty pool of size 0: one member made cold, at slot 0": () => {
    const d = pool(0);
    return {
      input: input([d], { poolDemand: new Map([["web", 1]]) }),
      observed: observed([]),
      expected: "create  web-0: not found\n",
    };
  },
  "a claim waiting while the refill is at maxCreating: its member is created beyond maxCreating": () => {
    const d = pool(3, 2);
    const m0 = member(d, 0);
    const m1 = member(d, 1);
    const m2 = member(d, 2);
    return {
      input: input([d], {
        claims: [claimOf(m0), claimOf(m1, null, "c2"), claimOf(m2, null, "c3")],
        poolDemand: new Map([["web", 1]]),
      }),
      observed: observed([m0, m1, m2, member(d, 3, { health: "starting" }), member(d, 4, { health: "starting" })]),
      expected: "create  web-5: not found\n",
    };
  },
  "two claims waiting on a full refill: two members made cold": () => {
    const d = pool(1, 1);
    return {
      input: input([d], { poolDemand: new Map([["web", 2]]) }),
      observed: observed([member(d, 0, { health: "starting" })]),
      expected: "create  web-1: not found\ncreate  web-2: not found\n",
    };
  },
  "once the waiting claim is served, the surplus member goes, highest first": () => {
    const d = pool(2);
    const m0 = member(d, 0);
    const m1 = member(d, 1);
    const m2 = member(d, 2);
    const m3 = member(d, 3);
    return {
      input: input([d], { claims: [claimOf(m0)] }),
      observed: observed([m0, m1, m2, m3]),
      expected: `remove  web-3 [${m3.id.slice(0, 12)}]: scaled down\n`,
    };
  },
  "a claimed member that stopped is not started again by the pool": () => {
    const d = pool(1);
    const m0 = member(d, 0, { state: "exited", exitCode: 1 });
    return {
      input: input([d], { claims: [claimOf(m0)] }),
      observed: observed([m0, member(d, 1)]),
      expected: "nothing to do\n",
    };
  },
};

describe("plan: warm pools and claims (golden)", () => {
  beforeEach(resetIds);
  for (const [name, build] of Object.entries(cases)) {
    it(name, () => {
      const c = build();
      const result = plan(c.input, c.observed, NOW, OPTIONS);
      expect(renderPlan(result)).toBe(c.expected);
      if (c.nextWakeAt !== undefined) expect(result.nextWakeAt).toBe(c.nextWakeAt);
    });
  }
});

describe("namesToClaim: the member names a pool's next creates take (checked against foreign containers)", () => {
  beforeEach(resetIds);
  const names = (
    d: DesiredSpec,
    ours: ObservedContainer[],
    claimed: ObservedContainer[] = [],
    demand = 0,
  ): string[] => [
    ...namesToClaim([d], ours, KEYS, NOW, () => true, new Set(), {
      claimed: new Set(claimed.map((c) => c.id)),
      demand: new Map(demand > 0 ? [["web", demand]] : []),
    }),
  ];
  it("a full pool takes none: the steady state makes no extra list call", () => {
    const d = pool(3);
    expect(names(d, [member(d, 0), member(d, 1), member(d, 2)])).toEqual([]);
  });
  it("a pool of size 1 takes web-0, not web", () => {
    expect(names(pool(1), [])).toEqual(["web-0"]);
  });
  it("a claimed member's refill takes the lowest slot nothing holds", () => {
    const d = pool(3);
    const m0 = member(d, 0);
    expect(names(d, [m0, member(d, 1), member(d, 2)], [m0])).toEqual(["web-3"]);
  });
  it("a claim waiting for a cold member takes one slot more", () => {
    const d = pool(2);
    expect(names(d, [member(d, 0), member(d, 1)], [], 1)).toEqual(["web-2"]);
  });
});

describe("pool: validation", () => {
  const issues = (extra: string[]): string[] => {
    const text = [
      "apiVersion: berth/v1",
      "kind: Container",
      "metadata:",
      "  name: web",
      "spec:",
      "  image: busybox",
      ...extra.map((l) => `  ${l}`),
    ].join("\n");
    return parseSpecText(text, "web.yaml").issues.map((i) => `${i.path}: ${i.message}`);
  };
  it("pool with replicas is refused at spec.pool", () => {
    expect(issues(["replicas: 2", "pool: { size: 2 }"])).toEqual([
      "spec.pool: a pool has no replicas: its members are counted by pool.size; drop replicas or pool",
    ]);
  });
  it("minReady above size is refused at spec.pool.minReady", () => {
    expect(issues(["pool: { size: 1, minReady: 2 }"])).toEqual([
      "spec.pool.minReady: minReady 2 is above size 1; minReady must be at most size",
    ]);
  });
  it("maxCreating 0 is refused by the schema at spec.pool.maxCreating", () => {
    expect(issues(["pool: { size: 1, maxCreating: 0 }"])[0]).toMatch(/^spec\.pool\.maxCreating: /);
  });
  it("defaults: minReady 1, maxCreating 2", () => {
    const text =
      "apiVersion: berth/v1\nkind: Container\nmetadata:\n  name: web\nspec:\n  image: busybox\n  pool: { size: 3 }\n";
    expect(parseSpecText(text, "web.yaml").documents[0]?.spec.pool).toEqual({ size: 3, minReady: 1, maxCreating: 2 });
  });
});
