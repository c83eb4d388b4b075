/**
 * `berth apply`'s view of image pulls and builds as they happen (docs/images.md, Progress), on
 * stderr, as `docker compose up` shows them:
 * - tty: one line per image in progress, with a bar, bytes and layers (the last output line for a
 *   build), redrawn in place at most every REDRAW_MS; each ends as one `pulled … in 2.1s` line;
 * - plain: one line per step: a layer's change of state (a byte count at most every
 *   PLAIN_EVERY_MS while it stays the same), the engine's whole-image lines, a build's steps.
 * ProgressBoard is the pure part (state in, lines out, the time handed in); ProgressView writes
 * them and owns the redraw timer. Everything shown is cleaned of control characters first.
 */
import type { ImageActivity, ImageProgress } from "../core/progress.js";
import { formatBytes, formatSeconds as seconds } from "../core/units.js";
import type { Clock, Timer } from "../util/clock.js";
import { printable } from "./sanitize.js";

export const PROGRESS_MODES = ["auto", "tty", "plain", "quiet"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];
export type ShownMode = Exclude<ProgressMode, "auto">;

/**
 * What `auto` becomes: nothing beside JSON logs (stderr is then a machine's), a live view on a
 * terminal (not TERM=dumb), else step lines.
 */
export function shownMode(
  mode: ProgressMode,
  at: { readonly stderrTTY: boolean; readonly logFormat: string; readonly term: string | undefined },
): ShownMode {
  if (mode !== "auto") return mode;
  if (at.logFormat === "json") return "quiet";
  return at.stderrTTY && at.term !== "dumb" ? "tty" : "plain";
}

/** The shortest time between two redraws of the live view (10 a second). */
export const REDRAW_MS = 100;
/** Plain mode: a layer still in the same state gets a line with its bytes at most this often. */
export const PLAIN_EVERY_MS = 5000;
const BAR_WIDTH = 20;
/** A build's output lines that plain mode shows: the classic builder's steps, BuildKit's. */
const BUILD_STEP = /^(Step \d+\/\d+ :|#\d+ \[)/;
/** Layer states after which all of the layer is downloaded. */
const DOWNLOADED = new Set(["Verifying Checksum", "Download complete", "Extracting", "Pull complete"]);
const LAYER_DONE = new Set(["Pull complete", "Already exists"]);

interface Layer {
  status: string;
  current: number;
  total: number | null;
  /** Plain mode: what was last printed for it, and when. */
  printed: string;
  printedAt: number;
}

interface Entry {
  readonly spec: string;
  readonly phase: ImageProgress["phase"];
  readonly image: string;
  readonly startedAt: number;
  readonly layers: Map<string, Layer>;
  /** The last whole-image line (pull) or output line (build). */
  last: string;
}

export interface BoardOptions {
  readonly mode: "tty" | "plain";
  /** tty: colour the outcome words (NO_COLOR, FORCE_COLOR: util/log.ts useColor). */
  readonly color?: boolean;
}

/** The progress of every image in progress, and the lines it makes. Pure: the time is handed in. */
export class ProgressBoard {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: BoardOptions) {}

  /** Takes one activity in; returns the lines to print for good (tty: only finished images). */
  apply(activity: ImageActivity, now: number): string[] {
    switch (activity.kind) {
      case "started":
        return this.open(activity.spec, activity.phase, activity.image, now).lines;
      case "progress": {
        const { entry, lines } = this.open(activity.spec, activity.event.phase, activity.event.image, now);
        return [...lines, ...this.progress(entry, activity.event, now)];
      }
      case "finished": {
        const entry = this.entries.get(key(activity.spec, activity.phase, activity.image));
        return entry ? [this.close(entry, activity.ok, activity.durationMs)] : [];
      }
    }
  }

  /** Ends what is still open of a spec whose action ended (a build that told no end). */
  settle(spec: string, ok: boolean, now: number): string[] {
    return [...this.entries.values()].filter((e) => e.spec === spec).map((e) => this.close(e, ok, now - e.startedAt));
  }

  /** tty: the lines of the images in progress, in the order they started, each cut to `width`. */
  active(width: number): string[] {
    return [...this.entries.values()].map((e) => cut(e.phase === "pull" ? pullLine(e, width) : buildLine(e), width));
  }

  private open(spec: string, phase: ImageProgress["phase"], image: string, now: number) {
    const k = key(spec, phase, image);
    const found = this.entries.get(k);
    if (found) return { entry: found, lines: [] };
    const entry: Entry = {
      spec: printable(spec),
      phase,
      image: printable(image),
      startedAt: now,
      layers: new Map(),
      last: "",
    };
    this.entries.set(k, entry);
    const verb = phase === "pull" ? "pulling" : "building";
    return { entry, lines: this.options.mode === "plain" ? [`${entry.spec}  ${verb} ${entry.image}`] : [] };
  }

  private close(entry: Entry, ok: boolean, durationMs: number): string {
    this.entries.delete(key(entry.spec, entry.phase, entry.image));
    const paint = (text: string, code: number): string =>
      this.options.mode === "tty" && this.options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
    const what = entry.phase === "pull" ? ["pulled", "pull"] : ["built", "build"];
    if (!ok) return `${entry.spec}  ${what[1]} of ${entry.image} ${paint("failed", 31)} after ${seconds(durationMs)}`;
    const { bytes, count } = totals(entry);
    const size = count > 0 ? ` (${formatBytes(bytes.total)}, ${plural(count, "layer")})` : "";
    return `${entry.spec}  ${paint(what[0] ?? "", 32)} ${entry.image} in ${seconds(durationMs)}${size}`;
  }

  private progress(entry: Entry, event: ImageProgress, now: number): string[] {
    const plain = this.options.mode === "plain";
    if (entry.phase === "build") {
      const lines = event.status
        .split(/\r?\n/)
        .map((l) => printable(l).trim())
        .filter(Boolean);
      entry.last = lines.at(-1) ?? entry.last;
      return plain
        ? lines.filter((l) => BUILD_STEP.test(l)).map((l) => `${entry.spec}  build ${entry.image}: ${l}`)
        : [];
    }
    const status = printable(event.status).trim();
    // "Pulling from …" carries the tag as its id: a whole-image line, as are "Digest: …" and "Status: …".
    if (event.id === undefined || status.startsWith("Pulling from")) {
      if (status === "" || status === entry.last) return [];
      entry.last = status;
      return plain ? [`${entry.spec}  pull ${entry.image}: ${status}`] : [];
    }
    const id = printable(event.id);
    const layer = entry.layers.get(id) ?? { status: "", current: 0, total: null, printed: "", printedAt: 0 };
    entry.layers.set(id, layer);
    layer.status = status;
    if (status === "Downloading" && event.total !== undefined && event.total > 0) {
      layer.total = event.total;
      layer.current = Math.min(event.current ?? 0, event.total);
    } else if (DOWNLOADED.has(status) && layer.total !== null) {
      layer.current = layer.total;
    }
    if (!plain) return [];
    const changed = status !== layer.printed;
    if (!changed && now - layer.printedAt < PLAIN_EVERY_MS) return [];
    layer.printed = status;
    layer.printedAt = now;
    const bytes =
      event.total !== undefined && event.total > 0
        ? ` ${formatBytes(Math.min(event.current ?? 0, event.total))} / ${formatBytes(event.total)}`
        : "";
    return [`${entry.spec}  pull ${entry.image}: layer ${id}: ${status}${bytes}`];
  }
}

function key(spec: string, phase: string, image: string): string {
  return `${printable(spec)}\0${phase}\0${printable(image)}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function totals(entry: Entry) {
  let current = 0;
  let total = 0;
  let done = 0;
  for (const layer of entry.layers.values()) {
    if (layer.total !== null) {
      current += layer.current;
      total += layer.total;
    }
    if (LAYER_DONE.has(layer.status)) done++;
  }
  return { bytes: { current, total }, done, count: entry.layers.size };
}

function bar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  const body = filled === 0 ? "" : filled === BAR_WIDTH ? "=".repeat(BAR_WIDTH) : `${"=".repeat(filled - 1)}>`;
  return `[${body.padEnd(BAR_WIDTH)}]`;
}

/** The live line of a pull; on a narrow terminal the image's name is shortened first (from the left: the tag stays). */
function pullLine(entry: Entry, width: number): string {
  const { bytes, done, count } = totals(entry);
  const size = bytes.total > 0 ? ` ${formatBytes(bytes.current)} / ${formatBytes(bytes.total)}` : "";
  const layers = count > 0 ? `  ${done}/${plural(count, "layer")}` : "";
  const fraction = bytes.total > 0 ? bytes.current / bytes.total : 0;
  const head = `${entry.spec}  pulling `;
  const tail = `  ${bar(fraction)}${size}${layers}`;
  const room = maxColumns(width) - head.length - tail.length;
  const image = entry.image.length > room && room >= 12 ? `…${entry.image.slice(-(room - 1))}` : entry.image;
  return `${head}${image}${tail}`;
}

function buildLine(entry: Entry): string {
  return `${entry.spec}  building ${entry.image}${entry.last === "" ? "" : `  ${entry.last}`}`;
}

/** The longest line on a terminal `width` wide (the last column left free: some terminals wrap there). */
const maxColumns = (width: number): number => Math.max(10, width - 1);

/** A line of at most `width` characters (a longer one would wrap, and the redraw miscount its lines). */
function cut(line: string, width: number): string {
  const max = maxColumns(width);
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

export interface ProgressViewDeps {
  readonly mode: "tty" | "plain";
  readonly write: (text: string) => void;
  readonly clock: Clock;
  /** The terminal's width now (tty). */
  readonly columns: () => number;
  readonly color?: boolean;
}

/** Cursor up to the first line of the live block, and erase from there down (ECMA-48 CPL, ED). */
const erase = (lines: number): string => (lines > 0 ? `\x1b[${lines}F\x1b[J` : "");

/** Writes the board: step lines as they come (plain), or a live block redrawn in place (tty). */
export class ProgressView {
  private readonly board: ProgressBoard;
  /** Lines of the live block on the screen now. */
  private drawn = 0;
  private lastDrawAt = Number.NEGATIVE_INFINITY;
  private timer: Timer | null = null;
  private closed = false;

  constructor(private readonly deps: ProgressViewDeps) {
    this.board = new ProgressBoard({ mode: deps.mode, ...(deps.color ? { color: true } : {}) });
  }

  /** The loop's hook (AppHooks.onImage). */
  readonly onImage = (activity: ImageActivity): void => {
    if (this.closed) return;
    const lines = this.board.apply(activity, this.deps.clock.now());
    if (this.deps.mode === "plain") this.print(lines);
    else if (lines.length > 0 || activity.kind === "started") this.draw(lines);
    else this.schedule();
  };

  /** Writes other output (apply's action lines) above the live block; `ok` ends the spec's images. */
  above(spec: string | null, ok: boolean, write: () => void): void {
    const lines = spec === null ? [] : this.board.settle(spec, ok, this.deps.clock.now());
    if (this.deps.mode === "plain" || this.closed) {
      this.print(lines);
      write();
      return;
    }
    this.draw(lines, write);
  }

  /** Erases the live block (before the summary); progress after this is not shown. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    if (this.drawn > 0) this.deps.write(erase(this.drawn));
    this.drawn = 0;
  }

  private print(lines: readonly string[]): void {
    if (lines.length > 0) this.deps.write(lines.map((l) => `${l}\n`).join(""));
  }

  /** One write: erase the block, the lines for good (and `between`), the block again. */
  private draw(done: readonly string[], between?: () => void): void {
    this.timer?.cancel();
    this.timer = null;
    this.lastDrawAt = this.deps.clock.now();
    let text = erase(this.drawn) + done.map((l) => `${l}\n`).join("");
    if (between) {
      if (text !== "") this.deps.write(text);
      text = "";
      this.drawn = 0;
      between();
    }
    const active = this.board.active(this.deps.columns());
    text += active.map((l) => `${l}\n`).join("");
    if (text !== "") this.deps.write(text);
    this.drawn = active.length;
  }

  private schedule(): void {
    if (this.timer) return;
    const at = Math.max(this.deps.clock.now(), this.lastDrawAt + REDRAW_MS);
    this.timer = this.deps.clock.at(at, () => {
      this.timer = null;
      this.draw([]);
    });
  }
}
