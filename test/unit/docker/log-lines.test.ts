/**
 * A container's logs as lines (docker/container-io.ts logLines), from bytes framed exactly as the
 * engine frames them. With timestamps=true the engine writes each log message as one frame of its
 * multiplexed stream: the message's time (RFC 3339, nanoseconds, fixed width), a space, and the
 * message. A line longer than the log driver's buffer (16 KiB for json-file and local) is stored as
 * several partial messages: each but the last without its "\n", each stamped with a time (the first
 * one's, for json-file and local) that is in the stream again at the start of its own frame.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { logLines } from "../../../src/docker/container-io.js";
import type { LogLine } from "../../../src/docker/port.js";

const T1 = "2026-12-06T04:39:27.624299460Z";
const T2 = "2026-12-06T04:39:27.700000001Z";
const T3 = "2026-12-06T04:39:28.000000000Z";

/** One frame of the multiplexed stream: 1 stdout, 2 stderr; the payload is `time payload`. */
function frame(stream: 1 | 2, time: string, payload: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(`${time} `), Buffer.isBuffer(payload) ? payload : Buffer.from(payload)]);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** A line as the engine's copier logs it: 16 KiB partial messages, then the rest with its "\n". */
function partialFrames(stream: 1 | 2, time: string, line: Buffer, size = 16 * 1024): Buffer[] {
  const frames: Buffer[] = [];
  let at = 0;
  for (; line.length - at >= size; at += size) frames.push(frame(stream, time, line.subarray(at, at + size)));
  frames.push(frame(stream, time, Buffer.concat([line.subarray(at), Buffer.from("\n")])));
  return frames;
}

/** The lines of a logs answer given whole (a buffer, as without follow). */
function linesOf(bytes: Buffer): { lines: LogLine[]; ended: boolean } {
  const lines: LogLine[] = [];
  let ended = false;
  logLines(bytes, false, {
    onLine: (line) => lines.push(line),
    onEnd: () => (ended = true),
  });
  return { lines, ended };
}

/** The lines of a followed logs stream that arrives in pieces cut at `cuts` (byte offsets). */
async function linesOfStream(bytes: Buffer, cuts: readonly number[]): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const source = new PassThrough();
  const ended = new Promise<void>((resolve) => {
    logLines(source, false, { onLine: (line) => lines.push(line), onEnd: () => resolve() });
  });
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    source.write(bytes.subarray(from, cut));
    from = cut;
    await new Promise((resolve) => setImmediate(resolve));
  }
  source.end();
  await ended;
  return lines;
}

const long = "x".repeat(40_000);

describe("logLines over the multiplexed stream", () => {
  it("a 40 000-character line the engine split in three partial messages comes out whole, once, with its time", () => {
    const frames = partialFrames(1, T1, Buffer.from(long));
    expect(frames).toHaveLength(3);
    const { lines, ended } = linesOf(Buffer.concat([...frames, frame(1, T2, "short\n")]));
    expect(ended).toBe(true);
    expect(lines).toEqual([
      { stream: "stdout", time: T1, line: long },
      { stream: "stdout", time: T2, line: "short" },
    ]);
  });

  it("is the same when the stream arrives cut inside a header, inside a continuation's time, and after it", async () => {
    const frames = partialFrames(1, T1, Buffer.from(long));
    const bytes = Buffer.concat([frame(1, T3, "before\n"), ...frames, frame(1, T2, "short\n")]);
    const second = (frames[0]?.length ?? 0) + frame(1, T3, "before\n").length;
    const cuts = [3, second + 4, second + 8 + 10, second + 8 + T1.length, second + 8 + T1.length + 1];
    expect(await linesOfStream(bytes, cuts)).toEqual([
      { stream: "stdout", time: T3, line: "before" },
      { stream: "stdout", time: T1, line: long },
      { stream: "stdout", time: T2, line: "short" },
    ]);
    // Byte by byte through every frame boundary of the long line.
    const everyByte = Array.from({ length: 200 }, (_, i) => second - 100 + i);
    expect((await linesOfStream(bytes, everyByte)).map((l) => l.line.length)).toEqual([6, 40_000, 5]);
  });

  it("keeps stdout's and stderr's partial messages apart when their frames interleave", () => {
    const out = partialFrames(1, T1, Buffer.from("o".repeat(20_000)));
    const err = partialFrames(2, T2, Buffer.from("e".repeat(33_000)));
    const bytes = Buffer.concat([
      out[0] ?? Buffer.alloc(0),
      err[0] ?? Buffer.alloc(0),
      frame(2, T3, "-mid-"),
      frame(1, T3, "o-tail\n"),
    ]);
    // frame(2, T3, …) above continues stderr's line: the engine sent no "\n" before it.
    const { lines } = linesOf(Buffer.concat([bytes, ...err.slice(1), frame(1, T3, "next\n")]));
    expect(lines).toEqual([
      { stream: "stdout", time: T1, line: `${"o".repeat(16_384)}o-tail` },
      { stream: "stderr", time: T2, line: `${"e".repeat(16_384)}-mid-${"e".repeat(33_000 - 16_384)}` },
      { stream: "stdout", time: T3, line: "next" },
    ]);
  });

  it("a character the 16 KiB cut splits comes out whole", () => {
    const text = `${"a".repeat(16_383)}é and more`;
    const { lines } = linesOf(Buffer.concat(partialFrames(1, T1, Buffer.from(text))));
    expect(lines).toEqual([{ stream: "stdout", time: T1, line: text }]);
  });

  it("a line that ends the logs without its newline comes out at the end, and a time inside a line stays", () => {
    const { lines } = linesOf(
      Buffer.concat([
        frame(1, T1, `written at ${T2} by hand\n`),
        frame(1, T2, "y".repeat(16_384)),
        frame(1, T2, "no newline"),
      ]),
    );
    expect(lines).toEqual([
      { stream: "stdout", time: T1, line: `written at ${T2} by hand` },
      { stream: "stdout", time: T2, line: `${"y".repeat(16_384)}no newline` },
    ]);
  });

  it("a continuation that starts with text like a time keeps that text", () => {
    const { lines } = linesOf(
      Buffer.concat([frame(1, T1, "z".repeat(16_384)), frame(1, T1, `${T2} is in the line\n`)]),
    );
    expect(lines).toEqual([{ stream: "stdout", time: T1, line: `${"z".repeat(16_384)}${T2} is in the line` }]);
  });
});
