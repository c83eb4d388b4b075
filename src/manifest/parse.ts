/**
 * One spec file's bytes → its valid specs and its issues, each at file:line:column. No I/O: the
 * loader reads files; this decides what they say.
 *
 * Limits are enforced before the YAML parser sees anything costly: a cheap linear pre-scan
 * refuses deep flow nesting, too many documents and too many aliases; the parsed tree is then
 * walked (iteratively) for depth, aliases and duplicate keys.
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  visit,
} from "yaml";
import type { ErrorCode, SpecIssue } from "../core/errors.js";
import { DEFAULT_LABEL_PREFIX } from "../core/labels.js";
import { type DeclaredObject, normalizeObject } from "../core/declared.js";
import {
  checkObject,
  checkSpec,
  DEFAULT_POLICY,
  LEXICAL_CONTEXT,
  namespaceJoins,
  type Policy,
  type PolicyContext,
} from "../core/policy/policy.js";
import { type FieldIssue, normalize } from "../core/normalize.js";
import { asSwarmService, type Target, targetIssues } from "../core/swarm-fields.js";
import type { FieldPath, NormalizedSpec } from "../core/spec.js";
import { formatBytes } from "../core/units.js";
import { formatPath, keyExcerpt, schemaIssues } from "./messages.js";
import { lookalike } from "./suggest.js";
import { networkValidator, specValidator, volumeValidator } from "./schema.js";

export interface ParseLimits {
  /** Largest file accepted, in bytes. */
  readonly maxFileBytes: number;
  /** Most documents in one file. */
  readonly maxDocuments: number;
  /** Most YAML aliases in one file. */
  readonly maxAliases: number;
  /** Deepest nesting of mappings and lists. */
  readonly maxDepth: number;
  /**
   * Most YAML nodes (keys, values, list items, collections) in one file, as the pre-scan counts
   * them: the YAML parser's time grows with the nodes, not the bytes.
   */
  readonly maxNodes: number;
}

export const DEFAULT_LIMITS: ParseLimits = {
  maxFileBytes: 1024 * 1024,
  maxDocuments: 500,
  maxAliases: 100,
  maxDepth: 32,
  maxNodes: 20_000,
};

/** The most problems reported for one document: the rest are counted, not listed. */
export const MAX_ISSUES_PER_DOCUMENT = 50;

export interface ParseOptions {
  readonly labelPrefix: string;
  readonly limits: ParseLimits;
  /** The admission policy every valid document must also satisfy. */
  readonly policy: Policy;
  /** How the policy resolves host paths (lexically, unless the caller can look at the host). */
  readonly policyContext: PolicyContext;
  /** What the specs become (--target): the fields the target cannot express are refused. Default engine. */
  readonly target?: Target;
}

export const DEFAULT_PARSE_OPTIONS: ParseOptions = {
  labelPrefix: DEFAULT_LABEL_PREFIX,
  limits: DEFAULT_LIMITS,
  policy: DEFAULT_POLICY,
  policyContext: LEXICAL_CONTEXT,
};

/** A `container:NAME` namespace join, checked by the loader against every spec's containers. */
export interface NamespaceJoin {
  readonly path: string;
  readonly name: string;
  readonly line: number;
  readonly column: number;
}

/** A valid document of a file. */
export interface ParsedDocument {
  readonly spec: NormalizedSpec;
  /** Index of the document in its file, from 0. */
  readonly index: number;
  /** Position of metadata.name, for duplicate reports. */
  readonly line: number;
  readonly column: number;
  /** Its container:NAME joins, with their positions. */
  readonly joins: readonly NamespaceJoin[];
  /**
   * Where its build fields are written (a build spec only): build.context's value, and
   * build.dockerfile's (or the `build` key when it is not written). The loader checks the paths
   * on disk at every load (build-paths.ts), apart from the parse, whose verdict is kept.
   */
  readonly buildAt?: {
    readonly context: { readonly line: number; readonly column: number };
    readonly dockerfile: { readonly line: number; readonly column: number };
  };
}

/** A valid `kind: Network` or `kind: Volume` document of a file. */
export interface ParsedObject {
  readonly object: DeclaredObject;
  /** Index of the document in its file, from 0. */
  readonly index: number;
  /** Position of metadata.name, for duplicate reports. */
  readonly line: number;
  readonly column: number;
}

export interface FileParseResult {
  readonly documents: readonly ParsedDocument[];
  /** Its declared networks and volumes (absent: none). */
  readonly objects?: readonly ParsedObject[];
  /** Empty when the whole file is valid. */
  readonly issues: readonly SpecIssue[];
  /** Every metadata.name seen in the file, valid document or not (to mark them Invalid). */
  readonly names: readonly string[];
  /** Of those, the ones whose document has a `spec.pool` (absent: none). */
  readonly pools?: readonly string[];
}

/** The first alias of `doc` that names no anchor before it, with its offset. */
function unresolvedAlias(doc: Document): { name: string; offset: number } | undefined {
  let found: { name: string; offset: number } | undefined;
  visit(doc, {
    Alias(_, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      found = { name: node.source, offset: node.range?.[0] ?? 0 };
      return visit.BREAK;
    },
  });
  return found;
}

/** Maps character offsets to 1-based line and column; the line index is built once per text. */
function positioner(text: string): (offset: number) => { line: number; column: number } {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] as number) + 1 };
  };
}

function fileIssue(file: string, code: ErrorCode, message: string, line = 1, column = 1): FileParseResult {
  return { documents: [], issues: [{ code, file, line, column, path: "", message }], names: [] };
}

/** Bytes → text, refusing binary data and invalid UTF-8 with the position of the first bad byte. */
export function decodeSpecBytes(bytes: Uint8Array): { text: string } | { error: string; offset: number } {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return { error: "holds a NUL byte: this is binary data, not a YAML spec file", offset: nul };
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    // Find the first offending byte: decode growing prefixes at character boundaries.
    let good = 0;
    const decoder = new TextDecoder("utf-8", { fatal: true });
    for (let end = 1; end <= bytes.length; end++) {
      try {
        decoder.decode(bytes.subarray(good, end), { stream: true });
        good = end;
      } catch {
        break;
      }
    }
    return { error: "is not valid UTF-8 text", offset: good };
  }
}

/**
 * A linear scan for the structures that make YAML parsing expensive: deep flow nesting ([[[…),
 * many documents, many aliases, many nodes. Quoted scalars and comments are skipped; block scalars
 * are not recognised, which errs on the side of refusing absurd files.
 *
 * Nodes are counted from above: every line with content, every flow collection and `,` between
 * its items, every `- ` list item and every `: ` or `? ` of a mapping. A spec document counts
 * about as many as it has lines (the bundled specs: 40 to 90).
 */
function prescan(text: string, limits: ParseLimits): { code: ErrorCode; message: string; offset: number } | null {
  let nodes = 0;
  let lineHasContent = false;
  const tooManyNodes = (offset: number) => ({
    code: "BERTH_TOO_MANY_NODES" as const,
    message: `holds more than ${limits.maxNodes} YAML nodes (keys, values, list items); split it into several files`,
    offset,
  });
  let depth = 0;
  // Content before the first "---" is a document of its own; a file may also start with "---".
  let documents = 0;
  let contentBeforeMarker = false;
  let aliases = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      lineHasContent = false;
    } else if (c > 0x20 && !lineHasContent && c !== 0x23) {
      lineHasContent = true;
      if (++nodes > limits.maxNodes) return tooManyNodes(i);
    }
    switch (c) {
      case 0x2c: // , between flow items
        if (depth > 0 && ++nodes > limits.maxNodes) return tooManyNodes(i);
        break;
      case 0x3a: // : before a mapping value
      case 0x3f: // ? of an explicit key
        if (/[\s,\]}]|^$/.test(text[i + 1] ?? "") && ++nodes > limits.maxNodes) return tooManyNodes(i);
        break;
      case 0x22: // "
        for (i++; i < n && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
        break;
      case 0x27: // '
        for (i++; i < n && text.charCodeAt(i) !== 0x27; i++);
        break;
      case 0x23: // #
        if (i === 0 || /\s/.test(text[i - 1] as string)) while (i < n && text.charCodeAt(i) !== 0x0a) i++;
        break;
      case 0x5b: // [
      case 0x7b: // {
        if (++nodes > limits.maxNodes) return tooManyNodes(i);
        if (++depth > limits.maxDepth) {
          return {
            code: "BERTH_TOO_DEEP",
            message: `nests deeper than ${limits.maxDepth} levels; a spec never needs that (a YAML bomb?)`,
            offset: i,
          };
        }
        break;
      case 0x5d: // ]
      case 0x7d: // }
        if (depth > 0) depth--;
        break;
      case 0x2a: // *
        if ((i === 0 || /[\s[{,:]/.test(text[i - 1] as string)) && /[^\s\]},]/.test(text[i + 1] ?? " ")) {
          if (++aliases > limits.maxAliases) {
            return {
              code: "BERTH_TOO_MANY_ALIASES",
              message: `uses more than ${limits.maxAliases} YAML aliases (*name); refused as a possible alias bomb`,
              offset: i,
            };
          }
        }
        break;
      case 0x2d: // - : a list item, or a "---" document marker at the start of a line
        if (/[ \n]|^$/.test(text[i + 1] ?? "") && ++nodes > limits.maxNodes) return tooManyNodes(i);
        if (
          (i === 0 || text.charCodeAt(i - 1) === 0x0a) &&
          text.startsWith("---", i) &&
          /[\s]|^$/.test(text[i + 3] ?? "")
        ) {
          if (documents === 0 && contentBeforeMarker) documents = 1;
          if (++documents > limits.maxDocuments) {
            return {
              code: "BERTH_TOO_MANY_DOCUMENTS",
              message: `holds more than ${limits.maxDocuments} documents; split it into several files`,
              offset: i,
            };
          }
        }
        break;
      default:
        if (documents === 0 && c > 0x20) contentBeforeMarker = true;
        break;
    }
  }
  return null;
}

const YAML_MESSAGES: Readonly<Record<string, string>> = {
  TAB_AS_INDENT: "tabs are not allowed in YAML indentation; indent with spaces",
  RESOURCE_EXHAUSTION: "nests too deeply to parse",
};

/**
 * The yaml library's message, as berth repeats it: one line, control characters escaped, at most
 * 160 characters (it may name a tag or an anchor taken from the file).
 */
function yamlText(message: string): string {
  const chars = Array.from(message.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  return chars.length > 160 ? `${chars.slice(0, 160).join("")}…` : chars.join("");
}

/**
 * The offset of the last `[` or `{` still open at `end`, skipping quoted scalars: where an
 * unclosed flow collection began (yaml reports the place where it noticed, often lines later).
 */
function unclosedFlowOpener(text: string, end: number): number | undefined {
  const open: number[] = [];
  for (let i = 0; i < end; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < end && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "'") {
      for (i++; i < end && text[i] !== "'"; i++);
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1] as string))) {
      while (i < end && text[i] !== "\n") i++;
    } else if (c === "[" || c === "{") {
      open.push(i);
    } else if (c === "]" || c === "}") {
      open.pop();
    }
  }
  return open.at(-1);
}

/** Finds the node at a field path: the key of the last step when `atKey`, else the value. */
function locate(doc: Document, path: FieldPath, atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const key = pair.key as Node;
      if (last && atKey) return key.range?.[0] ?? offset;
      node = pair.value ?? key;
      offset = (pair.value as Node | null)?.range?.[0] ?? key.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

/** Walks the tree once, without recursion: depth, alias count, duplicate keys. */
function checkTree(
  doc: Document,
  limits: ParseLimits,
  aliasesSoFar: number,
  lineOf: (offset: number) => number,
): { issue?: { code: ErrorCode; message: string; offset: number }; aliases: number } {
  let aliases = aliasesSoFar;
  const stack: [unknown, number][] = [[doc.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (isAlias(node)) {
      if (++aliases > limits.maxAliases) {
        return {
          issue: {
            code: "BERTH_TOO_MANY_ALIASES",
            message: `uses more than ${limits.maxAliases} YAML aliases (*name); refused as a possible alias bomb`,
            offset: node.range?.[0] ?? 0,
          },
          aliases,
        };
      }
      continue;
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > limits.maxDepth) {
      return {
        issue: {
          code: "BERTH_TOO_DEEP",
          message: `nests deeper than ${limits.maxDepth} levels; a spec never needs that`,
          offset: node.range?.[0] ?? 0,
        },
        aliases,
      };
    }
    if (isMap(node)) {
      const keys = new Map<string, number>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        if (isScalar(key)) {
          const name = String(key.value);
          const offset = key.range?.[0] ?? 0;
          const first = keys.get(name);
          if (first !== undefined) {
            return {
              issue: {
                code: "BERTH_YAML_SYNTAX",
                message: `duplicate key ${keyExcerpt(name)} (first at line ${lineOf(first)}); a key may appear once per mapping`,
                offset,
              },
              aliases,
            };
          }
          keys.set(name, offset);
        } else if (key !== null) {
          stack.push([key, depth + 1]);
        }
        stack.push([pair.value, depth + 1]);
      }
    } else {
      for (const item of node.items) stack.push([item, depth + 1]);
    }
  }
  return { aliases };
}

/** Parses and validates the text of one spec file. */
export function parseSpecText(
  text: string,
  file: string,
  options: ParseOptions = DEFAULT_PARSE_OPTIONS,
  /** The file's path relative to its spec root (a build context must stay inside that root). */
  source?: string,
): FileParseResult {
  const limits = options.limits;
  const at = positioner(text);
  const issues: SpecIssue[] = [];
  const push = (code: ErrorCode, offset: number, path: string, message: string): void => {
    const { line, column } = at(offset);
    issues.push({ code, file, line, column, path, message });
  };

  const scan = prescan(text, limits);
  if (scan) {
    const { line, column } = at(scan.offset);
    return fileIssue(file, scan.code, scan.message, line, column);
  }

  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: true });
  const docs: Document[] = Array.isArray(parsed) ? parsed : [];
  const documents: ParsedDocument[] = [];
  const objects: ParsedObject[] = [];
  const names: string[] = [];
  const pools: string[] = [];
  let aliases = 0;
  let nonEmpty = 0;

  docs.forEach((doc, index) => {
    const yamlError = doc.errors[0] ?? doc.warnings[0];
    if (yamlError) {
      let message = YAML_MESSAGES[yamlError.code] ?? yamlText(yamlError.message.split("\n")[0] ?? yamlError.code);
      let offset = yamlError.pos[0];
      const code = yamlError.code === "RESOURCE_EXHAUSTION" ? "BERTH_TOO_DEEP" : "BERTH_YAML_SYNTAX";
      if (/^Flow (sequence|map) in block collection/.test(message)) {
        const opener = unclosedFlowOpener(text, offset);
        if (opener !== undefined) {
          const close = text[opener] === "[" ? "]" : "}";
          message = `this ${text[opener] ?? ""} is not closed by a ${close} (or the lines after it are not indented enough)`;
          offset = opener;
        }
      }
      push(code, offset, "", code === "BERTH_YAML_SYNTAX" ? `invalid YAML: ${message}` : message);
      nonEmpty++;
      return;
    }
    // An empty document (a trailing ---, or only comments): nothing to do, as kubectl does.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return;
    nonEmpty++;
    const tree = checkTree(doc, limits, aliases, (offset) => at(offset).line);
    aliases = tree.aliases;
    if (tree.issue) {
      push(tree.issue.code, tree.issue.offset, "", tree.issue.message);
      return;
    }
    let data: unknown;
    try {
      // yaml refuses at count >= maxAliasCount, counting nested aliases (billion laughs) by weight.
      data = doc.toJS({ maxAliasCount: limits.maxAliases + 1 });
    } catch {
      // An alias without its anchor before it (in this document: anchors do not carry across ---).
      const unknown = unresolvedAlias(doc);
      if (unknown) {
        push(
          "BERTH_YAML_SYNTAX",
          unknown.offset,
          "",
          `invalid YAML: unknown alias *${unknown.name}: no anchor &${unknown.name} before it in this document`,
        );
        return;
      }
      // yaml refuses to expand aliases more than maxAliasCount times (an alias bomb).
      push(
        "BERTH_TOO_MANY_ALIASES",
        doc.contents.range?.[0] ?? 0,
        "",
        `expands YAML aliases more than ${limits.maxAliases} times; refused as a possible alias bomb`,
      );
      return;
    }
    const kind = (data as { kind?: unknown } | null)?.kind;
    const isObject = kind === "Network" || kind === "Volume";
    const name = (data as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    if (typeof name === "string" && !isObject) {
      names.push(name);
      const spec = (data as { spec?: unknown }).spec;
      if (typeof spec === "object" && spec !== null && (spec as { pool?: unknown }).pool !== undefined)
        pools.push(name);
    }

    // At most MAX_ISSUES_PER_DOCUMENT problems each (a document of 20 000 unknown keys is one
    // mistake, and locating each problem walks the document).
    const report = (fieldIssues: readonly FieldIssue[], cut = false): void => {
      let last = 0;
      for (const fi of fieldIssues.slice(0, MAX_ISSUES_PER_DOCUMENT)) {
        const offset = locate(doc, fi.path, fi.atKey ?? false);
        last = Math.max(last, offset);
        push(fi.code, offset, formatPath(fi.path), fi.message);
      }
      const more = fieldIssues.length - MAX_ISSUES_PER_DOCUMENT;
      const first = fieldIssues[0];
      if ((more > 0 || cut) && first) {
        const what = more > 0 && !cut ? `${more} more problems` : "more problems";
        push(first.code, last, "", `and ${what} in this document, not listed`);
      }
    };
    const foreign = lookalike(data, file);
    if (foreign !== undefined) {
      push("BERTH_SCHEMA", doc.contents.range?.[0] ?? 0, "", foreign);
      return;
    }
    if (isObject) {
      const validateObject = kind === "Network" ? networkValidator() : volumeValidator();
      if (!validateObject(data)) {
        const errors = validateObject.errors ?? [];
        report(schemaIssues(errors.slice(0, 4 * MAX_ISSUES_PER_DOCUMENT), data));
        return;
      }
      const declared = normalizeObject(data, options.labelPrefix);
      if (!declared.ok) {
        report(declared.issues);
        return;
      }
      const refused = checkObject(declared.object, options.policy, options.policyContext);
      if (refused.length > 0) {
        for (const v of refused) push("BERTH_POLICY", locate(doc, v.path, false), formatPath(v.path), v.message);
        return;
      }
      objects.push({ object: declared.object, index, ...at(locate(doc, ["metadata", "name"], false)) });
      return;
    }
    const validate = specValidator();
    if (!validate(data)) {
      // Only the first errors are turned into messages (each may look for a suggestion).
      const errors = validate.errors ?? [];
      const considered = 4 * MAX_ISSUES_PER_DOCUMENT;
      report(schemaIssues(errors.slice(0, considered), data), errors.length > considered);
      return;
    }
    const result = normalize(data, { labelPrefix: options.labelPrefix, ...(source !== undefined ? { source } : {}) });
    if (!result.ok) {
      report(result.issues);
      return;
    }
    const inexpressible = targetIssues(data, result.spec, options.target ?? "engine");
    if (inexpressible.length > 0) {
      report(inexpressible);
      return;
    }
    const violations = checkSpec(data, result.spec, options.policy, options.policyContext);
    if (violations.length > 0) {
      for (const v of violations) push("BERTH_POLICY", locate(doc, v.path, false), formatPath(v.path), v.message);
      return;
    }
    const joins = namespaceJoins(data).map((j) => ({
      path: formatPath(j.path),
      name: j.name,
      ...at(locate(doc, j.path, false)),
    }));
    const { line, column } = at(locate(doc, ["metadata", "name"], false));
    const spec = options.target === "swarm" ? asSwarmService(data, result.spec) : result.spec;
    const buildAt = buildPositions(data, (p, atKey) => at(locate(doc, p, atKey)));
    documents.push({ spec, index, line, column, joins, ...(buildAt ? { buildAt } : {}) });
  });

  if (nonEmpty === 0) {
    return fileIssue(
      file,
      "BERTH_EMPTY_FILE",
      "holds no documents; an empty file is refused rather than read as 'delete everything' (remove the file to remove its specs)",
    );
  }
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  const valid = issues.length === 0;
  return {
    documents: valid ? documents : [],
    ...(objects.length > 0 && valid ? { objects } : {}),
    issues,
    names,
    ...(pools.length > 0 ? { pools } : {}),
  };
}

/** Where a build spec's context and Dockerfile are written, for the loader's check of them on disk. */
function buildPositions(
  data: unknown,
  at: (path: FieldPath, atKey: boolean) => { line: number; column: number },
): ParsedDocument["buildAt"] {
  const build = (data as { spec?: { build?: { dockerfile?: unknown } } }).spec?.build;
  if (build === undefined) return undefined;
  const written = build.dockerfile !== undefined;
  return {
    context: at(["spec", "build", "context"], false),
    dockerfile: written ? at(["spec", "build", "dockerfile"], false) : at(["spec", "build"], true),
  };
}

/** The verdict on a file above the size limit (given its size, so it need not be read). */
export function fileTooLarge(file: string, size: number, limits: ParseLimits): FileParseResult {
  // Just above the limit, both round alike: then the bytes say it.
  const [is, limit] = [formatBytes(size), formatBytes(limits.maxFileBytes)];
  const said = is === limit ? `${size} bytes` : is;
  return fileIssue(file, "BERTH_FILE_TOO_LARGE", `is ${said}, above the ${limit} limit for a spec file`);
}

/** Parses the bytes of one spec file, refusing oversized and non-text files first. */
export function parseSpecBytes(
  bytes: Uint8Array,
  file: string,
  options: ParseOptions = DEFAULT_PARSE_OPTIONS,
  source?: string,
): FileParseResult {
  if (bytes.length > options.limits.maxFileBytes) return fileTooLarge(file, bytes.length, options.limits);
  const decoded = decodeSpecBytes(bytes);
  if ("error" in decoded) {
    const prefix = new TextDecoder("utf-8").decode(bytes.subarray(0, decoded.offset));
    const { line, column } = positioner(prefix)(prefix.length);
    return fileIssue(file, "BERTH_NOT_TEXT", decoded.error, line, column);
  }
  return parseSpecText(decoded.text, file, options, source);
}
