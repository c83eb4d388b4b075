/**
 * Raw DEFLATE as base64 text, for the applied-spec label (core/applied.ts) when its JSON is large.
 * Like sha256.ts, a pure function of its input taken from Node (node:zlib): a JavaScript inflater
 * (fflate) cost 20–30 ms at every CLI start on the reference machine, node:zlib nothing measurable.
 * The rule that keeps core free of node:* modules (eslint.config.js) names these two files only.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";

/** UTF-8 text → raw DEFLATE → base64. */
export function deflateBase64(text: string): string {
  return deflateRawSync(text, { level: 9 }).toString("base64");
}

/**
 * base64 → raw DEFLATE → UTF-8 text; null when the input is not that, or inflates past `maxBytes`
 * (a label is read, never trusted).
 */
export function inflateBase64(encoded: string, maxBytes: number): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return null;
  try {
    return inflateRawSync(Buffer.from(encoded, "base64"), { maxOutputLength: maxBytes }).toString("utf8");
  } catch {
    return null;
  }
}
