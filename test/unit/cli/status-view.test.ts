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
      replicas: { desired: 1, ready: 1 },
      containers: [
        {
          id: "c".repeat(64),
          name: "web-0",
          replica: 0,
          state: "running",
          health: null,
          current: true,
          createdAt: "2026-01-01T11:55:00Z",
          exitCode: null,
          reason: null,
          startedAt: null,
          finishedAt: null,
          collected: false,
        },
      ],
      lastAction: { kind: "create", reason: "missing", at: "2026-01-01T11:55:00Z", ok: true },
      lastError: null,
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
      "SPEC  PHASE    READY  CONTAINERS      AGE  EXPIRES  MESSAGE\n" +
        "web   Running  1/1    web-0(running)  5m   never\n",
    );
  });

  it("-o wide adds the file, the short hash and the last action", () => {
    expect(renderStatus(report, NOW, { wide: true })).toBe(
      "SPEC  PHASE    READY  CONTAINERS      AGE  EXPIRES  FILE            HASH          LAST ACTION  MESSAGE\n" +
        "web   Running  1/1    web-0(running)  5m   never    specs/web.yaml  0123456789ab  create(ok)\n",
    );
  });
});
