/**
 * A process stream whose reader has gone (`berth … | head -1`): Node reports the failed write as
 * an 'error' event a tick later; closableOut takes EPIPE as the end of the output (later writes
 * are dropped, `closed` resolves) and leaves any other error uncaught, as it was.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { closableOut } from "../../../src/cli/io.js";

/** A pipe that takes `open` writes, then fails every write with `code`, as a closed pipe does. */
function pipe(open: number, code = "EPIPE") {
  const written: string[] = [];
  let calls = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      calls++;
      if (calls > open) {
        callback(Object.assign(new Error(`write ${code}`), { code, errno: -32, syscall: "write" }));
        return;
      }
      written.push(chunk.toString());
      callback();
    },
  });
  return { stream, written, calls: () => calls };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("closableOut", () => {
  it("writes until the reader closes the pipe, then drops every write quietly", async () => {
    const p = pipe(1);
    const out = closableOut(p.stream);
    let closed = false;
    void out.closed.then(() => {
      closed = true;
    });
    out.write("first\n");
    out.write("second\n"); // EPIPE: reported as an 'error' event a tick later
    await tick();
    expect(closed).toBe(true);
    for (let i = 0; i < 5; i++) out.write(`more ${i}\n`);
    await tick();
    expect(p.written).toEqual(["first\n"]);
    expect(p.calls()).toBe(2);
  });

  it("leaves any other error uncaught", () => {
    const p = pipe(0, "EIO");
    closableOut(p.stream);
    expect(() => p.stream.emit("error", Object.assign(new Error("write EIO"), { code: "EIO" }))).toThrow("write EIO");
  });
});
