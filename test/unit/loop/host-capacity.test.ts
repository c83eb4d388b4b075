/**
 * The capacity in force is logged once resolved (loop/capacity.ts): what `--capacity auto` less
 * `--reserve` came to, and a warning when the reserve takes all the engine has.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { DEFAULT_REQUEST } from "../../../src/core/capacity.js";
import { HostCapacity } from "../../../src/loop/capacity.js";

const Gi = 2 ** 30;

function logged(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: "info" }, sink), lines };
}

describe("HostCapacity", () => {
  it("logs what auto less the reserve came to, once, and warns when the reserve takes all", async () => {
    const { log, lines } = logged();
    let asked = 0;
    const engine = {
      hostResources: () => {
        asked++;
        return Promise.resolve({ nanoCpus: 2e9, memoryBytes: 4 * Gi });
      },
    };
    const capacity = new HostCapacity(
      engine,
      {
        auto: true,
        given: { containers: 50 },
        reserve: { cpus: 0.5e9, memory: 100 * Gi },
        defaultRequest: DEFAULT_REQUEST,
      },
      log,
    );
    const first = await capacity.get();
    await capacity.get();
    expect(asked).toBe(1);
    expect(first.total).toEqual({ cpus: 1.5e9, memory: 0, containers: 50 });
    const pick = (l: Record<string, unknown>) => {
      const { msg, cpus, memory, containers, resource, engine: e, reserve } = l;
      return { msg, cpus, memory, containers, resource, engine: e, reserve };
    };
    expect(lines.map(pick)).toEqual([
      { msg: "capacity in force", cpus: "1.5", memory: "0", containers: "50" },
      {
        msg: "--reserve is all the engine has: no container that requests it is admitted",
        resource: "memory",
        engine: "4Gi",
        reserve: "100Gi",
      },
    ]);
  });
});
