/**
 * Every action's reason in two spellings: as plans render it for people ("hash changed") and as
 * an identifier for machines ("hash_changed": metric labels, alert rules). The table is checked
 * against the Action type: a reason added there without its code here does not compile.
 */
import type { Action } from "./types.js";

export type ActionReason = Action["reason"];

export const REASON_CODES = {
  "not found": "not_found",
  "hash changed": "hash_changed",
  "image updated": "image_updated",
  dead: "dead",
  "start failing": "start_failing",
  "interrupted replacement": "interrupted_replacement",
  exited: "exited",
  failed: "failed",
  "never started": "never_started",
  suspended: "suspended",
  orphaned: "orphaned",
  deleted: "deleted",
  expired: "expired",
  "scaled down": "scaled_down",
  "invalid replica label": "invalid_replica_label",
  duplicate: "duplicate",
  "leftover temporary": "leftover_temporary",
  "name needed": "name_needed",
  "claim expired": "claim_expired",
  "old rejection": "old_rejection",
  retried: "retried",
  "replicas changed": "replicas_changed",
  "deadline exceeded": "deadline_exceeded",
  "ttl expired": "ttl_expired",
  "new run": "new_run",
  "container gone": "container_gone",
  "config changed": "config_changed",
  "superseded build": "superseded_build",
} as const satisfies Record<ActionReason, string>;

export type ReasonCode = (typeof REASON_CODES)[ActionReason];

/** "hash changed" → "hash_changed". */
export function reasonCode(reason: ActionReason): ReasonCode {
  return REASON_CODES[reason];
}
