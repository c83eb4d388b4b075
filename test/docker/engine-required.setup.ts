/**
 * First in every real-engine test file: when global-setup.ts found no usable engine, the file
 * fails here, before it touches Docker, with that one line and no stack (the same error for every
 * file, so vitest's summary prints it once).
 */
import { inject } from "vitest";

const reason = inject("dockerUnavailable");
if (reason) {
  const err = new Error(reason);
  err.stack = `Error: ${reason}`;
  throw err;
}
