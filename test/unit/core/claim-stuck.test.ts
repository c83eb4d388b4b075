/**
 * When a claim waiting for a member made cold for it stops waiting (src/core/pool.ts,
 * claimStuck): a failure waiting cannot mend (the image, a refused create) or no room on the host
 * ends it at once; a failure the loop retries with backoff is waited through.
 */
import { describe, expect, it } from "vitest";
import { claimStuck } from "../../../src/core/pool.js";
import type { SpecStatus } from "../../../src/core/status.js";
import { specStatus } from "../../support/spec-status.js";

const SINCE = Date.parse("2026-12-05T10:00:00Z");
const BEFORE = "2026-12-05T09:59:59.999Z";
const AFTER = "2026-12-05T10:00:01.250Z";
const RETRY = "2026-12-05T10:00:02Z";

/** A pool of size 0: nothing kept warm, every member made cold for a claim. */
const pool = (over: Partial<SpecStatus> = {}): SpecStatus =>
  specStatus({
    replicas: { desired: 0, ready: 0, updated: 0, available: 0 },
    pool: { size: 0, minReady: 0, ready: 0, claimed: 0 },
    ...over,
  });

const failedCreate = (at: string) => ({ kind: "create" as const, reason: "missing", at, ok: false });

// [case, status, a pass that planned with the claim's demand has completed, stops waiting]
// (no member on its way: see below for one that is)
const TABLE: [string, SpecStatus | undefined, boolean, boolean][] = [
  ["no status yet", undefined, true, false],
  ["nothing done yet", pool(), false, false],
  ["the create for it went well", pool({ lastAction: { ...failedCreate(AFTER), ok: true } }), true, false],
  [
    "the image cannot be pulled (retried, but waiting does not mend it)",
    pool({
      phase: "Failed",
      lastAction: failedCreate(AFTER),
      lastError: "pulling image x failed",
      lastErrorCode: "BERTH_PULL_FAILED",
      retryAt: RETRY,
    }),
    true,
    true,
  ],
  [
    "the registry refused the pull",
    pool({ phase: "Failed", lastAction: failedCreate(AFTER), lastErrorCode: "BERTH_PULL_DENIED", retryAt: RETRY }),
    true,
    true,
  ],
  [
    "the image is missing and never pulled (terminal)",
    pool({ phase: "Failed", lastAction: failedCreate(AFTER), lastErrorCode: "BERTH_IMAGE_MISSING" }),
    true,
    true,
  ],
  [
    "the engine refused the create: no retry is coming",
    pool({ phase: "Failed", lastAction: failedCreate(AFTER), lastErrorCode: "BERTH_DOCKER_REFUSED" }),
    true,
    true,
  ],
  [
    "an engine hiccup, retried with backoff: waited through",
    pool({
      phase: "Failed",
      lastAction: failedCreate(AFTER),
      lastError: "(HTTP code 500) server error",
      lastErrorCode: "BERTH_DOCKER",
      retryAt: RETRY,
    }),
    true,
    false,
  ],
  [
    "a race, planned again: waited through",
    pool({ phase: "Failed", lastAction: failedCreate(AFTER), lastErrorCode: "BERTH_RACE", retryAt: RETRY }),
    true,
    false,
  ],
  [
    "a start that failed, retried: waited through",
    pool({ phase: "Failed", lastAction: failedCreate(AFTER), lastErrorCode: "BERTH_START_FAILED", retryAt: RETRY }),
    true,
    false,
  ],
  [
    "a failure from before the claim asked is not its member's",
    pool({ phase: "Failed", lastAction: failedCreate(BEFORE), lastErrorCode: "BERTH_PULL_FAILED", retryAt: RETRY }),
    true,
    false,
  ],
  [
    "no room on the host, seen by a pass that planned with the claim's demand",
    pool({ message: "Unschedulable: needs memory 2Gi, 1Gi free" }),
    true,
    true,
  ],
  ["no room, seen by a pass that began before the claim's demand", pool({ message: "Unschedulable: x" }), false, false],
  ["being created: Pending without a reason", pool(), true, false],
];

describe("when a claim waiting for a cold member stops waiting", () => {
  it("no room for its own member, while a refill the host has room for is on its way: it waits for that one", () => {
    const full = pool({ message: "Unschedulable: needs containers 1, 0 free (2 containers wait)" });
    expect(claimStuck(full, SINCE, true, true)).toBe(false);
    expect(claimStuck(full, SINCE, true, false)).toBe(true);
    // A failure waiting cannot mend ends it all the same.
    const missing = pool({ phase: "Failed", lastAction: failedCreate(AFTER), lastErrorCode: "BERTH_IMAGE_MISSING" });
    expect(claimStuck(missing, SINCE, true, true)).toBe(true);
  });

  it.each(TABLE)("%s", (_case, status, planned, stuck) => {
    expect(claimStuck(status, SINCE, planned)).toBe(stuck);
  });
});
