/**
 * The Git sources (docs/gitops.md): each is fetched every --git-interval and when the webhook
 * asks, one fetch at a time with at most one more queued (a flood of webhooks costs two fetches),
 * and a new revision is checked out and swapped in (host/git-checkout.ts); the watcher then sees
 * the swap and a pass follows. A failed fetch keeps the last good checkout and is reported.
 */
import path from "node:path";
import type { Logger } from "pino";
import { commitSubject, type GitSourceStatus, scrubUrls, shortSha } from "../core/git-source.js";

export type { GitSourceStatus } from "../core/git-source.js";
import type { Commit, GitCheckout } from "../host/git-checkout.js";
import type { Clock, Timer } from "../util/clock.js";

/** What a source needs of its checkout (host/git-checkout.ts; the tests hand in an in-memory one). */
export type Checkout = Pick<
  GitCheckout,
  "specDir" | "current" | "commit" | "fetch" | "activate" | "clean" | "revisionOfPath" | "specFileOf"
>;

export interface SourceSetting {
  readonly name: string;
  readonly url: string;
  readonly ref: string;
  readonly path: string;
  readonly intervalMs: number;
  readonly checkout: Checkout;
}

export interface GitSourcesDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** A new revision is in place (the watcher sees it too; this makes the pass prompt). */
  readonly onRevision?: (source: GitSourceStatus, previous: string | null) => void;
  /** Every fetch, with its outcome. */
  readonly onFetch?: (source: string, error: string | null) => void;
}

/** How many recent revisions a source remembers, to tell a ref that moved back to one of them. */
const REMEMBERED = 20;

class Source {
  private commit: Commit | null = null;
  private lastFetchAt: number | null = null;
  private lastAttemptAt: number | null = null;
  private lastError: string | null = null;
  /** Failed fetches in a row: a success starts the count again (the metric keeps the total). */
  private failures = 0;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private timer: Timer | null = null;
  private stopped = false;
  private readonly seen: string[] = [];
  private invalidFiles: readonly string[] = [];
  private brokenAt: string | null = null;

  constructor(
    readonly setting: SourceSetting,
    private readonly deps: GitSourcesDeps,
  ) {}

  /** Fetch now: joins the queued fetch if there is one, so a flood adds at most one. */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) {
      this.running = this.fetchOnce().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    const after = this.running;
    this.queued = after.then(() => {
      this.queued = null;
      return this.sync();
    });
    return this.queued;
  }

  /** The first fetch, then one every interval after the end of the last. */
  start(): Promise<void> {
    return this.loadCurrent().then(() => this.tick());
  }

  private async tick(): Promise<void> {
    await this.sync();
    if (this.stopped) return;
    this.timer = this.deps.clock.at(this.deps.clock.now() + this.setting.intervalMs, () => void this.tick());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** A checkout left by an earlier run is used until the first fetch answers. */
  private async loadCurrent(): Promise<void> {
    const sha = await this.setting.checkout.current();
    if (sha === null) return;
    this.commit = await this.setting.checkout.commit(sha).catch(() => ({ sha, committedAt: 0, subject: "" }));
    this.seen.push(sha);
  }

  private async fetchOnce(): Promise<void> {
    const { checkout, name } = this.setting;
    const log = this.deps.log;
    this.lastAttemptAt = this.deps.clock.now();
    try {
      const sha = await checkout.fetch();
      const previous = this.commit?.sha ?? null;
      if (sha !== previous) {
        await checkout.activate(sha);
        this.commit = await checkout.commit(sha);
        const back = this.seen.includes(sha);
        this.seen.push(sha);
        if (this.seen.length > REMEMBERED) this.seen.shift();
        await checkout.clean(previous === null ? [sha] : [sha, previous]);
        const fields = { source: name, revision: shortSha(sha), previous: previous && shortSha(previous) };
        if (back) log.warn(fields, "git source moved back to an earlier revision (force push or revert); following it");
        else log.info({ ...fields, subject: commitSubject(this.commit.subject) }, "git source revision");
        this.deps.onRevision?.(this.status(), previous);
      }
      this.lastFetchAt = this.deps.clock.now();
      this.lastError = null;
      this.failures = 0;
      this.deps.onFetch?.(name, null);
    } catch (err) {
      this.failures++;
      this.lastError = scrubUrls((err as Error).message);
      log.warn(
        { source: name, err: this.lastError, revision: this.commit ? shortSha(this.commit.sha) : null },
        "git fetch failed; keeping the last good checkout",
      );
      this.deps.onFetch?.(name, this.lastError);
    }
  }

  /** After a pass: the files of this source that were invalid (absolute paths of every invalid file given). */
  noteInvalid(files: readonly string[]): void {
    const mine = files.flatMap((f) => this.setting.checkout.specFileOf(f) ?? []);
    if (mine.length === 0) this.brokenAt = null;
    else if (this.invalidFiles.length === 0) this.brokenAt = this.commit?.sha ?? null;
    this.invalidFiles = [...new Set(mine)].sort();
  }

  status(): GitSourceStatus {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    const c = this.commit;
    return {
      name: this.setting.name,
      url: scrubUrls(this.setting.url),
      ref: this.setting.ref,
      path: this.setting.path,
      specDir: this.setting.checkout.specDir,
      revision: c?.sha ?? null,
      shortRevision: c ? shortSha(c.sha) : null,
      committedAt: c && c.committedAt > 0 ? iso(c.committedAt) : null,
      subject: c ? commitSubject(c.subject) : null,
      lastFetchAt: iso(this.lastFetchAt),
      lastAttemptAt: iso(this.lastAttemptAt),
      lastError: this.lastError,
      failures: this.failures,
      fetching: this.running !== null,
      invalidFiles: this.invalidFiles,
      brokenAt: this.brokenAt,
    };
  }
}

export class GitSources {
  private readonly sources: Source[];

  constructor(settings: readonly SourceSetting[], deps: GitSourcesDeps) {
    this.sources = settings.map((s) => new Source(s, deps));
  }

  get size(): number {
    return this.sources.length;
  }

  /** The first fetch of every source (each keeps going every interval after it). */
  start(): Promise<void> {
    return Promise.all(this.sources.map((s) => s.start())).then(() => undefined);
  }

  stop(): void {
    for (const s of this.sources) s.stop();
  }

  /** Fetch every source now (the webhook); resolves when the fetches end. */
  syncAll(): Promise<void> {
    return Promise.all(this.sources.map((s) => s.sync())).then(() => undefined);
  }

  /** After every pass: the spec files that were invalid in it (any folder's; each source keeps its own). */
  noteInvalid(files: readonly string[]): void {
    const absolute = files.map((f) => path.resolve(f));
    for (const s of this.sources) s.noteInvalid(absolute);
  }

  list(): GitSourceStatus[] {
    return this.sources.map((s) => s.status());
  }

  /** The revision a spec file's source is checked out at (the berth.revision label), or null: not a source's. */
  revisionOf(file: string): string | null {
    const absolute = path.resolve(file);
    // Loaded through the checkout the link pointed to (pinned roots): that commit, exactly.
    for (const s of this.sources) {
      const sha = s.setting.checkout.revisionOfPath(absolute);
      if (sha !== null) return sha;
    }
    const source = this.sources.find((s) => absolute.startsWith(`${s.setting.checkout.specDir}${path.sep}`));
    return source?.status().revision ?? null;
  }
}
