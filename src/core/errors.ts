/**
 * Every error berth reports carries a code from this one table. docs/errors.md lists the same
 * codes, and a test keeps the two in sync.
 */
export const ERROR_CODES = {
  BERTH_YAML_SYNTAX: "The file is not valid YAML (syntax, tabs in indentation, duplicate keys).",
  BERTH_SCHEMA: "A document does not match the spec schema (wrong type, unknown field, bad value).",
  BERTH_VALUE: "A value is well-formed but not usable (e.g. a reservation above the limit).",
  BERTH_RESERVED_LABEL: "A label key is under berth's reserved prefix.",
  BERTH_DUPLICATE_NAME: "Two documents define the same container name; both are refused.",
  BERTH_EMPTY_FILE: "A spec file holds no documents.",
  BERTH_NOT_TEXT: "A spec file is not UTF-8 text (binary data, NUL bytes, invalid UTF-8).",
  BERTH_FILE_TOO_LARGE: "A spec file is larger than the file size limit.",
  BERTH_TOO_MANY_DOCUMENTS: "A spec file holds more documents than the limit.",
  BERTH_TOO_MANY_ALIASES: "A document uses more YAML aliases than the limit (an alias bomb).",
  BERTH_TOO_DEEP: "A document is nested deeper than the limit.",
  BERTH_NOT_A_FILE: "A path matching the spec file pattern is not a regular file (FIFO, device, socket).",
  BERTH_UNREADABLE: "A spec file or directory cannot be read (permissions, I/O error, symlink loop).",
  BERTH_TOO_MANY_FILES: "A spec directory holds more files than the limit.",
  BERTH_POLICY: "A spec asks for something the admission policy refuses (docs/policy.md lists the checks).",
  BERTH_USAGE: "A command-line flag or argument is invalid.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error berth raises on purpose: it has a code and a message fit for the user. */
export class BerthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BerthError";
    this.code = code;
  }
}

/** A problem at a place in a spec file: `file:line:column: path: message`. */
export interface SpecIssue {
  readonly code: ErrorCode;
  readonly file: string;
  /** 1-based; 0 for a problem with a directory rather than a place in a file. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** The field path (`spec.resources.memory`), or "" for a problem with the file or document. */
  readonly path: string;
  readonly message: string;
}

/** `file:line:col: path: message`; a problem with a whole directory (line 0) has no position. */
export function formatIssue(issue: SpecIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

export function compareIssues(a: SpecIssue, b: SpecIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
