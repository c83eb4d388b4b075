/**
 * `-` as a spec source (`berth validate -f - < web.yaml`, as `kubectl apply -f -`): the standard
 * input, read once per process (a pass that loads again gets the same bytes), and at most `limit`
 * bytes kept (the parser refuses a larger file by its size, and the rest is drained, not kept).
 */
import type { Readable } from "node:stream";

/** How a spec source names the standard input, and how its file is shown in messages. */
export const STDIN_SOURCE = "-";
export const STDIN_FILE = "<stdin>";

/** The bytes of `input`, the first `limit` + 1 of them kept; `size` counts them all. */
export async function readAll(input: Readable, limit: number): Promise<{ bytes: Uint8Array; size: number }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (kept <= limit) {
      const part = buffer.subarray(0, limit + 1 - kept);
      chunks.push(part);
      kept += part.length;
    }
  }
  return { bytes: Buffer.concat(chunks), size };
}

let once: Promise<{ bytes: Uint8Array; size: number }> | null = null;

/** The process's standard input, read the first time it is asked for. */
export function processStdin(limit: number): Promise<{ bytes: Uint8Array; size: number }> {
  once ??= readAll(process.stdin, limit);
  return once;
}
