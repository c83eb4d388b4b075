/** `berth status`'s table, and `-o wide`'s extra columns: golden text. */
import { describe, expect, it } from "vitest";
import type { StatusReport } from "../../../src/core/status.js";
import { renderStatus } from "../../../src/cli/status-view.js";

const NOW = Date.parse("2026-01-01T12:00:00Z");

const report: StatusReport = {
  specs: [
    {
      name: "web",
      phase: "Running",
      message: null,
      file: "specs/web.yaml",
      hash: "0123456789abcdef0123",
      replicas: { desired: 2, ready: 2, updated: 2, available: 2 },
      containers: [
        {
          id: "c".repeat(64),
          name: "web-0",
          replica: 0,
          state: "running",
          health: null,
          current: true,
          createdAt: "2026-01-01T11:55:00Z",
          addresses: { bridge: "172.17.0.2" },
          hostPorts: { "80/tcp": 10000 },
          ipv6Addresses: {},
          exitCode: null,
          reason: null,
          startedAt: null,
          finishedAt: null,
          restarts: null,
          lastExit: null,
          collected: false,
        },
        {
          id: "d".repeat(64),
          name: "web-1",
          replica: 1,
          state: "running",
          health: null,
          current: true,
          createdAt: "2026-01-01T11:55:00Z",
          addresses: { backend: "10.0.1.5", frontend: "10.0.2.5" },
          hostPorts: {},
          ipv6Addresses: {},
          exitCode: null,
          reason: null,
          startedAt: null,
          finishedAt: null,
          restarts: null,
          lastExit: null,
          collected: false,
        },
      ],
      lastAction: { kind: "create", reason: "missing", at: "2026-01-01T11:55:00Z", ok: true },
      lastError: null,
      lastErrorCode: null,
      expiresAt: null,
      retryAt: null,
      collected: false,
    },
  ],
  orphans: [],
  notes: [],
};

describe("renderStatus", () => {
  it("prints the table", () => {
    expect(renderStatus(report, NOW)).toBe(
      "SPEC  PHASE    READY  CONTAINERS                     AGE  EXPIRES  MESSAGE\n" +
        "web   Running  2/2    web-0(running) web-1(running)  5m   never\n",
    );
  });

  it("-o wide adds the file, the short hash, each container's addresses and host ports, and the last action", () => {
    expect(renderStatus(report, NOW, { wide: true })).toBe(
      "SPEC  PHASE    READY  CONTAINERS                     AGE  EXPIRES  FILE            HASH          ADDRESSES                                      PORTS            LAST ACTION  MESSAGE\n" +
        "web   Running  2/2    web-0(running) web-1(running)  5m   never    specs/web.yaml  0123456789ab  172.17.0.2 backend=10.0.1.5,frontend=10.0.2.5  10000->80/tcp -  create(ok)\n",
    );
  });

  it("a container the engine restarted shows how often and its last exit; one not inspected shows nothing", () => {
    const spec = report.specs[0];
    if (!spec) throw new Error("no spec");
    const [first, second] = spec.containers;
    if (!first || !second) throw new Error("no containers");
    const restarted = {
      ...report,
      specs: [
        {
          ...spec,
          containers: [
            { ...first, restarts: 3, lastExit: { exitCode: 137, at: "2026-01-01T11:58:00Z" } },
            { ...second, restarts: 1, lastExit: null },
          ],
        },
      ],
    };
    expect(renderStatus(restarted, NOW).split("\n")[1]).toBe(
      "web   Running  2/2    web-0(running,3 restarts,last exit 137 2m ago) web-1(running,1 restart)  5m   never",
    );
  });

  it("READY says how many containers serve while those of the current version do not (a rollout, or one held)", () => {
    const spec = report.specs[0];
    if (!spec) throw new Error("no spec");
    const held = {
      ...report,
      specs: [
        {
          ...spec,
          phase: "Failed" as const,
          replicas: { desired: 2, ready: 0, updated: 0, available: 2 },
          containers: spec.containers.map((c) => ({ ...c, current: false })),
        },
      ],
    };
    expect(renderStatus(held, NOW).split("\n")[1]).toBe(
      "web   Failed  0/2 (2 available)  web-0(running) web-1(running)  5m   never",
    );
  });
});
