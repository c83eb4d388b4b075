/**
 * The pools' use case (ops/pools.ts) over claim records kept in memory, as the unit tests build
 * it: every write lands, a remove removes, and what a test does not give is inert (no status, no
 * pass asked for, a claim's hold runs at once).
 */
import type { ClaimRecord } from "../../src/core/pool.js";
import { PassMarks } from "../../src/loop/pass-marks.js";
import { PoolDemand } from "../../src/loop/pool-demand.js";
import { Pools, type PoolsDeps } from "../../src/ops/pools.js";
import { silentLogger } from "../../src/util/log.js";

export function memoryClaims(records: ClaimRecord[]) {
  return {
    list: () => Promise.resolve({ records: [...records], unreadable: [] }),
    write: (r: ClaimRecord) => {
      records.push(r);
      return Promise.resolve({ ok: true as const });
    },
    remove: (pool: string, claim: string) => {
      const at = records.findIndex((r) => r.pool === pool && r.name === claim);
      if (at >= 0) records.splice(at, 1);
      return Promise.resolve({ ok: true as const, removed: at >= 0 });
    },
  };
}

/** Pools whose claims are `records`; `deps` gives what the test needs, the rest is inert. */
export function memoryPools(
  records: ClaimRecord[],
  deps: Pick<PoolsDeps, "docker" | "owner" | "desired" | "clock"> & Partial<PoolsDeps>,
): Pools {
  return new Pools({
    claims: memoryClaims(records),
    status: () => undefined,
    exclusive: (_spec, _harmless, fn) => fn(),
    passes: new PassMarks(deps.clock),
    demand: new PoolDemand(),
    requestPass: () => undefined,
    log: silentLogger(),
    ...deps,
  });
}
