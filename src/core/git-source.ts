/**
 * Git sources, the pure parts (docs/gitops.md): what a --git URL, --git-ref and --git-path may be,
 * the folder name a source gets under the state folder, and the scrubbing of credentials out of
 * every text berth shows (a URL's userinfo).
 */
import { sha256Hex } from "./sha256.js";

/** A ref as --git-ref takes it: a branch or tag name, or a full commit SHA (a pin). */
export type GitRef =
  { readonly kind: "name"; readonly name: string } | { readonly kind: "commit"; readonly sha: string };

const SHA_RE = /^[0-9a-f]{40}$/;
/** git check-ref-format's rules, the common part: printable ASCII, no `..`, no ` ~^:?*[\`, no `@{`. */
const REF_NAME_RE = /^(?!.*\.\.)(?!.*@\{)(?!.*\/\/)(?!\/)(?!.*\/$)(?!.*\.lock$)(?!.*\.$)[!-~]+$/;
const REF_FORBIDDEN_RE = /[~^:?*[\\]/;

export function parseGitRef(text: string): GitRef | { readonly error: string } {
  const ref = text.trim();
  if (SHA_RE.test(ref)) return { kind: "commit", sha: ref };
  if (/^[0-9a-f]{7,39}$/.test(ref))
    return { error: `${JSON.stringify(text)} looks like a short SHA: pin a commit by its full 40-character SHA` };
  if (ref === "" || ref.startsWith("-") || !REF_NAME_RE.test(ref) || REF_FORBIDDEN_RE.test(ref))
    return { error: `${JSON.stringify(text)} is not a branch, a tag or a full commit SHA (e.g. main, v1.2.0)` };
  return { kind: "name", name: ref };
}

/**
 * A --git-path: a folder inside the repository, relative, without `..`; "" is the repository's
 * root. Leading "./" and trailing "/" are dropped.
 */
export function parseGitPath(text: string): string | { readonly error: string } {
  const parts = text
    .trim()
    .split("/")
    .filter((p) => p !== "" && p !== ".");
  if (text.trim().startsWith("/") || parts.some((p) => p === ".." || p.startsWith(".")))
    return {
      error: `${JSON.stringify(text)} is not a folder inside the repository (relative, no "..", no hidden folders; e.g. specs/)`,
    };
  return parts.join("/");
}

/** The transports berth fetches over. */
export type GitTransport = "https" | "http" | "ssh" | "git" | "file";

/**
 * A --git URL: https://, http://, ssh://, git://, file:// or scp-like user@host:path. A password or
 * token in the URL is refused: it would show in the process list (argv); give it in a file.
 */
export function parseGitUrl(text: string): { readonly transport: GitTransport } | { readonly error: string } {
  const url = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // scp-like user@host:path; never `transport::address` (git's remote helpers, e.g. ext::).
    if (/^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!:)\S+$/.test(url)) return { transport: "ssh" };
    return {
      error: `${JSON.stringify(scrubUrls(text))} is not a Git URL (https://, ssh://, git://, file:// or user@host:path)`,
    };
  }
  if (!["https", "http", "ssh", "git", "file"].includes(scheme))
    return {
      error: `${JSON.stringify(scrubUrls(text))}: the scheme ${scheme}:// is not one of https, http, ssh, git, file`,
    };
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(url) && scheme !== "ssh")
    return {
      error: `${JSON.stringify(scrubUrls(text))} holds a password or token: it would show in the process list; put the token in --git-token-file instead`,
    };
  return { transport: scheme as GitTransport };
}

/**
 * Removes the userinfo (`user:token@`) of every URL in a text, or puts `mask` in its place: for
 * messages, logs and status.
 */
export function scrubUrls(text: string, mask = ""): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, (_all, scheme: string) => `${scheme}${mask}`);
}

/** Also removes a known secret wherever it appears (git may echo a header or a URL in its own words). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = scrubUrls(text);
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("***");
  return out;
}

/**
 * The folder a source gets under the state folder: readable (the repository's name, the ref)
 * and unique (a digest of URL, ref and path), stable across restarts so its cache is reused.
 */
export function sourceId(url: string, ref: string, gitPath: string): string {
  const base = scrubUrls(url)
    .replace(/\.git\/?$/, "")
    .split(/[/:]/)
    .filter((p) => p !== "")
    .at(-1);
  const slug = `${base ?? "repo"}-${ref}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 40);
  return `${slug || "repo"}-${sha256Hex(`${url}\n${ref}\n${gitPath}`).slice(0, 8)}`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 12);
}

/** The first line of a commit message, bounded (status shows it in a table). */
export function commitSubject(message: string): string {
  const line = message.split("\n")[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** A Git source as GET /v1/sources, GET /v1/specs and `berth status` show it (no credentials). */
export interface GitSourceStatus {
  readonly name: string;
  /** The URL without credentials. */
  readonly url: string;
  readonly ref: string;
  readonly path: string;
  /** The spec folder berth reads (a symbolic link to the current checkout). */
  readonly specDir: string;
  readonly revision: string | null;
  readonly shortRevision: string | null;
  /** RFC 3339, the commit's committer time. */
  readonly committedAt: string | null;
  readonly subject: string | null;
  /** RFC 3339: the last fetch that succeeded, and the last that was tried. */
  readonly lastFetchAt: string | null;
  readonly lastAttemptAt: string | null;
  /** Why the last fetch failed (null: it succeeded), without credentials. */
  readonly lastError: string | null;
  /**
   * The fetches that failed in a row, up to the last attempt; 0 once one succeeds (as Flux counts
   * them). The total since start is berth_source_fetch_failures_total.
   */
  readonly failures: number;
  /** A fetch is in flight or queued. */
  readonly fetching: boolean;
  /** Spec files of this source that are invalid now (relative to --git-path); their last good versions run. */
  readonly invalidFiles: readonly string[];
  /** The revision at which the first of them broke (null: none is invalid). */
  readonly brokenAt: string | null;
}
