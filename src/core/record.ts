/** Everything berth knows about one spec name after loading the files: the desired state's unit. */
import type { SpecIssue } from "./errors.js";
import type { NormalizedSpec } from "./spec.js";

export interface SpecRecord {
  /** The spec's metadata.name. */
  readonly name: string;
  /** The spec in force: the file's current content, or its last good version. Null when only its name is known. */
  readonly spec: NormalizedSpec | null;
  readonly file: string | null;
  readonly source: string | null;
  /** Null when it cannot be computed (a secret is missing) or there is no spec. */
  readonly hash: string | null;
  /** Problems with the spec's file (or its name): the spec is Invalid. */
  readonly invalid: readonly SpecIssue[];
  /** Why the spec cannot be applied now, e.g. a missing secret. */
  readonly error: string | null;
}

/** What identifies a version of a spec: any change resets its backoff and terminal failure. */
export function generationOf(record: SpecRecord | undefined): string {
  if (!record?.spec) return "none";
  const s = record.spec;
  return `${record.hash ?? "-"}|${s.replicas}|${s.suspended}|${s.expiresAt ?? "never"}|${record.error ?? ""}`;
}
