/**
 * The event log's account of runs and restarts (ops/event-log.ts): each restart and each run's end
 * told once, and a restart told for an exit never keeps the run's end at that exit from being told.
 */
import { describe, expect, it } from "vitest";
import type { ContainerStatus, StatusReport } from "../../../src/core/status.js";
import { EventLog } from "../../../src/ops/event-log.js";

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
