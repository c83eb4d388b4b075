/**
 * A build spec's context folder and Dockerfile, looked for on disk at every load (docs/images.md,
 * Builds), so that `berth validate` and `berth plan` say a missing one at its line rather than
 * `berth apply` at the build. Apart from the parse: a file's parse is kept while its bytes are
 * unchanged (between passes, and between short commands), while a context may appear or go
 * without the spec file changing. Where the context leads (`../`, symbolic links) is the parse's
 * and the build's concern (core/build.ts, host/build-context.ts); this only looks for the paths.
 */
import { statSync } from "node:fs";
import path from "node:path";
import { DEFAULT_DOCKERFILE } from "../core/build.js";
import { compareIssues, type SpecIssue } from "../core/errors.js";
import type { FileParseResult, ParsedDocument } from "./parse.js";

type Kind = "dir" | "file" | "other" | "missing";

/** What is at `p` (links followed, as the engine's builder reads a context), or why it cannot be told. */
function kindOf(p: string): Kind | { readonly error: string } {
  try {
    const st = statSync(p);
    return st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    return { error: (err as Error).message };
  }
}

/** Why a path is not the folder or file it should be, in words. */
function whyNot(kind: Kind | { readonly error: string }, wanted: "folder" | "file"): string {
  if (kind === "missing") return "does not exist";
  return typeof kind === "object" ? `cannot be read (${kind.error})` : `is not a ${wanted}`;
}

/** The problems with one document's build paths, each at its field. */
function documentIssues(doc: ParsedDocument, file: string, specRoot: string): SpecIssue[] {
  const build = doc.spec.build;
  if (build === null) return [];
  const at = doc.buildAt ?? {
    context: { line: doc.line, column: doc.column },
    dockerfile: { line: doc.line, column: doc.column },
  };
  const issue = (field: "context" | "dockerfile", message: string): SpecIssue => ({
    code: "BERTH_BUILD_CONTEXT",
    file,
    ...at[field],
    path: `spec.build.${field}`,
    message,
  });
  const dir = path.join(specRoot, ...build.context.split("/"));
  const context = kindOf(dir);
  if (context !== "dir")
    return [
      issue("context", `${dir} ${whyNot(context, "folder")}; a build context must be a folder inside the spec folder`),
    ];
  const dockerfile = path.join(dir, ...build.dockerfile.split("/"));
  const found = kindOf(dockerfile);
  if (found === "file") return [];
  const why = whyNot(found, "file");
  const fix =
    build.dockerfile === DEFAULT_DOCKERFILE
      ? `add a ${DEFAULT_DOCKERFILE} to the context, or name another with build.dockerfile`
      : "give its path relative to build.context";
  return [issue("dockerfile", `the Dockerfile ${dockerfile} ${why}; ${fix}`)];
}

/**
 * A file's parse, with a problem for each build spec whose context folder or Dockerfile is not on
 * disk under `specRoot` (the folder the file's path is relative to); such a file is invalid, as
 * for any problem: its documents are dropped and its names kept (the last good specs stay).
 */
export function withBuildPaths(result: FileParseResult, file: string, specRoot: string): FileParseResult {
  const issues = result.documents.flatMap((doc) => documentIssues(doc, file, specRoot));
  if (issues.length === 0) return result;
  return {
    documents: [],
    issues: [...result.issues, ...issues].sort(compareIssues),
    names: result.names,
    ...(result.pools ? { pools: result.pools } : {}),
  };
}
