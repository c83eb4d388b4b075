/** The shape of one admission check, and small helpers the topic files share. */
import type { DeclaredObject } from "../declared.js";
import type { BerthContainer } from "../document.gen.js";
import type { EngineCreateBody } from "../create-request.js";
import type { ObservedMount } from "../observed.js";
import type { FieldPath, NormalizedSpec } from "../spec.js";
import type { Policy, PolicyContext } from "./types.js";

/** baseline checks also apply under restricted; limits apply under every profile when set. */
export type Scope = "baseline" | "restricted" | "limits";

export interface Found {
  readonly path: FieldPath;
  readonly message: string;
}

export interface Check {
  readonly id: string;
  readonly scope: Scope;
  /** One line for docs/policy.md (a test keeps the two in sync). */
  readonly summary: string;
  /** The rule on a spec document; absent when a spec cannot show it (only the engine can). */
  readonly spec?: (doc: BerthContainer, spec: NormalizedSpec, policy: Policy, ctx: PolicyContext) => Found[];
  /** The same rule read off the Engine API create body; absent when the body cannot show it. */
  readonly request?: (body: EngineCreateBody, policy: Policy, ctx: PolicyContext) => string[];
  /**
   * The same rule read off the mounts of a container that exists, before berth starts it again
   * (the engine resolves bind sources anew at every start); absent when mounts cannot show it.
   */
  readonly mounts?: (mounts: readonly ObservedMount[], policy: Policy, ctx: PolicyContext) => string[];
  /**
   * The same rule read off the named volumes a container mounts, as the engine describes them
   * (ctx.volumes); absent when volumes cannot show it.
   */
  readonly volumes?: (names: readonly string[], policy: Policy, ctx: PolicyContext) => string[];
  /** The same rule on a declared network or volume (`kind: Network`, `kind: Volume`); absent when it cannot show it. */
  readonly object?: (o: DeclaredObject, policy: Policy, ctx: PolicyContext) => Found[];
}

export function listFound<T>(items: readonly T[] | undefined, test: (item: T, i: number) => Found | null): Found[] {
  const out: Found[] = [];
  (items ?? []).forEach((item, i) => {
    const found = test(item, i);
    if (found) out.push(found);
  });
  return out;
}

/** How to allow what a check refused. */
export const widen = (flag: string): string => `; allow it with ${flag}, or run berth with --policy privileged`;
