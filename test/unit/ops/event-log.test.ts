/**
 * The event log's account of runs and restarts (ops/event-log.ts): each restart and each run's end
 * told once, and a restart told for an exit never keeps the run's end at that exit from being told.
 * And of specs waiting for room (--capacity): told when a spec starts waiting and when its reason
 * changes, not every pass; a spec that got room or is gone is forgotten.
 */
import { describe, expect, it } from "vitest";
import type { Note } from "../../../src/core/plan/plan.js";
import type { ContainerStatus, StatusReport } from "../../../src/core/status.js";
import { EventLog, type ReconcileEvent } from "../../../src/ops/event-log.js";

const EXIT = "2026-11-23T12:00:00.390Z";

/** A report of spec `job` with its one container, as status would show it (only what the log reads). */
function report(container: Partial<ContainerStatus>): StatusReport {
  const c = {
    id: "c1",
    name: "job",
    state: "running",
    exitCode: null,
    reason: null,
    finishedAt: null,
    restarts: 2,
    lastExit: { exitCode: 3, at: EXIT },
    collected: false,
    ...container,
  };
  return { specs: [{ name: "job", containers: [c] }], orphans: [], notes: [] } as unknown as StatusReport;
}

const told = (log: EventLog): string[] => log.list().map((e) => `${e.kind}: ${e.text}`);

describe("the event log's runs and restarts", () => {
  it("tells a restart once per exit, and a run's end once", () => {
    const log = new EventLog();
    log.restarts(report({}), 1);
    log.restarts(report({}), 2);
    log.runsFinished(report({ state: "exited", exitCode: 3, reason: "Error", finishedAt: EXIT }), 3);
    log.runsFinished(report({ state: "exited", exitCode: 3, reason: "Error", finishedAt: EXIT }), 4);
    expect(told(log)).toEqual([
      `restarted: restarted job (2 restarts): exited with code 3 at ${EXIT}`,
      `finished: finished job: Error, exit code 3, at ${EXIT}`,
    ]);
  });

  it("a stopped container was not restarted after its last exit", () => {
    const log = new EventLog();
    expect(log.restarts(report({ state: "exited" }), 1)).toEqual([]);
    expect(told(log)).toEqual([]);
  });
});

/** A pass's notes: the specs waiting for room, by spec and reason. */
function waits(w: Readonly<Record<string, string>>): Note[] {
  return Object.entries(w).map(([spec, message]) => ({ kind: "unschedulable", spec, message }));
}

const ONE_GI = "Unschedulable: needs memory 1Gi, 512Mi free";
const LESS_FREE = "Unschedulable: needs memory 1Gi, 256Mi free";
const CPUS = "Unschedulable: needs cpus 2, 1.5 free";

/** Each case: the notes of each pass in turn, and the events told, as "pass: spec kind reason: text". */
const waitingCases: Record<
  string,
  { readonly passes: readonly (readonly Note[])[]; readonly told: readonly string[] }
> = {
  "the first wait is told, with the plan's reason": {
    passes: [waits({ web: ONE_GI })],
    told: [`1: web unschedulable unschedulable: waiting web: ${ONE_GI}`],
  },
  "the same reason at the next passes is not told again": {
    passes: [waits({ web: ONE_GI }), waits({ web: ONE_GI }), waits({ web: ONE_GI })],
    told: [`1: web unschedulable unschedulable: waiting web: ${ONE_GI}`],
  },
  "a changed reason is told (what is free changed)": {
    passes: [waits({ web: ONE_GI }), waits({ web: LESS_FREE }), waits({ web: LESS_FREE })],
    told: [
      `1: web unschedulable unschedulable: waiting web: ${ONE_GI}`,
      `2: web unschedulable unschedulable: waiting web: ${LESS_FREE}`,
    ],
  },
  "a spec that got room and waits again is told again, with the same reason": {
    passes: [waits({ web: ONE_GI }), [], waits({ web: ONE_GI })],
    told: [
      `1: web unschedulable unschedulable: waiting web: ${ONE_GI}`,
      `3: web unschedulable unschedulable: waiting web: ${ONE_GI}`,
    ],
  },
  "a spec no longer waiting is forgotten while another still waits": {
    passes: [waits({ web: ONE_GI, api: CPUS }), waits({ api: CPUS }), waits({ web: ONE_GI, api: CPUS })],
    told: [
      `1: web unschedulable unschedulable: waiting web: ${ONE_GI}`,
      `1: api unschedulable unschedulable: waiting api: ${CPUS}`,
      `3: web unschedulable unschedulable: waiting web: ${ONE_GI}`,
    ],
  },
  "each spec once a pass, and other notes are not waits": {
    passes: [
      [
        ...waits({ web: `${ONE_GI} (2 containers wait)` }),
        ...waits({ web: CPUS }),
        { kind: "update-pending", spec: "api", message: "waiting for the rollout" },
      ],
    ],
    told: [`1: web unschedulable unschedulable: waiting web: ${ONE_GI} (2 containers wait)`],
  },
};

describe("the event log's specs waiting for room", () => {
  for (const [name, c] of Object.entries(waitingCases)) {
    it(name, () => {
      const log = new EventLog();
      const returned = c.passes.flatMap((notes, i) => log.waiting(notes, i + 1));
      const lines = (events: readonly ReconcileEvent[]): string[] =>
        events.map((e) => `${e.at}: ${e.spec ?? "-"} ${e.kind} ${e.reason}: ${e.text}`);
      expect(lines(log.list())).toEqual(c.told);
      // What it returns is what it told, for the controller's log line.
      expect(returned).toEqual(log.list());
      expect(log.list().every((e) => !e.ok && e.error === null && e.durationMs === 0)).toBe(true);
    });
  }
});
