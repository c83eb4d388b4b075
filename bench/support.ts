/** What bench.ts and noop-pass.ts share. */

/**
 * A module of the build in dist/, the product as shipped (`npm run bench` builds it first), typed
 * from its source. tsx compiles src/ on the fly with helpers of its own, which made the planner
 * look three times slower than it is; dist/ runs as plain node runs it.
 */
export const dist = <T>(module: string): Promise<T> =>
  import(new URL(`../dist/${module}`, import.meta.url).href) as Promise<T>;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
