/**
 * The filesystem edge of the spec language: finds spec files below each spec directory, reads
 * them safely and parses each, re-parsing only files whose content changed since the last load.
 * What holds across files (unique names, namespace joins) is checked by the caller, over the set
 * it will use (cross-file.ts).
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { compareIssues, type SpecIssue } from "../core/errors.js";
import type { Profile } from "../core/policy/policy.js";
import { sha256Hex } from "../core/sha256.js";
import { Semaphore } from "../util/semaphore.js";
import { processStdin, STDIN_FILE, STDIN_SOURCE } from "./stdin.js";
import { withBuildPaths } from "./build-paths.js";
import { optionsFingerprint, storable, type VerdictStore, verdictKey, watchedContext } from "./verdicts.js";
import { type LoadedObject, type LoadedSpec, crossFileChecks, findObjectCollisions } from "./cross-file.js";
import {
  DEFAULT_PARSE_OPTIONS,
  type FileParseResult,
  fileTooLarge,
  type ParseOptions,
  type ParsedDocument,
  type ParsedObject,
  parseSpecBytes,
} from "./parse.js";

export type { LoadedObject, LoadedSpec } from "./cross-file.js";

/** What one spec file says, as of the last load. */
export interface LoadedFile {
  readonly path: string;
  readonly file: string;
  readonly source: string;
  readonly result: FileParseResult;
}

export interface DirectoryState {
  readonly dir: string;
  /** False when the directory is missing or unreadable. */
  readonly readable: boolean;
  /** Spec files found (valid or not). */
  readonly fileCount: number;
}

export interface LoadResult {
  readonly files: readonly LoadedFile[];
  /** The problems of each file and directory, sorted by file and position (none across files). */
  readonly issues: readonly SpecIssue[];
  readonly directories: readonly DirectoryState[];
  /** Files parsed in this load, and files whose previous result was reused (unchanged). */
  readonly stats: { readonly parsed: number; readonly reused: number };
}

export interface LoaderOptions extends ParseOptions {
  /** Most spec files across all directories. */
  readonly maxFiles: number;
  /** Deepest folder nesting followed below a spec directory. */
  readonly maxDirDepth: number;
  /**
   * Roots read through the folder their symbolic link points to when a load starts (a Git
   * source's `specs` link, docs/gitops.md): every file of one load comes from one checkout, even
   * if the link is swapped meanwhile, and its path names that checkout.
   */
  readonly pinnedRoots?: ReadonlySet<string>;
  /**
   * Verdicts on valid files kept between processes (verdicts.ts): a short command's load judges
   * an unchanged file without parsing it. None by default.
   */
  readonly verdicts?: VerdictStore;
  /** Where a `-` spec source reads from (default: the process's standard input, read once). */
  readonly stdin?: (limit: number) => Promise<{ readonly bytes: Uint8Array; readonly size: number }>;
}

export const DEFAULT_LOADER_OPTIONS: LoaderOptions = {
  ...DEFAULT_PARSE_OPTIONS,
  maxFiles: 20_000,
  maxDirDepth: 16,
};

const SPEC_FILE_RE = /\.ya?ml$/i;
const LEFTOVER_RE = /(~|\.bak|\.orig|\.tmp|\.swp|\.swo|\.rej)$/i;

/** docs/design.md, "Spec files": hidden names (.git, ..data, .swp) and editor leftovers are never spec files. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith(".") || LEFTOVER_RE.test(name);
}

export function isSpecFileName(name: string): boolean {
  return !isIgnoredName(name) && SPEC_FILE_RE.test(name);
}

/** How a path is shown: relative to the working directory when below it. */
export function displayPath(p: string, cwd: string = process.cwd()): string {
  const rel = path.relative(cwd, p);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

function errnoMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "symbolic link loop";
    case "ENOENT":
      return "does not exist";
    case "ENOTDIR":
      return "is not a directory";
    case "EISDIR":
      return "is a directory";
    default:
      return code ? `${code}: ${(err as Error).message}` : String(err);
  }
}

function dirIssue(dir: string, message: string, code: SpecIssue["code"] = "BERTH_UNREADABLE"): SpecIssue {
  return { code, file: displayPath(dir), line: 0, column: 0, path: "", message };
}

function fileProblem(file: string, code: SpecIssue["code"], message: string): FileParseResult {
  return { documents: [], issues: [{ code, file, line: 1, column: 1, path: "", message }], names: [] };
}

interface Found {
  readonly path: string;
  readonly source: string;
}

/**
 * Where the files of one spec root may lie: below the root as resolved when the load began, or as
 * resolved now (a git-sync swap of the root's own link during a load). Symbolic links below a
 * root may only point inside it (docs/design.md, "Spec files"): a link to /etc/shadow must not
 * turn into a spec file whose content is quoted back in error messages.
 */
class Containment {
  private constructor(
    readonly root: string,
    private readonly real: string,
  ) {}

  static async of(root: string): Promise<Containment> {
    return new Containment(root, await realpath(root).catch(() => root));
  }

  holds(resolved: string): boolean {
    if (isBelow(resolved, this.real)) return true;
    let now = this.real;
    try {
      now = realpathSync(this.root);
    } catch {
      // Gone: nothing more is inside it than before.
    }
    return now !== this.real && isBelow(resolved, now);
  }

  /** The refusal of a link `full` that leads outside the root. */
  outside(full: string): SpecIssue {
    return {
      code: "BERTH_UNREADABLE",
      file: displayPath(full),
      line: 1,
      column: 1,
      path: "",
      message: `is a symbolic link that leads outside the spec folder ${displayPath(this.root)}; not read (links may only point inside it, as a ConfigMap's ..data links do)`,
    };
  }
}

function isBelow(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : `${dir}${path.sep}`);
}

/**
 * Lists the spec files below a directory, following symbolic links to files and folders (a
 * ConfigMap's files are links into ..data) without looping.
 */
async function discover(
  root: string,
  options: LoaderOptions,
  budget: { files: number },
  containment: Containment,
): Promise<{ files: Found[]; issues: SpecIssue[] }> {
  const files: Found[] = [];
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  const queue: [string, number][] = [[root, 0]];
  while (queue.length > 0) {
    const [dir, depth] = queue.shift() as [string, number];
    let real: string;
    let entries;
    try {
      real = await realpath(dir);
      if (seen.has(real)) continue;
      seen.add(real);
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (dir === root) throw err;
      issues.push(dirIssue(dir, `cannot read this folder: ${errnoMessage(err)}`));
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (isIgnoredName(entry.name)) continue;
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        try {
          isDir = (await stat(full)).isDirectory();
          if (!containment.holds(await realpath(full))) {
            if (isDir || SPEC_FILE_RE.test(entry.name)) issues.push(containment.outside(full));
            continue;
          }
        } catch (err) {
          if (SPEC_FILE_RE.test(entry.name)) {
            // A dangling or looping link named like a spec file: say so, do not guess.
            issues.push({
              code: "BERTH_UNREADABLE",
              file: displayPath(full),
              line: 1,
              column: 1,
              path: "",
              message: `cannot follow this symbolic link: ${errnoMessage(err)}`,
            });
          }
          continue;
        }
      }
      if (isDir) {
        if (depth + 1 > options.maxDirDepth) {
          issues.push(dirIssue(full, `is nested more than ${options.maxDirDepth} folders deep; not read`));
        } else {
          queue.push([full, depth + 1]);
        }
        continue;
      }
      if (!SPEC_FILE_RE.test(entry.name)) continue;
      if (--budget.files < 0) {
        issues.push(
          dirIssue(
            root,
            `holds more than ${options.maxFiles} spec files; the rest are not read`,
            "BERTH_TOO_MANY_FILES",
          ),
        );
        return { files, issues };
      }
      files.push({ path: full, source: path.relative(root, full) });
    }
  }
  return { files, issues };
}

interface CacheEntry {
  readonly stamp: string;
  readonly digest: string;
  readonly result: FileParseResult;
  /** When the file was read (epoch ms). */
  readonly readAt: number;
}

/**
 * File times are coarse (a kernel tick): a file rewritten with the same size within a tick keeps
 * its stamp. As git does for "racily clean" entries, trust an unchanged stamp only when the file
 * was last modified well before it was read.
 */
const RACY_MS = 2000;

function stampOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/**
 * Where an open file really is: /proc's name for the descriptor (the file opened, whatever links
 * changed since), or, without /proc, the path resolved now when it is still the same file.
 */
function openedPath(fd: number, given: string, st: Stats): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).replace(/ \(deleted\)$/, "");
  } catch {
    try {
      const real = realpathSync(given);
      const now = statSync(real);
      return now.dev === st.dev && now.ino === st.ino ? real : null;
    } catch {
      return null;
    }
  }
}

interface FileRead {
  readonly result: FileParseResult;
  readonly entry?: CacheEntry;
  readonly reused?: boolean;
}

async function readSpecFile(
  found: Found,
  file: string,
  options: LoaderOptions,
  cache: Map<string, CacheEntry>,
  containment: Containment,
  fingerprint: string,
): Promise<FileRead | null> {
  // An unchanged file is known from its stamp alone, without opening it (a pass over many files
  // then costs one stat each).
  const cached = cache.get(found.path);
  if (cached) {
    try {
      const st = statSync(found.path);
      if (cached.stamp === stampOf(st) && cached.readAt - st.mtimeMs > RACY_MS) {
        return { result: cached.result, entry: cached, reused: true };
      }
    } catch {
      // Gone or unreadable: opening it says which.
    }
  }
  const read = readBytes(found, file, options, containment);
  if (read === null || "result" in read) return read;
  const { bytes, stamp, readAt } = read;
  const digest = sha256Hex(bytes);
  if (cached && cached.digest === digest) {
    return { result: cached.result, entry: { stamp, digest, result: cached.result, readAt }, reused: true };
  }
  try {
    const source = found.source.split(path.sep).join("/");
    const { result, recalled } = await parseOrRecall(bytes, { file, source }, digest, options, fingerprint);
    return { result, entry: { stamp, digest, result, readAt }, reused: recalled };
  } catch (err) {
    return { result: fileProblem(file, "BERTH_UNREADABLE", `cannot be read: ${errnoMessage(err)}`) };
  }
}

/** The verdict on a file's bytes: the one kept for them (options.verdicts), else a parse. */
async function parseOrRecall(
  bytes: Uint8Array,
  { file, source }: { readonly file: string; readonly source: string },
  digest: string,
  options: LoaderOptions,
  fingerprint: string,
): Promise<{ result: FileParseResult; recalled: boolean }> {
  const store = options.verdicts;
  if (store === undefined) {
    return { result: await parseInTurn(() => parseSpecBytes(bytes, file, options, source)), recalled: false };
  }
  // The file's place below its spec folder decides too (a build context must stay inside it).
  const key = verdictKey(fingerprint, `${file}\0${source}`, digest);
  const kept = store.get(key);
  if (kept !== undefined) return { result: kept, recalled: true };
  const { context, consulted } = watchedContext(options.policyContext);
  const result = await parseInTurn(() => parseSpecBytes(bytes, file, { ...options, policyContext: context }, source));
  if (storable(result, consulted())) store.put(key, result);
  return { result, recalled: false };
}

/**
 * Reads one file without ever blocking on a FIFO or device and without reading more than the
 * size limit, or says why not (null: gone since listed). Synchronous, as git's own reads of a
 * work tree are: a spec file is at most maxFileBytes of a local file, a few system calls of
 * microseconds each, where each call through a promise costs a trip through the thread pool (40
 * files: 1–2 ms against 6–14 ms of open, stat, readlink, read and close as promises, 8 at a time).
 */
function readBytes(
  found: Found,
  file: string,
  options: LoaderOptions,
  containment: Containment,
): { bytes: Uint8Array; stamp: string; readAt: number } | FileRead | null {
  let fd: number;
  try {
    fd = openSync(found.path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null; // gone since listed
    return { result: fileProblem(file, "BERTH_UNREADABLE", `cannot be read: ${errnoMessage(err)}`) };
  }
  try {
    const st = fstatSync(fd);
    // The file opened, not the path listed: a link swapped since discovery is caught here.
    const opened = openedPath(fd, found.path, st);
    if (opened === null || !containment.holds(opened)) {
      return { result: { documents: [], issues: [{ ...containment.outside(found.path), file }], names: [] } };
    }
    if (!st.isFile()) {
      const kind = st.isFIFO()
        ? "a FIFO"
        : st.isSocket()
          ? "a socket"
          : st.isCharacterDevice() || st.isBlockDevice()
            ? "a device"
            : "not a regular file";
      return { result: fileProblem(file, "BERTH_NOT_A_FILE", `is ${kind}, not a regular file; not read`) };
    }
    const stamp = stampOf(st);
    const readAt = Date.now();
    const limit = options.limits.maxFileBytes;
    if (st.size > limit) {
      return { result: fileTooLarge(file, st.size, options.limits) };
    }
    // Read at most limit + 1 bytes: a file growing while read is still caught by the limit.
    const buffer = new Uint8Array(Math.min(st.size, limit) + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    return { bytes: buffer.subarray(0, length), stamp, readAt };
  } catch (err) {
    return { result: fileProblem(file, "BERTH_UNREADABLE", `cannot be read: ${errnoMessage(err)}`) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Parsing is synchronous, bounded per file by the limits (docs/errors.md, "Limits"). Files are
 * parsed one at a time, each after a turn of the event loop, so that between two files the HTTP
 * API and the engine's events are served, however many files finished reading together.
 */
const parseSlot = new Semaphore(1);

function parseInTurn<T>(parse: () => T): Promise<T> {
  return parseSlot.run(async () => {
    await yieldToLoop();
    return parse();
  });
}

/**
 * Loads spec directories (or single files, for `berth validate FILE`). Keeps a cache between
 * loads so that only files whose content changed are parsed again.
 */
export class SpecLoader {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly fingerprint: string;

  constructor(
    private readonly roots: readonly string[],
    private readonly options: LoaderOptions = DEFAULT_LOADER_OPTIONS,
  ) {
    this.fingerprint = optionsFingerprint(options);
  }

  async load(): Promise<LoadResult> {
    const files: LoadedFile[] = [];
    const issues: SpecIssue[] = [];
    const directories: DirectoryState[] = [];
    const budget = { files: this.options.maxFiles };
    const stats = { parsed: 0, reused: 0 };
    const nextCache = new Map<string, CacheEntry>();
    // A file reached twice (`specs/` and `specs/web.yaml`, `specs` and `./specs`, `- -`) is read
    // once: it is not a duplicate of itself.
    const seenFiles = new Set<string>();
    const firstTime = (p: string): boolean => {
      let real = p;
      try {
        real = realpathSync.native(p);
      } catch {
        // Unreadable: reading it says why, once per path given.
      }
      if (seenFiles.has(real)) return false;
      seenFiles.add(real);
      return true;
    };

    for (const given of this.roots) {
      if (given === STDIN_SOURCE) {
        if (!firstTime(STDIN_SOURCE)) continue;
        const loaded = await this.loadStdin();
        stats.parsed++;
        files.push(loaded);
        issues.push(...loaded.result.issues);
        directories.push({ dir: STDIN_SOURCE, readable: true, fileCount: 1 });
        continue;
      }
      const dir = path.resolve(given);
      const root = this.options.pinnedRoots?.has(dir) ? await realpath(dir).catch(() => dir) : dir;
      const containment = await Containment.of(root);
      let found: Found[];
      let st: Stats;
      try {
        st = await stat(root);
      } catch (err) {
        issues.push(dirIssue(root, `cannot read the spec path: ${errnoMessage(err)}`));
        directories.push({ dir, readable: false, fileCount: 0 });
        continue;
      }
      if (st.isDirectory()) {
        try {
          const discovered = await discover(root, this.options, budget, containment);
          found = discovered.files;
          issues.push(...discovered.issues);
        } catch (err) {
          issues.push(dirIssue(root, `cannot read the spec directory: ${errnoMessage(err)}`));
          directories.push({ dir, readable: false, fileCount: 0 });
          continue;
        }
      } else {
        found = [{ path: root, source: path.basename(root) }];
      }
      directories.push({ dir, readable: true, fileCount: found.length });
      // The folder the files' sources are relative to: a build context lies inside it.
      const specRoot = st.isDirectory() ? root : path.dirname(root);

      // One file at a time: reading is synchronous and parsing one per turn of the event loop
      // (parseInTurn), so one file, at most maxFileBytes, is in memory at once.
      for (const f of found) {
        if (!firstTime(f.path)) continue;
        const file = displayPath(f.path);
        const read = await readSpecFile(f, file, this.options, this.cache, containment, this.fingerprint);
        if (!read) continue;
        if (read.entry) nextCache.set(f.path, read.entry);
        if (read.reused) stats.reused++;
        else stats.parsed++;
        // Looked for at every load, also when the file's parse was kept: a context can come and go.
        const result = withBuildPaths(read.result, file, specRoot);
        files.push({ path: f.path, file, source: f.source, result });
        issues.push(...result.issues);
      }
    }
    this.cache.clear();
    for (const [k, v] of nextCache) this.cache.set(k, v);
    this.options.verdicts?.save();
    issues.sort(compareIssues);
    return { files, issues, directories, stats };
  }

  /** `-`: the standard input, shown as <stdin>. */
  private async loadStdin(): Promise<LoadedFile> {
    const limit = this.options.limits.maxFileBytes;
    const read = this.options.stdin ?? processStdin;
    let result: FileParseResult;
    try {
      const { bytes, size } = await read(limit);
      result =
        size > limit
          ? fileTooLarge(STDIN_FILE, size, this.options.limits)
          : await parseInTurn(() => parseSpecBytes(bytes, STDIN_FILE, this.options));
    } catch (err) {
      result = fileProblem(STDIN_FILE, "BERTH_UNREADABLE", `cannot be read: ${errnoMessage(err)}`);
    }
    return { path: STDIN_SOURCE, file: STDIN_FILE, source: STDIN_FILE, result };
  }
}

/** What `berth validate` says of the files as they are now: their valid specs and every problem. */
export interface Validation {
  readonly files: readonly LoadedFile[];
  /** Valid specs of valid files, without those refused across files. */
  readonly specs: readonly LoadedSpec[];
  /** Every problem, across files too, sorted by file and position. */
  readonly issues: readonly SpecIssue[];
  /** Valid declared networks and volumes of valid files, without those declared twice. */
  readonly objects: readonly LoadedObject[];
}

/** The documents of one file, with where each came from. */
export function specsOf(file: string, source: string, documents: readonly ParsedDocument[]): LoadedSpec[] {
  return documents.map((doc) => ({
    spec: doc.spec,
    file,
    source,
    line: doc.line,
    column: doc.column,
    joins: doc.joins,
  }));
}

/** The declared networks and volumes of one file, with where each came from. */
export function objectsOf(file: string, source: string, objects: readonly ParsedObject[] | undefined): LoadedObject[] {
  return (objects ?? []).map((o) => ({ object: o.object, file, source, line: o.line, column: o.column }));
}

/** The files as they are now, checked across files too (`berth validate`). */
export function validateLoad(load: LoadResult, profile: Profile): Validation {
  const candidates = load.files.flatMap((f) => specsOf(f.file, f.source, f.result.documents));
  const broken = load.files
    .filter((f) => f.result.issues.length > 0)
    .map((f) => ({ file: f.file, names: f.result.names, pools: f.result.pools ?? [] }));
  const { refused, issues } = crossFileChecks(candidates, profile, undefined, broken);
  const declared = load.files.flatMap((f) => objectsOf(f.file, f.source, f.result.objects));
  const twice = findObjectCollisions(declared);
  return {
    files: load.files,
    specs: candidates.filter((c) => !refused.has(c)),
    issues: [...load.issues, ...issues, ...twice.issues].sort(compareIssues),
    objects: declared.filter((o) => !twice.refused.has(o)),
  };
}
