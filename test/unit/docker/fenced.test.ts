/**
 * The write fence over both ports (docker/fenced.ts): every call that changes the swarm asks the
 * fence first and, refused, never reaches the port; every read passes, leader or not; the fence
 * is asked per call, so a leader that stops leading is refused at its next write.
 */
import { describe, expect, it } from "vitest";
import { fencedSwarm, notLeader, type WriteFence } from "../../../src/docker/fenced.js";
import type { SwarmPort } from "../../../src/docker/swarm-adapter.js";

/** A Swarm port that records which methods reached it. */
function recordingSwarm(reached: string[]): SwarmPort {
  const hit =
    <T>(name: string, value: T) =>
    () => {
      reached.push(name);
      return Promise.resolve(value);
    };
  return {
    listServices: hit("listServices", []),
    serviceByName: hit("serviceByName", null),
    listTasks: hit("listTasks", []),
    createService: hit("createService", "svc-1"),
    updateService: hit("updateService", undefined),
    scaleService: hit("scaleService", undefined),
    forceUpdate: hit("forceUpdate", undefined),
    removeService: hit("removeService", undefined),
    listSecrets: hit("listSecrets", []),
    createSecret: hit("createSecret", "sec-1"),
    removeSecret: hit("removeSecret", undefined),
    serviceLogs: hit("serviceLogs", { close: () => undefined }),
  };
}

/** A fence that leads while `leading.now` is true, recording what it admitted. */
function fence(leading: { now: boolean }, admitted: string[]): WriteFence {
  return {
    admit: (operation, target) => {
      if (!leading.now) throw notLeader("standby");
      admitted.push(`${operation} ${target}`);
      return 7;
    },
    currentTerm: () => (leading.now ? 7 : null),
  };
}

const spec = { Name: "web" } as unknown as Parameters<SwarmPort["createService"]>[0];
const HANDLERS = { onLine: () => undefined, onEnd: () => undefined };

/** Every method of the port, called once, as the name and the call. */
const calls: readonly (readonly [keyof SwarmPort, (p: SwarmPort) => Promise<unknown>])[] = [
  ["listServices", (p) => p.listServices({ labels: [] })],
  ["serviceByName", (p) => p.serviceByName("web")],
  ["listTasks", (p) => p.listTasks(["svc-1"])],
  ["createService", (p) => p.createService(spec, null)],
  ["updateService", (p) => p.updateService("svc-1", 3, spec, null)],
  ["scaleService", (p) => p.scaleService("svc-1", 0)],
  ["forceUpdate", (p) => p.forceUpdate("svc-1")],
  ["removeService", (p) => p.removeService("svc-1")],
  ["listSecrets", (p) => p.listSecrets({ labels: [] })],
  ["createSecret", (p) => p.createSecret("s", {}, "value")],
  ["removeSecret", (p) => p.removeSecret("sec-1")],
  ["serviceLogs", (p) => p.serviceLogs("svc-1", { follow: false, tail: null, since: null }, HANDLERS)],
];

const WRITES = [
  "createService",
  "updateService",
  "scaleService",
  "forceUpdate",
  "removeService",
  "createSecret",
  "removeSecret",
];

describe("fencedSwarm", () => {
  it.each(calls)("%s: a standby's write is refused before the port; a read passes", async (name, call) => {
    const reached: string[] = [];
    const admitted: string[] = [];
    const port = fencedSwarm(recordingSwarm(reached), fence({ now: false }, admitted));
    if (WRITES.includes(name)) {
      await expect(call(port)).rejects.toMatchObject({ code: "BERTH_NOT_LEADER" });
      expect(reached).toEqual([]);
    } else {
      await call(port);
      expect(reached).toEqual([name]);
    }
  });

  it("a leader's writes pass, each admitted with its operation; after it stops leading the next write is refused", async () => {
    const reached: string[] = [];
    const admitted: string[] = [];
    const leading = { now: true };
    const port = fencedSwarm(recordingSwarm(reached), fence(leading, admitted));
    for (const [, call] of calls) await call(port);
    expect(reached).toEqual(calls.map(([name]) => name));
    expect(admitted).toEqual([
      "service-create ",
      "service-update svc-1",
      "service-update svc-1",
      "service-update svc-1",
      "service-remove svc-1",
      "secret-create s",
      "secret-remove sec-1",
    ]);
    leading.now = false;
    await expect(port.removeService("svc-1")).rejects.toMatchObject({ code: "BERTH_NOT_LEADER" });
    expect(reached.filter((n) => n === "removeService")).toHaveLength(1);
  });
});
