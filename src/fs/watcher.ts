/**
 * The filesystem watch: chokidar on each spec directory and on its parent (so a directory that
 * is a symlink swapped atomically — git-sync, a Kubernetes ConfigMap — is followed). Changes are
 * debounced and reported as one "something changed"; the loader then re-lists and re-parses only
 * what changed. When inotify watches run out (ENOSPC), berth says so once and relies on the
 * periodic re-list.
 */
import path from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { Logger } from "pino";
import type { Clock, Timer } from "../clock.js";

export interface SpecWatcher {
  close(): Promise<void>;
}

export interface WatchOptions {
  readonly debounceMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Git's internals churn during checkouts and never hold specs. */
function ignored(p: string): boolean {
  return p.split(path.sep).includes(".git");
}

export function watchSpecDirs(dirs: readonly string[], onChange: () => void, options: WatchOptions): SpecWatcher {
  let timer: Timer | null = null;
  let warnedNoSpace = false;
  const changed = (): void => {
    timer?.cancel();
    timer = options.clock.at(options.clock.now() + options.debounceMs, () => {
      timer = null;
      onChange();
    });
  };
  const onError = (err: unknown): void => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EMFILE") {
      if (!warnedNoSpace) {
        warnedNoSpace = true;
        options.log.warn(
          { err: (err as Error).message, code },
          "file watch limit reached; falling back to periodic re-listing",
        );
      }
      return;
    }
    options.log.warn({ err: (err as Error).message, code }, "file watch error");
  };

  const absolute = dirs.map((d) => path.resolve(d));
  const watchers: FSWatcher[] = [];
  const inside = watch(absolute, { ignoreInitial: true, followSymlinks: true, ignored, persistent: true });
  inside.on("all", changed).on("error", onError);
  watchers.push(inside);

  // The parents, one level deep: a swap of the spec directory's own symlink shows up here.
  const parents = [...new Set(absolute.map((d) => path.dirname(d)))];
  const names = new Set(absolute);
  const outside = watch(parents, { ignoreInitial: true, depth: 0, followSymlinks: false, persistent: true });
  outside
    .on("all", (_event: string, p: string) => {
      if (names.has(path.resolve(p))) {
        // The directory itself was replaced: watch the new target too.
        inside.unwatch(p);
        inside.add(p);
        changed();
      }
    })
    .on("error", onError);
  watchers.push(outside);

  return {
    close: async () => {
      timer?.cancel();
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}
