/**
 * Specs written and removed through the API (native and docker-spawner alike), in the runtime
 * spec directory: validated and policy-checked before anything is written, with the same errors
 * as `berth validate`. Outcomes are typed; the HTTP edge maps them to status codes.
 */
import type { Logger } from "pino";
import type { SpecIssue } from "../core/errors.js";
import { type SpecFileProblem, removeSpecFile, specFilePath, writeSpecFile } from "../host/spec-writer.js";
import { displayPath } from "../manifest/loader.js";
import { type ParseOptions, parseSpecText } from "../manifest/parse.js";

export type WriteOutcome =
  | { readonly kind: "written"; readonly name: string; readonly file: string; readonly created: boolean }
  | { readonly kind: "invalid"; readonly issues: readonly SpecIssue[] }
  /** The text does not hold exactly one document of that name. */
  | { readonly kind: "wrong-document"; readonly found: readonly string[] }
  | { readonly kind: "defined-elsewhere"; readonly file: string }
  | {
      readonly kind: "failed";
      readonly problem: SpecFileProblem;
      readonly errno: string | undefined;
      readonly message: string;
    };

export type RemoveOutcome =
  | { readonly kind: "removed"; readonly name: string }
  | { readonly kind: "absent"; readonly name: string; readonly dir: string }
  | { readonly kind: "defined-elsewhere"; readonly file: string }
  | {
      readonly kind: "failed";
      readonly problem: SpecFileProblem;
      readonly errno: string | undefined;
      readonly message: string;
    };

export interface RuntimeSpecsDeps {
  /** The runtime spec directory. */
  readonly dir: string;
  /** How a written spec is parsed and admitted (the controller's own options). */
  readonly parse: ParseOptions;
  /** The file that defines a spec now, if any (as shown to people). */
  readonly specFile: (name: string) => string | null;
  /** A spec file was written or removed: reload and reconcile. */
  readonly changed: (change: { readonly spec: string; readonly removed: boolean }) => void;
  readonly log: Logger;
}

export class RuntimeSpecs {
  constructor(private readonly deps: RuntimeSpecsDeps) {}

  get dir(): string {
    return this.deps.dir;
  }

  /** A spec defined in a spec directory other than the runtime one cannot be changed here. */
  private definedElsewhere(name: string): string | null {
    const file = this.deps.specFile(name);
    return file !== null && file !== displayPath(specFilePath(this.deps.dir, name)) ? file : null;
  }

  /** Validates, admits and writes one spec file. */
  async write(name: string, text: string): Promise<WriteOutcome> {
    const file = displayPath(specFilePath(this.deps.dir, name));
    const parsed = parseSpecText(text, file, this.deps.parse);
    if (parsed.issues.length > 0) return { kind: "invalid", issues: parsed.issues };
    const names = parsed.documents.map((d) => d.spec.name);
    if (names.length !== 1 || names[0] !== name) return { kind: "wrong-document", found: names };
    const elsewhere = this.definedElsewhere(name);
    if (elsewhere !== null) return { kind: "defined-elsewhere", file: elsewhere };
    const written = await writeSpecFile(this.deps.dir, name, text);
    if (!written.ok)
      return { kind: "failed", problem: written.problem, errno: written.errno, message: written.message };
    this.deps.changed({ spec: name, removed: false });
    this.deps.log.info({ spec: name, file, created: written.created }, "spec written");
    return { kind: "written", name, file, created: written.created };
  }

  /** Removes one spec file of the runtime directory. */
  async remove(name: string): Promise<RemoveOutcome> {
    const elsewhere = this.definedElsewhere(name);
    if (elsewhere !== null) return { kind: "defined-elsewhere", file: elsewhere };
    const removed = await removeSpecFile(this.deps.dir, name);
    if (!removed.ok)
      return { kind: "failed", problem: removed.problem, errno: removed.errno, message: removed.message };
    if (!removed.removed) return { kind: "absent", name, dir: this.deps.dir };
    this.deps.changed({ spec: name, removed: true });
    this.deps.log.info({ spec: name }, "spec removed");
    return { kind: "removed", name };
  }
}
