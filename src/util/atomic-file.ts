/**
 * A file written whole or not at all: a temporary file beside it, renamed into place, so a
 * concurrent reader sees the old content or the new, never half of either. For caches in the
 * user's own folder (the code cache, the cache of spec verdicts), created 0700/0600.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";

export function writeAtomically(folder: string, file: string, data: string | Uint8Array): void {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${String(process.pid)}.tmp`;
  try {
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}
