/** apply's progress view: golden lines for the board (tty and plain), and the view's redraws on a fake clock. */
import { describe, expect, it } from "vitest";
import { PLAIN_EVERY_MS, ProgressBoard, ProgressView, REDRAW_MS, shownMode } from "../../../src/cli/progress-view.js";
import type { ImageActivity, ImageProgress } from "../../../src/core/progress.js";
import { FakeClock } from "../../support/fake-clock.js";

const IMAGE = "127.0.0.1:5000/app:1";
const MiB = 1024 * 1024;

const started = (spec: string, image = IMAGE): ImageActivity => ({ kind: "started", spec, phase: "pull", image });
const finished = (spec: string, durationMs: number, ok = true, image = IMAGE): ImageActivity => ({
  kind: "finished",
  spec,
  phase: "pull",
  image,
  ok,
  durationMs,
});
const pull = (spec: string, status: string, extra: Partial<ImageProgress> = {}, image = IMAGE): ImageActivity => ({
  kind: "progress",
  spec,
  event: { phase: "pull", image, status, ...extra },
});
const layer = (spec: string, id: string, status: string, current?: number, total?: number): ImageActivity =>
  pull(spec, status, { id, ...(current !== undefined ? { current } : {}), ...(total !== undefined ? { total } : {}) });
const build = (spec: string, status: string, image = "berth.local/web:abc"): ImageActivity => ({
  kind: "progress",
  spec,
  event: { phase: "build", image, status },
});

/** A pull of two layers as the engine streams it (ids are the engine's short ones). */
const PULL: readonly [number, ImageActivity][] = [
  [0, started("web")],
  [10, pull("web", "Pulling from app", { id: "1" })],
  [20, layer("web", "1a2b3c4d5e6f", "Pulling fs layer")],
  [20, layer("web", "9f8e7d6c5b4a", "Pulling fs layer")],
  [30, layer("web", "9f8e7d6c5b4a", "Waiting")],
  [100, layer("web", "1a2b3c4d5e6f", "Downloading", 1 * MiB, 8 * MiB)],
  [200, layer("web", "1a2b3c4d5e6f", "Downloading", 4 * MiB, 8 * MiB)],
  [300, layer("web", "1a2b3c4d5e6f", "Verifying Checksum")],
  [310, layer("web", "1a2b3c4d5e6f", "Download complete")],
  [320, layer("web", "9f8e7d6c5b4a", "Downloading", 2 * MiB, 12 * MiB)],
  [400, layer("web", "1a2b3c4d5e6f", "Extracting", 4 * MiB, 8 * MiB)],
  [500, layer("web", "1a2b3c4d5e6f", "Pull complete")],
  [6000, layer("web", "9f8e7d6c5b4a", "Downloading", 11 * MiB, 12 * MiB)],
  [6100, layer("web", "9f8e7d6c5b4a", "Downloading", 12 * MiB, 12 * MiB)],
  [6200, layer("web", "9f8e7d6c5b4a", "Download complete")],
  [6300, layer("web", "9f8e7d6c5b4a", "Pull complete")],
  [6310, pull("web", "Digest: sha256:0123abcd")],
  [6320, pull("web", `Status: Downloaded newer image for ${IMAGE}`)],
  [6330, finished("web", 2130)],
];

/** Feeds `steps` to a board; returns, per step, the lines printed for good and (tty) the live block. */
function play(mode: "tty" | "plain", steps: readonly [number, ImageActivity][], width = 120) {
  const board = new ProgressBoard({ mode });
  return steps.map(([at, activity]) => {
    const lines = board.apply(activity, at);
    return mode === "tty" ? { lines, active: board.active(width) } : lines;
  });
}

describe("shownMode", () => {
  it.each([
    ["auto", true, "pretty", "xterm", "tty"],
    ["auto", false, "pretty", "xterm", "plain"],
    ["auto", true, "auto", "dumb", "plain"],
    ["auto", true, "json", "xterm", "quiet"],
    ["auto", false, "json", undefined, "quiet"],
    ["plain", true, "json", "xterm", "plain"],
    ["tty", false, "pretty", undefined, "tty"],
    ["quiet", true, "pretty", "xterm", "quiet"],
  ] as const)("%s (stderr a terminal: %s, logs %s, TERM=%s) → %s", (mode, stderrTTY, logFormat, term, shown) => {
    expect(shownMode(mode, { stderrTTY, logFormat, term })).toBe(shown);
  });
});

describe("ProgressBoard, tty", () => {
  it("one live line per image with bar, bytes and layers; one line for good when it ends", () => {
    const frames = play("tty", PULL);
    const live = frames.map((f) => (typeof f === "object" && "active" in f ? f.active.join(" | ") : ""));
    expect(live).toEqual([
      `web  pulling ${IMAGE}  [                    ]`,
      `web  pulling ${IMAGE}  [                    ]`,
      `web  pulling ${IMAGE}  [                    ]  0/1 layer`,
      `web  pulling ${IMAGE}  [                    ]  0/2 layers`,
      `web  pulling ${IMAGE}  [                    ]  0/2 layers`,
      `web  pulling ${IMAGE}  [==>                 ] 1 MiB / 8 MiB  0/2 layers`,
      `web  pulling ${IMAGE}  [=========>          ] 4 MiB / 8 MiB  0/2 layers`,
      `web  pulling ${IMAGE}  [====================] 8 MiB / 8 MiB  0/2 layers`,
      `web  pulling ${IMAGE}  [====================] 8 MiB / 8 MiB  0/2 layers`,
      `web  pulling ${IMAGE}  [=========>          ] 10 MiB / 20 MiB  0/2 layers`,
      `web  pulling ${IMAGE}  [=========>          ] 10 MiB / 20 MiB  0/2 layers`,
      `web  pulling ${IMAGE}  [=========>          ] 10 MiB / 20 MiB  1/2 layers`,
      `web  pulling ${IMAGE}  [==================> ] 19 MiB / 20 MiB  1/2 layers`,
      `web  pulling ${IMAGE}  [====================] 20 MiB / 20 MiB  1/2 layers`,
      `web  pulling ${IMAGE}  [====================] 20 MiB / 20 MiB  1/2 layers`,
      `web  pulling ${IMAGE}  [====================] 20 MiB / 20 MiB  2/2 layers`,
      `web  pulling ${IMAGE}  [====================] 20 MiB / 20 MiB  2/2 layers`,
      `web  pulling ${IMAGE}  [====================] 20 MiB / 20 MiB  2/2 layers`,
      "",
    ]);
    const forGood = frames.flatMap((f) => (typeof f === "object" && "lines" in f ? f.lines : []));
    expect(forGood).toEqual([`web  pulled ${IMAGE} in 2.1s (20 MiB, 2 layers)`]);
  });

  it("several images at once: a line each, in the order they started; a failed pull says so", () => {
    const other = "registry.example/db:2";
    const board = new ProgressBoard({ mode: "tty" });
    board.apply(started("web"), 0);
    board.apply(started("db", other), 0);
    board.apply(layer("web", "aaaaaaaaaaaa", "Downloading", 512, 2048), 10);
    board.apply(pull("db", "Downloading", { id: "bbbbbbbbbbbb", current: 3 * MiB, total: 4 * MiB }, other), 10);
    expect(board.active(120)).toEqual([
      `web  pulling ${IMAGE}  [====>               ] 512 bytes / 2 KiB  0/1 layer`,
      `db  pulling ${other}  [==============>     ] 3 MiB / 4 MiB  0/1 layer`,
    ]);
    expect(board.apply(finished("db", 900, false, other), 900)).toEqual([`db  pull of ${other} failed after 0.9s`]);
    expect(board.active(120)).toEqual([`web  pulling ${IMAGE}  [====>               ] 512 bytes / 2 KiB  0/1 layer`]);
    // A line never wraps: on a narrow terminal the image's name is shortened first, then the line cut.
    expect(board.active(80)).toEqual([
      `web  pulling …1:5000/app:1  [====>               ] 512 bytes / 2 KiB  0/1 layer`,
    ]);
    expect(board.active(30)).toEqual(["web  pulling 127.0.0.1:5000/…"]);
  });

  it("colours the outcome when asked (NO_COLOR off), never the live lines", () => {
    const board = new ProgressBoard({ mode: "tty", color: true });
    board.apply(started("web"), 0);
    expect(board.active(120)).toEqual([`web  pulling ${IMAGE}  [                    ]`]);
    expect(board.apply(finished("web", 1000), 1000)).toEqual([`web  \x1b[32mpulled\x1b[0m ${IMAGE} in 1.0s`]);
    board.apply(started("db"), 0);
    expect(board.apply(finished("db", 50, false), 50)).toEqual([
      `db  pull of ${IMAGE} \x1b[31mfailed\x1b[0m after 0.1s`,
    ]);
  });

  it("a build shows its last output line, cleaned of escapes; one with no end told ends with its spec's action", () => {
    const board = new ProgressBoard({ mode: "tty" });
    board.apply(build("web", "Step 1/2 : FROM berth-test/busybox\n"), 0);
    board.apply(build("web", " ---> 1234abcd\nStep 2/2 : RUN \x1b[31mmake\x1b[0m\n"), 10);
    expect(board.active(120)).toEqual(["web  building berth.local/web:abc  Step 2/2 : RUN make"]);
    expect(board.settle("db", true, 3000)).toEqual([]);
    expect(board.settle("web", true, 3000)).toEqual(["web  built berth.local/web:abc in 3.0s"]);
    expect(board.active(120)).toEqual([]);
  });
});

describe("ProgressBoard, plain", () => {
  it("one line per step: state changes only, Downloading again at most every PLAIN_EVERY_MS", () => {
    expect(PLAIN_EVERY_MS).toBe(5000);
    expect(play("plain", PULL).flat()).toEqual([
      `web  pulling ${IMAGE}`,
      `web  pull ${IMAGE}: Pulling from app`,
      `web  pull ${IMAGE}: layer 1a2b3c4d5e6f: Pulling fs layer`,
      `web  pull ${IMAGE}: layer 9f8e7d6c5b4a: Pulling fs layer`,
      `web  pull ${IMAGE}: layer 9f8e7d6c5b4a: Waiting`,
      `web  pull ${IMAGE}: layer 1a2b3c4d5e6f: Downloading 1 MiB / 8 MiB`,
      // 200: Downloading again, 100 ms later: no line.
      `web  pull ${IMAGE}: layer 1a2b3c4d5e6f: Verifying Checksum`,
      `web  pull ${IMAGE}: layer 1a2b3c4d5e6f: Download complete`,
      `web  pull ${IMAGE}: layer 9f8e7d6c5b4a: Downloading 2 MiB / 12 MiB`,
      `web  pull ${IMAGE}: layer 1a2b3c4d5e6f: Extracting 4 MiB / 8 MiB`,
      `web  pull ${IMAGE}: layer 1a2b3c4d5e6f: Pull complete`,
      // 6000: still Downloading, but 5.7 s after its last line: a line with the bytes; 6100: none.
      `web  pull ${IMAGE}: layer 9f8e7d6c5b4a: Downloading 11 MiB / 12 MiB`,
      `web  pull ${IMAGE}: layer 9f8e7d6c5b4a: Download complete`,
      `web  pull ${IMAGE}: layer 9f8e7d6c5b4a: Pull complete`,
      `web  pull ${IMAGE}: Digest: sha256:0123abcd`,
      `web  pull ${IMAGE}: Status: Downloaded newer image for ${IMAGE}`,
      `web  pulled ${IMAGE} in 2.1s (20 MiB, 2 layers)`,
    ]);
  });

  it("a build's step lines only, never colour, and progress for an image never started starts it", () => {
    const board = new ProgressBoard({ mode: "plain", color: true });
    const lines = [
      build("web", "Step 1/2 : FROM berth-test/busybox\n"),
      build("web", " ---> 1234abcd\n"),
      build("web", "Step 2/2 : RUN echo hi\n ---> Running in 5678\nhi\n"),
      build("web", "#5 [2/3] RUN make\n"),
      { kind: "finished", spec: "web", phase: "build", image: "berth.local/web:abc", ok: false, durationMs: 4200 },
    ].flatMap((a) => board.apply(a as ImageActivity, 0));
    expect(lines).toEqual([
      "web  building berth.local/web:abc",
      "web  build berth.local/web:abc: Step 1/2 : FROM berth-test/busybox",
      "web  build berth.local/web:abc: Step 2/2 : RUN echo hi",
      "web  build berth.local/web:abc: #5 [2/3] RUN make",
      "web  build of berth.local/web:abc failed after 4.2s",
    ]);
  });

  it("an image pulled for two specs at once gets a line set each", () => {
    const board = new ProgressBoard({ mode: "plain" });
    const lines = [started("a"), started("b"), finished("b", 100), finished("a", 200)].flatMap((a) =>
      board.apply(a, 0),
    );
    expect(lines).toEqual([
      `a  pulling ${IMAGE}`,
      `b  pulling ${IMAGE}`,
      `b  pulled ${IMAGE} in 0.1s`,
      `a  pulled ${IMAGE} in 0.2s`,
    ]);
  });
});

describe("ProgressView", () => {
  function view(mode: "tty" | "plain") {
    const clock = new FakeClock(0);
    const writes: string[] = [];
    const v = new ProgressView({ mode, clock, write: (t) => writes.push(t), columns: () => 120 });
    return { clock, writes, v };
  }

  it("tty: redraws in place, at most once every REDRAW_MS however many events come", async () => {
    const { clock, writes, v } = view("tty");
    v.onImage(started("web"));
    expect(writes).toEqual([`web  pulling ${IMAGE}  [                    ]\n`]);
    for (let i = 1; i <= 50; i++) v.onImage(layer("web", "1a2b3c4d5e6f", "Downloading", i * 1000, 100_000));
    expect(writes).toHaveLength(1);
    await clock.advance(REDRAW_MS);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe(
      `\x1b[1F\x1b[Jweb  pulling ${IMAGE}  [=========>          ] 48.8 KiB / 97.7 KiB  0/1 layer\n`,
    );
    await clock.advance(10 * REDRAW_MS);
    expect(writes).toHaveLength(2);
    v.onImage(finished("web", 1500));
    expect(writes[2]).toBe(`\x1b[1F\x1b[Jweb  pulled ${IMAGE} in 1.5s (97.7 KiB, 1 layer)\n`);
  });

  it("tty: other output goes above the live block, which is drawn again below it; close erases it", () => {
    const { writes, v } = view("tty");
    v.onImage(started("web"));
    v.onImage(started("db"));
    v.above("db", true, () => writes.push("ok create db\n"));
    v.close();
    v.onImage(started("late"));
    expect(writes.join("")).toBe(
      [
        `web  pulling ${IMAGE}  [                    ]\n`,
        `\x1b[1F\x1b[Jweb  pulling ${IMAGE}  [                    ]\ndb  pulling ${IMAGE}  [                    ]\n`,
        `\x1b[2F\x1b[Jdb  pulled ${IMAGE} in 0.0s\n`,
        "ok create db\n",
        `web  pulling ${IMAGE}  [                    ]\n`,
        "\x1b[1F\x1b[J",
      ].join(""),
    );
  });

  it("plain: lines as they come, no escape codes, no timer", () => {
    const { clock, writes, v } = view("plain");
    for (const [, a] of PULL.slice(0, 8)) v.onImage(a);
    v.above("web", true, () => writes.push("ok create web\n"));
    expect(clock.pending()).toEqual([]);
    const text = writes.join("");
    expect(text).not.toContain("\x1b");
    expect(text.split("\n").slice(-3)).toEqual([`web  pulled ${IMAGE} in 0.0s (8 MiB, 2 layers)`, "ok create web", ""]);
  });
});
