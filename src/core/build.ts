/**
 * Builds from the repository (docs/images.md, Builds), the pure part: where a context may be, what
 * its hash covers and what the built image is called. The files are read at the edge
 * (host/build-context.ts), which hands the entries in; a context's hash reaches the spec as its
 * image, so the planner sees a changed context as a changed spec.
 */
import { canonicalJson } from "./hash.js";
import { sha256Hex } from "./sha256.js";

/** `spec.build`, normalized. */
export interface NormalizedBuild {
  /** The context folder relative to the spec root, `/`-separated, `.` for the root itself. */
  readonly context: string;
  /** The Dockerfile relative to the context, `/`-separated. */
  readonly dockerfile: string;
  readonly args: Readonly<Record<string, string>>;
  readonly target: string | null;
}

/** The registry part of every built image's name: never a real registry, so never pulled. */
export const BUILT_IMAGE_PREFIX = "berth.local/";

/** A build spec's image before its context is hashed (shown by validate; never created from). */
export const UNBUILT_TAG = "unhashed";

/** Characters of the context hash in the tag. */
export const CONTEXT_HASH_LENGTH = 12;

export const DEFAULT_DOCKERFILE = "Dockerfile";

/** `berth.local/<spec>:<the context hash's first 12 hex>`. */
export function builtImage(spec: string, contextHash: string): string {
  return `${BUILT_IMAGE_PREFIX}${spec}:${contextHash.slice(0, CONTEXT_HASH_LENGTH)}`;
}

/** Whether an image reference is one berth built. */
export function isBuiltImage(image: string): boolean {
  return image.startsWith(BUILT_IMAGE_PREFIX);
}

/**
 * `rel` taken from the folder `base` (both `/`-separated, relative to one root), normalized; null
 * when it is absolute or leads out of the root. Lexical: symbolic links are the edge's concern.
 */
export function resolveInside(base: string, rel: string): string | null {
  if (rel.startsWith("/")) return null;
  const parts: string[] = [];
  for (const part of `${base}/${rel}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.length === 0 ? "." : parts.join("/");
}

/** The folder of a `/`-separated path relative to a root (`.` for a file at the root). */
export function folderOf(source: string): string {
  const slash = source.lastIndexOf("/");
  return slash === -1 ? "." : source.slice(0, slash);
}

/** One entry of a context as it is sent to the engine, after .dockerignore. */
export interface ContextEntry {
  /** Relative to the context, `/`-separated. */
  readonly path: string;
  readonly type: "file" | "symlink" | "dir";
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
  /** SHA-256 (hex) of the file's content, or of a link's target; empty for a folder. */
  readonly digest: string;
}

/**
 * The context hash: SHA-256 over the entries sorted by path (each its path, type, mode and content
 * digest) and the build's dockerfile, args and target. Times and owners do not count (the engine is sent owner 0 for every entry, as by the docker CLI).
 */
export function contextHash(entries: readonly ContextEntry[], build: NormalizedBuild): string {
  const lines = [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.type} ${e.mode.toString(8)} ${e.digest} ${JSON.stringify(e.path)}\n`);
  const how = canonicalJson({ v: 1, dockerfile: build.dockerfile, args: { ...build.args }, target: build.target });
  return sha256Hex(`${how}\n${lines.join("")}`);
}

/** A problem with a build field, at its path below `spec` (normalize.ts reports it). */
export interface BuildIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly atKey?: boolean;
}

/** What normalize gets of a document's build, image and pull fields. */
export interface BuildFields {
  readonly image?: string;
  readonly imagePullPolicy?: string;
  readonly imagePullSecret?: string;
  readonly build?: {
    readonly context: string;
    readonly dockerfile?: string;
    readonly args?: Readonly<Record<string, string | object>>;
    readonly target?: string;
  };
}

/**
 * `spec.build` normalized, with its problems: `image` or `build` (not both); the context inside
 * the spec root (`source` is the spec file's path relative to that root); the Dockerfile inside
 * the context; no secret build args (the Engine API's build endpoint has no BuildKit secrets, and
 * a build arg stays in the image's history in clear); no pull settings (a built image is never pulled).
 */
export function normalizeBuild(
  s: BuildFields,
  source: string,
): { readonly build: NormalizedBuild | null; readonly issues: readonly BuildIssue[] } {
  const b = s.build;
  if (!b) {
    return s.image === undefined
      ? {
          build: null,
          issues: [
            {
              path: [],
              atKey: true,
              message: 'missing required field "image" (or "build": a folder to build it from)',
            },
          ],
        }
      : { build: null, issues: [] };
  }
  const issues: BuildIssue[] = [];
  if (s.image !== undefined) {
    issues.push({
      path: ["image"],
      atKey: true,
      message: `give image or build, not both: a built image is tagged ${BUILT_IMAGE_PREFIX}<name>:<context hash>`,
    });
  }
  if (s.imagePullPolicy === "Always" || s.imagePullSecret !== undefined) {
    const field = s.imagePullSecret !== undefined ? "imagePullSecret" : "imagePullPolicy";
    issues.push({
      path: [field],
      atKey: true,
      message: "a built image is never pulled: drop it, or use image instead of build",
    });
  }
  const context = resolveInside(folderOf(source), b.context);
  if (context === null) {
    issues.push({
      path: ["build", "context"],
      message: `${JSON.stringify(b.context)} leads outside the spec folder; a build context must be a folder inside it (relative to the spec file, e.g. ./app)`,
    });
  }
  const dockerfile = resolveInside(".", b.dockerfile ?? DEFAULT_DOCKERFILE);
  if (dockerfile === null || dockerfile === ".") {
    issues.push({
      path: ["build", "dockerfile"],
      message: `${JSON.stringify(b.dockerfile)} is not a file inside the context; give its path relative to build.context (e.g. Dockerfile)`,
    });
  }
  const args: Record<string, string> = {};
  for (const [name, value] of Object.entries(b.args ?? {})) {
    if (typeof value === "string") {
      args[name] = value;
    } else {
      issues.push({
        path: ["build", "args", name],
        message:
          "a build arg cannot come from a secret: the Engine API's build endpoint has no BuildKit secrets, and a build arg " +
          "stays in the image's history in clear. Pass the secret at run time with secretEnv instead",
      });
    }
  }
  if (issues.length > 0 || context === null || dockerfile === null) return { build: null, issues };
  return { build: { context, dockerfile, args, target: b.target ?? null }, issues };
}

/**
 * The images a Dockerfile pulls: each `FROM` that is not an earlier stage or `scratch`, and each
 * `COPY --from=` that is neither a stage's name nor its index, in order, once each. Their
 * registries' credentials go with the build (X-Registry-Config), as `docker build` sends them.
 * `$VAR` and `${VAR}` (`${VAR:-word}`, `${VAR-word}`) are taken from the ARGs before the first FROM,
 * their defaults overridden by the build's args, as the engine expands a FROM; a reference still
 * holding a `$` after that is skipped (its registry gets no credentials, as for one unknown).
 */
export function baseImages(dockerfile: string, args: Readonly<Record<string, string>>): string[] {
  const globals = new Map<string, string>();
  const stages = new Set<string>();
  const images: string[] = [];
  const add = (image: string): void => {
    if (!image.includes("$") && image !== "" && !images.includes(image)) images.push(image);
  };
  let seenFrom = false;
  let stageCount = 0;
  for (const line of dockerfileInstructions(dockerfile)) {
    const [word = "", ...rest] = line.split(/\s+/);
    const instruction = word.toUpperCase();
    if (instruction === "ARG" && !seenFrom) {
      for (const decl of rest) {
        const eq = decl.indexOf("=");
        const name = eq === -1 ? decl : decl.slice(0, eq);
        const value = args[name] ?? (eq === -1 ? undefined : unquote(decl.slice(eq + 1)));
        if (value !== undefined) globals.set(name, value);
      }
    } else if (instruction === "FROM") {
      seenFrom = true;
      const operands = rest.filter((w) => !w.startsWith("--"));
      const image = expandArgs(operands[0] ?? "", globals);
      if (image.toLowerCase() !== "scratch" && !stages.has(image.toLowerCase())) add(image);
      if (operands[1]?.toUpperCase() === "AS" && operands[2] !== undefined) stages.add(operands[2].toLowerCase());
      stageCount += 1;
    } else if (instruction === "COPY") {
      for (const flag of rest) {
        const from = /^--from=(.+)$/i.exec(flag)?.[1];
        if (from === undefined) continue;
        const isIndex = /^\d+$/.test(from) && Number(from) < stageCount;
        if (!isIndex && !stages.has(from.toLowerCase())) add(from);
      }
    }
  }
  return images;
}

/** A Dockerfile's instructions, one string each: comments and blank lines gone, continued lines joined. */
function dockerfileInstructions(text: string): string[] {
  const lines = text.split(/\r?\n/);
  // A parser directive (`# escape=\``) may change the continuation character.
  let escape = "\\";
  for (const line of lines) {
    const directive = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(line);
    if (!directive) break;
    if (directive[1]?.toLowerCase() === "escape" && (directive[2] === "`" || directive[2] === "\\"))
      escape = directive[2];
  }
  const out: string[] = [];
  let current = "";
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith("#")) continue;
    if (current === "" && line === "") continue;
    if (line.endsWith(escape)) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== "") out.push(current.trim());
    current = "";
  }
  if (current.trim() !== "") out.push(current.trim());
  return out;
}

function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/.exec(value);
  return m ? (m[2] ?? "") : value;
}

/** `$VAR`, `${VAR}`, `${VAR:-word}` and `${VAR-word}` from `vars`; any other form is left as it is. */
function expandArgs(word: string, vars: ReadonlyMap<string, string>): string {
  return word.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? "";
      const value = vars.get(name);
      if (op === ":-") return value !== undefined && value !== "" ? value : (word ?? "");
      if (op === "-") return value ?? word ?? "";
      return value ?? whole;
    },
  );
}
