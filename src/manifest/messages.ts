/**
 * ajv's errors → our field issues: one per field, saying what is wrong and what would be valid,
 * with a suggestion for a misspelt field or value.
 */
import type { FieldIssue } from "../core/normalize.js";
import { EXPECTED_KEYWORD, type JsonSchema, type SchemaError } from "./schema.js";
import { quantityGuess, suggest } from "./suggest.js";

const TYPE_PHRASES: Readonly<Record<string, string>> = {
  string: "a string",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  null: "nothing",
};

/** Keywords whose errors only summarise the errors of their subschemas. */
const SUMMARY_KEYWORDS = new Set(["oneOf", "anyOf", "allOf", "if", "propertyNames", "$ref"]);

/** "/spec/env/A~1B" → ["spec", "env", "A/B"]; array indexes become numbers. */
export function pointerToPath(pointer: string, data: unknown): (string | number)[] {
  if (pointer === "") return [];
  const path: (string | number)[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The most characters of a key a message quotes. */
export const KEY_EXCERPT_CHARS = 40;

/**
 * A key as messages show it: at most KEY_EXCERPT_CHARS characters (whole code points), JSON-escaped,
 * with an ellipsis when cut. A key comes from the file, whatever the file is: a message never
 * quotes more of it than this.
 */
export function keyExcerpt(key: string): string {
  const chars = Array.from(key);
  return JSON.stringify(chars.length > KEY_EXCERPT_CHARS ? `${chars.slice(0, KEY_EXCERPT_CHARS).join("")}…` : key);
}

/** ["spec", "mounts", 0, "source"] → spec.mounts[0].source; odd keys are quoted: labels["a.b"]. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER_RE.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${keyExcerpt(segment)}]`;
  }
  return out;
}

/** A short rendering of a value for a message: `"1 GB"`, `5`, `true`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  return "a mapping";
}

function quoted(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  return JSON.stringify(value) ?? String(value);
}

function expectedPhrase(schema: JsonSchema | undefined): string | undefined {
  const phrase = schema?.[EXPECTED_KEYWORD];
  if (!phrase) return undefined;
  const examples = (schema.examples ?? []).filter((e) => typeof e === "string" || typeof e === "number");
  return examples.length > 0 ? `${phrase} (e.g. ${examples.join(", ")})` : phrase;
}

function list(values: readonly unknown[], conjunction: "or" | "and" = "or"): string {
  const shown = values.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} ${conjunction} ${shown[shown.length - 1] ?? ""}`;
}

function typeMessage(error: SchemaError): string {
  // ajv names one type as a string, several as "a,b" or, for an integer-or-object (a ulimit), a list.
  const type = (error.params as { type: string | string[] }).type;
  const types = Array.isArray(type) ? type : type.split(",");
  const parent = error.parentSchema;
  const expected = expectedPhrase(parent) ?? list(types.map((t) => TYPE_PHRASES[t] ?? t));
  const data: unknown = error.data;
  let hint = "";
  if (types.includes("string") && (typeof data === "number" || typeof data === "boolean")) {
    hint = `; quote it: "${String(data)}"`;
  } else if (
    (types.includes("integer") || types.includes("number")) &&
    typeof data === "string" &&
    data.trim() !== "" &&
    !Number.isNaN(Number(data))
  ) {
    hint = "; remove the quotes";
  }
  return `expected ${expected}, got ${describeValue(data)}${hint}`;
}

/** Fields of one mount type that people write on another: the type they belong to. */
const MOUNT_ONLY_FIELDS: Readonly<Record<string, string>> = { perInstance: "volume", reclaimPolicy: "volume" };
const MOUNT_TYPES = new Set(["bind", "volume", "tmpfs"]);

function additionalPropertyMessage(error: SchemaError, field: string): string {
  const parent = error.parentSchema;
  const known = Object.keys((parent?.properties ?? {}) as Record<string, unknown>);
  const title = typeof parent?.title === "string" ? parent.title : "";
  const belongs = Object.hasOwn(MOUNT_ONLY_FIELDS, field) ? MOUNT_ONLY_FIELDS[field] : undefined;
  if (MOUNT_TYPES.has(title) && belongs !== undefined && belongs !== title) {
    return `${keyExcerpt(field)} applies only to ${belongs} mounts (type: ${belongs}), not to a ${title} mount; its fields are ${list(known, "and")}`;
  }
  const guess = suggest(field, known);
  const shown = keyExcerpt(field);
  if (guess !== undefined) return `unknown field ${shown}; did you mean ${quoted(guess)}?`;
  if (known.length === 0) return `unknown field ${shown}`;
  if (known.length <= 12) return `unknown field ${shown}; the valid fields are ${list(known, "and")}`;
  return `unknown field ${shown} (see \`berth schema\` for the valid fields)`;
}

function limitMessage(error: SchemaError): string {
  const limit = (error.params as { limit: number }).limit;
  const data: unknown = error.data;
  switch (error.keyword) {
    case "minimum":
      return `${quoted(data)} is below the minimum ${limit}`;
    case "maximum":
      return `${quoted(data)} is above the maximum ${limit}`;
    case "exclusiveMinimum":
      return `${quoted(data)} is too small: it must be more than ${limit}`;
    case "exclusiveMaximum":
      return `${quoted(data)} must be less than ${limit}`;
    case "minLength":
      return limit === 1 ? "must not be empty" : `must be at least ${limit} characters long`;
    case "maxLength":
      return `is ${String(data).length} characters long; the limit is ${limit}`;
    case "minItems":
      return limit === 1 ? "must list at least one item" : `must list at least ${limit} items`;
    case "maxItems":
      return `lists ${(data as unknown[]).length} items; the limit is ${limit}`;
    case "minProperties":
    case "maxProperties": {
      const expected = expectedPhrase(error.parentSchema);
      if (expected) return `expected ${expected}`;
      const count = Object.keys(data as object).length;
      return error.keyword === "minProperties"
        ? `has ${count} entries; at least ${limit} needed`
        : `has ${count} entries; the limit is ${limit}`;
    }
    default:
      return error.message ?? "is not valid";
  }
}

/** A likely meaning of a value that missed its pattern: `512MB` → `; did you mean "512Mi" (or "512M")?`. */
function patternHint(error: SchemaError): string {
  if (error.parentSchema?.[EXPECTED_KEYWORD] !== "a quantity") return "";
  const [first, ...others] = quantityGuess(error.data) ?? [];
  if (first === undefined) return "";
  return `; did you mean ${quoted(first)}${others.map((o) => ` (or ${quoted(o)})`).join("")}?`;
}

/**
 * Turns ajv errors for one document into field issues, at most one per field (the most specific
 * one), in document order of the errors.
 */
export function schemaIssues(errors: readonly SchemaError[], data: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  const add = (issue: FieldIssue): void => {
    const key = JSON.stringify(issue.path) + (issue.atKey ? "#key" : "");
    if (seen.has(key)) return;
    seen.add(key);
    issues.push(issue);
  };
  const specific = errors.filter((e) => !SUMMARY_KEYWORDS.has(e.keyword));

  for (const error of specific) {
    const path = pointerToPath(error.instancePath, data);
    const params = error.params as Record<string, unknown>;
    const parent = error.parentSchema;
    if (error.propertyName !== undefined) {
      // An error about a key (propertyNames): point at the key itself.
      const expected = expectedPhrase(parent) ?? "a valid key";
      const names = error.keyword === "enum" ? (params.allowedValues as string[]) : null;
      const guess = names === null ? undefined : suggest(error.propertyName, names);
      add({
        code: "BERTH_SCHEMA",
        path: [...path, error.propertyName],
        atKey: true,
        message:
          names === null
            ? `key ${keyExcerpt(error.propertyName)} is not ${expected}`
            : `unknown name ${keyExcerpt(error.propertyName)}; ${guess !== undefined ? `did you mean ${quoted(guess)}?` : `the valid names are ${list(names, "and")}`}`,
      });
      continue;
    }
    switch (error.keyword) {
      case "required":
        add({
          code: "BERTH_SCHEMA",
          path,
          atKey: true,
          message: `missing required field ${quoted(params.missingProperty)}`,
        });
        break;
      case "additionalProperties": {
        const field = String(params.additionalProperty);
        add({
          code: "BERTH_SCHEMA",
          path: [...path, field],
          atKey: true,
          message: additionalPropertyMessage(error, field),
        });
        break;
      }
      case "type":
        add({ code: "BERTH_SCHEMA", path, message: typeMessage(error) });
        break;
      case "pattern":
        add({
          code: "BERTH_SCHEMA",
          path,
          message: `${quoted(error.data)} is not ${expectedPhrase(parent) ?? `of the form ${String(params.pattern)}`}${patternHint(error)}`,
        });
        break;
      case "enum": {
        const allowed = params.allowedValues as unknown[];
        const guess =
          typeof error.data === "string"
            ? suggest(
                error.data,
                allowed.filter((v): v is string => typeof v === "string"),
              )
            : undefined;
        add({
          code: "BERTH_SCHEMA",
          path,
          message: `${quoted(error.data)} is not one of ${list(allowed)}${guess !== undefined ? `; did you mean ${quoted(guess)}?` : ""}`,
        });
        break;
      }
      case "const":
        add({
          code: "BERTH_SCHEMA",
          path,
          message: `${quoted(error.data)} is not supported; expected ${quoted(params.allowedValue)}`,
        });
        break;
      case "discriminator": {
        const tag = String(params.tag);
        if (params.error === "mapping") {
          const allowed = ["bind", "volume", "tmpfs"];
          const value = (error.data as Record<string, unknown>)[tag];
          const guess = typeof value === "string" ? suggest(value, allowed) : undefined;
          add({
            code: "BERTH_SCHEMA",
            path: [...path, tag],
            message: `${quoted(value)} is not one of ${list(allowed)}${guess !== undefined ? `; did you mean ${quoted(guess)}?` : ""}`,
          });
        } else {
          add({ code: "BERTH_SCHEMA", path: [...path, tag], message: `expected a string naming the ${tag}` });
        }
        break;
      }
      case "uniqueItems":
        add({
          code: "BERTH_SCHEMA",
          path: [...path, Number(params.j)],
          message: `duplicates item ${Number(params.i)}`,
        });
        break;
      default:
        add({ code: "BERTH_SCHEMA", path, message: limitMessage(error) });
    }
  }
  if (issues.length === 0 && errors.length > 0) {
    // Only summary errors (should not happen with this schema): report the first plainly.
    const first = errors[0] as SchemaError;
    issues.push({
      code: "BERTH_SCHEMA",
      path: pointerToPath(first.instancePath, data),
      message: first.message ?? "is not valid",
    });
  }
  return issues;
}
