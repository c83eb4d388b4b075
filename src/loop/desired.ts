/**
 * From what the spec files say to what berth should make true (docs/design.md, "Broken files"):
 * - a file that fails to parse or validate is not a deleted file: its last valid content stays
 *   desired (last-known-good) and its specs are Invalid until it is fixed or removed;
 * - the checks across files (unique names, namespace joins, bind mounts inside writable ones) are
 *   made here, once, over that set;
 * - specs named in a broken file with no good version yet, and containers created from a broken
 *   file, are protected: never pruned, never changed;
 * - a missing or unreadable spec directory, or no spec files at all, pauses pruning;
 * - secrets are read here for their digests, which enter the spec hash (core/secrets.ts); only
 *   for specs whose containers may be created: never for an expired spec (desired absent), and
 *   not at all for a look that only reaps (`berth reap`), so a missing secret of a spec it does
 *   not touch is no concern of it;
 * - a build spec's context is hashed here (host/build-context.ts) and the hash becomes its image,
 *   `berth.local/<name>:<hash>`, under the same conditions as secrets: a changed context is a
 *   changed spec; a context that cannot be read leaves the spec's containers alone (protected).
 */
import type { NormalizedBuild } from "../core/build.js";
import type { SpecIssue } from "../core/errors.js";
import { specHash } from "../core/hash.js";
import { objectHash, objectKey } from "../core/declared.js";
import type { DesiredObject, DesiredSpec, PlanInput } from "../core/plan/plan.js";
import { LEXICAL_CONTEXT, type PolicyContext, type Profile } from "../core/policy/policy.js";
import type { SpecRecord } from "../core/record.js";
import { resolveSecrets, type SecretSources } from "../core/secrets.js";
import type { NormalizedSpec } from "../core/spec.js";
import { crossFileChecks, findObjectCollisions } from "../manifest/cross-file.js";
import { type DirectoryState, type LoadedSpec, type LoadResult, objectsOf, specsOf } from "../manifest/loader.js";
import type { FileParseResult, ParsedDocument, ParsedObject } from "../manifest/parse.js";

export type { SpecRecord } from "../core/record.js";

/** What a build spec's image is now, from its context (host/build-context.ts, BuildContexts). */
export interface BuiltImages {
  image(spec: string, build: NormalizedBuild, file: string, source: string): Promise<string>;
}

export interface DesiredSnapshot {
  readonly input: PlanInput;
  readonly records: ReadonlyMap<string, SpecRecord>;
  /** The problems of each invalid file, by its source path (the berth.source label). */
  readonly invalidSources: ReadonlyMap<string, readonly SpecIssue[]>;
  readonly issues: readonly SpecIssue[];
  readonly directories: readonly DirectoryState[];
}

interface GoodFile {
  readonly file: string;
  readonly source: string;
  readonly documents: readonly ParsedDocument[];
  readonly objects: readonly ParsedObject[] | undefined;
}

function isExpired(spec: NormalizedSpec, now: number): boolean {
  return spec.expiresAt !== null && spec.expiresAt <= now;
}

function recordOf(c: LoadedSpec): Pick<SpecRecord, "name" | "spec" | "file" | "source"> {
  return { name: c.spec.name, spec: c.spec, file: c.file, source: c.source };
}

/** Problems after which a document's metadata.name may not have been read. */
const NAMELESS = new Set([
  "BERTH_YAML_SYNTAX",
  "BERTH_TOO_DEEP",
  "BERTH_TOO_MANY_ALIASES",
  "BERTH_TOO_MANY_NODES",
  "BERTH_TOO_MANY_DOCUMENTS",
]);

/**
 * Whether a broken file may declare specs whose names berth could not read: it names none (it does
 * not parse, cannot be read, is empty), a document does not parse, or a document's name is the
 * problem. Such a file could be any spec's, moved or renamed while broken.
 */
function hidesNames(result: FileParseResult): boolean {
  if (result.issues.length === 0) return false;
  return (
    result.names.length === 0 ||
    result.issues.some((i) => NAMELESS.has(i.code) || i.path === "metadata" || i.path === "metadata.name")
  );
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

export class DesiredStateBuilder {
  /** Absolute file path → its last valid content. */
  private readonly lastGood = new Map<string, GoodFile>();
  /**
   * Hashes of specs without secrets, by the parsed spec (the loader hands out the same object
   * while a file is unchanged): a pass over unchanged files hashes nothing.
   */
  private readonly hashes = new WeakMap<NormalizedSpec, string>();
  /** A build spec with its image, by the parsed spec: the same object while the context is unchanged. */
  private readonly builtSpecs = new WeakMap<NormalizedSpec, NormalizedSpec>();

  constructor(
    private readonly secrets: SecretSources,
    private readonly profile: Profile = "baseline",
    /** How host paths resolve, for the bind mount check across specs (host/host-paths.ts). */
    private readonly paths: PolicyContext = LEXICAL_CONTEXT,
    /**
     * False for a look that only removes expired containers: a live spec that has secrets is
     * then left alone (protected, no error) instead of having its secrets read.
     */
    private readonly readSecrets = true,
    /** Hashes build contexts; absent: a build spec is protected, with an error saying so. */
    private readonly builds?: BuiltImages,
  ) {}

  /** `now` (epoch ms) decides which specs are expired, whose secrets are not read. */
  async build(load: LoadResult, now: number): Promise<DesiredSnapshot> {
    const unreadable = load.directories.filter((d) => !d.readable).map((d) => d.dir);
    const present = new Set(load.files.map((f) => f.path));

    for (const f of load.files) {
      if (f.result.issues.length === 0) {
        this.lastGood.set(f.path, {
          file: f.file,
          source: f.source,
          documents: f.result.documents,
          objects: f.result.objects,
        });
      }
    }
    // A file that is gone removes its specs; one we cannot see because its folder is unreadable does not.
    for (const path of [...this.lastGood.keys()]) {
      if (!present.has(path) && !unreadable.some((dir) => under(path, dir))) this.lastGood.delete(path);
    }

    const invalidFiles = load.files.filter((f) => f.result.issues.length > 0);
    const invalidByPath = new Map(invalidFiles.map((f) => [f.path, f.result.issues]));

    const candidates: (LoadedSpec & { path: string })[] = [...this.lastGood].flatMap(([path, good]) =>
      specsOf(good.file, good.source, good.documents).map((loaded) => ({ ...loaded, path })),
    );
    const broken = invalidFiles.map((f) => ({ file: f.file, names: f.result.names, pools: f.result.pools ?? [] }));
    const { refused, issues: collisions } = crossFileChecks(candidates, this.profile, this.paths, broken);

    const records = new Map<string, SpecRecord>();
    const desired: DesiredSpec[] = [];
    const protectedSpecs = new Set<string>();
    for (const c of candidates) {
      const fileIssues = invalidByPath.get(c.path) ?? [];
      if (refused.has(c)) {
        protectedSpecs.add(c.spec.name);
        const mine = refused.get(c) ?? [];
        const previous = records.get(c.spec.name);
        records.set(c.spec.name, {
          name: c.spec.name,
          spec: previous?.spec ?? c.spec,
          file: c.file,
          source: c.source,
          hash: null,
          invalid: [...(previous?.invalid ?? []), ...mine, ...fileIssues],
          error: null,
        });
        continue;
      }
      const readsHost = Object.keys(c.spec.secretEnv).length > 0 || c.spec.build !== null;
      if (readsHost && (isExpired(c.spec, now) || !this.readSecrets)) {
        // Nothing will be created from it: its secrets and context are not read and it has no hash. An expired
        // spec is desired absent (the planner removes its containers without a hash to compare);
        // a live one is left alone.
        records.set(c.spec.name, { ...recordOf(c), hash: null, invalid: fileIssues, error: null });
        if (isExpired(c.spec, now)) desired.push({ spec: c.spec, hash: "", source: c.source, secretDigests: {} });
        else protectedSpecs.add(c.spec.name);
        continue;
      }
      const built = await this.built(c.spec, c.path, c.source);
      if (!built.ok) {
        records.set(c.spec.name, { ...recordOf(c), hash: null, invalid: fileIssues, error: built.error });
        protectedSpecs.add(c.spec.name);
        continue;
      }
      const spec = built.spec;
      const secrets = await resolveSecrets(spec, this.secrets);
      const hash = secrets.ok ? this.hashOf(spec, secrets.digests) : null;
      records.set(c.spec.name, {
        name: c.spec.name,
        spec,
        file: c.file,
        source: c.source,
        hash,
        invalid: fileIssues,
        error: secrets.ok ? null : secrets.error,
      });
      if (hash === null || !secrets.ok) protectedSpecs.add(c.spec.name);
      else desired.push({ spec, hash, source: c.source, secretDigests: secrets.digests });
    }

    // Names seen in broken files with no good version: known by name only, protected.
    for (const f of invalidFiles) {
      for (const name of f.result.names) {
        if (records.has(name)) continue;
        protectedSpecs.add(name);
        records.set(name, {
          name,
          spec: null,
          file: f.file,
          source: f.source,
          hash: null,
          invalid: f.result.issues,
          error: null,
        });
      }
    }

    // Declared networks and volumes, from the same last good files; one declared twice is neither.
    const declared = [...this.lastGood.values()].flatMap((good) => objectsOf(good.file, good.source, good.objects));
    const twice = findObjectCollisions(declared);
    const objects: DesiredObject[] = declared
      .filter((o) => !twice.refused.has(o))
      .map((o) => ({ object: o.object, hash: objectHash(o.object), source: o.source }));
    const protectedObjects = new Set([...twice.refused].map((o) => objectKey(o.object.kind, o.object.name)));

    const fileCount = load.directories.reduce((n, d) => n + d.fileCount, 0);
    let prunePaused: string | null = null;
    // A broken file whose names are not all known pauses the prune: it may hold the specs of the
    // containers that look orphaned (a file renamed or moved while broken), and a broken file
    // never removes a container (docs/spec.md).
    const hiding = invalidFiles.filter((f) => hidesNames(f.result));
    if (unreadable.length > 0) prunePaused = `spec directory ${unreadable.join(", ")} cannot be read`;
    else if (fileCount === 0) prunePaused = `no spec files in ${load.directories.map((d) => d.dir).join(", ")}`;
    else if (hiding.length > 0)
      prunePaused = `${hiding.map((f) => f.file).join(", ")} cannot be read for the names of its specs`;

    return {
      input: {
        desired,
        protectedSpecs,
        protectedSources: new Set(invalidFiles.map((f) => f.source)),
        prunePaused,
        objects,
        protectedObjects,
      },
      records,
      invalidSources: new Map(invalidFiles.map((f) => [f.source, f.result.issues])),
      issues: [...load.issues, ...collisions, ...twice.issues],
      directories: load.directories,
    };
  }

  /** The spec with its built image (the same object while the image is the same), or why not. */
  private async built(
    spec: NormalizedSpec,
    file: string,
    source: string,
  ): Promise<{ ok: true; spec: NormalizedSpec } | { ok: false; error: string }> {
    if (spec.build === null) return { ok: true, spec };
    if (!this.builds) return { ok: false, error: "builds are not made under this target" };
    let image: string;
    try {
      image = await this.builds.image(spec.name, spec.build, file, source);
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    const cached = this.builtSpecs.get(spec);
    if (cached?.image === image) return { ok: true, spec: cached };
    const next = { ...spec, image };
    this.builtSpecs.set(spec, next);
    return { ok: true, spec: next };
  }

  private hashOf(spec: NormalizedSpec, digests: Readonly<Record<string, string>>): string {
    if (Object.keys(spec.secretEnv).length > 0) return specHash(spec, digests);
    let hash = this.hashes.get(spec);
    if (hash === undefined) {
      hash = specHash(spec, digests);
      this.hashes.set(spec, hash);
    }
    return hash;
  }
}
