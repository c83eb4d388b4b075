/**
 * dependsOn in the planner (core/plan/dependencies.ts), golden: what a spec's dependencies'
 * containers are decides whether its containers are made now, and the note says what it waits for.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ObservedContainer, ObservedState } from "../../../src/core/observed.js";
import { type PlanInput, plan } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import { container, desired, input, observed, OPTIONS, resetIds } from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

const web = (deps: string) => desired("web", { extra: [`dependsOn: ${deps}`] });
const db = (extra: readonly string[] = []) => desired("db", { extra });
const healthy = (c: ObservedContainer): ObservedContainer => ({ ...c, health: "healthy" });
const starting = (c: ObservedContainer): ObservedContainer => ({ ...c, health: "starting" });

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly expected: string;
}

const cases: Record<string, () => Case> = {
  "a dependency not made yet: it is created, the dependent waits": () => ({
    input: input([web("[{ name: db }]"), db()]),
    observed: observed([]),
    expected: "create  db: not found\n! web: waits for db Started (0 of 1 container(s) of db running) (Pending)\n",
  }),
  "a dependency running: the dependent is created": () => {
    const d = db();
    return {
      input: input([web("[{ name: db }]"), d]),
      observed: observed([container(d)]),
      expected: "create  web: not found\n",
    };
  },
  "Healthy: a dependency still starting holds it": () => {
    const d = db(['healthcheck: { command: ["true"] }']);
    return {
      input: input([web("[{ name: db, condition: Healthy }]"), d]),
      observed: observed([starting(container(d))]),
      expected: "! web: waits for db Healthy (0 of 1 container(s) of db healthy) (Pending)\n",
    };
  },
  "Healthy: a healthy dependency lets it be created": () => {
    const d = db(['healthcheck: { command: ["true"] }']);
    return {
      input: input([web("[{ name: db, condition: Healthy }]"), d]),
      observed: observed([healthy(container(d))]),
      expected: "create  web: not found\n",
    };
  },
  "Healthy: a dependency with no healthcheck says so": () => {
    const d = db();
    return {
      input: input([web("[{ name: db, condition: Healthy }]"), d]),
      observed: observed([container(d)]),
      expected:
        "! web: waits for db Healthy (db has no healthcheck (in its spec or its image): use condition Started, or give it one) (Pending)\n",
    };
  },
  "only the dependency's current containers count": () => {
    const d = db();
    return {
      input: input([web("[{ name: db }]"), d]),
      observed: observed([container(d, { hash: "old" })]),
      expected:
        "replace db [0001aaaabbbb] StartFirst: hash changed\n! web: waits for db Started (0 of 1 container(s) of db running) (Pending)\n",
    };
  },
  "replicas: every one must be up": () => {
    const d = desired("db", { replicas: 2 });
    return {
      input: input([web("[{ name: db }]"), d]),
      observed: observed([container(d, { name: "db-0", replica: 0 })]),
      expected: "create  db-1: not found\n! web: waits for db Started (1 of 2 container(s) of db running) (Pending)\n",
    };
  },
  "Succeeded: a run that exited 0 lets it go, one still running holds it": () => {
    const migrate = desired("migrate", { extra: ["restartPolicy: Never"] });
    const w = web("[{ name: migrate, condition: Succeeded }]");
    const done = plan(
      input([w, migrate]),
      observed([container(migrate, { state: "exited", exitCode: 0 })]),
      NOW,
      OPTIONS,
    );
    expect(renderPlan(done)).toBe("create  web: not found\n");
    const failed = plan(
      input([w, migrate]),
      observed([container(migrate, { state: "exited", exitCode: 1 })]),
      NOW,
      OPTIONS,
    );
    expect(renderPlan(failed)).toBe(
      "! web: waits for migrate Succeeded (migrate has not finished with exit code 0) (Pending)\n",
    );
    return {
      input: input([w, migrate]),
      observed: observed([container(migrate)]),
      expected: "! web: waits for migrate Succeeded (migrate has not finished with exit code 0) (Pending)\n",
    };
  },
  "a dependency with no spec, and a suspended one": () => ({
    input: input([web("[{ name: cache }, { name: db }]"), db(["suspended: true"])]),
    observed: observed([]),
    expected: "! web: waits for cache Started (no spec named cache), db Started (db is suspended) (Failed)\n",
  }),
  "a running dependent whose dependency's spec went is left alone, and said nothing of": () => {
    const w = web("[{ name: db }]");
    return { input: input([w]), observed: observed([container(w)]), expected: "nothing to do\n" };
  },
  "a container already made keeps running when its dependency is down": () => {
    const w = web("[{ name: db }]");
    return { input: input([w, db()]), observed: observed([container(w)]), expected: "create  db: not found\n" };
  },
  "a cycle is said, even where the containers exist": () => {
    const a = desired("a", { extra: ["dependsOn: [{ name: b }]"] });
    const b = desired("b", { extra: ["dependsOn: [{ name: a }]"] });
    return {
      input: input([a, b]),
      observed: observed([container(a), container(b)]),
      expected:
        "! a: dependency cycle: a → b → a; remove one of these dependsOn entries (Failed)\n" +
        "! b: dependency cycle: b → a → b; remove one of these dependsOn entries (Failed)\n",
    };
  },
};

describe("plan: dependsOn (golden)", () => {
  beforeEach(resetIds);
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const c = make();
      expect(renderPlan(plan(c.input, c.observed, NOW, OPTIONS))).toBe(c.expected);
    });
  }
});
