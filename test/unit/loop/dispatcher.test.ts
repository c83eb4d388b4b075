/** The dispatcher's rule against stale plans, on its own. */
import { describe, expect, it } from "vitest";
import type { Plan } from "../../../src/core/plan/plan.js";
import { Dispatcher } from "../../../src/loop/dispatcher.js";
import { silentLogger } from "../../../src/util/log.js";
import { FakeClock, settle } from "../../support/fake-clock.js";

const plan = (spec: string): Plan => ({
  actions: [{ kind: "start", spec, container: { id: `${spec}-id`, name: spec }, reason: "exited" }],
  notes: [],
  nextWakeAt: null,
});
const observed = { containers: [], imageIds: new Map(), foreignNames: new Map() };

describe("Dispatcher", () => {
  it("does not act on a plan made before the spec's last operations settled", async () => {
    const ran: string[] = [];
    const clock = new FakeClock();
    const dispatcher = new Dispatcher({
      executor: { run: (a) => Promise.resolve(void ran.push(a.spec)) },
      clock,
      log: silentLogger(),
      backoff: { baseMs: 1000, maxMs: 300_000, random: () => 0.5 },
    });
    const before = dispatcher.epoch();
    expect(dispatcher.dispatch({ plan: plan("a"), records: new Map(), observed, observedAt: before }).started).toEqual([
      "a",
    ]);
    await settle();
    expect(ran).toEqual(["a"]);
    // A pass that observed before "a" settled: its plan for "a" is stale, "b" is fine.
    const stale = dispatcher.dispatch({
      plan: { ...plan("a"), actions: [...plan("a").actions, ...plan("b").actions] },
      records: new Map(),
      observed,
      observedAt: before,
    });
    expect(stale.started).toEqual(["b"]);
    expect(stale.waiting).toEqual([{ spec: "a", why: "busy", until: null, attempts: 0 }]);
    // A pass that observed after it settled acts.
    const fresh = dispatcher.dispatch({
      plan: plan("a"),
      records: new Map(),
      observed,
      observedAt: dispatcher.epoch(),
    });
    expect(fresh.started).toEqual(["a"]);
  });

  describe("a claim's hold on a spec (exclusive)", () => {
    const world = () => {
      const ran: string[] = [];
      const settled: string[] = [];
      const dispatcher = new Dispatcher({
        executor: { run: (a) => Promise.resolve(void ran.push(a.spec)) },
        clock: new FakeClock(),
        log: silentLogger(),
        backoff: { baseMs: 1000, maxMs: 300_000, random: () => 0.5 },
      });
      dispatcher.onSettled((spec) => settled.push(spec));
      const dispatchA = (observedAt: number) =>
        dispatcher.dispatch({ plan: plan("a"), records: new Map(), observed, observedAt });
      return { dispatcher, ran, settled, dispatchA };
    };

    it("that changed nothing leaves a plan made meanwhile to be acted on, and asks for no pass", async () => {
      const w = world();
      const observedAt = w.dispatcher.epoch();
      await w.dispatcher.exclusive(
        "a",
        () => false,
        () => Promise.resolve(null),
        (r) => r !== null,
      );
      expect(w.settled).toEqual([]);
      expect(w.dispatchA(observedAt).started).toEqual(["a"]);
    });

    it("that changed something voids a plan made before it ended, and asks for a pass", async () => {
      const w = world();
      const observedAt = w.dispatcher.epoch();
      await w.dispatcher.exclusive(
        "a",
        () => false,
        () => Promise.resolve("claimed"),
        (r) => r !== null,
      );
      expect(w.settled).toEqual(["a"]);
      expect(w.dispatchA(observedAt).started).toEqual([]);
    });

    it("asks for a pass when it ends if a plan for the spec was held back by it, though it changed nothing", async () => {
      const w = world();
      let release = (): void => undefined;
      const hold = w.dispatcher.exclusive(
        "a",
        () => false,
        () => new Promise<null>((resolve) => (release = () => resolve(null))),
        (r) => r !== null,
      );
      await settle();
      expect(w.dispatchA(w.dispatcher.epoch()).waiting).toEqual([{ spec: "a", why: "busy", until: null, attempts: 0 }]);
      release();
      await hold;
      expect(w.settled).toEqual(["a"]);
      expect(w.dispatchA(w.dispatcher.epoch()).started).toEqual(["a"]);
      await settle();
      expect(w.ran).toEqual(["a"]);
    });
  });

  it("on drain, finishes the batch in flight and begins none after it (a rollout's next replicas wait for the next start)", async () => {
    const ran: string[] = [];
    let finish: () => void = () => undefined;
    const clock = new FakeClock();
    const dispatcher = new Dispatcher({
      executor: {
        run: (a) =>
          new Promise<void>((resolve) => {
            ran.push(a.kind === "start" ? a.container.name : "");
            finish = resolve;
          }),
      },
      clock,
      log: silentLogger(),
      backoff: { baseMs: 1000, maxMs: 300_000, random: () => 0.5 },
    });
    // Three starts of one spec: each a batch of its own, one after the other.
    const starts = ["w-0", "w-1", "w-2"].map((name) => ({
      kind: "start" as const,
      spec: "w",
      container: { id: `${name}-id`, name },
      reason: "exited" as const,
    }));
    const started = dispatcher.dispatch({
      plan: { actions: starts, notes: [], nextWakeAt: null },
      records: new Map(),
      observed,
      observedAt: dispatcher.epoch(),
    });
    expect(started.started).toEqual(["w"]);
    await settle();
    expect(ran).toEqual(["w-0"]);
    const drained = dispatcher.drain(60_000);
    finish();
    expect(await drained).toBe(true);
    expect(ran).toEqual(["w-0"]);
    // Nor does a plan dispatched while shutting down begin.
    expect(
      dispatcher.dispatch({ plan: plan("x"), records: new Map(), observed, observedAt: dispatcher.epoch() }).started,
    ).toEqual([]);
  });
});
