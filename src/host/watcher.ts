/**
 * The filesystem watch: chokidar on each spec directory and on its parent (so a directory that
 * is a symlink swapped atomically — git-sync, a Kubernetes ConfigMap — is followed). Changes are
 * debounced and reported as one "something changed"; the loader then re-lists and re-parses only
 * what changed.
 *
 * Only directories (and symbolic links) are watched. An inotify watch on a directory reports
 * every change to the files in it, so chokidar's usual extra watch per file (an inotify watch, a
 * handle and about 2 KB of heap each: 10 MB for 5 000 specs) buys nothing here; its raw events say
 * "changed" instead.
 *
 * When inotify watches run out (ENOSPC, or EMFILE for instances), berth says so once and falls
 * back to periodic re-listing: the same watch in chokidar's polling mode, which needs no inotify
 * and looks at each file.
 */
import { lstatSync, realpathSync, type Stats } from "node:fs";
import path from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { Logger } from "pino";
import type { Clock, Timer } from "../util/clock.js";

export interface SpecWatcher {
  close(): Promise<void>;
  /** True once the watch fell back to polling. */
  readonly polling: boolean;
  /** Settles when the first watch is in place (changes made before it may not be seen). */
  readonly ready: Promise<void>;
}

export interface WatchOptions {
  readonly debounceMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** How often the polling fallback looks at the files. */
  readonly pollIntervalMs?: number;
}

/** The loader reads no deeper (LoaderOptions.maxDirDepth); neither does the watch. */
const MAX_DEPTH = 16;

/**
 * Git's internals churn during checkouts and never hold specs. A symbolic link to a folder that
 * holds the link itself (`loop -> ..`) would make the watch follow it forever, watching the same
 * files again at every level: such links are not followed (the loader skips them too).
 *
 * With `files`, plain files are ignored as well: only directories and symbolic links need a watch
 * of their own (a link's target may live outside every watched directory, so only a watch on the
 * link sees it change; a directory's watch reports every change to the plain files in it).
 */
function ignored(p: string, files: boolean): boolean {
  if (p.split(path.sep).includes(".git")) return true;
  let st: Stats;
  try {
    st = lstatSync(p);
  } catch {
    return files;
  }
  if (!st.isSymbolicLink()) return files && !st.isDirectory();
  try {
    const target = realpathSync(p);
    const parent = realpathSync(path.dirname(p));
    return parent === target || parent.startsWith(`${target}${path.sep}`) || target === path.sep;
  } catch {
    return false;
  }
}

const LIMIT_CODES = new Set(["ENOSPC", "EMFILE"]);

export function watchSpecDirs(dirs: readonly string[], onChange: () => void, options: WatchOptions): SpecWatcher {
  let timer: Timer | null = null;
  let closed = false;
  let polling = false;
  let watchers: FSWatcher[] = [];
  const absolute = dirs.map((d) => path.resolve(d));
  const names = new Set(absolute);
  const parents = [...new Set(absolute.map((d) => path.dirname(d)))];
  const parentSet = new Set(parents);

  const changed = (): void => {
    timer?.cancel();
    timer = options.clock.at(options.clock.now() + options.debounceMs, () => {
      timer = null;
      onChange();
    });
  };

  const fallBack = (err: NodeJS.ErrnoException): void => {
    if (polling || closed) return;
    polling = true;
    options.log.warn(
      { err: err.message, code: err.code, pollIntervalMs: options.pollIntervalMs ?? 2000 },
      "file watch limit reached; falling back to periodic re-listing",
    );
    const old = watchers;
    void Promise.all(old.map((w) => w.close())).then(() => {
      if (!closed) start(true);
      changed(); // anything may have changed while the watch was failing
    });
  };

  const onError = (err: unknown): void => {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== undefined && LIMIT_CODES.has(e.code)) {
      fallBack(e);
      return;
    }
    options.log.warn({ err: e.message, code: e.code }, "file watch error");
  };

  function start(usePolling: boolean): void {
    const common = usePolling
      ? { usePolling: true, interval: options.pollIntervalMs ?? 2000, binaryInterval: options.pollIntervalMs ?? 2000 }
      : {};
    const inside = watch(absolute, {
      ignoreInitial: true,
      followSymlinks: true,
      // Polling has to look at each file; inotify does not (see ignored()).
      ignored: (p: string) => ignored(p, !usePolling && !names.has(p)),
      depth: MAX_DEPTH,
      persistent: true,
      ...common,
    });
    inside.on("all", changed).on("raw", changed).on("error", onError);
    // The parents, one level deep: a swap of the spec directory's own symlink shows up here.
    const outside = watch(parents, {
      ignoreInitial: true,
      depth: 0,
      followSymlinks: false,
      persistent: true,
      ...(usePolling ? {} : { ignored: (p: string) => !parentSet.has(p) }),
      ...common,
    });
    const swapped = (p: string): void => {
      if (!names.has(p)) return;
      // The directory itself was replaced: watch the new target too.
      inside.unwatch(p);
      inside.add(p);
      changed();
    };
    outside
      .on("all", (_event: string, p: string) => {
        swapped(path.resolve(p));
      })
      .on("raw", (_event, p: string | null, details: unknown) => {
        // A directory's watch names the entry relative to it (or not at all); polling gives full paths.
        const dir = (details as { watchedPath?: string } | undefined)?.watchedPath ?? "";
        if (!p) for (const name of names) swapped(name);
        else swapped(path.resolve(dir, p));
      })
      .on("error", onError);
    watchers = [inside, outside];
  }

  start(false);
  const ready = Promise.all(
    watchers.map(
      (w) =>
        new Promise<void>((resolve) =>
          w.once("ready", () => {
            resolve();
          }),
        ),
    ),
  ).then(() => {});
  return {
    ready,
    get polling() {
      return polling;
    },
    close: async () => {
      closed = true;
      timer?.cancel();
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}
