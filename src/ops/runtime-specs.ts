/**
 * Specs written and removed through the API (native and docker-spawner alike), in the runtime
 * spec directory: validated, policy-checked and checked against every spec loaded from the other
 * files before anything is written, with the same errors as `berth validate`. Outcomes are typed;
 * the HTTP edge maps them to status codes.
 */
import type { Logger } from "pino";
import type { SpecIssue } from "../core/errors.js";
import { isDnsLabel } from "../core/names.js";
import type { SpecRecord } from "../core/record.js";
import type { NormalizedSpec } from "../core/spec.js";
import type { StatusReport } from "../core/status.js";
import {
  readSpecFile,
  removeSpecFile,
  type SpecFileProblem,
  specFilePath,
  writeSpecFile,
} from "../host/spec-writer.js";
import { crossFileChecks, findNameCollisions, type LoadedSpec } from "../manifest/cross-file.js";
import { displayPath, specsOf } from "../manifest/loader.js";
import { type ParseOptions, type ParsedDocument, parseSpecText } from "../manifest/parse.js";

interface Failed {
  readonly kind: "failed";
  readonly problem: SpecFileProblem;
  readonly errno: string | undefined;
  readonly message: string;
}

export type WriteOutcome =
  | { readonly kind: "written"; readonly name: string; readonly file: string; readonly created: boolean }
  /** The name is not a DNS label: it never becomes a path. */
  | { readonly kind: "bad-name"; readonly name: string }
  | { readonly kind: "invalid"; readonly issues: readonly SpecIssue[] }
  /** The text does not hold exactly one document of that name. */
  | { readonly kind: "wrong-document"; readonly found: readonly string[] }
  | { readonly kind: "defined-elsewhere"; readonly file: string }
  /** The spec's name or one of its containers' names is also another spec's (web-1 of a pool, say). */
  | { readonly kind: "name-taken"; readonly spec: string; readonly file: string }
  /** The spec files have not been loaded yet, so the checks across files cannot be made. */
  | { readonly kind: "not-loaded" }
  | Failed;

export type RemoveOutcome =
  | { readonly kind: "removed"; readonly name: string }
  | { readonly kind: "bad-name"; readonly name: string }
  | { readonly kind: "absent"; readonly name: string; readonly dir: string }
  | { readonly kind: "defined-elsewhere"; readonly file: string }
  | Failed;

export interface RuntimeSpecsDeps {
  /** The runtime spec directory. */
  readonly dir: string;
  /** How a written spec is parsed and admitted (the controller's own options). */
  readonly parse: ParseOptions;
  /** The file that defines a spec now, if any (as shown to people). */
  readonly specFile: (name: string) => string | null;
  /** Every spec loaded now (the desired state's records); null before the first load. */
  readonly loaded: () => readonly SpecRecord[] | null;
  /** A spec file was written or removed (marked at `removing`): reload and reconcile. */
  readonly changed: (change: { readonly spec: string; readonly removed: boolean }) => void;
  /**
   * A spec file is about to be removed: mark the spec deleted now, before the file goes (a pass
   * that loads the folder after it went must find the mark, or it takes what is left of the spec
   * for an orphan). Returns how to undo it when nothing was removed.
   */
  readonly removing: (spec: string) => () => void;
  readonly log: Logger;
}

export class RuntimeSpecs {
  constructor(private readonly deps: RuntimeSpecsDeps) {}

  get dir(): string {
    return this.deps.dir;
  }

  get log(): Logger {
    return this.deps.log;
  }

  /** The file of a spec of the runtime directory, as shown to people (and as the loader names it). */
  private fileOf(name: string): string {
    return displayPath(specFilePath(this.deps.dir, name));
  }

  /** A spec defined in a spec directory other than the runtime one cannot be changed here. */
  private definedElsewhere(name: string): string | null {
    const file = this.deps.specFile(name);
    return file !== null && file !== this.fileOf(name) ? file : null;
  }

  /**
   * The checks across files (unique names, namespace joins) over the new spec and every spec
   * loaded from another file, as the next pass would make them: a spec written here must not
   * make another spec Invalid (PUT rt-pool-1 beside a pool rt-pool with replicas: 2).
   */
  private acrossFiles(
    name: string,
    file: string,
    documents: readonly ParsedDocument[],
    loaded: readonly SpecRecord[],
  ): WriteOutcome | null {
    const candidates = specsOf(file, `${name}.yaml`, documents);
    const others = loaded.flatMap((r): LoadedSpec[] =>
      r.spec !== null && r.file !== null && r.file !== file
        ? [{ spec: r.spec, file: r.file, source: r.source ?? "", line: 0, column: 0 }]
        : [],
    );
    const { refused } = crossFileChecks([...candidates, ...others], this.deps.parse.policy.profile);
    const issues = candidates.flatMap((c) => refused.get(c) ?? []);
    if (issues.length === 0) return null;
    const clash = others.find((o) => candidates.some((c) => findNameCollisions([c, o]).refused.size > 0));
    return clash ? { kind: "name-taken", spec: clash.spec.name, file: clash.file } : { kind: "invalid", issues };
  }

  /** The spec of that name as loaded now from its file in the runtime directory; null when there is none. */
  loadedSpec(name: string): NormalizedSpec | null {
    if (!isDnsLabel(name)) return null;
    const file = this.fileOf(name);
    return this.deps.loaded()?.find((r) => r.name === name && r.file === file)?.spec ?? null;
  }

  /** The text of a spec's file in the runtime directory, as it is now; null when there is none. */
  async text(name: string): Promise<string | null> {
    return isDnsLabel(name) ? readSpecFile(this.deps.dir, name) : null;
  }

  /** Validates, admits and writes one spec file. */
  async write(name: string, text: string): Promise<WriteOutcome> {
    if (!isDnsLabel(name)) return { kind: "bad-name", name };
    const file = this.fileOf(name);
    const parsed = parseSpecText(text, file, this.deps.parse);
    if (parsed.issues.length > 0) return { kind: "invalid", issues: parsed.issues };
    const names = parsed.documents.map((d) => d.spec.name);
    if (names.length !== 1 || names[0] !== name) return { kind: "wrong-document", found: names };
    const elsewhere = this.definedElsewhere(name);
    if (elsewhere !== null) return { kind: "defined-elsewhere", file: elsewhere };
    const loaded = this.deps.loaded();
    if (loaded === null) return { kind: "not-loaded" };
    const across = this.acrossFiles(name, file, parsed.documents, loaded);
    if (across !== null) return across;
    const written = await writeSpecFile(this.deps.dir, name, text);
    if (!written.ok)
      return { kind: "failed", problem: written.problem, errno: written.errno, message: written.message };
    this.deps.changed({ spec: name, removed: false });
    this.deps.log.info({ spec: name, file, created: written.created }, "spec written");
    return { kind: "written", name, file, created: written.created };
  }

  /** Removes one spec file of the runtime directory. */
  async remove(name: string): Promise<RemoveOutcome> {
    if (!isDnsLabel(name)) return { kind: "bad-name", name };
    const elsewhere = this.definedElsewhere(name);
    if (elsewhere !== null) return { kind: "defined-elsewhere", file: elsewhere };
    const undo = this.deps.removing(name);
    const removed = await removeSpecFile(this.deps.dir, name);
    if (!removed.ok || !removed.removed) undo();
    if (!removed.ok)
      return { kind: "failed", problem: removed.problem, errno: removed.errno, message: removed.message };
    if (!removed.removed) return { kind: "absent", name, dir: this.deps.dir };
    this.deps.changed({ spec: name, removed: true });
    this.deps.log.info({ spec: name }, "spec removed");
    return { kind: "removed", name };
  }
}

/**
 * Specs whose runs all finished and were collected after their ttlAfterFinished (docs/runs.md) go
 * too when they were written through the API, so that the run leaves nothing behind; their run
 * records then go with them. A spec in another folder stays, its records standing for its runs.
 */
export async function removeCollectedRuns(specs: RuntimeSpecs, report: StatusReport): Promise<void> {
  for (const s of report.specs) {
    if (!s.collected || specs.loadedSpec(s.name) === null) continue;
    const outcome = await specs.remove(s.name);
    if (outcome.kind === "failed")
      specs.log.warn({ spec: s.name, err: outcome.message }, "finished run's spec not removed");
  }
}
