/**
 * One Git source's folder under the state folder (docs/gitops.md, "On disk"):
 *
 *   <root>/repo.git            the bare cache, fetched into shallowly
 *   <root>/checkouts/<sha>/    one folder per revision, written whole before it is used
 *   <root>/specs               a symbolic link to checkouts/<sha>/<--git-path>: the spec folder
 *
 * A new revision is checked out into a folder of its own, then the link is replaced by a rename
 * (atomic), so a pass sees one revision or the next, never half of one; the watcher follows such
 * a swap (host/watcher.ts). Older checkouts are removed, but the one before the current stays
 * (a pass may still be reading it).
 */
import { randomBytes } from "node:crypto";
import { realpathSync } from "node:fs";
import { mkdir, readdir, readlink, rename, rm, stat, symlink } from "node:fs/promises";
import path from "node:path";
import type { GitRef } from "../core/git-source.js";
import { type GitCredentials, GitError, runGit } from "./git.js";

export interface Commit {
  readonly sha: string;
  /** Committer time, epoch ms. */
  readonly committedAt: number;
  readonly subject: string;
}

export interface CheckoutOptions {
  readonly root: string;
  readonly url: string;
  readonly ref: GitRef;
  /** The folder inside the repository ("" for its root). */
  readonly gitPath: string;
  readonly credentials: GitCredentials;
  readonly timeoutMs: number;
}

/** The ref berth fetches into, in its own namespace of the cache. */
const HEAD_REF = "refs/berth/head";
const SHA_RE = /^[0-9a-f]{40}$/;

/** `p` relative to `dir` when it lies below it, else null. */
function below(dir: string, p: string): string | null {
  const rel = path.relative(dir, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : null;
}

export class GitCheckout {
  readonly specDir: string;
  private readonly gitDir: string;
  private readonly checkouts: string;
  private readonly home: string;

  constructor(private readonly options: CheckoutOptions) {
    this.specDir = path.join(options.root, "specs");
    this.gitDir = path.join(options.root, "repo.git");
    this.checkouts = path.join(options.root, "checkouts");
    this.home = path.join(options.root, "home");
  }

  /** The commit a file read through a pinned root (manifest/loader.ts pinnedRoots) came from, or null. */
  revisionOfPath(file: string): string | null {
    const rel = this.inCheckouts(file);
    const sha = rel?.split(path.sep)[0];
    return sha !== undefined && SHA_RE.test(sha) ? sha : null;
  }

  /** A spec file's path inside this source's spec folder, read through the link or a pinned checkout; null when not this source's. */
  specFileOf(file: string): string | null {
    const viaLink = below(this.specDir, path.resolve(file));
    if (viaLink !== null) return viaLink;
    const sha = this.revisionOfPath(file);
    const rel = sha === null ? null : this.inCheckouts(file);
    return rel === null ? null : below(path.join(sha ?? "", this.options.gitPath), rel);
  }

  /** The file's path below checkouts/ (as given, or as the link resolved it), or null. */
  private inCheckouts(file: string): string | null {
    const absolute = path.resolve(file);
    const direct = below(this.checkouts, absolute);
    if (direct !== null) return direct;
    let real: string;
    try {
      real = realpathSync(this.checkouts);
    } catch {
      return null;
    }
    return below(real, absolute);
  }

  private git(args: readonly string[], env: Record<string, string> = {}): Promise<string> {
    return runGit(args, {
      home: this.home,
      credentials: this.options.credentials,
      timeoutMs: this.options.timeoutMs,
      env: { GIT_DIR: this.gitDir, ...env },
    });
  }

  /** The revision checked out now (the link's target), or null: none yet. */
  async current(): Promise<string | null> {
    const target = await readlink(this.specDir).catch(() => null);
    const sha = target?.split("/")[1];
    return sha !== undefined && SHA_RE.test(sha) ? sha : null;
  }

  /** The commit a checked-out revision is, from the cache. */
  async commit(sha: string): Promise<Commit> {
    const out = await this.git(["log", "-1", "--format=%H%x00%ct%x00%s", sha]);
    const [full = sha, time = "0", subject = ""] = out.trim().split("\0");
    return { sha: full, committedAt: Number(time) * 1000, subject };
  }

  /** Fetches the ref (shallow) and returns the commit it names now. */
  async fetch(): Promise<string> {
    await mkdir(this.home, { recursive: true, mode: 0o700 });
    await stat(path.join(this.gitDir, "HEAD")).catch(async () => {
      await mkdir(this.gitDir, { recursive: true, mode: 0o700 });
      await this.git(["init", "--bare", "--quiet"]);
    });
    const ref = this.options.ref;
    const source = ref.kind === "commit" ? ref.sha : ref.name;
    // `--` ends the options: the URL and the refspec are never read as flags (they were checked too).
    await this.git([
      "fetch",
      "--quiet",
      "--depth=1",
      "--no-tags",
      "--force",
      "--",
      this.options.url,
      `+${source}:${HEAD_REF}`,
    ]);
    const sha = (await this.git(["rev-parse", "--verify", "--end-of-options", `${HEAD_REF}^{commit}`])).trim();
    if (!SHA_RE.test(sha)) throw new GitError(`git rev-parse gave ${JSON.stringify(sha)}, not a commit`, "failed");
    return sha;
  }

  /**
   * Makes `sha` the spec folder: checks it out into its own folder (unless there already) and
   * swaps the link. Refused, leaving the current checkout, when --git-path is not a folder there.
   */
  async activate(sha: string): Promise<void> {
    const dir = path.join(this.checkouts, sha);
    if (
      !(await stat(dir)
        .then((s) => s.isDirectory())
        .catch(() => false))
    ) {
      const tmp = path.join(this.checkouts, `.tmp-${sha}-${randomBytes(4).toString("hex")}`);
      const index = path.join(this.options.root, `.index-${randomBytes(4).toString("hex")}`);
      await mkdir(tmp, { recursive: true });
      try {
        await this.git(["read-tree", "--end-of-options", sha], { GIT_INDEX_FILE: index });
        await this.git(["checkout-index", "--all", "--force"], { GIT_INDEX_FILE: index, GIT_WORK_TREE: tmp });
        await rename(tmp, dir);
      } finally {
        await rm(tmp, { recursive: true, force: true });
        await rm(index, { force: true });
      }
    }
    const inside = this.options.gitPath === "" ? dir : path.join(dir, this.options.gitPath);
    if (
      !(await stat(inside)
        .then((s) => s.isDirectory())
        .catch(() => false))
    )
      throw new GitError(
        `--git-path ${JSON.stringify(this.options.gitPath)} is not a folder in commit ${sha.slice(0, 12)}; the previous checkout stays`,
        "failed",
      );
    const link = `${this.specDir}.tmp-${randomBytes(4).toString("hex")}`;
    await symlink(path.relative(this.options.root, inside), link);
    await rename(link, this.specDir);
  }

  /** Removes every checkout but `keep` (the current one and the one before it). */
  async clean(keep: readonly string[]): Promise<void> {
    const entries = await readdir(this.checkouts).catch(() => [] as string[]);
    await Promise.all(
      entries
        .filter((name) => !keep.includes(name))
        .map((name) => rm(path.join(this.checkouts, name), { recursive: true, force: true })),
    );
  }
}
