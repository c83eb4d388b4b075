/**
 * Says each message once while it lasts: what the previous round already said is not said
 * again; a message that went away and comes back is said again.
 */
export class ReportOnce {
  private said = new Set<string>();

  /** Calls `say` for each item whose key the previous round did not have. */
  round<T>(items: Iterable<T>, key: (item: T) => string, say: (item: T) => void): void {
    const now = new Set<string>();
    for (const item of items) {
      const k = key(item);
      now.add(k);
      if (!this.said.has(k)) say(item);
    }
    this.said = now;
  }
}
