/**
 * Status under `--target swarm` (src/core/swarm-status.ts) where it is more than running tasks:
 * a run's end (restartPolicy Never or OnFailure: Swarm starts no task in place of one that ended
 * for good), a service whose file is so broken that its spec's name cannot be read, the desired
 * count of a spec with no valid version, and the expiry.
 */
import { describe, expect, it } from "vitest";
import type { SpecIssue } from "../../../src/core/errors.js";
import type { PlanInput } from "../../../src/core/plan/plan.js";
import type { SpecRecord } from "../../../src/core/record.js";
import { type ObservedService, planSwarm } from "../../../src/core/swarm-plan.js";
import { serviceSpec } from "../../../src/core/swarm-service.js";
import { type ObservedTask, swarmStatus } from "../../../src/core/swarm-status.js";
import { desired, OPTIONS } from "../../support/plan-fixtures.js";
import { observedService } from "../../support/swarm-status.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
type Desired = ReturnType<typeof desired>;

const recordOf = (d: Desired, over: Partial<SpecRecord> = {}): SpecRecord => ({
  name: d.spec.name,
  spec: d.spec,
  file: `${d.spec.name}.yaml`,
  source: d.source,
  hash: d.hash,
  invalid: [],
  error: null,
  ...over,
});

const serviceOf = (d: Desired, id: string, over: Partial<ObservedService> = {}): ObservedService =>
  observedService(serviceSpec(d, OPTIONS.owner), id, 10, over);

/** A task of `serviceId`'s slot 1 that Swarm let go (desired shutdown), in `state`. */
const task = (serviceId: string, state: string, over: Partial<ObservedTask> = {}): ObservedTask => ({
  id: `${serviceId}-${state}-${over.slot ?? 1}-${over.at ?? NOW}`,
  slot: 1,
  serviceId,
  node: "node-a",
  desiredState: "shutdown",
  state,
  error: "",
  at: NOW,
  ...over,
});

function statusOf(
  records: readonly SpecRecord[],
  services: readonly ObservedService[],
  tasks: readonly ObservedTask[],
  invalidSources?: ReadonlyMap<string, readonly SpecIssue[]>,
) {
  const desiredSpecs = records.flatMap((r) =>
    r.spec && r.hash ? [{ spec: r.spec, hash: r.hash, source: r.source ?? "", secretDigests: {} }] : [],
  );
  const input: PlanInput = {
    desired: desiredSpecs,
    protectedSpecs: new Set(),
    protectedSources: new Set(),
    prunePaused: null,
  };
  return swarmStatus({
    records: new Map(records.map((r) => [r.name, r])),
    services,
    tasks,
    plan: planSwarm(input, { services, secrets: [] }, NOW, OPTIONS),
    failures: new Map(),
    owner: OPTIONS.owner,
    now: NOW,
    ...(invalidSources ? { invalidSources } : {}),
  });
}

const line = (r: { name: string; phase: string; running: number; desired: number; message: string }): string =>
  `${r.name} ${r.phase} ${r.running}/${r.desired} ${r.message}`;

describe("a run under swarm", () => {
  const never = desired("job", { replicas: 2, extra: ["restartPolicy: Never"] });
  const onFailure = desired("retry", { extra: ["restartPolicy: OnFailure", "backoffLimit: 1"] });

  it("is Succeeded once every slot's last task completed and Swarm wants none", () => {
    const svc = serviceOf(never, "svc-job");
    const rows = statusOf([recordOf(never)], [svc], [task(svc.id, "complete"), task(svc.id, "complete", { slot: 2 })]);
    expect(rows.map(line)).toEqual(["job Succeeded 0/2 2/2 tasks completed"]);
  });

  it("is not ended while a slot has had no task, or one still runs", () => {
    const svc = serviceOf(never, "svc-job");
    expect(statusOf([recordOf(never)], [svc], [task(svc.id, "complete")]).map((r) => r.phase)).toEqual(["Pending"]);
    const running = task(svc.id, "running", { slot: 2, desiredState: "running" });
    expect(statusOf([recordOf(never)], [svc], [task(svc.id, "complete"), running]).map((r) => r.phase)).toEqual([
      "Pending",
    ]);
  });

  it("is Failed with the task's error when a slot's last task failed for good", () => {
    const svc = serviceOf(never, "svc-job");
    const rows = statusOf(
      [recordOf(never)],
      [svc],
      [task(svc.id, "complete"), task(svc.id, "failed", { slot: 2, error: "task: non-zero exit (3)" })],
    );
    expect(rows.map(line)).toEqual(["job Failed 0/2 run job failed: task: non-zero exit (3)"]);
  });

  it("under OnFailure waits through a restart delay, and ends Failed past its backoffLimit", () => {
    const svc = serviceOf(onFailure, "svc-retry");
    const first = task(svc.id, "failed", { error: "task: non-zero exit (3)", at: NOW - 5_000 });
    const waiting = task(svc.id, "ready", { desiredState: "ready", at: NOW - 1_000 });
    expect(statusOf([recordOf(onFailure)], [svc], [first, waiting]).map((r) => r.phase)).toEqual(["Pending"]);
    const last = task(svc.id, "failed", { error: "task: non-zero exit (4)", at: NOW });
    expect(statusOf([recordOf(onFailure)], [svc], [first, last]).map(line)).toEqual([
      "retry Failed 0/1 run retry failed: task: non-zero exit (4)",
    ]);
    // A later success of the slot is the run's end: Succeeded.
    const ok = task(svc.id, "complete", { at: NOW + 1 });
    expect(statusOf([recordOf(onFailure)], [svc], [first, last, ok]).map((r) => r.phase)).toEqual(["Succeeded"]);
  });

  it("does not count an older version's tasks: a changed run is not ended by its last one", () => {
    const svc = serviceOf(never, "svc-job");
    const rows = statusOf(
      [recordOf(never)],
      [svc],
      [task(svc.id, "complete", { outdated: true }), task(svc.id, "complete", { slot: 2, outdated: true })],
    );
    expect(rows.map((r) => r.phase)).toEqual(["Pending"]);
  });

  it("leaves a long-running spec's ended tasks to the crash loop, as before", () => {
    const web = desired("web");
    const svc = serviceOf(web, "svc-web");
    const rows = statusOf([recordOf(web)], [svc], [task(svc.id, "complete")]);
    expect(rows.map((r) => r.phase)).toEqual(["Pending"]);
  });
});

describe("a spec with no valid version, under swarm", () => {
  const web = desired("web", { replicas: 3 });
  const issue: SpecIssue = {
    code: "BERTH_YAML_SYNTAX",
    file: "/srv/specs/web.yaml",
    line: 1,
    column: 12,
    path: "",
    message: "invalid YAML: unexpected end",
  };

  it("whose name cannot be read is found by its service's source label: Invalid, its service as it is", () => {
    const svc = serviceOf(web, "svc-web");
    const running = (slot: number): ObservedTask =>
      task(svc.id, "running", { slot, desiredState: "running", node: slot === 1 ? "node-a" : "node-b" });
    const rows = statusOf([], [svc], [running(1), running(2), running(3)], new Map([[web.source, [issue]]]));
    expect(rows.map(line)).toEqual([
      "web Invalid 3/3 /srv/specs/web.yaml:1:12: invalid YAML: unexpected end (its service is kept as it is)",
    ]);
    expect(rows[0]).toMatchObject({ file: "/srv/specs/web.yaml", serviceId: "svc-web", nodes: ["node-a", "node-b"] });
    // Another file's problem does not name it: a service of berth's with no spec is shown by nothing.
    expect(statusOf([], [svc], [running(1)], new Map([["other.yaml", [issue]]]))).toEqual([]);
  });

  it("whose record has no spec reads the service's own replicas as desired", () => {
    const svc = serviceOf(web, "svc-web");
    const record = recordOf(web, { spec: null, hash: null, invalid: [issue] });
    const rows = statusOf([record], [svc], [task(svc.id, "running", { desiredState: "running" })]);
    expect(rows.map((r) => `${r.phase} ${r.running}/${r.desired}`)).toEqual(["Invalid 1/3"]);
  });
});

describe("expiry under swarm", () => {
  it("shows when the service is removed, or null for never", () => {
    const agent = desired("agent", { extra: ['expiresAt: "2026-11-23T13:00:00Z"'] });
    const web = desired("web");
    const rows = statusOf([recordOf(agent), recordOf(web)], [serviceOf(agent, "a"), serviceOf(web, "w")], []);
    expect(rows.map((r) => [r.name, r.expiresAt])).toEqual([
      ["agent", "2026-11-23T13:00:00Z"],
      ["web", null],
    ]);
  });
});
