/**
 * Build contexts on disk (docs/images.md, Builds): the files of a `build:` spec's context folder as
 * they are sent to the engine — after its .dockerignore, the Dockerfile and .dockerignore always
 * kept, as the docker CLI does — their hash (core/build.ts) and their tar. The desired state hashes
 * a context every pass (a file's content digest is kept while its stat stamp is unchanged); the
 * executor packs the same folder, and the tar fails if the files no longer hash to the tag.
 */
import { createHash } from "node:crypto";
import { createReadStream, realpathSync } from "node:fs";
import { lstat, readFile, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import dockerignore from "@balena/dockerignore";
import { builtImage, type ContextEntry, contextHash, type NormalizedBuild } from "../core/build.js";
import { BerthError } from "../core/errors.js";
import { sha256Hex } from "../core/sha256.js";

/** A file rewritten within a stat tick keeps its stamp: trust a stamp only well after the write (as the loader). */
const RACY_MS = 2000;

/** A context with more entries is refused: it is almost surely a folder meant to be ignored. */
const MAX_ENTRIES = 100_000;

interface Walked extends ContextEntry {
  readonly abs: string;
  readonly size: number;
  readonly mtime: Date;
  readonly linkname?: string;
}

interface Remembered {
  readonly image: string;
  readonly dir: string;
  readonly build: NormalizedBuild;
}

/** The spec root of a loaded spec file: its path less its path relative to the root. */
export function specRootOf(file: string, source: string): string {
  const rel = source.split("/").join(path.sep);
  return file.endsWith(path.sep + rel) ? file.slice(0, file.length - rel.length - 1) : path.dirname(file);
}

function contextError(message: string, cause?: unknown): BerthError {
  return BerthError.retriable("BERTH_BUILD_CONTEXT", message, cause);
}

export class BuildContexts {
  private readonly digests = new Map<string, { readonly stamp: string; readonly digest: string }>();
  /** The last context hashed for each spec, by spec name: what its image tag was made from. */
  private readonly last = new Map<string, Remembered>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The image a build spec's context makes now (`berth.local/<spec>:<hash>`), for a spec file at
   * `file` whose path below its spec root is `source`. Throws BERTH_BUILD_CONTEXT when the folder
   * cannot be read or leads out of the spec root through a symbolic link.
   */
  async image(spec: string, build: NormalizedBuild, file: string, source: string): Promise<string> {
    const dir = this.contextDir(build, specRootOf(file, source));
    const entries = await this.walk(dir, build);
    const seen = new Set<string>();
    const withDigests: ContextEntry[] = [];
    for (const e of entries) {
      seen.add(e.abs);
      withDigests.push({ ...e, digest: await this.digestOf(e) });
    }
    for (const key of this.digests.keys())
      if (key.startsWith(dir + path.sep) && !seen.has(key)) this.digests.delete(key);
    const image = builtImage(spec, contextHash(withDigests, build));
    this.last.set(spec, { image, dir, build });
    return image;
  }

  /**
   * The tar of the context an image was hashed from, streamed as read; it errors (and the build
   * with it) when the files read no longer make that image's hash: the next pass hashes again.
   */
  async pack(spec: string, image: string): Promise<Readable> {
    const known = this.last.get(spec);
    if (known?.image !== image) {
      throw BerthError.retriable("BERTH_RACE", `the context of ${image} is not known any more; planning again`);
    }
    const entries = await this.walk(known.dir, known.build);
    const tar = await import("tar-stream");
    const out = tar.pack();
    const add = (headers: Parameters<typeof out.entry>[0], data: Buffer | string): Promise<void> =>
      new Promise((resolve, reject) => {
        out.entry({ uid: 0, gid: 0, ...headers }, data, (err) => {
          if (err) reject(err);
          else resolve();
        });
      });
    const fill = async (): Promise<void> => {
      const sent: ContextEntry[] = [];
      for (const e of entries) {
        const base = { name: e.path, mode: e.mode, mtime: e.mtime };
        if (e.type === "dir") {
          await add({ ...base, type: "directory" }, "");
          sent.push(e);
        } else if (e.type === "symlink") {
          await add({ ...base, type: "symlink", linkname: e.linkname ?? "" }, "");
          sent.push({ ...e, digest: sha256Hex(e.linkname ?? "") });
        } else {
          const content = await readFile(e.abs);
          await add({ ...base, type: "file", size: content.length }, content);
          sent.push({ ...e, digest: sha256Hex(content) });
        }
      }
      if (builtImage(spec, contextHash(sent, known.build)) !== image) {
        throw BerthError.retriable(
          "BERTH_RACE",
          `the build context of ${spec} changed while it was sent; building again with the new files`,
        );
      }
      out.finalize();
    };
    fill().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
    return out;
  }

  /**
   * The text of the Dockerfile an image was hashed from (for the registries of its FROM lines).
   * Read apart from the tar: a Dockerfile changed in between fails the tar, and the build with it.
   */
  async dockerfile(spec: string, image: string): Promise<string> {
    const known = this.last.get(spec);
    if (known?.image !== image) {
      throw BerthError.retriable("BERTH_RACE", `the context of ${image} is not known any more; planning again`);
    }
    const file = path.join(known.dir, ...known.build.dockerfile.split("/"));
    try {
      return await readFile(file, "utf8");
    } catch (err) {
      throw contextError(`the Dockerfile ${file} cannot be read (${(err as Error).message})`, err);
    }
  }

  private contextDir(build: NormalizedBuild, root: string): string {
    const dir = path.join(root, ...build.context.split("/"));
    let realRoot: string;
    let realDir: string;
    try {
      realRoot = realpathSync(root);
      realDir = realpathSync(dir);
    } catch (err) {
      throw contextError(`the build context ${dir} cannot be read (${(err as Error).message})`, err);
    }
    if (realDir !== realRoot && !realDir.startsWith(realRoot + path.sep)) {
      throw contextError(
        `the build context ${dir} leads outside the spec folder ${root} (to ${realDir}) through a symbolic link; a context must be inside it`,
      );
    }
    return realDir;
  }

  /** The entries sent, in a stable order, with an empty digest (filled by the caller). */
  private async walk(dir: string, build: NormalizedBuild): Promise<Walked[]> {
    let patterns: string[] = [];
    try {
      patterns = (await readFile(path.join(dir, ".dockerignore"), "utf8")).split(/\r?\n/);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw contextError(`${path.join(dir, ".dockerignore")} cannot be read (${(err as Error).message})`, err);
      }
    }
    const ig = dockerignore.default().add(patterns);
    // An exception (!pattern) may bring back a file below an ignored folder: then every folder is walked.
    const prune = !patterns.some((p) => p.trim().startsWith("!"));
    const kept = new Set([build.dockerfile, ".dockerignore"]);
    const out: Walked[] = [];
    const visit = async (rel: string): Promise<void> => {
      let names: string[];
      try {
        names = (await readdir(rel === "" ? dir : path.join(dir, rel))).sort();
      } catch (err) {
        throw contextError(
          `the build context folder ${path.join(dir, rel)} cannot be read (${(err as Error).message})`,
          err,
        );
      }
      for (const name of names) {
        const relPath = rel === "" ? name : `${rel}/${name}`;
        const abs = path.join(dir, relPath);
        const st = await lstat(abs);
        const ignored = ig.ignores(relPath) && !kept.has(relPath);
        if (out.length >= MAX_ENTRIES) {
          throw contextError(
            `the build context ${dir} holds more than ${MAX_ENTRIES} entries; list what the image does not need in its .dockerignore`,
          );
        }
        const common = { path: relPath, abs, digest: "", mode: st.mode & 0o7777, size: st.size, mtime: st.mtime };
        if (st.isDirectory()) {
          if (ignored && prune) continue;
          if (!ignored) out.push({ ...common, type: "dir", size: 0 });
          await visit(relPath);
        } else if (ignored) {
          continue;
        } else if (st.isSymbolicLink()) {
          out.push({ ...common, type: "symlink", size: 0, linkname: await readlink(abs) });
        } else if (st.isFile()) {
          out.push({ ...common, type: "file" });
        }
        // Sockets, FIFOs and devices are not sent (nor by the docker CLI's archive of a context).
      }
    };
    await visit("");
    return out;
  }

  /** A file's content digest, kept while its stamp is unchanged and old enough to trust. */
  private async digestOf(e: Walked): Promise<string> {
    if (e.type === "dir") return "";
    if (e.type === "symlink") return sha256Hex(e.linkname ?? "");
    const st = await lstat(e.abs);
    const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const cached = this.digests.get(e.abs);
    if (cached?.stamp === stamp) return cached.digest;
    const digest = await fileDigest(e.abs);
    if (this.now() - st.mtimeMs > RACY_MS) this.digests.set(e.abs, { stamp, digest });
    return digest;
  }
}

/** Streamed: a context may hold large files. */
function fileDigest(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => {
        resolve(hash.digest("hex"));
      });
  });
}
