/**
 * Golden planner tests: a desired state and an observed state → the exact rendered plan. Every
 * case of the planner has a row here; they run in milliseconds.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ObservedState } from "../../../src/core/observed.js";
import { type PlanInput, type PlanOptions, plan } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import { normalizeImageRef } from "../../../src/core/image-ref.js";
import {
  container,
  desired,
  IMAGE,
  IMAGE_ID,
  input,
  observed,
  OPTIONS,
  resetIds,
} from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly options?: Partial<PlanOptions>;
  readonly expected: string;
  readonly nextWakeAt?: number | null;
}

const web = () => desired("web");
const DIGEST = "berth.image_digest";
const OLD_DIGEST = `sha256:${"a".repeat(64)}`;
const NEW_DIGEST = `sha256:${"b".repeat(64)}`;
/** The registry serves `digest` for the fixtures' image tag now. */
const withDigests = (o: ObservedState, digest: string): ObservedState => ({
  ...o,
  registryDigests: new Map([[normalizeImageRef(IMAGE), digest]]),
});
const cases: Record<string, () => Case> = {
  "nothing desired, nothing observed": () => ({
    input: input([]),
    observed: observed([]),
    expected: "nothing to do\n",
  }),
  "a missing container is created": () => ({
    input: input([web()]),
    observed: observed([]),
    expected: "create  web: not found\n",
  }),
  "a converged container needs nothing": () => {
    const d = web();
    return { input: input([d]), observed: observed([container(d)]), expected: "nothing to do\n" };
  },
  "a changed hash replaces StartFirst": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { hash: "old" })]),
      expected: "replace web [0001aaaabbbb] StartFirst: hash changed\n",
    };
  },
  "a changed hash with a published port replaces StopFirst": () => {
    const d = desired("web", { extra: ["ports:", "  - { containerPort: 80, hostPort: 18081 }"] });
    return {
      input: input([d]),
      observed: observed([container(d, { hash: "old" })]),
      expected: "replace web [0001aaaabbbb] StopFirst: hash changed\n",
    };
  },
  "updateStrategy StopFirst is honoured": () => {
    const d = desired("web", { extra: ["updateStrategy: StopFirst"] });
    return {
      input: input([d]),
      observed: observed([container(d, { hash: "old" })]),
      expected: "replace web [0001aaaabbbb] StopFirst: hash changed\n",
    };
  },
  "an image tag that now resolves to another image ID replaces": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { imageId: "sha256:0000old" })]),
      expected: "replace web [0001aaaabbbb] StartFirst: image updated\n",
    };
  },
  "Always: a tag whose registry digest moved replaces, the digests in the reason": () => {
    const d = desired("web", { extra: ["imagePullPolicy: Always"] });
    return {
      input: input([d]),
      observed: withDigests(observed([container(d, { labels: { [DIGEST]: OLD_DIGEST } })]), NEW_DIGEST),
      expected:
        "replace web [0001aaaabbbb] StartFirst: image updated (image sha256:aaaaaaaaaaaa… → sha256:bbbbbbbbbbbb…)\n",
    };
  },
  "Always: an unchanged registry digest never replaces": () => {
    const d = desired("web", { extra: ["imagePullPolicy: Always"] });
    return {
      input: input([d]),
      observed: withDigests(observed([container(d, { labels: { [DIGEST]: OLD_DIGEST } })]), OLD_DIGEST),
      expected: "nothing to do\n",
    };
  },
  "Always: a container without a digest label is replaced once, the old digest unknown": () => {
    const d = desired("web", { extra: ["imagePullPolicy: Always"] });
    return {
      input: input([d]),
      observed: withDigests(observed([container(d)]), NEW_DIGEST),
      expected: "replace web [0001aaaabbbb] StartFirst: image updated (image (none) → sha256:bbbbbbbbbbbb…)\n",
    };
  },
  "Always: a registry digest not known (not asked, or the check failed) changes nothing": () => {
    const d = desired("web", { extra: ["imagePullPolicy: Always"] });
    return {
      input: input([d]),
      observed: observed([container(d, { labels: { [DIGEST]: OLD_DIGEST } })]),
      expected: "nothing to do\n",
    };
  },
  "Always with a digest pin (name@sha256:…) follows nothing: the pin is the image": () => {
    const pinned = `berth-test/busybox@${OLD_DIGEST}`;
    const d = desired("web", { image: pinned, extra: ["imagePullPolicy: Always"] });
    return {
      input: input([d]),
      observed: {
        ...observed([container(d)], { imageIds: { [pinned]: IMAGE_ID } }),
        registryDigests: new Map([[pinned, NEW_DIGEST]]),
      },
      expected: "nothing to do\n",
    };
  },
  "IfNotPresent does not follow the tag's digest": () => {
    const d = web();
    return {
      input: input([d]),
      observed: withDigests(observed([container(d, { labels: { [DIGEST]: OLD_DIGEST } })]), NEW_DIGEST),
      expected: "nothing to do\n",
    };
  },
  "an image not present locally does not replace": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { imageId: "sha256:0000old" })], { imageIds: {} }),
      expected: "nothing to do\n",
    };
  },
  "an exited container is started (restartPolicy Always)": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { state: "exited", exitCode: 0 })]),
      expected: "start   web [0001aaaabbbb]: exited\n",
    };
  },
  "OnFailure: a clean exit stays stopped, a failure is started": () => {
    const ok = desired("ok", { extra: ["restartPolicy: OnFailure"] });
    const bad = desired("bad", { extra: ["restartPolicy: OnFailure"] });
    return {
      input: input([ok, bad]),
      observed: observed([
        container(ok, { state: "exited", exitCode: 0 }),
        container(bad, { state: "exited", exitCode: 3 }),
      ]),
      expected: "start   bad [0002aaaabbbb]: failed\n",
    };
  },
  "Never: an exited container stays stopped": () => {
    const d = desired("job", { extra: ["restartPolicy: Never"] });
    return {
      input: input([d]),
      observed: observed([container(d, { state: "exited", exitCode: 1 })]),
      expected: "nothing to do\n",
    };
  },
  "a container created but never started is started, whatever the policy": () => {
    const d = desired("job", { extra: ["restartPolicy: Never"] });
    return {
      input: input([d]),
      observed: observed([container(d, { state: "created" })]),
      expected: "start   job [0001aaaabbbb]: never started\n",
    };
  },
  "suspended: a running container is stopped; a stopped or missing one is left": () => {
    const a = desired("a", { extra: ["suspended: true"] });
    const b = desired("b", { extra: ["suspended: true"] });
    const c = desired("c", { extra: ["suspended: true"] });
    return {
      input: input([a, b, c]),
      observed: observed([container(a), container(b, { state: "exited", exitCode: 143 })]),
      expected: "stop    a [0001aaaabbbb]: suspended\n",
    };
  },
  "suspended with a changed hash: stopped, and the update waits for resume": () => {
    const d = desired("a", { extra: ["suspended: true"] });
    return {
      input: input([d]),
      observed: observed([container(d, { hash: "old" })]),
      expected: "stop    a [0001aaaabbbb]: suspended\n! a: a is out of date; it is replaced when the spec is resumed\n",
    };
  },
  "resumed: a stopped container is started again": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { state: "exited", exitCode: 143 })]),
      expected: "start   web [0001aaaabbbb]: exited\n",
    };
  },
  "replicas 1 → 3: the container is renamed to name-0, two more are created": () => {
    const d = desired("pool", { replicas: 3 });
    return {
      input: input([d]),
      observed: observed([container(d, { name: "pool", replica: 0 })]),
      expected: [
        "rename  pool [0001aaaabbbb] -> pool-0: replicas changed",
        "create  pool-1: not found",
        "create  pool-2: not found",
        "",
      ].join("\n"),
    };
  },
  "replicas 3 → 1: replica 0 is renamed to the spec's name, the others removed": () => {
    const d = desired("pool", { replicas: 1 });
    return {
      input: input([d]),
      observed: observed([
        container(d, { name: "pool-0", replica: 0 }),
        container(d, { name: "pool-1", replica: 1 }),
        container(d, { name: "pool-2", replica: 2 }),
      ]),
      expected: [
        "remove  pool-1 [0002aaaabbbb]: scaled down",
        "remove  pool-2 [0003aaaabbbb]: scaled down",
        "rename  pool-0 [0001aaaabbbb] -> pool: replicas changed",
        "",
      ].join("\n"),
    };
  },
  "replicas 3 → 2: the last replica is removed, the others untouched": () => {
    const d = desired("pool", { replicas: 2 });
    return {
      input: input([d]),
      observed: observed([
        container(d, { name: "pool-0", replica: 0 }),
        container(d, { name: "pool-1", replica: 1 }),
        container(d, { name: "pool-2", replica: 2 }),
      ]),
      expected: "remove  pool-2 [0003aaaabbbb]: scaled down\n",
    };
  },
  "replicas 0: every container goes, the spec stays": () => {
    const d = desired("pool", { replicas: 0 });
    return {
      input: input([d]),
      observed: observed([container(d, { name: "pool", replica: 0 })]),
      expected: "remove  pool [0001aaaabbbb]: scaled down\n",
    };
  },
  "an orphan (ours, no spec) is removed when it is a small share": () => {
    const a = desired("a");
    const b = desired("b");
    const c = desired("c");
    return {
      input: input([a, b, c]),
      observed: observed([container(a), container(b), container(c), container("gone")]),
      expected: "remove  gone [0004aaaabbbb]: orphaned\n",
    };
  },
  "more than half the managed containers orphaned: prune nothing and say why": () => {
    const a = desired("a");
    return {
      input: input([a]),
      observed: observed([container(a), container("x"), container("y")]),
      expected:
        "! prune paused: 2 of 3 managed containers have no spec, more than 50%; nothing is removed " +
        "(use --force-prune if this is intended): x [0002aaaabbbb], y [0003aaaabbbb]\n",
    };
  },
  "exactly half is not more than half": () => {
    const a = desired("a");
    return {
      input: input([a]),
      observed: observed([container(a), container("x")]),
      expected: "remove  x [0002aaaabbbb]: orphaned\n",
    };
  },
  "--force-prune removes past the share limit": () => {
    const a = desired("a");
    return {
      input: input([a]),
      observed: observed([container(a), container("x"), container("y")]),
      options: { forcePrune: true },
      expected: "remove  x [0002aaaabbbb]: orphaned\nremove  y [0003aaaabbbb]: orphaned\n",
    };
  },
  "an empty or unreadable spec directory pauses pruning, even when forced": () => ({
    input: input([], { prunePaused: "spec directory specs/ is empty" }),
    observed: observed([container("x")]),
    options: { forcePrune: true },
    expected:
      "! prune paused: spec directory specs/ is empty; 1 container(s) without a spec are kept: x [0001aaaabbbb]\n",
  }),
  "a spec deleted on purpose loses its containers even while pruning is paused or past its share": () => ({
    input: input([], { prunePaused: "no spec files in specs/", deleted: new Set(["gone"]) }),
    observed: observed([container("gone"), container("kept")]),
    expected: [
      "remove  gone [0001aaaabbbb]: deleted",
      "! prune paused: no spec files in specs/; 1 container(s) without a spec are kept: kept [0002aaaabbbb]",
      "",
    ].join("\n"),
  }),
  "a spec deleted on purpose and the only container: removed, past the 50% share": () => ({
    input: input([], { deleted: new Set(["gone"]) }),
    observed: observed([container("gone")]),
    expected: "remove  gone [0001aaaabbbb]: deleted\n",
  }),
  "an orphan whose expires_at label has passed is removed even while pruning is paused": () => ({
    input: input([], { prunePaused: "spec directory specs/ is empty" }),
    observed: observed([
      container("old", { expiresAt: "2026-11-23T11:59:59Z" }),
      container("later", { expiresAt: "2026-11-23T13:00:00Z" }),
    ]),
    expected: [
      "remove  old [0001aaaabbbb]: expired",
      "! prune paused: spec directory specs/ is empty; 1 container(s) without a spec are kept: later [0002aaaabbbb]",
      "",
    ].join("\n"),
    nextWakeAt: Date.UTC(2026, 10, 23, 13, 0, 0),
  }),
  "an expired spec's containers are removed; its missing containers are not created": () => {
    const gone = desired("gone", { extra: ['expiresAt: "2026-11-23T11:00:00Z"'] });
    const never = desired("never-made", { extra: ['expiresAt: "2026-11-23T11:00:00Z"'] });
    return {
      input: input([gone, never]),
      observed: observed([container(gone)]),
      expected: "remove  gone [0001aaaabbbb]: expired\n",
    };
  },
  "expiry is exact: at the instant it is due, it goes": () => {
    const d = desired("due", { extra: ['expiresAt: "2026-11-23T12:00:00Z"'] });
    return { input: input([d]), observed: observed([container(d)]), expected: "remove  due [0001aaaabbbb]: expired\n" };
  },
  "the next wake-up is the earliest future expiry": () => {
    const a = desired("a", { extra: ['expiresAt: "2026-11-23T12:00:03Z"'] });
    const b = desired("b", { extra: ['expiresAt: "2026-11-23T12:00:01.5Z"'] });
    return {
      input: input([a, b]),
      observed: observed([container(a), container(b)]),
      expected: "nothing to do\n",
      nextWakeAt: Date.UTC(2026, 10, 23, 12, 0, 1, 500),
    };
  },
  "extending expiresAt does not touch the container (the spec wins over an old label)": () => {
    const d = desired("agent", { extra: ['expiresAt: "2026-11-24T00:00:00Z"'] });
    return {
      input: input([d]),
      observed: observed([container(d, { expiresAt: "2026-11-23T11:00:00Z" })]),
      expected: "nothing to do\n",
      nextWakeAt: Date.UTC(2026, 10, 24),
    };
  },
  "a spec named in an invalid file is protected: its containers are left alone": () => ({
    input: input([], { protectedSpecs: new Set(["broken"]) }),
    observed: observed([container("broken", { state: "exited" })]),
    expected: "nothing to do\n",
  }),
  "a container from an invalid file (by its source label) is protected": () => ({
    input: input([], { protectedSources: new Set(["team/bad.yaml"]) }),
    observed: observed([container("unknown-name", { source: "team/bad.yaml" })]),
    expected: "nothing to do\n",
  }),
  "a name held by a container berth does not own: Conflict, untouched": () => ({
    input: input([web()]),
    observed: observed([], { foreignNames: { web: "f00dfeedf00dfeed" } }),
    expected:
      "! web: the name web is held by container [f00dfeedf00d], which berth does not own; left untouched (Conflict)\n",
  }),
  "containers of another controller id are never touched; one holding a needed name is a Conflict": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([
        container("web", { controller: "other", id: "f00dfeedf00dfeed" }),
        container("stray", { controller: "other" }),
      ]),
      expected:
        "! web: the name web is held by container [f00dfeedf00d], which berth does not own; left untouched (Conflict)\n",
    };
  },
  "crash recovery: the new container alone under the temporary name is renamed": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { name: "web.next" })]),
      expected: "finish  web.next [0001aaaabbbb] -> web: interrupted replacement\n",
    };
  },
  "crash recovery: old and new together: the old goes, the new is renamed": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { hash: "old" }), container(d, { name: "web.next" })]),
      expected: "finish  web.next [0002aaaabbbb] -> web, removing web [0001aaaabbbb]: interrupted replacement\n",
    };
  },
  "crash recovery: a temporary container of an older version is discarded": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { hash: "old" }), container(d, { name: "web.next", hash: "older" })]),
      expected: [
        "remove  web.next [0002aaaabbbb]: leftover temporary",
        "replace web [0001aaaabbbb] StartFirst: hash changed",
        "",
      ].join("\n"),
    };
  },
  "crash recovery: a stale temporary container alone is replaced by a fresh create": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { name: "web.next", hash: "older" })]),
      expected: "create  web: not found\nremove  web.next [0001aaaabbbb]: leftover temporary\n",
    };
  },
  "crash recovery: a leftover temporary beside a current container is removed": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d), container(d, { name: "web.next", hash: "older" })]),
      expected: "remove  web.next [0002aaaabbbb]: leftover temporary\n",
    };
  },
  "two containers for one replica: the extra one is removed": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d), container(d, { name: "web-copy" })]),
      expected: "remove  web-copy [0002aaaabbbb]: duplicate\n",
    };
  },
  "a dead container is replaced StopFirst": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { state: "dead" })]),
      expected: "replace web [0001aaaabbbb] StopFirst: dead\n",
    };
  },
  "a container whose start keeps failing is replaced instead of started again": () => {
    const d = web();
    const broken = container(d, { state: "exited", exitCode: 128 });
    return {
      input: input([d], { unstartable: new Set([broken.id]) }),
      observed: observed([broken]),
      expected: "replace web [0001aaaabbbb] StopFirst: start failing\n",
    };
  },
  "a container Docker is already removing is ignored": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d, { state: "removing" })]),
      expected: "create  web: not found\n",
    };
  },
  "a container with a malformed replica label is removed, and says why": () => {
    const d = web();
    return {
      input: input([d]),
      observed: observed([container(d), container(d, { name: "web-x", replica: "x" as unknown as number })]),
      expected: "remove  web-x [0002aaaabbbb]: invalid replica label\n",
    };
  },
  "a stale container of ours holding a needed name is removed first, even while pruning is paused": () => ({
    input: input([web()], { prunePaused: "spec directory specs/ is empty" }),
    observed: observed([container("old-spec", { name: "web" }), container("other")]),
    expected: [
      "remove  web [0001aaaabbbb]: name needed",
      "create  web: not found",
      "! prune paused: spec directory specs/ is empty; 1 container(s) without a spec are kept: other [0002aaaabbbb]",
      "",
    ].join("\n"),
  }),
  "a protected container of ours holding a needed name is left alone and reported": () => ({
    input: input([web()], { protectedSpecs: new Set(["broken"]) }),
    observed: observed([container("broken", { name: "web" })]),
    expected:
      "! web: the name web is held by berth's container [0001aaaabbbb] of a spec whose file is invalid; left untouched until that file is fixed (Conflict)\n",
  }),
  "many specs: actions come in spec name order": () => {
    const a = desired("a");
    const b = desired("b");
    const c = desired("c");
    return {
      input: input([c, a, b]),
      observed: observed([container(b, { hash: "old" })]),
      expected: [
        "create  a: not found",
        "replace b [0001aaaabbbb] StartFirst: hash changed",
        "create  c: not found",
        "",
      ].join("\n"),
    };
  },
};

describe("plan: golden cases", () => {
  beforeEach(resetIds);
  for (const [name, build] of Object.entries(cases)) {
    it(name, () => {
      const c = build();
      const result = plan(c.input, c.observed, NOW, { ...OPTIONS, ...c.options });
      expect(renderPlan(result)).toBe(c.expected);
      expect(result.nextWakeAt).toBe(c.nextWakeAt ?? null);
      // Every action carries a reason.
      for (const action of result.actions) expect(action.reason.length).toBeGreaterThan(0);
    });
  }
});

describe("plan: ownership", () => {
  it("never acts on a container of another controller, even when the observation hands it over", () => {
    const d = web();
    const foreign = container("stray", { controller: "other", expiresAt: "2020-01-01T00:00:00Z" });
    const result = plan(
      input([d]),
      { containers: [container(d), foreign], imageIds: new Map(), foreignNames: new Map() },
      NOW,
      { ...OPTIONS, forcePrune: true },
    );
    expect(renderPlan(result)).toBe("nothing to do\n");
  });
});

describe("plan: purity", () => {
  it("returns the same plan for the same inputs and does not modify them", () => {
    const d = web();
    const obs = observed([container(d, { hash: "old" }), container("orphan")]);
    const inp = input([d]);
    const frozen = JSON.stringify({ d, obs: [...obs.containers] });
    const first = renderPlan(plan(inp, obs, NOW, OPTIONS));
    const second = renderPlan(plan(inp, obs, NOW, OPTIONS));
    expect(second).toBe(first);
    expect(JSON.stringify({ d, obs: [...obs.containers] })).toBe(frozen);
  });
});
