/**
 * SHA-256 (and HMAC-SHA256, for secrets in the spec hash), the one thing core takes from Node: a pure function of its input (no I/O, no state),
 * and node:crypto's native digest is one flat string where a JavaScript one would cost a
 * 32-deep rope and 5x the time per spec. The boundary rule that keeps core free of node:* modules
 * (eslint.config.js) names this file and deflate.ts as its only exceptions.
 */
import { createHash, createHmac } from "node:crypto";

/** SHA-256 of UTF-8 text or of bytes, as 64 hex digits. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** HMAC-SHA256 of UTF-8 text under a key, as 64 hex digits. */
export function hmacSha256Hex(key: Uint8Array, data: string): string {
  return createHmac("sha256", key).update(data).digest("hex");
}
