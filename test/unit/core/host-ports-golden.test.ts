/**
 * Golden tests for `hostPort: auto` (core/host-ports.ts, docs/ports.md): the allocator on its own
 * (lowest free with holes, foreign ports skipped, previous port kept, range exhausted, the policy's
 * intersection), and the planner's rendered plans: deterministic order by spec then replica, a
 * StopFirst replacement keeping its port, a StartFirst one taking a second, Pending when the range
 * is exhausted, and a hash that does not depend on the number.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  autoHostPortRanges,
  HostPortAllocator,
  parseHostPortsLabel,
  reservedBy,
  takenHostPorts,
} from "../../../src/core/host-ports.js";
import type { ObservedContainer } from "../../../src/core/observed.js";
import { type DesiredSpec, plan, type PlanInput } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import { container, desired, input, KEYS, observed, OPTIONS, resetIds } from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const AUTO = ["ports:", "  - { containerPort: 80, hostPort: auto }"];
const RANGE = [{ from: 10000, to: 10004 }];

const auto = (name: string, options: { replicas?: number; extra?: string[] } = {}): DesiredSpec =>
  desired(name, { replicas: options.replicas ?? 1, extra: [...AUTO, ...(options.extra ?? [])] });

/** One of our containers holding `port` for 80/tcp in its label (as berth writes it). */
function holding(d: DesiredSpec | string, port: number, options: Parameters<typeof container>[1] = {}) {
  return container(d, { ...options, labels: { [KEYS.hostPorts]: `80/tcp=${port}`, ...options.labels } });
}

/** A running container of someone else's publishing `port`, as the unfiltered list reports it. */
function foreign(port: number): ObservedContainer {
  return {
    ...container("other", { controller: "someone-else" }),
    ports: [{ containerPort: 8080, protocol: "tcp", hostPort: port, hostIP: "0.0.0.0" }],
  };
}

function planned(
  specs: readonly DesiredSpec[],
  containers: readonly ObservedContainer[],
  extra: { foreign?: number[]; busy?: [number, string][]; ranges?: typeof RANGE } = {},
): string {
  const state = { ...observed(containers), foreignHostPorts: new Set(extra.foreign ?? []) };
  const given: PlanInput = input(specs, {
    hostPorts: { ranges: extra.ranges ?? RANGE, busy: new Map(extra.busy ?? []) },
  });
  return renderPlan(plan(given, state, NOW, OPTIONS));
}

beforeEach(() => {
  resetIds();
});

describe("the allocator", () => {
  const allocate = (taken: [number, string][], previous = {}, releasing: string | null = null) =>
    new HostPortAllocator(RANGE, new Map(taken)).allocate(["80/tcp"], "web", previous, releasing);

  it.each([
    ["an empty range: the lowest", [], 10000],
    [
      "lowest free, holes reused",
      [
        [10000, "a"],
        [10002, "b"],
      ],
      10001,
    ],
    ["a port held by a program outside Docker", [[10000, ""]], 10001],
  ] as [string, [number, string][], number][])("%s", (_what, taken, port) => {
    expect(allocate(taken)).toEqual({ "80/tcp": port });
  });

  it("keeps the previous port when only the container being replaced holds it", () => {
    expect(allocate([[10003, "old"]], { "80/tcp": 10003 }, "old")).toEqual({ "80/tcp": 10003 });
    expect(allocate([[10003, "old"]], { "80/tcp": 10003 }, null)).toEqual({ "80/tcp": 10000 });
    expect(allocate([[10003, ""]], { "80/tcp": 10003 }, "old")).toEqual({ "80/tcp": 10000 });
    // Out of the range now: a new one.
    expect(allocate([], { "80/tcp": 9000 })).toEqual({ "80/tcp": 10000 });
  });

  it("gives each port once per plan, and null (taking nothing) when the range is exhausted", () => {
    const allocator = new HostPortAllocator([{ from: 10000, to: 10002 }], new Map([[10001, "x"]]));
    expect(allocator.allocate(["80/tcp", "443/tcp"], "web")).toEqual({ "80/tcp": 10000, "443/tcp": 10002 });
    expect(allocator.allocate(["80/tcp"], "api")).toBeNull();
    expect(allocator.rangeText).toBe("10000-10002");
  });

  it("takes the range within the policy's allowed ports", () => {
    expect(autoHostPortRanges({ from: 10000, to: 20000 }, [{ from: 1024, to: 65535 }])).toEqual([
      { from: 10000, to: 20000 },
    ]);
    expect(
      autoHostPortRanges({ from: 10000, to: 20000 }, [
        { from: 15000, to: 30000 },
        { from: 8000, to: 10009 },
        { from: 10005, to: 10020 },
      ]),
    ).toEqual([
      { from: 10000, to: 10020 },
      { from: 15000, to: 20000 },
    ]);
    expect(autoHostPortRanges({ from: 10000, to: 20000 }, [{ from: 80, to: 443 }])).toEqual([]);
  });

  it("counts berth's labels (a stopped container's) and the engine's listed ports as taken", () => {
    const stopped = holding("a", 10001, { state: "exited" });
    const other = foreign(10002);
    const taken = takenHostPorts([stopped, other], KEYS.hostPorts, new Map([[10004, ""]]));
    expect([...taken.entries()]).toEqual([
      [10001, stopped.id],
      [10002, other.id],
      [10004, ""],
    ]);
    expect(parseHostPortsLabel("80/tcp=10000,53/udp=10001,junk,1/tcp=70000")).toEqual({
      "80/tcp": 10000,
      "53/udp": 10001,
    });
  });
});

describe("plans with hostPort: auto", () => {
  it("two specs and replicas: lowest free ports, by spec name then replica", () => {
    expect(planned([auto("web", { replicas: 2 }), auto("api")], [])).toBe(
      "create  api: not found (host port 10000->80/tcp)\n" +
        "create  web-0: not found (host port 10001->80/tcp)\n" +
        "create  web-1: not found (host port 10002->80/tcp)\n",
    );
  });

  it("skips ports held by foreign containers, berth's stopped ones, and known busy ones; reuses holes", () => {
    const db = auto("db");
    expect(
      planned([db, auto("web")], [holding(db, 10001, { state: "exited" })], { foreign: [10000], busy: [[10002, ""]] }),
    ).toBe("start   db [0001aaaabbbb]: exited\ncreate  web: not found (host port 10003->80/tcp)\n");
  });

  it("a create in flight keeps its port: its own spec plans it again, the others skip it", () => {
    expect(planned([auto("a"), auto("b")], [], { busy: [[10001, reservedBy("a")]] })).toBe(
      "create  a: not found (host port 10001->80/tcp)\ncreate  b: not found (host port 10000->80/tcp)\n",
    );
  });

  it("a StopFirst replacement (the default with auto) keeps its port; a StartFirst one takes a second", () => {
    const v2 = auto("web", { extra: ["env: { V: '2' }"] });
    expect(planned([v2], [holding("web", 10003, { hash: "old" })])).toBe(
      "replace web [0001aaaabbbb] StopFirst: hash changed (host port 10003->80/tcp)\n",
    );
    const startFirst = auto("web", { extra: ["env: { V: '2' }", "updateStrategy: StartFirst"] });
    expect(startFirst.spec.updateStrategy).toBe("StartFirst");
    expect(planned([startFirst], [holding("web", 10000, { hash: "old" })])).toBe(
      "replace web [0002aaaabbbb] StartFirst: hash changed (host port 10001->80/tcp)\n",
    );
  });

  it("an exhausted range leaves the spec Pending with the reason, and disturbs no other spec", () => {
    const full = [10000, 10001, 10002, 10003, 10004].map((p, i) => holding(`x${i}`, p));
    const text = planned([auto("late"), desired("plain")], full);
    expect(text).toContain("create  plain: not found\n");
    expect(text).toContain("! late: no free host port in 10000-10004 (Pending)\n");
    expect(text).not.toContain("create  late");
  });

  it("the hash keeps `auto`, not the number: a container with any port is current", () => {
    const web = auto("web");
    expect(planned([web], [holding(web, 10004)])).toBe("nothing to do\n");
  });
});
