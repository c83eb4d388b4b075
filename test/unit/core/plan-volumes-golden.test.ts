/**
 * Golden planner tests for per-instance volumes (core/plan/volumes.ts): a desired state, the
 * containers and volumes observed → the exact rendered plan. Kept while the instance is wanted
 * (a replacement mounts it again), removed when it goes, never while mounted, never under Retain,
 * never without this controller's id and the per-instance label, orphans under the prune guard.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ObservedContainer, ObservedState, ObservedVolume } from "../../../src/core/observed.js";
import { type DesiredSpec, type PlanInput, type PlanOptions, plan } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import {
  CONTROLLER,
  type ContainerOptions,
  container,
  desired,
  input,
  KEYS,
  observed,
  OPTIONS,
  resetIds,
} from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const PAST = "2026-11-23T11:00:00Z";

const PER_INSTANCE = "  - { type: volume, source: data, target: /data, perInstance: true }";
const RETAIN = "  - { type: volume, source: data, target: /data, perInstance: true, reclaimPolicy: Retain }";

const web = (replicas = 1, ...extra: string[]): DesiredSpec =>
  desired("web", { replicas, extra: ["mounts:", PER_INSTANCE, ...extra] });

interface VolumeOptions {
  readonly spec?: string;
  readonly replica?: number;
  readonly source?: string;
  readonly reclaimPolicy?: string;
  readonly controller?: string;
  /** Labels replacing berth's entirely (a volume someone else made). */
  readonly labels?: Record<string, string>;
}

/** A per-instance volume as berth labels it. */
function volume(name: string, options: VolumeOptions = {}): ObservedVolume {
  const spec = options.spec ?? "web";
  return {
    name,
    driver: "local",
    options: {},
    labels: options.labels ?? {
      [KEYS.controller]: options.controller ?? CONTROLLER,
      [KEYS.spec]: spec,
      [KEYS.replica]: String(options.replica ?? 0),
      [KEYS.source]: `${spec}.yaml`,
      [KEYS.instanceVolume]: options.source ?? "data",
      [KEYS.reclaimPolicy]: options.reclaimPolicy ?? "Delete",
    },
  };
}

/** One of our containers mounting these volumes (by name) at /data. */
function mounting(d: DesiredSpec | string, volumes: readonly string[], options: ContainerOptions = {}) {
  const c = container(d, options);
  return {
    ...c,
    mounts: volumes.map((source) => ({ type: "volume", source, target: "/data", rw: true })),
  } satisfies ObservedContainer;
}

function withVolumes(state: ObservedState, volumes: readonly ObservedVolume[]): ObservedState {
  return { ...state, volumes };
}

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly options?: Partial<PlanOptions>;
  readonly expected: string;
}

/** A spec with no volumes that stays: the prune guard counts its instance. */
const keeper = () => desired("keeper");

const cases: Record<string, () => Case> = {
  "a new instance: its volume is made with the container": () => ({
    input: input([web()]),
    observed: withVolumes(observed([]), []),
    expected: "create  web: not found\n    + volume web-data\n",
  }),
  "replicas: each instance has its own volume": () => ({
    input: input([web(2)]),
    observed: withVolumes(observed([]), []),
    expected: [
      "create  web-0: not found",
      "    + volume web-0-data",
      "create  web-1: not found",
      "    + volume web-1-data",
      "",
    ].join("\n"),
  }),
  "a volume that exists (a Retain one, say) is not made again": () => ({
    input: input([web()]),
    observed: withVolumes(observed([]), [volume("web-data", { reclaimPolicy: "Retain" })]),
    expected: "create  web: not found\n",
  }),
  "kept on replace: the new container mounts the same volume, StopFirst": () => {
    const d = web();
    return {
      input: input([d]),
      observed: withVolumes(observed([mounting(d, ["web-data"], { hash: "old" })]), [volume("web-data")]),
      expected: "replace web [0001aaaabbbb] StopFirst: hash changed\n",
    };
  },
  "kept when its container is gone but the instance is wanted": () => ({
    input: input([web()]),
    observed: withVolumes(observed([]), [volume("web-data")]),
    expected: "create  web: not found\n",
  }),
  "a converged instance with its volume needs nothing": () => {
    const d = web();
    return {
      input: input([d]),
      observed: withVolumes(observed([mounting(d, ["web-data"])]), [volume("web-data")]),
      expected: "nothing to do\n",
    };
  },
  "spec deleted through the API: the container goes, then its volume": () => ({
    input: input([], { deleted: new Set(["web"]) }),
    observed: withVolumes(observed([mounting("web", ["web-data"])]), [volume("web-data")]),
    expected: "remove  web [0001aaaabbbb]: deleted\nremove  volume web-data: deleted\n",
  }),
  "spec file gone: container and volume pruned as orphans": () => {
    const k = keeper();
    return {
      input: input([k]),
      observed: withVolumes(observed([container(k), mounting("web", ["web-data"])]), [volume("web-data")]),
      expected: "remove  web [0002aaaabbbb]: orphaned\nremove  volume web-data: orphaned\n",
    };
  },
  "an orphaned volume whose container is already gone": () => {
    const k = keeper();
    return {
      input: input([k]),
      observed: withVolumes(observed([container(k)]), [volume("web-data")]),
      expected: "remove  volume web-data: orphaned\n",
    };
  },
  "prune paused (spec folder empty): orphaned volumes are kept": () => ({
    input: input([], { prunePaused: "spec directory /specs is empty" }),
    observed: withVolumes(observed([]), [volume("web-data"), volume("api-data", { spec: "api" })]),
    expected:
      "! prune paused: spec directory /specs is empty; 2 per-instance volume(s) without a spec are kept: api-data, web-data\n",
  }),
  "prune paused past the share of managed instances": () => {
    const k = keeper();
    return {
      input: input([k]),
      observed: withVolumes(observed([container(k)]), [volume("web-data"), volume("api-data", { spec: "api" })]),
      expected:
        "! prune paused: 2 per-instance volume(s) of 3 managed instances have no spec, more than 50%; nothing is removed (use --force-prune if this is intended): api-data, web-data\n",
    };
  },
  "--force-prune removes them past the share": () => {
    const k = keeper();
    return {
      input: input([k]),
      observed: withVolumes(observed([container(k)]), [volume("web-data"), volume("api-data", { spec: "api" })]),
      options: { forcePrune: true },
      expected: "remove  volume api-data: orphaned\nremove  volume web-data: orphaned\n",
    };
  },
  "a deleted spec's volume is not guarded": () => ({
    input: input([], { deleted: new Set(["web"]), prunePaused: "spec directory /specs is empty" }),
    observed: withVolumes(observed([]), [volume("web-data")]),
    expected: "remove  volume web-data: deleted\n",
  }),
  "scaled down: the instance that goes takes its volume; the others keep theirs": () => {
    const d = web(2);
    return {
      input: input([d]),
      observed: withVolumes(
        observed([
          mounting(d, ["web-0-data"], { name: "web-0", replica: 0 }),
          mounting(d, ["web-1-data"], { name: "web-1", replica: 1 }),
          mounting(d, ["web-2-data"], { name: "web-2", replica: 2 }),
        ]),
        [
          volume("web-0-data", { replica: 0 }),
          volume("web-1-data", { replica: 1 }),
          volume("web-2-data", { replica: 2 }),
        ],
      ),
      expected: "remove  web-2 [0003aaaabbbb]: scaled down\nremove  volume web-2-data: scaled down\n",
    };
  },
  "expired: the container is killed, then its volume goes": () => {
    const d = web(1, `expiresAt: "${PAST}"`);
    return {
      input: input([d]),
      observed: withVolumes(observed([mounting(d, ["web-data"])]), [volume("web-data")]),
      expected: "remove  web [0001aaaabbbb]: expired\nremove  volume web-data: expired\n",
    };
  },
  "Retain: kept when the spec is deleted (the volume's label)": () => ({
    input: input([], { deleted: new Set(["web"]) }),
    observed: withVolumes(observed([mounting("web", ["web-data"])]), [volume("web-data", { reclaimPolicy: "Retain" })]),
    expected: "remove  web [0001aaaabbbb]: deleted\n",
  }),
  "Retain: the spec's current word beats the label it was made with": () => {
    const d = desired("web", { replicas: 1, extra: ["mounts:", RETAIN] });
    return {
      input: input([d]),
      observed: withVolumes(observed([mounting(d, ["web-0-data"], { name: "web-0", replica: 1 })]), [
        volume("web-0-data", { replica: 1, reclaimPolicy: "Delete" }),
      ]),
      expected: "remove  web-0 [0001aaaabbbb]: scaled down\ncreate  web: not found\n    + volume web-data\n",
    };
  },
  "an unknown reclaim label keeps the volume": () => ({
    input: input([], { deleted: new Set(["web"]) }),
    observed: withVolumes(observed([]), [volume("web-data", { reclaimPolicy: "delete" })]),
    expected: "nothing to do\n",
  }),
  "in use by a container this plan does not remove: kept": () => {
    const other = desired("other");
    return {
      input: input([other], { deleted: new Set(["web"]) }),
      observed: withVolumes(observed([mounting(other, ["web-data"])]), [volume("web-data")]),
      expected: "nothing to do\n",
    };
  },
  "in use by a container being removed by the engine: kept for now": () => ({
    input: input([], { deleted: new Set(["web"]) }),
    observed: withVolumes(observed([mounting("web", ["web-data"], { state: "removing" })]), [volume("web-data")]),
    expected: "nothing to do\n",
  }),
  "an orphan container kept by the prune guard keeps its volume": () => ({
    input: input([], { prunePaused: "spec directory /specs is empty" }),
    observed: withVolumes(observed([mounting("web", ["web-data"])]), [volume("web-data")]),
    expected:
      "! prune paused: spec directory /specs is empty; 1 container(s) without a spec are kept: web [0001aaaabbbb]\n",
  }),
  "never a foreign or unlabelled volume": () => ({
    input: input([], { deleted: new Set(["web"]) }),
    observed: withVolumes(observed([]), [
      volume("web-data", { controller: "other" }),
      volume("web-cache", { labels: {} }),
      volume("web-shared", { labels: { [KEYS.controller]: CONTROLLER, [KEYS.spec]: "web" } }),
    ]),
    options: { forcePrune: true },
    expected: "nothing to do\n",
  }),
  "a spec whose file is invalid keeps its volumes": () => ({
    input: input([], { protectedSpecs: new Set(["web"]) }),
    observed: withVolumes(observed([]), [volume("web-data")]),
    options: { forcePrune: true },
    expected: "nothing to do\n",
  }),
  "volumes not observed: nothing is said of them": () => ({
    input: input([web()]),
    observed: observed([]),
    expected: "create  web: not found\n",
  }),
};

describe("plan: per-instance volumes (golden)", () => {
  beforeEach(resetIds);
  for (const [name, build] of Object.entries(cases)) {
    it(name, () => {
      const c = build();
      const result = plan(c.input, c.observed, NOW, { ...OPTIONS, ...c.options });
      expect(renderPlan(result)).toBe(c.expected);
      for (const action of result.actions) expect(action.reason.length).toBeGreaterThan(0);
    });
  }
});
