/**
 * Golden tests of canaries under `--target swarm` (core/swarm-canary.ts): updatePartition P of R
 * as the spec's own service held on its version at P tasks and NAME_canary at R − P tasks of the
 * spec's, through a canary's whole life — made, resized, edited, promoted (P lowered to 0, the
 * canaries' service removed only once the spec's own runs the new version), held back, expired,
 * suspended, deleted — and the status, task rows and service body that go with it.
 */
import { describe, expect, it } from "vitest";
import type { PlanInput } from "../../../src/core/plan/plan.js";
import { canaryName, canaryServiceSpec, canarySplit } from "../../../src/core/swarm-canary.js";
import { type ObservedService, planSwarm, renderSwarmPlan } from "../../../src/core/swarm-plan.js";
import { serviceSpec } from "../../../src/core/swarm-service.js";
import { type ObservedTask, swarmStatus } from "../../../src/core/swarm-status.js";
import { desired, OPTIONS } from "../../support/plan-fixtures.js";
import { observedService } from "../../support/swarm-status.js";

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
type Desired = ReturnType<typeof desired>;

const input = (specs: readonly Desired[], extra: Partial<PlanInput> = {}): PlanInput => ({
  desired: specs,
  protectedSpecs: new Set(),
  protectedSources: new Set(),
  prunePaused: null,
  ...extra,
});

/** The spec's own service as berth made it from `d`, or its canaries' service (`canary`). */
function service(d: Desired, id: string, over: Partial<ObservedService> = {}, canary = false): ObservedService {
  return observedService(
    (canary ? canaryServiceSpec : serviceSpec)(d, OPTIONS.owner),
    `${id}aaaabbbbccccdddd`,
    7,
    over,
  );
}

/** `n` running tasks of a service, current unless `outdated`. */
function tasks(s: ObservedService, n: number, over: Partial<ObservedTask> = {}): ObservedTask[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${s.id.slice(0, 4)}task${i + 1}`,
    slot: i + 1,
    serviceId: s.id,
    node: "node-a",
    desiredState: "running",
    state: "running",
    error: "",
    at: NOW - 60_000,
    ...over,
  }));
}

const plan = (
  specs: readonly Desired[],
  services: readonly ObservedService[],
  observedTasks?: readonly ObservedTask[],
  extra: Partial<PlanInput> = {},
) =>
  renderSwarmPlan(
    planSwarm(
      input(specs, extra),
      { services, secrets: [], ...(observedTasks ? { tasks: observedTasks } : {}) },
      NOW,
      OPTIONS,
    ),
  );

const v1 = desired("web", { replicas: 4, extra: ["env: { V: one }"] });
const v2 = (p: number, more: readonly string[] = [], replicas = 4) =>
  desired("web", { replicas, extra: ["env: { V: two }", `updatePartition: ${p}`, ...more] });
const held = (d: Desired, canaries: number, heldTasks = 4 - canaries) =>
  `! web: updatePartition ${d.spec.updatePartition} keeps ${heldTasks} task${heldTasks === 1 ? "" : "s"} of service web on ${heldTasks === 1 ? "its" : "their"} version, ${canaries === 0 ? "no canary" : `${canaries} task${canaries === 1 ? "" : "s"} of web_canary on the spec's`}; lower it to roll them`;

describe("canaries under swarm: the plan", () => {
  const own = service(v1, "own1");

  it("splits the replicas: the canaries' service first, the spec's own scaled down once they run (StartFirst)", () => {
    const d = v2(3);
    expect(canarySplit(d.spec)).toEqual({ held: 3, canaries: 1 });
    expect(plan([d], [own], tasks(own, 4))).toBe(["create  service web_canary: not found", held(d, 1)].join("\n"));
    // Made, its task not running yet: the four held tasks stay.
    const canary = service(d, "can1", {}, true);
    expect(plan([d], [own, canary], [...tasks(own, 4), ...tasks(canary, 1, { state: "starting" })])).toBe(held(d, 1));
    // Running the spec's version: one held task goes.
    expect(plan([d], [own, canary], [...tasks(own, 4), ...tasks(canary, 1)])).toBe(
      ["scale   service web [own1aaaabbbb] 4 -> 3: partition", held(d, 1)].join("\n"),
    );
    // Converged: nothing to do, the partition said.
    expect(plan([d], [{ ...own, replicas: 3 }, canary], [...tasks(own, 3), ...tasks(canary, 1)])).toBe(held(d, 1));
  });

  it("StopFirst: the held tasks beyond the partition stop at once", () => {
    const d = v2(3, ["updateStrategy: StopFirst"]);
    expect(plan([d], [own], tasks(own, 4))).toBe(
      [
        "scale   service web [own1aaaabbbb] 4 -> 3: partition",
        "create  service web_canary: not found",
        held(d, 1),
      ].join("\n"),
    );
  });

  it("follows the spec: an edit updates the canaries only, replicas resize them, a new spec has none", () => {
    const d = v2(3);
    const canary = service(d, "can1", {}, true);
    const edited = desired("web", { replicas: 4, extra: ["env: { V: three }", "updatePartition: 3"] });
    expect(plan([edited], [{ ...own, replicas: 3 }, canary])).toBe(
      [
        "update  service web_canary [can1aaaabbbb] StartFirst: hash changed",
        "    ~ env.V: two → three",
        held(edited, 1),
      ].join("\n"),
    );
    const six = v2(3, [], 6);
    expect(plan([six], [{ ...own, replicas: 3 }, canary])).toBe(
      [
        "scale   service web_canary [can1aaaabbbb] 1 -> 3: partition",
        "! web: updatePartition 3 keeps 3 tasks of service web on their version, 3 tasks of web_canary on the spec's; lower it to roll them",
      ].join("\n"),
    );
    // Edited and resized at once: one update, which resizes them too, and says so.
    const both = desired("web", { replicas: 6, extra: ["env: { V: three }", "updatePartition: 3"] });
    expect(plan([both], [{ ...own, replicas: 3 }, canary])).toBe(
      [
        "update  service web_canary [can1aaaabbbb] StartFirst: hash changed",
        "    ~ env.V: two → three",
        "    ~ replicas: 1 → 3",
        "! web: updatePartition 3 keeps 3 tasks of service web on their version, 3 tasks of web_canary on the spec's; lower it to roll them",
      ].join("\n"),
    );
    // No service yet: the spec's own is made at the spec's version, every replica of it.
    expect(plan([d], [])).toBe("create  service web: not found");
  });

  it("holds every replica back when the partition reaches the replicas: the canaries go", () => {
    const d = v2(4);
    const canary = service(v2(3), "can1", {}, true);
    expect(plan([d], [{ ...own, replicas: 3 }, canary])).toBe(
      [
        "scale   service web [own1aaaabbbb] 3 -> 4: partition",
        "remove  service web_canary [can1aaaabbbb]: partition",
        held(d, 0, 4),
      ].join("\n"),
    );
  });

  it("promotes: lowered to 0 the spec's own is updated; its canaries go only once it has rolled out", () => {
    const d = v2(0);
    const canary = service(v2(3), "can1", {}, true);
    const ownHeld = { ...own, replicas: 3 };
    // The update gives it back every replica: the plan says so (Swarm's scale goes with the update).
    expect(plan([d], [ownHeld, canary], [...tasks(ownHeld, 3), ...tasks(canary, 1)])).toBe(
      [
        "update  service web [own1aaaabbbb] StartFirst: hash changed",
        "    ~ env.V: one → two",
        "    ~ replicas: 3 → 4",
      ].join("\n"),
    );
    // Updated (its label carries the new hash) and scaled, but Swarm is still rolling it.
    const updated = service(d, "own1", { replicas: 4 });
    const rolling = [...tasks(updated, 2), ...tasks(updated, 2, { outdated: true }), ...tasks(canary, 1)];
    expect(plan([d], [{ ...updated, updating: true }, canary], rolling)).toBe("");
    // An update just asked for, before Swarm says it is updating: its old tasks are outdated already.
    expect(plan([d], [updated, canary], rolling)).toBe("");
    // Paused on a failure: kept.
    expect(plan([d], [{ ...updated, updateFailure: "update paused: task failed" }, canary], tasks(updated, 4))).toBe(
      "",
    );
    // No task list: kept (never removed on a guess).
    expect(plan([d], [updated, canary])).toBe("");
    // Every task of the spec's own runs the spec's version: the canaries go.
    expect(plan([d], [updated, canary], [...tasks(updated, 4), ...tasks(canary, 1)])).toBe(
      "remove  service web_canary [can1aaaabbbb]: rolled out",
    );
  });

  it("removes both on expiry and deletion, and the canaries when suspended", () => {
    const d = v2(3, ['expiresAt: "2026-12-05T11:00:00Z"']);
    const canary = service(v2(3), "can1", {}, true);
    expect(plan([d], [own, canary])).toBe(
      ["remove  service web [own1aaaabbbb]: expired", "remove  service web_canary [can1aaaabbbb]: expired"].join("\n"),
    );
    expect(plan([], [own, canary], undefined, { deleted: new Set(["web"]) })).toBe(
      ["remove  service web [own1aaaabbbb]: deleted", "remove  service web_canary [can1aaaabbbb]: deleted"].join("\n"),
    );
    const suspended = v2(3, ["suspended: true"]);
    expect(plan([suspended], [own, canary])).toBe(
      [
        "update  service web [own1aaaabbbb] StartFirst: hash changed",
        "    ~ env.V: one → two",
        "    ~ replicas: 4 → 0",
        "remove  service web_canary [can1aaaabbbb]: suspended",
      ].join("\n"),
    );
  });

  it("leaves a canaries' name held by a service berth does not own, as a conflict", () => {
    const d = v2(3);
    const stranger = { ...service(d, "strn", {}, true), labels: {} };
    expect(plan([d], [own, stranger])).toBe(
      "! web: the service name is held by service strnaaaabbbb, which berth does not own",
    );
  });
});

describe("canaries under swarm: the service body and the status", () => {
  it("names, labels and sizes the canaries' service, and has it answer to the spec's name", () => {
    const d = desired("web", { replicas: 5, extra: ["updatePartition: 3", "network: backend"] });
    const body = canaryServiceSpec(d, OPTIONS.owner);
    const own = serviceSpec(d, OPTIONS.owner);
    expect(body.Name).toBe("web_canary");
    expect(canaryName("web")).toBe("web_canary");
    expect(body.Labels).toEqual({ ...own.Labels, "berth.canary": "true" });
    expect(body.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(body.TaskTemplate.Networks).toEqual([{ Target: "backend", Aliases: ["web"] }]);
    expect({ ...body.TaskTemplate, Networks: [] }).toEqual({ ...own.TaskTemplate, Networks: [] });
  });

  it("counts the canaries' tasks as the spec's version, and marks the held ones not up to date", () => {
    const d = v2(3);
    const own = { ...service(v1, "own1"), replicas: 3 };
    const canary = service(d, "can1", {}, true);
    const observed = [...tasks(own, 3), ...tasks(canary, 1)];
    const [status] = swarmStatus({
      records: new Map([
        [
          "web",
          { name: "web", spec: d.spec, file: "web.yaml", source: d.source, hash: d.hash, invalid: [], error: null },
        ],
      ]),
      services: [own, canary],
      tasks: observed,
      plan: planSwarm(input([d]), { services: [own, canary], secrets: [], tasks: observed }, NOW, OPTIONS),
      failures: new Map(),
      owner: OPTIONS.owner,
      now: NOW,
    });
    expect(status).toMatchObject({
      phase: "Running",
      message:
        "4/4 tasks running; updatePartition 3 keeps 3 tasks of service web on their version, 1 task of web_canary on the spec's; lower it to roll them",
      serviceId: own.id,
      canaryServiceId: canary.id,
      desired: 4,
      running: 4,
      updated: 1,
    });
    // The canary not running yet, the held service not scaled down: under way, not Running (apply waits).
    const starting = [...tasks(own, 3), ...tasks(canary, 1, { state: "starting" })];
    const [early] = swarmStatus({
      records: new Map([
        [
          "web",
          { name: "web", spec: d.spec, file: "web.yaml", source: d.source, hash: d.hash, invalid: [], error: null },
        ],
      ]),
      services: [own, canary],
      tasks: starting,
      plan: planSwarm(input([d]), { services: [own, canary], secrets: [], tasks: starting }, NOW, OPTIONS),
      failures: new Map(),
      owner: OPTIONS.owner,
      now: NOW,
    });
    expect(early).toMatchObject({ phase: "Updating", message: "rolling out the canaries, 3/4 tasks running" });
    expect(status?.tasks.map((t) => [t.slot, t.canary === true, t.outdated === true])).toEqual([
      [1, false, true],
      [2, false, true],
      [3, false, true],
      [1, true, false],
    ]);
  });
});
