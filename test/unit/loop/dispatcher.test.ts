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
});
