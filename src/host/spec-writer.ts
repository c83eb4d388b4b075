/**
 * Writes, reads and removes spec files in the runtime spec directory; writes atomically: the text goes to a
 * hidden temporary file beside the target (ignored by the loader), is flushed to disk, then
 * renamed over the target, and the directory entry is flushed. A failure at any step removes the
 * temporary file, so nothing half-written remains, and says why. A name whose file would not lie
 * directly in the folder (`../victim`, `a/b`) is refused before any file is touched, whatever
 * the callers checked: every path the API turns into a file is checked against its folder.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";

/** Why a write or removal failed, in the terms the callers act on. */
export type SpecFileProblem = "disk-full" | "read-only" | "denied" | "missing" | "outside" | "failed";

export interface SpecFileFailure {
  readonly ok: false;
  readonly problem: SpecFileProblem;
  /** The system's error code (ENOSPC, EROFS, …), when there is one. */
  readonly errno: string | undefined;
  readonly message: string;
}

function failure(dir: string, err: unknown, what: string): SpecFileFailure {
  const errno = (err as NodeJS.ErrnoException).code;
  const fail = (problem: SpecFileProblem, message: string): SpecFileFailure => ({
    ok: false,
    problem,
    errno,
    message: `${message}; ${what}`,
  });
  switch (errno) {
    case "ENOSPC":
    case "EDQUOT":
      return fail("disk-full", `the disk under the runtime spec directory ${dir} is full (${errno})`);
    case "EROFS":
      return fail("read-only", `the runtime spec directory ${dir} is on a read-only filesystem (EROFS)`);
    case "EACCES":
    case "EPERM":
      return fail("denied", `berth may not write in the runtime spec directory ${dir} (${errno})`);
    case "ENOENT":
      return fail("missing", `the runtime spec directory ${dir} does not exist`);
    default:
      return fail("failed", `writing in the runtime spec directory ${dir} failed (${errno ?? String(err)})`);
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

/** `<dir>/<name>.yaml` when that file lies directly in `dir`; else a failure naming the name. */
function fileIn(dir: string, name: string): string | SpecFileFailure {
  const folder = path.resolve(dir);
  const file = path.resolve(folder, `${name}.yaml`);
  const plain = name !== "" && !name.startsWith(".") && !/[/\\\0]/.test(name);
  if (plain && path.dirname(file) === folder && path.basename(file) === `${name}.yaml`) return file;
  return {
    ok: false,
    problem: "outside",
    errno: undefined,
    message: `${JSON.stringify(name)} does not name a file directly in the runtime spec directory ${dir}; nothing was touched`,
  };
}

/** The text of `<dir>/<name>.yaml`; null when there is no such file (or it cannot be read). */
export async function readSpecFile(dir: string, name: string): Promise<string | null> {
  const target = fileIn(dir, name);
  if (typeof target !== "string") return null;
  return readFile(target, "utf8").catch(() => null);
}

/** Writes `<dir>/<name>.yaml` atomically; `created` when it did not exist before. */
export async function writeSpecFile(
  dir: string,
  name: string,
  text: string,
): Promise<{ readonly ok: true; readonly created: boolean } | SpecFileFailure> {
  const target = fileIn(dir, name);
  if (typeof target !== "string") return target;
  return writeFileAtomic(dir, target, text);
}

/**
 * Writes `target` (a file directly in `dir`, checked by the caller) atomically, through a hidden
 * temporary file beside it; `created` when it did not exist before.
 */
export async function writeFileAtomic(
  dir: string,
  target: string,
  text: string,
): Promise<{ readonly ok: true; readonly created: boolean } | SpecFileFailure> {
  const existed = await stat(target).then(
    () => true,
    () => false,
  );
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  let handle;
  try {
    handle = await open(temp, "wx", 0o644);
    await handle.writeFile(text, "utf8");
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
    await syncDir(path.dirname(target));
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    return failure(dir, err, "nothing was written");
  }
  return { ok: true, created: !existed };
}

/** Removes `<dir>/<name>.yaml`; `removed` is false when there was no such file. */
export async function removeSpecFile(
  dir: string,
  name: string,
): Promise<{ readonly ok: true; readonly removed: boolean } | SpecFileFailure> {
  const target = fileIn(dir, name);
  if (typeof target !== "string") return target;
  return removeFile(dir, target);
}

/** Removes `target` (a file directly in `dir`, checked by the caller); `removed` is false when there was none. */
export async function removeFile(
  dir: string,
  target: string,
): Promise<{ readonly ok: true; readonly removed: boolean } | SpecFileFailure> {
  try {
    await unlink(target);
    await syncDir(path.dirname(target));
    return { ok: true, removed: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, removed: false };
    return failure(dir, err, "nothing was removed");
  }
}
