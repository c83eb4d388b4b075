/**
 * The `--ha file:PATH` lease store: one host (or hosts sharing a local folder). PATH is a folder
 * of versions, `lease.<n>`, each a small JSON file — holder, term, the store's term counter, and
 * when the lease expires by the host's wall clock. The current lease is the highest n.
 *
 * A change is a compare-and-swap without a lock: a berth reads version n, decides, and creates
 * `lease.<n+1>` by link() of a complete temporary file, which fails when that version exists.
 * Whoever loses re-reads and decides again. A berth paused anywhere (SIGSTOP, a frozen VM) holds
 * nothing the others wait for; when it resumes, its version exists already (or a higher one does:
 * it then removes its own, which no reader took for current) and it decides again on what it
 * reads. The versions below the current one are removed by the writer that superseded them.
 *
 * Not a flock, nor a mutex held for a read-modify-write: a paused holder keeps either for as long
 * as it is paused, and every other berth — the healthy leader's renewals included — waits on it.
 *
 * PATH was a file before (a JSON lease read and replaced under a mutex socket): such a file is
 * honoured while its lease runs, then turned into the folder under that mutex, its counter kept.
 * An older berth then fails to read the folder and never leads beside a newer one.
 */
import { randomBytes } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { link, lstat, mkdir, readdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "../core/errors.js";
import { type AcquireResult, type LeaseHolder, type LeaseStore, nextTerm } from "../core/lease.js";
import { acquireHostLock } from "./lock.js";

/** How often a berth re-reads after losing a swap before the store counts as not answering. */
const MAX_SWAPS = 20;
/** How old a temporary file (of a berth killed between write and link) is before anyone removes it. */
const STALE_TEMP_MS = 60_000;
const VERSION_NAME = /^lease\.(\d{1,15})$/;
const TEMP_PREFIX = "tmp.";

interface LeaseFile {
  readonly holder: string | null;
  readonly term: number;
  /** The highest term ever handed out here. */
  readonly counter: number;
  /** Epoch ms; 0 when released. */
  readonly expiresAt: number;
}

const EMPTY: LeaseFile = { holder: null, term: 0, counter: 0, expiresAt: 0 };

/** What a berth read: the current version and its lease (n = 0: none yet; `legacy`: PATH is an older berth's lease file). */
interface Version {
  readonly n: number;
  readonly lease: LeaseFile;
  readonly legacy: boolean;
}

/** What a swap decided on what it read: a result, and the lease to write first (if any). */
interface Decision<T> {
  readonly result: T;
  readonly next?: () => LeaseFile;
}

export interface FileLeaseSeams {
  /** Called between a read and its write (the tests pause a berth there). */
  readonly beforeWrite?: () => Promise<void>;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

export class FileLeaseStore implements LeaseStore {
  readonly where: string;
  private watcher: FSWatcher | null = null;
  private readonly released: (() => void)[] = [];
  /** The highest version whose release the standbys were told of (a release is one version). */
  private releaseTold = 0;

  constructor(
    private readonly file: string,
    private readonly version: string,
    private readonly now: () => number = Date.now,
    private readonly seams: FileLeaseSeams = {},
  ) {
    this.where = `file:${file}`;
  }

  /**
   * The store of `--ha file:PATH`, checked at start: a path that can never hold a lease (its folder
   * missing or a file, a folder berth may not write, such as /proc or /sys) is a usage error.
   * PATH's folder is not created: a path flag names a place that exists.
   */
  static async open(file: string, version: string): Promise<FileLeaseStore> {
    const store = new FileLeaseStore(file, version);
    await store.prepare();
    return store;
  }

  async acquire(holder: string, ttlMs: number, highestSeen: number): Promise<AcquireResult> {
    return this.swap<AcquireResult>((current) => {
      if (current.holder !== null && current.expiresAt > this.now())
        return { result: { acquired: false, current: { holder: current.holder, term: current.term } } };
      const term = nextTerm(current.counter + 1, highestSeen);
      return {
        // A file that lost its counter under a living leader (removed by hand) shows only to a standby that saw a term.
        result: { acquired: true, term, fresh: current.counter < highestSeen },
        next: () => ({ holder, term, counter: term, expiresAt: this.now() + ttlMs }),
      };
    });
  }

  async renew(lease: LeaseHolder, ttlMs: number): Promise<boolean> {
    return this.swap((current) =>
      this.holds(current, lease)
        ? { result: true, next: () => ({ ...current, expiresAt: this.now() + ttlMs }) }
        : { result: false },
    );
  }

  async release(lease: LeaseHolder): Promise<void> {
    await this.swap((current) =>
      this.holds(current, lease)
        ? { result: undefined, next: () => ({ ...current, holder: null, expiresAt: 0 }) }
        : { result: undefined },
    );
  }

  onReleased(fn: () => void): void {
    this.released.push(fn);
    if (this.watcher) return;
    try {
      this.watcher = watch(this.file, (_event, name) => {
        if (typeof name !== "string" || !VERSION_NAME.test(name)) return;
        // Every renewal makes a version too: only a released lease wakes the standbys, once.
        void this.read().then(
          (current) => {
            if (current.lease.holder !== null || current.n <= this.releaseTold) return;
            this.releaseTold = current.n;
            for (const f of this.released) f();
          },
          () => undefined,
        );
      });
      this.watcher.on("error", () => undefined);
      this.watcher.unref();
    } catch {
      // No watch (PATH is still an older berth's file): the standbys poll.
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

  /**
   * Reads the current version, lets `decide` choose, and writes the next version if it chose to.
   * A write that loses (the version exists, or a higher one does) reads and decides again.
   */
  private async swap<T>(decide: (current: LeaseFile) => Decision<T>): Promise<T> {
    for (let attempt = 0; attempt < MAX_SWAPS; attempt++) {
      const current = await this.read();
      const decision = decide(current.lease);
      if (!decision.next) return decision.result;
      // An older berth's live lease is never written over; read again (it expires, or it converts).
      if (current.legacy) continue;
      await this.seams.beforeWrite?.();
      if (await this.write(current.n + 1, decision.next())) return decision.result;
    }
    throw new BerthError("BERTH_HA", `--ha ${this.where}: the lease kept changing under ${MAX_SWAPS} tries; try again`);
  }

  /** Creates version n; true when it is now the current one, false when another berth wrote first. */
  private async write(n: number, lease: LeaseFile): Promise<boolean> {
    const temp = path.join(this.file, `${TEMP_PREFIX}${process.pid}.${randomBytes(4).toString("hex")}`);
    const target = path.join(this.file, `lease.${n}`);
    try {
      // The first version of a store whose folder was removed by hand: the folder again.
      if (n === 1) await mkdir(this.file, { mode: 0o700 }).catch(() => undefined);
      await writeFile(temp, `${JSON.stringify(lease)}\n`, { mode: 0o600 });
      // link() never replaces: of the berths that read version n - 1, one creates version n.
      await link(temp, target);
    } catch (err) {
      if (errno(err) === "EEXIST") return false;
      throw this.failed("cannot write it", err);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    const names = await this.list().catch((err: unknown) => {
      throw this.failed("cannot read it", err);
    });
    if (names.versions.some((v) => v > n)) {
      // A berth paused since its read resumed after version n had been written and removed: its
      // version was never the highest, no reader took it for current; it goes, and it reads again.
      await unlink(target).catch(() => undefined);
      return false;
    }
    await this.prune(n, names);
    return true;
  }

  /** Removes the versions below n and temporary files of berths killed before they linked theirs. */
  private async prune(n: number, { versions, temps }: { versions: number[]; temps: string[] }): Promise<void> {
    await Promise.all(
      versions.filter((v) => v < n).map((v) => unlink(path.join(this.file, `lease.${v}`)).catch(() => undefined)),
    );
    await Promise.all(
      temps.map(async (name) => {
        const file = path.join(this.file, name);
        const st = await stat(file).catch(() => null);
        if (st && Date.now() - st.mtimeMs > STALE_TEMP_MS) await unlink(file).catch(() => undefined);
      }),
    );
  }

  private async list(): Promise<{ versions: number[]; temps: string[] }> {
    const names = await readdir(this.file);
    const versions: number[] = [];
    const temps: string[] = [];
    for (const name of names) {
      const match = VERSION_NAME.exec(name);
      if (match) versions.push(Number(match[1]));
      else if (name.startsWith(TEMP_PREFIX)) temps.push(name);
    }
    return { versions, temps };
  }

  /** The current version: the highest n (read again if it was superseded and removed meanwhile). */
  private async read(): Promise<Version> {
    for (let attempt = 0; attempt < MAX_SWAPS; attempt++) {
      let versions: number[];
      try {
        ({ versions } = await this.list());
      } catch (err) {
        if (errno(err) === "ENOENT") return { n: 0, lease: EMPTY, legacy: false };
        if (errno(err) === "ENOTDIR") {
          const legacy = await this.legacy();
          if (legacy) return { n: 0, lease: legacy, legacy: true };
          continue;
        }
        throw this.failed("cannot read it", err);
      }
      if (versions.length === 0) return { n: 0, lease: EMPTY, legacy: false };
      const n = Math.max(...versions);
      let text: string;
      try {
        text = await readFile(path.join(this.file, `lease.${n}`), "utf8");
      } catch (err) {
        if (errno(err) === "ENOENT") continue;
        throw this.failed("cannot read it", err);
      }
      return { n, lease: this.parse(text, `lease.${n}`), legacy: false };
    }
    throw new BerthError("BERTH_HA", `--ha ${this.where}: the lease kept changing under ${MAX_SWAPS} tries; try again`);
  }

  private parse(text: string, name: string): LeaseFile {
    try {
      const parsed = JSON.parse(text) as Partial<LeaseFile>;
      return {
        holder: typeof parsed.holder === "string" ? parsed.holder : null,
        term: Number(parsed.term) || 0,
        counter: Number(parsed.counter) || 0,
        expiresAt: Number(parsed.expiresAt) || 0,
      };
    } catch {
      throw new BerthError(
        "BERTH_HA",
        `--ha ${this.where}: ${name} is not a lease file berth wrote (not JSON); remove it`,
      );
    }
  }

  /**
   * PATH is an older berth's lease file: its lease while it runs (returned), else the file turned
   * into the folder of versions, its counter kept (null: read again). Under the older berths' mutex
   * socket, which they hold for each read-modify-write of the file: only for this one change.
   */
  private async legacy(): Promise<LeaseFile | null> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (err) {
      // Turned into the folder (or removed) since: read again.
      if (errno(err) === "ENOENT" || errno(err) === "EISDIR") return null;
      throw this.failed("cannot read it", err);
    }
    const current = this.parse(text, path.basename(this.file));
    if (current.holder !== null && current.expiresAt > this.now()) return current;
    let mutex;
    try {
      mutex = await acquireHostLock({
        stateDir: path.dirname(this.file),
        controllerId: `${path.basename(this.file)}.mutex`,
        command: "ha",
        version: this.version,
        answerTimeoutMs: 500,
      });
    } catch (err) {
      throw new BerthError(
        "BERTH_HA",
        `--ha ${this.where}: an older berth's lease file, not turned into a folder yet: its mutex is busy (${(err as Error).message})`,
      );
    }
    try {
      const again = this.parse(await readFile(this.file, "utf8"), path.basename(this.file));
      if (again.holder !== null && again.expiresAt > this.now()) return again;
      await unlink(this.file);
      await mkdir(this.file, { mode: 0o700 });
      await writeFile(
        path.join(this.file, "lease.1"),
        `${JSON.stringify({ ...again, holder: null, expiresAt: 0 })}\n`,
        {
          mode: 0o600,
          flag: "wx",
        },
      );
      return null;
    } catch (err) {
      if (["ENOENT", "EISDIR", "EEXIST"].includes(errno(err) ?? "")) return null;
      throw this.failed("cannot turn the older lease file into a folder", err);
    } finally {
      await mutex.release();
    }
  }

  /** Checks PATH at start: its folder exists, and PATH is (or becomes) a folder berth can write in. */
  private async prepare(): Promise<void> {
    const parent = path.dirname(this.file);
    let st;
    try {
      st = await stat(parent);
    } catch (err) {
      if (errno(err) === "ENOENT")
        throw BerthError.usage(`--ha ${this.where}: the folder ${parent} does not exist; create it first`);
      throw BerthError.usage(`--ha ${this.where}: cannot use the folder ${parent}: ${(err as Error).message}`);
    }
    if (!st.isDirectory()) throw BerthError.usage(`--ha ${this.where}: ${parent} is not a folder`);
    try {
      await mkdir(this.file, { mode: 0o700 });
    } catch (err) {
      if (errno(err) !== "EEXIST")
        throw BerthError.usage(`--ha ${this.where}: cannot create the lease folder: ${(err as Error).message}`);
      const existing = await lstat(this.file);
      // An older berth's lease file: read (and turned into a folder) by the first change.
      if (existing.isFile()) return;
      if (!existing.isDirectory())
        throw BerthError.usage(`--ha ${this.where}: ${this.file} is neither a folder nor a lease file`);
    }
    // A folder berth may create but not write in (a read-only mount) fails here, not at every try.
    const probe = path.join(this.file, `${TEMP_PREFIX}${process.pid}.probe`);
    try {
      await writeFile(probe, "", { mode: 0o600 });
      await unlink(probe);
    } catch (err) {
      throw BerthError.usage(`--ha ${this.where}: cannot write in the lease folder: ${(err as Error).message}`);
    }
  }

  private failed(what: string, err: unknown): BerthError {
    return new BerthError("BERTH_HA", `--ha ${this.where}: ${what}: ${(err as Error).message}`);
  }
}
