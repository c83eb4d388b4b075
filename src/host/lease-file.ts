/**
 * The `--ha file:PATH` lease store: one host (or hosts sharing a local folder). The lease is a
 * small JSON file — holder, term, the store's term counter, and when it expires by the host's
 * wall clock — read and rewritten under a mutex: a Unix socket beside it held for the few
 * milliseconds of each read-modify-write (host/lock.ts: it dies with its process, so a berth
 * killed holding it never blocks the others). The file is replaced by rename, never half-written.
 * A standby hears a release through the file's change (fs.watch) and polls besides.
 *
 * Not a flock: a paused holder keeps a flock forever, and the standby must be able to take over
 * from a leader paused past its lease.
 */
import { watch, type FSWatcher } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "../core/errors.js";
import { type AcquireResult, type LeaseHolder, type LeaseStore, nextTerm } from "../core/lease.js";
import { acquireHostLock, type HostLock } from "./lock.js";

/** How long a read-modify-write waits for the mutex. */
const MUTEX_WAIT_MS = 500;

interface LeaseFile {
  readonly holder: string | null;
  readonly term: number;
  /** The highest term ever handed out here. */
  readonly counter: number;
  /** Epoch ms; 0 when released. */
  readonly expiresAt: number;
}

const EMPTY: LeaseFile = { holder: null, term: 0, counter: 0, expiresAt: 0 };

export class FileLeaseStore implements LeaseStore {
  readonly where: string;
  private watcher: FSWatcher | null = null;
  private readonly released: (() => void)[] = [];

  constructor(
    private readonly file: string,
    private readonly version: string,
    private readonly now: () => number = Date.now,
  ) {
    this.where = `file:${file}`;
  }

  async acquire(holder: string, ttlMs: number, highestSeen: number): Promise<AcquireResult> {
    return this.locked(async (current, write) => {
      if (current.holder !== null && current.expiresAt > this.now())
        return { acquired: false, current: { holder: current.holder, term: current.term } };
      const term = nextTerm(current.counter + 1, highestSeen);
      await write({ holder, term, counter: term, expiresAt: this.now() + ttlMs });
      // A file that lost its counter under a living leader (removed by hand) shows only to a standby that saw a term.
      return { acquired: true, term, fresh: current.counter < highestSeen };
    });
  }

  async renew(lease: LeaseHolder, ttlMs: number): Promise<boolean> {
    return this.locked(async (current, write) => {
      if (!this.holds(current, lease)) return false;
      await write({ ...current, expiresAt: this.now() + ttlMs });
      return true;
    });
  }

  async release(lease: LeaseHolder): Promise<void> {
    await this.locked(async (current, write) => {
      if (this.holds(current, lease)) await write({ ...current, holder: null, expiresAt: 0 });
    });
  }

  onReleased(fn: () => void): void {
    this.released.push(fn);
    if (this.watcher) return;
    try {
      // The folder, not the file: the file is replaced by rename.
      this.watcher = watch(path.dirname(this.file), (_event, name) => {
        if (name !== path.basename(this.file)) return;
        // Every renewal changes the file too: only a released lease wakes the standbys.
        void this.read().then(
          (current) => {
            if (current.holder === null) for (const f of this.released) f();
          },
          () => undefined,
        );
      });
      this.watcher.on("error", () => undefined);
      this.watcher.unref();
    } catch {
      // No watch (the folder is not there yet): the standbys poll.
    }
  }

  close(): Promise<void> {
    this.watcher?.close();
    this.watcher = null;
    return Promise.resolve();
  }

  private holds(current: LeaseFile, lease: LeaseHolder): boolean {
    return current.holder === lease.holder && current.term === lease.term && current.expiresAt > this.now();
  }

  /** Runs `fn` on the file's content under the mutex; `write` replaces the file. */
  private async locked<T>(
    fn: (current: LeaseFile, write: (next: LeaseFile) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    const dir = path.dirname(this.file);
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      throw new BerthError("BERTH_HA", `--ha ${this.where}: cannot create ${dir}: ${(err as Error).message}`);
    });
    const mutex = await this.mutex(dir);
    try {
      return await fn(await this.read(), async (next) => {
        const temp = `${this.file}.${process.pid}.tmp`;
        await writeFile(temp, `${JSON.stringify(next)}\n`, { mode: 0o600 });
        await rename(temp, this.file);
      });
    } finally {
      await mutex.release();
    }
  }

  /**
   * The mutex: others hold it for a few milliseconds at a time, so a busy one (or one let go as
   * it was asked who holds it) is tried again for up to MUTEX_WAIT_MS before the store counts as
   * not answering.
   */
  private async mutex(dir: string): Promise<HostLock> {
    const until = Date.now() + MUTEX_WAIT_MS;
    for (;;) {
      try {
        return await acquireHostLock({
          stateDir: dir,
          controllerId: `${path.basename(this.file)}.mutex`,
          command: "ha",
          version: this.version,
          answerTimeoutMs: MUTEX_WAIT_MS,
        });
      } catch (err) {
        if (Date.now() >= until) throw new BerthError("BERTH_HA", `--ha ${this.where}: ${(err as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 15));
    }
  }

  private async read(): Promise<LeaseFile> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return EMPTY;
      throw new BerthError("BERTH_HA", `--ha ${this.where}: cannot read it: ${(err as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as Partial<LeaseFile>;
      return {
        holder: typeof parsed.holder === "string" ? parsed.holder : null,
        term: Number(parsed.term) || 0,
        counter: Number(parsed.counter) || 0,
        expiresAt: Number(parsed.expiresAt) || 0,
      };
    } catch {
      throw new BerthError("BERTH_HA", `--ha ${this.where}: not a lease file berth wrote (not JSON); remove it`);
    }
  }
}
