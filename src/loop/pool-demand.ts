/**
 * Claims waiting for a member of a pool that had none ready (docs/pools.md): each asks the next
 * passes for one member beyond the pool's size, created cold (core/pool.ts, poolSlots). In memory
 * only: a claim in flight dies with the process, and the surplus member it asked for goes at the
 * next pass after the restart.
 */
export class PoolDemand {
  private readonly counts = new Map<string, number>();

  /** One more claim waits on `pool`; the function returned ends its wait (once). */
  hold(pool: string): () => void {
    this.counts.set(pool, (this.counts.get(pool) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.counts.get(pool) ?? 1) - 1;
      if (left > 0) this.counts.set(pool, left);
      else this.counts.delete(pool);
    };
  }

  /** The waiting claims by pool, as they are now. */
  snapshot(): ReadonlyMap<string, number> {
    return new Map(this.counts);
  }
}
