/**
 * `berth restart` under --target swarm (ops/swarm-restart.ts), against a scripted Swarm port whose
 * updates run on the fake clock: which specs can be restarted and why not; each service updated
 * with force in turn, the next only once Swarm says the one before completed; an update Swarm
 * paused ends it, the services after it untouched; a failure Swarm reported before the restart
 * asked is not taken for the restart's; an update that never ends fails at the deadline.
 */
import { describe, expect, it } from "vitest";
import type { ObservedService } from "../../../src/core/swarm-plan.js";
import { rollingSwarmRestart, swarmRestartTargets } from "../../../src/ops/swarm-restart.js";
import { FakeClock } from "../../support/fake-clock.js";
import { CONTROLLER, desired, KEYS, OPTIONS } from "../../support/plan-fixtures.js";

const service = (name: string, extra: Partial<ObservedService> = {}): ObservedService => ({
  id: `svc-${name}`,
  name,
  version: 1,
  labels: { [KEYS.controller]: CONTROLLER, [KEYS.spec]: name },
  replicas: 2,
  updating: false,
  updateFailure: null,
  secretIds: [],
  ...extra,
});

/** How Swarm carries out each forced update: it starts 100 ms after the ask, and ends (or pauses, or never ends) 2 s later. */
type Outcome = "completes" | "pauses" | "hangs";

class ScriptedSwarm {
  readonly services = new Map<string, ObservedService>();
  readonly forced: { name: string; at: number }[] = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly outcomes: Readonly<Record<string, Outcome>>,
  ) {}

  serviceByName(name: string): Promise<ObservedService | null> {
    return Promise.resolve(this.services.get(name) ?? null);
  }

  forceUpdate(id: string): Promise<void> {
    const s = [...this.services.values()].find((x) => x.id === id);
    if (!s) return Promise.reject(new Error(`no service ${id}`));
    const asked = this.clock.now();
    this.forced.push({ name: s.name, at: asked });
    const set = (patch: Partial<ObservedService>) => {
      const now = this.services.get(s.name);
      if (now) this.services.set(s.name, { ...now, ...patch });
    };
    this.clock.at(asked + 100, () => {
      set({ updating: true, updateFailure: null, updateStartedAt: asked + 100, updateCompletedAt: null });
    });
    const outcome = this.outcomes[s.name] ?? "completes";
    if (outcome !== "hangs")
      this.clock.at(asked + 2_100, () => {
        set(
          outcome === "completes"
            ? { updating: false, updateCompletedAt: asked + 2_100 }
            : { updating: false, updateFailure: "update paused: task 1 exited with code 3" },
        );
      });
    return Promise.resolve();
  }
}

function setup(outcomes: Readonly<Record<string, Outcome>> = {}) {
  const clock = new FakeClock();
  const swarm = new ScriptedSwarm(clock, outcomes);
  return { clock, swarm };
}

describe("swarmRestartTargets", () => {
  it("names every spec that cannot be restarted, and why", () => {
    const specs = [
      desired("web"),
      desired("paused", { extra: ["suspended: true"] }),
      desired("job", { extra: ["restartPolicy: Never"] }),
      desired("fresh"),
      desired("idle"),
      desired("theirs"),
      desired("held"),
      desired("back"),
    ];
    const services = [
      service("web"),
      service("idle", { replicas: 0 }),
      service("held", { updateFailure: "update paused: task failed", updateState: "paused" }),
      // Rolled back (update_config.failure_action rollback): every task on one version, so a restart is safe.
      service("back", { updateFailure: "update rollback_completed: rolled back", updateState: "rollback_completed" }),
      service("theirs", { labels: { [KEYS.controller]: "other", [KEYS.spec]: "theirs" } }),
    ];
    expect(() =>
      swarmRestartTargets(["nope", "paused", "job", "fresh", "idle", "theirs", "held"], specs, services, OPTIONS.owner),
    ).toThrow(
      "cannot restart: no spec named nope; paused is suspended: nothing of it runs; " +
        "job runs to completion (restartPolicy Never): a restart would run it again; " +
        "fresh has no service yet (berth apply --target swarm makes it); idle is scaled to no task; " +
        "theirs has no service yet (berth apply --target swarm makes it); " +
        "held's update is paused (update paused: task failed): a forced update would roll the version that failed " +
        "onto the tasks still serving the old one; change the spec or its image",
    );
    expect(swarmRestartTargets(["back"], specs, services, OPTIONS.owner).map((t) => t.spec)).toEqual(["back"]);
    expect(swarmRestartTargets(["web"], specs, services, OPTIONS.owner).map((t) => t.service.id)).toEqual(["svc-web"]);
  });

  it("restarts a spec's canaries' service after its own, and refuses while either's update is paused", () => {
    const specs = [desired("web", { replicas: 4, extra: ["updatePartition: 3"] })];
    const canary = service("web_canary", {
      replicas: 1,
      labels: { [KEYS.controller]: CONTROLLER, [KEYS.spec]: "web", [KEYS.canary]: "true" },
    });
    expect(
      swarmRestartTargets(["web"], specs, [canary, service("web", { replicas: 3 })], OPTIONS.owner).map(
        (t) => `${t.spec}:${t.service.name}`,
      ),
    ).toEqual(["web:web", "web:web_canary"]);
    const paused = { ...canary, updateFailure: "update paused: task failed", updateState: "paused" };
    expect(() => swarmRestartTargets(["web"], specs, [service("web"), paused], OPTIONS.owner)).toThrow(
      "cannot restart: web_canary's update is paused (update paused: task failed)",
    );
  });
});

describe("rollingSwarmRestart", () => {
  it("forces each service's update in turn, the next once Swarm says the one before completed", async () => {
    const { clock, swarm } = setup();
    // api's last update had paused before: that failure is not the restart's.
    const stale = { updateFailure: "update paused: an old failure", updateStartedAt: clock.now() - 60_000 };
    for (const s of [service("api", stale), service("worker")]) swarm.services.set(s.name, s);
    const targets = [...swarm.services.values()].map((s) => ({ spec: s.name, service: s }));
    const done = rollingSwarmRestart({ swarm, clock, pollMs: 250 }, targets);
    await clock.until(() => swarm.forced.length === 2, 10_000);
    const start = swarm.forced[0]?.at ?? 0;
    expect(swarm.forced.map((f) => f.name)).toEqual(["api", "worker"]);
    // worker was asked only after api's update completed (2.1 s after its ask).
    expect((swarm.forced[1]?.at ?? 0) - start).toBeGreaterThanOrEqual(2_100);
    await clock.advance(5_000);
    expect((await done).map((s) => [s.service, s.outcome, s.detail])).toEqual([
      ["api", "restarted", "its tasks were replaced"],
      ["worker", "restarted", "its tasks were replaced"],
    ]);
  });

  it("an update Swarm paused ends the restart; the services after it are not touched", async () => {
    const { clock, swarm } = setup({ api: "pauses" });
    for (const s of [service("api"), service("worker")]) swarm.services.set(s.name, s);
    const targets = [...swarm.services.values()].map((s) => ({ spec: s.name, service: s }));
    const done = rollingSwarmRestart({ swarm, clock, pollMs: 250 }, targets);
    await clock.advance(10_000);
    expect((await done).map((s) => [s.service, s.outcome, s.detail])).toEqual([
      ["api", "failed", "update paused: task 1 exited with code 3"],
    ]);
    expect(swarm.forced.map((f) => f.name)).toEqual(["api"]);
  });

  it("an update that never ends fails at the deadline", async () => {
    const { clock, swarm } = setup({ api: "hangs" });
    swarm.services.set("api", service("api"));
    const done = rollingSwarmRestart({ swarm, clock, pollMs: 250, timeoutMs: 5_000 }, [
      { spec: "api", service: service("api") },
    ]);
    await clock.advance(6_000);
    expect((await done).map((s) => [s.outcome, s.detail])).toEqual([["failed", "its update did not finish within 5s"]]);
  });
});
