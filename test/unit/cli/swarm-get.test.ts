/** `berth get --target swarm NAME`: the service's detail and its tasks, as docker service ps lists them. */
import { describe, expect, it } from "vitest";
import type { SwarmSpecStatus } from "../../../src/core/swarm-status.js";
import { renderSwarmSpec } from "../../../src/cli/swarm.js";
import { SWARM_SPEC, swarmTask } from "../../support/swarm-status.js";

const NOW = Date.parse("2026-11-23T10:05:00.000Z");

describe("renderSwarmSpec", () => {
  it("prints the service's fields, then a row per task with the older tasks of a slot marked, and which are an older version's", () => {
    const spec: SwarmSpecStatus = {
      ...SWARM_SPEC,
      phase: "Pending",
      message: "1/2 tasks running",
      running: 1,
      updated: 1,
      lastError: "no suitable node (insufficient resources on 1 node)",
      tasks: [
        swarmTask("aaaaaaaaaaaaaaaaaaaa"),
        swarmTask("bbbbbbbbbbbbbbbbbbbb", {
          desiredState: "shutdown",
          state: "failed",
          error: "task: non-zero exit (1)",
          since: "2026-11-23T09:59:00.000Z",
          outdated: true,
        }),
        swarmTask("cccccccccccccccccccc", {
          slot: 2,
          node: "",
          state: "pending",
          error: "no suitable node (insufficient resources on 1 node)",
          since: null,
        }),
      ],
    };
    expect(renderSwarmSpec(spec, NOW).split("\n")).toEqual([
      "Name:        web",
      "Phase:       Pending",
      "Message:     1/2 tasks running",
      "File:        web.yaml",
      "Hash:        h",
      "Service:     svc1",
      "Replicas:    1/2 running, 1 up to date",
      "Expires:     never",
      "Last error:  no suitable node (insufficient resources on 1 node)",
      "Tasks:",
      "  TASK       ID            NODE    DESIRED   STATE    UP TO DATE  SINCE   ERROR",
      "  web.1      aaaaaaaaaaaa  node-a  running   running  yes         5m ago",
      "   \\_ web.1  bbbbbbbbbbbb  node-a  shutdown  failed   no          6m ago  task: non-zero exit (1)",
      "  web.2      cccccccccccc  -       running   pending  yes         -       no suitable node (insufficient resources on 1 node)",
      "",
    ]);
  });

  it("prints no task table for a spec without a service, and marks a global service", () => {
    const spec: SwarmSpecStatus = { ...SWARM_SPEC, global: true, serviceId: null, tasks: [] };
    const out = renderSwarmSpec(spec, NOW);
    expect(out).toContain("Service:     -\n");
    expect(out).toContain("Replicas:    2/2 running, 2 up to date (global)\n");
    expect(out).not.toContain("Tasks:");
  });
});
