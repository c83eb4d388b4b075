/**
 * The HA invariant "no overlapping write terms" (docs/reliability.md), for the HA tests and the HA
 * soak alike: every Docker write is logged with its term; the writes of each term must span a
 * stretch of time no other term's writes fall into, in growing terms.
 */

/** "No overlapping write terms": the problems found, none when each term's writes stand apart. */
export function overlappingTerms(writes: readonly { term: number; at: number }[]): string[] {
  const spans = new Map<number, { from: number; to: number }>();
  for (const w of writes) {
    const span = spans.get(w.term);
    spans.set(
      w.term,
      span ? { from: Math.min(span.from, w.at), to: Math.max(span.to, w.at) } : { from: w.at, to: w.at },
    );
  }
  const sorted = [...spans.entries()].sort((a, b) => a[1].from - b[1].from);
  const found: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const [beforeTerm, before] = sorted[i - 1] as [number, { from: number; to: number }];
    const [afterTerm, after] = sorted[i] as [number, { from: number; to: number }];
    if (after.from <= before.to)
      found.push(`term ${afterTerm} wrote at ${after.from}, before term ${beforeTerm}'s last write at ${before.to}`);
    if (afterTerm <= beforeTerm) found.push(`term ${afterTerm} wrote after term ${beforeTerm}`);
  }
  return found;
}

/** The Docker writes among a berth's parsed log lines (`docker write`, at debug level, with its term). */
export function loggedWrites(logs: readonly Record<string, unknown>[]): { term: number; at: number }[] {
  return logs.filter((l) => l.msg === "docker write").map((l) => ({ term: Number(l.term), at: Number(l.time) }));
}
