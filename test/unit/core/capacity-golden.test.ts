/**
 * Golden capacity admission (docs/capacity.md): a desired state, the host as observed and a
 * capacity → the exact rendered plan (notes say what waits and why) and what the node holds.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  admit,
  type CapacityOptions,
  type CapacityTotals,
  capacityLine,
  DEFAULT_REQUEST,
  formatMemory,
  nodeReport,
  parseResourceList,
} from "../../../src/core/capacity.js";
import type { ObservedState } from "../../../src/core/observed.js";
import { type PlanInput, plan } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import { statusReport } from "../../../src/core/status.js";
import { container, desired, input, KEYS, observed, OPTIONS, resetIds } from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const Gi = 2 ** 30;
const Mi = 2 ** 20;

const unlimited: CapacityTotals = { cpus: null, memory: null, containers: null };
const cap = (total: Partial<CapacityTotals>): CapacityOptions => ({
  total: { ...unlimited, ...total },
  defaultRequest: DEFAULT_REQUEST,
});

const mem = (name: string, memory: string, extra: readonly string[] = [], replicas?: number) =>
  desired(name, { extra: [`resources: { memory: ${memory} }`, ...extra], ...(replicas ? { replicas } : {}) });

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly capacity: CapacityOptions;
  readonly expected: string;
  /** What berth's containers hold and the plan admitted: "cpus/memory/containers". */
  readonly requested?: string;
}

const cases: Record<string, () => Case> = {
  "everything fits: all created": () => ({
    input: input([desired("a"), desired("b")]),
    observed: observed([]),
    capacity: cap({ containers: 2 }),
    expected: "create  a: not found\ncreate  b: not found\n",
    requested: "0.5/512Mi/2",
  }),
  "containers: the third spec waits, by name": () => ({
    input: input([desired("c"), desired("a"), desired("b")]),
    observed: observed([]),
    capacity: cap({ containers: 2 }),
    expected: "create  a: not found\ncreate  b: not found\n! c: Unschedulable: needs containers 1, 0 free (Pending)\n",
  }),
  "memory: the one that does not fit waits, with what it needs and what is free": () => ({
    input: input([mem("big", "1Gi"), mem("small", "512Mi")]),
    observed: observed([]),
    capacity: cap({ memory: 1536 * Mi }),
    expected: "create  big: not found\ncreate  small: not found\n",
  }),
  "memory: 1Gi does not fit in 512Mi": () => {
    const small = mem("small", "1Gi");
    return {
      input: input([small, mem("big", "1Gi")]),
      observed: observed([container(small)]),
      capacity: cap({ memory: 1536 * Mi }),
      expected: "! big: Unschedulable: needs memory 1Gi, 512Mi free (Pending)\n",
      requested: "0.25/1Gi/1",
    };
  },
  "priority beats name": () => ({
    input: input([mem("a", "1Gi"), mem("z", "1Gi", ["priority: 10"])]),
    observed: observed([]),
    capacity: cap({ memory: Gi }),
    expected: "create  z: not found\n! a: Unschedulable: needs memory 1Gi, 0 free (Pending)\n",
  }),
  "ties by name": () => ({
    input: input([mem("b", "1Gi", ["priority: 5"]), mem("a", "1Gi", ["priority: 5"])]),
    observed: observed([]),
    capacity: cap({ memory: Gi }),
    expected: "create  a: not found\n! b: Unschedulable: needs memory 1Gi, 0 free (Pending)\n",
  }),
  "a larger spec that waits does not block a smaller one of lower priority": () => ({
    input: input([mem("huge", "4Gi", ["priority: 10"]), mem("tiny", "64Mi")]),
    observed: observed([]),
    capacity: cap({ memory: Gi }),
    expected:
      "create  tiny: not found\n! huge: Unschedulable: needs memory 4Gi, more than the whole capacity (1Gi, --capacity): it never fits (Pending)\n",
  }),
  "running containers are never preempted, whatever their priority": () => {
    const low = mem("low", "1Gi", ["priority: -5"]);
    return {
      input: input([low, mem("high", "1Gi", ["priority: 100"])]),
      observed: observed([container(low)]),
      capacity: cap({ memory: Gi }),
      expected: "! high: Unschedulable: needs memory 1Gi, 0 free (Pending)\n",
    };
  },
  "freed capacity admits the next: the orphan is gone": () => ({
    input: input([mem("a", "1Gi"), mem("b", "1Gi")]),
    observed: observed([container(mem("a", "1Gi"))]),
    capacity: cap({ memory: 2 * Gi }),
    expected: "create  b: not found\n",
  }),
  "a removal planned in the same pass frees nothing until it is done": () => {
    const a = desired("a");
    return {
      input: input([a, desired("b")]),
      observed: observed([container(a), container("gone")]),
      capacity: cap({ containers: 2 }),
      expected: "remove  gone [0002aaaabbbb]: orphaned\n! b: Unschedulable: needs containers 1, 0 free (Pending)\n",
    };
  },
  "the default request counts for a spec without limits": () => ({
    input: input([desired("a"), desired("b")]),
    observed: observed([]),
    capacity: cap({ cpus: 400_000_000 }),
    expected:
      "create  a: not found\n! b: Unschedulable: needs cpus 0.25 (the default request: no limit set), 0.15 free (Pending)\n",
  }),
  "per container: two of three replicas fit": () => ({
    input: input([mem("pool", "256Mi", [], 3)]),
    observed: observed([]),
    capacity: cap({ memory: 600 * Mi }),
    expected:
      "create  pool-0: not found\ncreate  pool-1: not found\n! pool: Unschedulable: needs memory 256Mi, 88Mi free (Pending)\n",
  }),
  "several containers of one spec wait: counted": () => ({
    input: input([desired("pool", { replicas: 3 })]),
    observed: observed([]),
    capacity: cap({ containers: 1 }),
    expected:
      "create  pool-0: not found\n! pool: Unschedulable: needs containers 1, 0 free (2 containers wait) (Pending)\n",
  }),
  "a StopFirst replace re-uses its own allowance": () => {
    const d = mem("web", "1Gi", ["updateStrategy: StopFirst"]);
    return {
      input: input([d]),
      observed: observed([container(d, { hash: "old" })]),
      capacity: cap({ memory: Gi, containers: 1 }),
      expected: "replace web [0001aaaabbbb] StopFirst: hash changed\n",
    };
  },
  "a StopFirst replace that asks more than its old container had needs the difference": () => {
    const before = mem("web", "512Mi", ["updateStrategy: StopFirst"]);
    const after = mem("web", "2Gi", ["updateStrategy: StopFirst"]);
    return {
      input: input([after]),
      observed: observed([container(after, { madeFrom: before })]),
      capacity: cap({ memory: Gi }),
      expected:
        "! web: Unschedulable: needs memory 2Gi, more than the whole capacity (1Gi, --capacity): it never fits (Pending)\n",
    };
  },
  "a StopFirst replace whose difference would fit but whose container never does: it never fits": () => {
    const before = mem("web", "512Mi", ["updateStrategy: StopFirst"]);
    const after = mem("web", "1536Mi", ["updateStrategy: StopFirst"]);
    return {
      input: input([after]),
      observed: observed([container(after, { madeFrom: before })]),
      capacity: cap({ memory: Gi }),
      expected:
        "! web: Unschedulable: needs memory 1536Mi, more than the whole capacity (1Gi, --capacity): it never fits (Pending)\n",
    };
  },
  "a StopFirst replace that waits says what it needs beyond its old container, and in all": () => {
    const other = mem("other", "512Mi");
    const before = mem("web", "256Mi", ["updateStrategy: StopFirst"]);
    const after = mem("web", "768Mi", ["updateStrategy: StopFirst"]);
    return {
      input: input([other, after]),
      observed: observed([container(other), container(after, { madeFrom: before })]),
      capacity: cap({ memory: Gi }),
      expected:
        "! web: Unschedulable: needs memory 512Mi more than its old container holds (768Mi in all), 256Mi free (Pending)\n",
    };
  },
  "a StartFirst replace needs room for both while they overlap": () => {
    const d = mem("web", "1Gi");
    return {
      input: input([d]),
      observed: observed([container(d, { hash: "old" })]),
      capacity: cap({ memory: 1536 * Mi }),
      expected: "! web: Unschedulable: needs memory 1Gi, 512Mi free (Pending)\n",
    };
  },
  "a finished run holds nothing": () => {
    const job = desired("job", { extra: ["restartPolicy: Never"] });
    return {
      input: input([job, desired("next")]),
      observed: observed([container(job, { state: "exited", exitCode: 0 })]),
      capacity: cap({ containers: 1 }),
      expected: "create  next: not found\n",
    };
  },
  "an expired spec's containers still hold until removed": () => {
    const old = desired("old", { extra: ["expiresAt: 2026-01-01T00:00:00Z"] });
    return {
      input: input([old, desired("next")]),
      observed: observed([container(old)]),
      capacity: cap({ containers: 1 }),
      expected: "remove  old [0001aaaabbbb]: expired\n! next: Unschedulable: needs containers 1, 0 free (Pending)\n",
    };
  },
  "a full host refills a pool last: the plain spec of the same priority goes first, even named after it": () => ({
    input: input([desired("a-pool", { extra: ["pool: { size: 2, maxCreating: 2 }"] }), desired("z-web")]),
    observed: observed([]),
    capacity: cap({ containers: 2 }),
    expected:
      "create  a-pool-0: not found\ncreate  z-web: not found\n! a-pool: Unschedulable: needs containers 1, 0 free (Pending)\n",
  }),
  "a claim waiting for a cold member: the pool's creates are for it, not a standby": () => ({
    input: input([desired("a-pool", { extra: ["pool: { size: 0, maxCreating: 1 }"] }), desired("z-web")], {
      poolDemand: new Map([["a-pool", 1]]),
    }),
    observed: observed([]),
    capacity: cap({ containers: 1 }),
    expected: "create  a-pool-0: not found\n! z-web: Unschedulable: needs containers 1, 0 free (Pending)\n",
  }),
  "a suspended spec's stopped container holds nothing: suspending makes room": () => {
    const held = desired("held", { extra: ["suspended: true"] });
    return {
      input: input([held, desired("next")]),
      observed: observed([container(held, { state: "exited", exitCode: 137 })]),
      capacity: cap({ containers: 1 }),
      expected: "create  next: not found\n",
    };
  },
  "a need above the whole capacity says it never fits": () => ({
    input: input([desired("huge", { extra: ["resources: { cpus: '3' }"] }), mem("odd", "1536Mi")]),
    observed: observed([]),
    capacity: cap({ cpus: 2e9, memory: 1536 * Mi + 1024 * 300 }),
    expected:
      "create  odd: not found\n! huge: Unschedulable: needs cpus 3, more than the whole capacity (2, --capacity): it never fits (Pending)\n",
  }),
  "no capacity: nothing is held back": () => ({
    input: input([desired("a"), desired("b")]),
    observed: observed([]),
    capacity: cap({}),
    expected: "create  a: not found\ncreate  b: not found\n",
  }),
};

describe("capacity admission (golden plans)", () => {
  beforeEach(resetIds);
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const c = make();
      const result = plan(c.input, c.observed, NOW, { ...OPTIONS, capacity: c.capacity });
      expect(renderPlan(result)).toBe(c.expected);
      if (c.requested !== undefined) {
        const r = result.capacity?.requested;
        expect(r && `${String(r.cpus / 1e9)}/${formatMemory(r.memory)}/${String(r.containers)}`).toBe(c.requested);
      }
    });
  }

  it("a spec left waiting is Pending with the reason in its status, and the node reports it", () => {
    const a = desired("a");
    const result = plan(input([a, desired("b")]), observed([container(a)]), NOW, {
      ...OPTIONS,
      capacity: cap({ containers: 1, memory: 4 * Gi }),
    });
    const report = statusReport({
      records: new Map(
        [a, desired("b")].map((d) => [
          d.spec.name,
          {
            name: d.spec.name,
            file: `${d.spec.name}.yaml`,
            source: d.source,
            spec: d.spec,
            hash: d.hash,
            invalid: [],
            error: null,
          },
        ]),
      ),
      invalidSources: new Map(),
      observed: observed([container(a)]),
      plan: result,
      progress: () => undefined,
      keys: KEYS,
      now: NOW,
    });
    expect(report.specs.find((s) => s.name === "b")).toMatchObject({
      phase: "Pending",
      message: "Unschedulable: needs containers 1, 0 free",
    });
    expect(report.node).toEqual({
      capacity: { cpus: null, memory: 4 * Gi, containers: 1 },
      requested: { cpus: 0.25, memory: 256 * Mi, containers: 1 },
      free: { cpus: null, memory: 4 * Gi - 256 * Mi, containers: 0 },
      containers: [{ name: "a", spec: "a", cpus: 0.25, memory: 256 * Mi }],
      pending: [{ spec: "b", reason: "Unschedulable: needs containers 1, 0 free" }],
    });
    expect(capacityLine(report.node ?? nodeReport(result.capacity ?? never(), []))).toBe(
      "capacity: cpus 0.25/unlimited, memory 256Mi/4Gi, containers 1/1; 1 spec waiting for room",
    );
  });
});

function never(): never {
  throw new Error("no capacity in the plan");
}

describe("admit: pools' standby members go after the rest of their priority", () => {
  const one = { cpus: 0, memory: 0, containers: 1 };
  it.each([
    [[{ spec: "a-pool", standby: true }, { spec: "z-web" }], ["z-web"]],
    [[{ spec: "a-pool", standby: true, priority: 1 }, { spec: "z-web" }], ["a-pool"]],
  ])("%j → %j", (given, expected) => {
    const candidates = given.map((g) => ({ item: g.spec, replica: 0, priority: 0, need: one, ...g }));
    expect(
      admit({ cpus: null, memory: null, containers: 1 }, { cpus: 0, memory: 0, containers: 0 }, candidates).admitted,
    ).toEqual(expected);
  });
});

describe("parseResourceList", () => {
  const all = ["cpus", "memory", "containers"] as const;
  it.each([
    ["cpus=8,memory=14Gi,containers=100", { amounts: { cpus: 8e9, memory: 14 * Gi, containers: 100 }, words: [] }],
    ["auto,containers=100", { amounts: { containers: 100 }, words: ["auto"] }],
    ["memory=2Gi, cpus=500m", { amounts: { memory: 2 * Gi, cpus: 5e8 }, words: [] }],
    ["cpus=0", { amounts: { cpus: 0 }, words: [] }],
  ])("%s", (text, expected) => {
    expect(parseResourceList(text, all)).toEqual(expected);
  });
  it.each([
    ["disk=1Gi", 'disk=1Gi": "disk" is not one of cpus, memory, containers (e.g. cpus=8,memory=14Gi,containers=100)'],
    ["memory=1 GB", 'memory: "1 GB" is not a quantity (e.g. 512Mi, 1Gi)'],
    ["containers=1.5", '"1.5" is not a whole number of containers (e.g. 100)'],
    ["cpus=1,cpus=2", "cpus is given twice"],
  ])("%s is refused", (text, error) => {
    const parsed = parseResourceList(text, all);
    expect("error" in parsed && parsed.error).toContain(error);
  });
});

describe("formatMemory", () => {
  it.each([
    [512 * Mi, "512Mi"],
    [Gi, "1Gi"],
    [1615112 * 1024, "1.5Gi"],
    [687368 * 1024, "671.3Mi"],
    [5e9, "5G"],
    [100, "100"],
  ])("%d bytes → %s", (bytes, text) => {
    expect(formatMemory(bytes)).toBe(text);
  });
});
