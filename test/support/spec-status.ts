/**
 * A spec's status as a pass reports it (src/core/status.ts), for tests of what reads it: a spec
 * named web, Pending, one replica wanted and none there, nothing done and nothing failed; `over`
 * sets the fields a case is about.
 */
import type { SpecStatus } from "../../src/core/status.js";

export function specStatus(over: Partial<SpecStatus> = {}): SpecStatus {
  return {
    name: "web",
    phase: "Pending",
    message: null,
    file: null,
    hash: null,
    replicas: { desired: 1, ready: 0, updated: 0, available: 0 },
    containers: [],
    lastAction: null,
    lastError: null,
    lastErrorCode: null,
    expiresAt: null,
    retryAt: null,
    collected: false,
    ...over,
  };
}
