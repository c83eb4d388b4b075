/** Builders for planner tests: desired specs from YAML, observed containers with berth's labels. */
import { appliedLabel } from "../../src/core/applied.js";
import { type DeclaredNetwork, objectHash } from "../../src/core/declared.js";
import { specHash } from "../../src/core/hash.js";
import { labelKeys } from "../../src/core/labels.js";
import { ownership } from "../../src/core/ownership.js";
import type { ContainerState, ObservedContainer, ObservedState } from "../../src/core/observed.js";
import type { DesiredObject, DesiredSpec, PlanInput, PlanOptions } from "../../src/core/plan/plan.js";
import { keyedDigest } from "../../src/core/secrets.js";
import { parseSpecText } from "../../src/manifest/parse.js";
import { specText, type SpecTextOptions } from "./specs.js";

export const KEYS = labelKeys("berth");
export const CONTROLLER = "test";
export const IMAGE = "berth-test/busybox:latest";
export const IMAGE_ID = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

export const OPTIONS: PlanOptions = { owner: ownership(KEYS, CONTROLLER), forcePrune: false, pruneMaxShare: 0.5 };

/** The hash key of the tests' controller: secrets enter the hash as HMAC-SHA256 under it. */
export const SECRET_DIGEST = keyedDigest(new Uint8Array(32).fill(7));

/**
 * A desired spec parsed from YAML, hashed as the controller would: `secretValues` gives the value
 * of each secretEnv name (what its reference resolves to).
 */
export function desired(
  name: string,
  options: SpecTextOptions = {},
  secretValues: Readonly<Record<string, string>> = {},
): DesiredSpec {
  const result = parseSpecText(specText(name, { image: IMAGE, ...options }), `${name}.yaml`);
  if (result.issues.length > 0) throw new Error(result.issues.map((i) => i.message).join("; "));
  const doc = result.documents[0];
  if (!doc) throw new Error("no document");
  const secretDigests = Object.fromEntries(
    Object.keys(doc.spec.secretEnv).map((key) => [key, SECRET_DIGEST(secretValues[key] ?? "")]),
  );
  return { spec: doc.spec, hash: specHash(doc.spec, secretDigests), source: `${name}.yaml`, secretDigests };
}

let counter = 0;

export interface ContainerOptions {
  readonly name?: string;
  readonly replica?: number;
  readonly hash?: string;
  readonly state?: ContainerState;
  readonly exitCode?: number | null;
  readonly imageId?: string;
  readonly controller?: string;
  readonly expiresAt?: string;
  readonly source?: string;
  readonly id?: string;
  /** Made from this version of the spec: its hash label, and the applied label berth writes for it. */
  readonly madeFrom?: DesiredSpec;
  /** Labels set as given (after berth's), e.g. a broken applied label. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One of our containers for a desired spec (current hash unless told otherwise). */
export function container(d: DesiredSpec | string, options: ContainerOptions = {}): ObservedContainer {
  const spec = typeof d === "string" ? d : d.spec.name;
  const made = options.madeFrom;
  const hash = options.hash ?? made?.hash ?? (typeof d === "string" ? "old-hash" : d.hash);
  const applied = made ? appliedLabel(made.spec, made.secretDigests) : null;
  counter++;
  return {
    id: options.id ?? `${String(counter).padStart(4, "0")}aaaabbbbccccdddd`,
    name: options.name ?? spec,
    labels: {
      [KEYS.controller]: options.controller ?? CONTROLLER,
      [KEYS.spec]: spec,
      [KEYS.replica]: String(options.replica ?? 0),
      [KEYS.hash]: hash,
      [KEYS.expiresAt]: options.expiresAt ?? "never",
      [KEYS.source]: options.source ?? `${spec}.yaml`,
      ...(applied !== null ? { [KEYS.applied]: applied } : {}),
      ...options.labels,
    },
    state: options.state ?? "running",
    exitCode: options.exitCode ?? (options.state === "exited" ? 0 : null),
    health: null,
    imageId: options.imageId ?? IMAGE_ID,
    image: IMAGE,
    createdAt: 0,
    mounts: [],
  };
}

export function resetIds(): void {
  counter = 0;
}

/**
 * The host as a pass observes it: this controller's containers from the label-filtered list, and
 * the names other containers hold from the second, unfiltered one (loop/observer.ts). A container
 * given here with another controller id is one of those.
 */
export function observed(
  containers: readonly ObservedContainer[],
  extra: { imageIds?: Record<string, string>; foreignNames?: Record<string, string> } = {},
): ObservedState {
  const ours = containers.filter((c) => c.labels[KEYS.controller] === CONTROLLER);
  const others = containers.filter((c) => c.labels[KEYS.controller] !== CONTROLLER);
  return {
    containers: ours,
    imageIds: new Map(Object.entries(extra.imageIds ?? { [IMAGE]: IMAGE_ID })),
    foreignNames: new Map([...others.map((c) => [c.name, c.id] as const), ...Object.entries(extra.foreignNames ?? {})]),
  };
}

export function input(specs: readonly DesiredSpec[], extra: Partial<PlanInput> = {}): PlanInput {
  return {
    desired: specs,
    protectedSpecs: new Set(),
    protectedSources: new Set(),
    prunePaused: null,
    ...extra,
  };
}

/** A `kind: Network` document's declared network (the defaults, with `extra`), from objects.yaml. */
export function declaredNetwork(name: string, extra: Partial<Omit<DeclaredNetwork, "kind">> = {}): DesiredObject {
  const object: DeclaredNetwork = {
    kind: "Network",
    name,
    labels: {},
    driver: "bridge",
    internal: false,
    attachable: false,
    options: {},
    subnet: null,
    enableIPv6: false,
    ipv6Subnet: null,
    ...extra,
  };
  return { object, hash: objectHash(object), source: "objects.yaml" };
}
