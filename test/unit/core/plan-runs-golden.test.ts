/**
 * Golden planner tests for runs that finish (docs/runs.md): a finished run is never started
 * again, a spec change starts a new run, activeDeadline stops a run and wakes for it,
 * ttlAfterFinished collects a finished run into its record and wakes for it, OnFailure with a
 * backoffLimit leaves the retries to the engine, and the records stand for collected runs.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ObservedContainer, ObservedRun, ObservedState, ObservedVolume } from "../../../src/core/observed.js";
import { type PlanInput, plan } from "../../../src/core/plan/plan.js";
import type { DesiredSpec } from "../../../src/core/plan/types.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import { runRecordLabels, runRecordVolume } from "../../../src/core/runs.js";
import {
  container,
  type ContainerOptions,
  desired,
  input,
  KEYS,
  observed,
  OPTIONS,
  resetIds,
} from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const S = 1000;
const M = 60 * S;

const job = (...extra: string[]): DesiredSpec => desired("job", { extra: ["restartPolicy: Never", ...extra] });
const retried = (...extra: string[]): DesiredSpec => desired("job", { extra: ["restartPolicy: OnFailure", ...extra] });

/** A container of `d` with what an inspect says of its run. */
function ran(d: DesiredSpec, run: Partial<ObservedRun>, options: ContainerOptions = {}): ObservedContainer {
  const c = container(d, options);
  const exited = c.state === "exited";
  return {
    ...c,
    run: {
      createdAt: NOW - 10 * M,
      startedAt: NOW - 10 * M,
      finishedAt: exited ? NOW - 5 * M : null,
      oomKilled: false,
      restartCount: 0,
      lastExit: exited ? { code: c.exitCode ?? 0, at: NOW - 5 * M } : null,
      settled: exited,
      ...run,
    },
  };
}

/** The record of a collected run of `d` (as the executor makes it for a collect action). */
function record(d: DesiredSpec | string, hash?: string): ObservedVolume {
  const spec = typeof d === "string" ? d : d.spec.name;
  const h = hash ?? (typeof d === "string" ? "gone-hash" : d.hash);
  const outcome = {
    phase: "Succeeded",
    exitCode: 0,
    reason: "Completed",
    startedAt: NOW - 20 * M,
    finishedAt: NOW - 15 * M,
  } as const;
  return {
    name: runRecordVolume(KEYS, OPTIONS.owner.controllerId, spec, h),
    driver: "local",
    options: {},
    labels: runRecordLabels(OPTIONS.owner, spec, 0, h, spec, outcome),
  };
}

/** A per-instance volume of the job's replica 0, as berth labels it. */
function instanceVolume(name: string, reclaimPolicy: "Delete" | "Retain"): ObservedVolume {
  return {
    name,
    driver: "local",
    options: {},
    labels: {
      [KEYS.controller]: OPTIONS.owner.controllerId,
      [KEYS.spec]: "job",
      [KEYS.replica]: "0",
      [KEYS.source]: "job.yaml",
      [KEYS.instanceVolume]: "data",
      [KEYS.reclaimPolicy]: reclaimPolicy,
    },
  };
}

const withVolumes = (o: ObservedState, volumes: readonly ObservedVolume[]): ObservedState => ({ ...o, volumes });

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly expected: string;
  readonly nextWakeAt?: number | null;
}

const cases: Record<string, () => Case> = {
  "Never: a finished run is not started again, failed or not": () => {
    const ok = desired("ok", { extra: ["restartPolicy: Never"] });
    const bad = desired("bad", { extra: ["restartPolicy: Never"] });
    return {
      input: input([ok, bad]),
      observed: observed([
        ran(ok, {}, { state: "exited", exitCode: 0 }),
        ran(bad, {}, { state: "exited", exitCode: 3 }),
      ]),
      expected: "nothing to do\n",
    };
  },
  "a finished run is not run again when its image tag moves (only a new hash is a new run)": () => {
    const d = job();
    return {
      input: input([d]),
      observed: observed([ran(d, {}, { state: "exited", exitCode: 0, imageId: "sha256:0000old" })]),
      expected: "nothing to do\n",
    };
  },
  "a spec change starts a new run: the last one is replaced StopFirst": () => {
    const d = job();
    return {
      input: input([d]),
      observed: observed([ran(d, {}, { state: "exited", exitCode: 0, hash: "old" })]),
      expected: "replace job [0001aaaabbbb] StopFirst: hash changed\n",
    };
  },
  "activeDeadline: a run past it is stopped": () => {
    const d = job("activeDeadline: 2s");
    return {
      input: input([d]),
      observed: observed([ran(d, { createdAt: NOW - 3 * S })]),
      expected: "stop    job [0001aaaabbbb]: deadline exceeded\n",
    };
  },
  "activeDeadline: a run within it is left, and berth wakes when it falls": () => {
    const d = job("activeDeadline: 30m");
    return {
      input: input([d]),
      observed: observed([ran(d, { createdAt: NOW - 10 * M })]),
      expected: "nothing to do\n",
      nextWakeAt: NOW + 20 * M,
    };
  },
  "activeDeadline: OnFailure does not start again a run stopped for its deadline": () => {
    const d = retried("activeDeadline: 2s");
    return {
      input: input([d]),
      observed: observed([
        ran(d, { createdAt: NOW - 10 * S, finishedAt: NOW - 7 * S }, { state: "exited", exitCode: 143 }),
      ]),
      expected: "nothing to do\n",
    };
  },
  "ttlAfterFinished: a run finished longer ago is collected into its record": () => {
    const d = job("ttlAfterFinished: 10m");
    return {
      input: input([d]),
      observed: observed([ran(d, { finishedAt: NOW - 11 * M }, { state: "exited", exitCode: 0 })]),
      expected: `collect job [0001aaaabbbb] -> record berth-run.test.job.${d.hash.slice(0, 12)}: ttl expired\n`,
    };
  },
  "ttlAfterFinished: 0s collects at once": () => {
    const d = job("ttlAfterFinished: 0s");
    return {
      input: input([d]),
      observed: observed([ran(d, { finishedAt: NOW - 1 }, { state: "exited", exitCode: 3 })]),
      expected: `collect job [0001aaaabbbb] -> record berth-run.test.job.${d.hash.slice(0, 12)}: ttl expired\n`,
    };
  },
  "ttlAfterFinished: a run finished more recently is kept, and berth wakes for it": () => {
    const d = job("ttlAfterFinished: 10m");
    return {
      input: input([d]),
      observed: observed([ran(d, { finishedAt: NOW - 1 * M }, { state: "exited", exitCode: 0 })]),
      expected: "nothing to do\n",
      nextWakeAt: NOW + 9 * M,
    };
  },
  "ttlAfterFinished: a run whose end is not known yet (no inspect) waits": () => {
    const d = job("ttlAfterFinished: 0s");
    return {
      input: input([d]),
      observed: observed([container(d, { state: "exited", exitCode: 0 })]),
      expected: "nothing to do\n",
    };
  },
  "OnFailure without a backoffLimit: berth starts a failed run again": () => {
    const d = retried();
    return {
      input: input([d]),
      observed: observed([ran(d, { settled: false }, { state: "exited", exitCode: 1 })]),
      expected: "start   job [0001aaaabbbb]: failed\n",
    };
  },
  "OnFailure with a backoffLimit: the engine retries; berth leaves it": () => {
    const d = retried("backoffLimit: 2");
    return {
      input: input([d]),
      observed: observed([ran(d, { settled: false, restartCount: 1 }, { state: "exited", exitCode: 1 })]),
      expected: "nothing to do\n",
    };
  },
  "OnFailure with a backoffLimit: retries used up, the run is finished and collected after its TTL": () => {
    const d = retried("backoffLimit: 2", "ttlAfterFinished: 1m");
    return {
      input: input([d]),
      observed: observed([
        ran(d, { settled: true, restartCount: 2, finishedAt: NOW - 2 * M }, { state: "exited", exitCode: 1 }),
      ]),
      expected: `collect job [0001aaaabbbb] -> record berth-run.test.job.${d.hash.slice(0, 12)}: ttl expired\n`,
    };
  },
  "a record of this hash stands for the run: nothing is created": () => {
    const d = job("ttlAfterFinished: 0s");
    return {
      input: input([d]),
      observed: withVolumes(observed([]), [record(d)]),
      expected: "nothing to do\n",
    };
  },
  "a record of another hash is forgotten and a new run created": () => {
    const d = job("ttlAfterFinished: 0s");
    const old = record(d, "0123456789abcdef");
    return {
      input: input([d]),
      observed: withVolumes(observed([]), [old]),
      expected: `forget  record ${old.name}: new run\ncreate  job: not found\n`,
    };
  },
  "a record whose spec is gone is forgotten as an orphan, or with a deliberate delete": () => {
    const gone = record("gone");
    const deleted = record("deleted");
    return {
      input: input([], { deleted: new Set(["deleted"]) }),
      observed: withVolumes(observed([]), [gone, deleted]),
      expected: `forget  record ${deleted.name}: deleted\nforget  record ${gone.name}: orphaned\n`,
    };
  },
  "a record whose spec is gone is kept while pruning is paused": () => ({
    input: input([], { prunePaused: "spec directory specs/ is empty" }),
    observed: withVolumes(observed([]), [record("gone")]),
    expected: "nothing to do\n",
  }),
  "ttlAfterFinished with a per-instance volume: the run is collected, then its volume goes": () => {
    const d = job(
      "ttlAfterFinished: 10m",
      "mounts:",
      "  - { type: volume, source: data, target: /data, perInstance: true }",
    );
    const c = ran(d, { finishedAt: NOW - 11 * M }, { state: "exited", exitCode: 0 });
    return {
      input: input([d]),
      observed: withVolumes(
        observed([{ ...c, mounts: [{ type: "volume", source: "job-data", target: "/data", rw: true }] }]),
        [instanceVolume("job-data", "Delete")],
      ),
      expected: [
        `collect job [0001aaaabbbb] -> record berth-run.test.job.${d.hash.slice(0, 12)}: ttl expired`,
        "remove  volume job-data: ttl expired",
        "",
      ].join("\n"),
    };
  },
  "a collected run's record stands for the instance: a volume left behind goes": () => {
    const d = job(
      "ttlAfterFinished: 0s",
      "mounts:",
      "  - { type: volume, source: data, target: /data, perInstance: true }",
    );
    return {
      input: input([d]),
      observed: withVolumes(observed([]), [record(d), instanceVolume("job-data", "Delete")]),
      expected: "remove  volume job-data: ttl expired\n",
    };
  },
  "a Retain per-instance volume outlives its collected run": () => {
    const d = job(
      "ttlAfterFinished: 0s",
      "mounts:",
      "  - { type: volume, source: data, target: /data, perInstance: true, reclaimPolicy: Retain }",
    );
    return {
      input: input([d]),
      observed: withVolumes(observed([]), [record(d), instanceVolume("job-data", "Retain")]),
      expected: "nothing to do\n",
    };
  },
  "a record of another controller is never touched": () => {
    const foreign = { ...record("gone"), labels: { ...record("gone").labels, [KEYS.controller]: "other" } };
    return { input: input([]), observed: withVolumes(observed([]), [foreign]), expected: "nothing to do\n" };
  },
};

describe("plan: runs that finish (golden)", () => {
  beforeEach(resetIds);
  for (const [name, build] of Object.entries(cases)) {
    it(name, () => {
      const c = build();
      const result = plan(c.input, c.observed, NOW, OPTIONS);
      expect(renderPlan(result)).toBe(c.expected);
      expect(result.nextWakeAt).toBe(c.nextWakeAt ?? null);
    });
  }
});
