/**
 * `berth restart` (ops/restart.ts) on the in-memory Docker fake: which specs can be restarted and
 * why not; each running container stopped and started in replica order, the next only once the one
 * before runs again; a failure (here: a crash within the spec's stableFor) ends it, the containers
 * after it untouched; through a controller, it runs while no pass acts on the spec.
 */
import { afterEach, describe, expect, it } from "vitest";
import { labelKeys } from "../../../src/core/labels.js";
import type { ObservedContainer } from "../../../src/core/observed.js";
import { controllerRestart, restartTargets, rollingRestart } from "../../../src/ops/restart.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { type Harness, harness } from "../../support/harness.js";
import { desired } from "../../support/plan-fixtures.js";
import { specText } from "../../support/specs.js";

const KEYS = labelKeys("berth");

/** berth's containers as the fake lists them (its own list call: what a pass observes). */
function observedOf(docker: FakeDocker): Promise<ObservedContainer[]> {
  return docker.listContainers({ labels: [`${KEYS.controller}=test`] });
}

function setup(extra: readonly string[] = []) {
  const clock = new FakeClock();
  const docker = new FakeDocker(() => clock.now());
  const web = desired("web", { replicas: 2, extra: ["stopTimeout: 3s", ...extra] });
  for (const replica of [1, 0]) {
    docker.add({
      name: `web-${replica}`,
      labels: { [KEYS.controller]: "test", [KEYS.spec]: "web", [KEYS.replica]: String(replica), [KEYS.hash]: web.hash },
    });
  }
  return { clock, docker, web };
}

const writes = (docker: FakeDocker) =>
  docker.writes().map((w) => `${w.operation} ${docker.containers.get(w.subject)?.name ?? w.subject}`);

describe("restartTargets", () => {
  const rows: [string, string[], string][] = [
    ["a spec not loaded", [], "cannot restart: no spec named web"],
    ["a suspended spec", ["suspended: true"], "cannot restart: web is suspended: nothing of it runs"],
    [
      "a run",
      ["restartPolicy: OnFailure"],
      "cannot restart: web runs to completion (restartPolicy OnFailure): a restart would run it again",
    ],
  ];
  for (const [name, extra, message] of rows) {
    it(`refuses ${name}`, async () => {
      const { docker } = setup();
      const specs = name === "a spec not loaded" ? [] : [desired("web", { extra: [...extra] })];
      const observed = await observedOf(docker);
      expect(() => restartTargets(["web"], specs, observed, KEYS)).toThrow(message);
    });
  }

  it("refuses a spec with nothing running, and names every spec it refuses", async () => {
    const { docker, web } = setup();
    for (const c of docker.containers.values()) c.state = "exited";
    const observed = await observedOf(docker);
    expect(() => restartTargets(["web", "db"], [web], observed, KEYS)).toThrow(
      "cannot restart: web has no running container; no spec named db",
    );
  });

  it("takes the running containers under their own names, replica 0 first", async () => {
    const { docker, web } = setup();
    docker.add({ name: "web-0.next", labels: { [KEYS.controller]: "test", [KEYS.spec]: "web", [KEYS.replica]: "0" } });
    const [target] = restartTargets(["web"], [web], await observedOf(docker), KEYS);
    expect(target?.containers.map((c) => c.name)).toEqual(["web-0", "web-1"]);
  });
});

describe("rollingRestart", () => {
  it("stops with the spec's timeout and starts each container in turn, the same containers", async () => {
    const { clock, docker, web } = setup();
    const ids = (await observedOf(docker)).map((c) => c.id);
    const targets = restartTargets(["web"], [web], await observedOf(docker), KEYS);
    const steps = await rollingRestart({ docker, clock }, targets);
    expect(steps.map((s) => [s.container, s.outcome, s.detail])).toEqual([
      ["web-0", "restarted", "running"],
      ["web-1", "restarted", "running"],
    ]);
    expect(writes(docker)).toEqual(["stop web-0", "start web-0", "stop web-1", "start web-1"]);
    expect(docker.stops.map((s) => s.timeoutSeconds)).toEqual([3, 3]);
    expect((await observedOf(docker)).map((c) => c.id)).toEqual(ids);
  });

  it("goes on to the next only once the one before stayed up; a crash within stableFor ends it", async () => {
    const { clock, docker } = setup();
    const web = desired("web", { replicas: 2, extra: ["stopTimeout: 3s", "stableFor: 10s"] });
    const targets = restartTargets(["web"], [web], await observedOf(docker), KEYS);
    const start = docker.startContainer.bind(docker);
    docker.startContainer = async (id: string) => {
      await start(id);
      const name = docker.containers.get(id)?.name ?? "";
      if (name === "web-0") clock.at(clock.now() + 2_000, () => docker.crash(name, 3, { running: true }));
    };
    const done = rollingRestart({ docker, clock, exits: { exitCodeOf: () => 3 } }, targets);
    await clock.advance(15_000);
    const steps = await done;
    expect(steps).toEqual([
      {
        spec: "web",
        container: "web-0",
        outcome: "failed",
        detail: "exited with code 3 2.0s after it started and was restarted by the engine (1 restart)",
        durationMs: 2_000,
      },
    ]);
    // web-1 was never stopped.
    expect(writes(docker)).toEqual(["stop web-0", "start web-0"]);
  });
});

describe("controllerRestart", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it("restarts a spec of the running controller while no pass acts on it; says 404 and 409 for what it cannot", async () => {
    h = await harness({
      "web.yaml": specText("web", { replicas: 2 }),
      "job.yaml": specText("job", { extra: ["restartPolicy: Never"] }),
    });
    await h.start();
    const x = h;
    const held: string[] = [];
    const deps = {
      docker: x.docker,
      clock: x.clock,
      keys: KEYS,
      view: () => {
        const last = x.app.controller.last;
        return last ? { desired: last.snapshot.input.desired, containers: last.observed.containers } : null;
      },
      exclusive: <T>(spec: string, fn: () => Promise<T>) => {
        held.push(spec);
        return fn();
      },
    };
    const before = x.docker.writes().length;
    const answer = await controllerRestart(deps, "web");
    expect(answer).toMatchObject({ kind: "done", steps: [{ container: "web-0" }, { container: "web-1" }] });
    expect(held).toEqual(["web"]);
    expect(
      x.docker
        .writes()
        .slice(before)
        .map((w) => w.operation),
    ).toEqual(["stop", "start", "stop", "start"]);
    expect(await controllerRestart(deps, "nope")).toEqual({
      kind: "refused",
      status: 404,
      reason: "cannot restart: no spec named nope",
    });
    expect(await controllerRestart(deps, "job")).toMatchObject({ kind: "refused", status: 409 });
  });
});
