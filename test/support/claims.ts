/** Claim records kept in memory, as the pools' store (ops/pools.ts) reads and writes them: every write lands. */
import type { ClaimRecord } from "../../src/core/pool.js";

export function memoryClaims(records: ClaimRecord[]) {
  return {
    list: () => Promise.resolve({ records: [...records], unreadable: [] }),
    write: (r: ClaimRecord) => {
      records.push(r);
      return Promise.resolve({ ok: true as const });
    },
    remove: () => Promise.resolve({ ok: true as const, removed: true }),
  };
}
