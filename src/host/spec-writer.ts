/**
 * Writes and removes spec files in the runtime spec directory, atomically: the text goes to a
 * hidden temporary file beside the target (ignored by the loader), is flushed to disk, then
 * renamed over the target, and the directory entry is flushed. A failure at any step removes the
 * temporary file, so nothing half-written remains, and says why with an HTTP status.
 */
import { randomBytes } from "node:crypto";
import { open, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";

export class SpecWriteError extends Error {
  constructor(
    message: string,
    /** The HTTP status that says it: 507 full, 503 read-only, 500 otherwise. */
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "SpecWriteError";
  }
}

function failure(dir: string, err: unknown, what: string): SpecWriteError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return new SpecWriteError(
        `the disk under the runtime spec directory ${dir} is full (${code}); ${what}`,
        507,
        code,
      );
    case "EROFS":
      return new SpecWriteError(
        `the runtime spec directory ${dir} is on a read-only filesystem (EROFS); ${what}`,
        503,
        code,
      );
    case "EACCES":
    case "EPERM":
      return new SpecWriteError(
        `berth may not write in the runtime spec directory ${dir} (${code}); ${what}`,
        500,
        code,
      );
    case "ENOENT":
      return new SpecWriteError(`the runtime spec directory ${dir} does not exist; ${what}`, 500, code);
    default:
      return new SpecWriteError(
        `writing in the runtime spec directory ${dir} failed (${code ?? String(err)}); ${what}`,
        500,
        code,
      );
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function specFilePath(dir: string, name: string): string {
  return path.join(dir, `${name}.yaml`);
}

/** Writes `<dir>/<name>.yaml` atomically; true when it did not exist before. */
export async function writeSpecFile(dir: string, name: string, text: string): Promise<boolean> {
  const target = specFilePath(dir, name);
  const existed = await stat(target).then(
    () => true,
    () => false,
  );
  const temp = path.join(dir, `.${name}.yaml.${randomBytes(6).toString("hex")}.tmp`);
  let handle;
  try {
    handle = await open(temp, "wx", 0o644);
    await handle.writeFile(text, "utf8");
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
    await syncDir(dir);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw failure(dir, err, "nothing was written");
  }
  return !existed;
}

/** Removes `<dir>/<name>.yaml`; false when there was no such file. */
export async function removeSpecFile(dir: string, name: string): Promise<boolean> {
  try {
    await unlink(specFilePath(dir, name));
    await syncDir(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw failure(dir, err, "nothing was removed");
  }
}
