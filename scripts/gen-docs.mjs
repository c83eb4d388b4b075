// Generates docs/spec.md (the field reference) from schemas/container.schema.json.
// `npm run gen` rewrites it; test/unit/contracts.test.ts fails when the committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";

export const docsPath = new URL("../docs/spec.md", import.meta.url);
const schemaPath = new URL("../schemas/container.schema.json", import.meta.url);

function resolve(schema, node) {
  let current = node;
  while (current && current.$ref) {
    const name = current.$ref.replace("#/definitions/", "");
    current = { ...schema.definitions[name], ...current, $ref: undefined };
  }
  return current;
}

function typeOf(node) {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${v}\``).join(" \\| ");
  const types = [].concat(node.type ?? []);
  if (types.includes("array")) return "list";
  if (types.includes("object")) return "mapping";
  if (node["x-expected"]) return node["x-expected"].replace(/^an? /, "");
  return types.join(" or ") || (node.oneOf ? "one of several forms" : "");
}

function escape(text) {
  return String(text ?? "")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");
}

function rows(schema, node, path, out) {
  const props = node.properties ?? {};
  const required = new Set(node.required ?? []);
  for (const [key, raw] of Object.entries(props)) {
    if (key === "type" && node.title && path.endsWith(`(${node.title})`)) continue; // said by the row's name
    const child = resolve(schema, raw);
    const here = path ? `${path}.${key}` : key;
    const examples = (child.examples ?? []).filter((e) => typeof e !== "object").map((e) => `\`${e}\``);
    out.push(
      `| \`${here}\` | ${typeOf(child)}${required.has(key) ? " (required)" : ""} | ${escape(child.description)}${examples.length ? ` e.g. ${examples.join(", ")}` : ""} |`,
    );
    if (child.properties) rows(schema, child, here, out);
    const items = child.items ? resolve(schema, child.items) : undefined;
    if (items?.properties) rows(schema, items, `${here}[]`, out);
    if (items?.oneOf) for (const form of items.oneOf) rows(schema, form, `${here}[] (${form.title})`, out);
    const values =
      child.additionalProperties && typeof child.additionalProperties === "object"
        ? resolve(schema, child.additionalProperties)
        : undefined;
    if (values?.properties) rows(schema, values, `${here}.NAME`, out);
  }
}

export function generateDocs() {
  const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
  const out = [];
  rows(schema, schema.definitions.containerDocument, "", out);
  const objects = (kind) => {
    const lines = [];
    rows(schema, schema.definitions[`${kind.toLowerCase()}Document`], "", lines);
    return [
      "",
      `## kind: ${kind}`,
      "",
      schema.definitions[`${kind.toLowerCase()}Document`].description,
      "",
      "| field | type | description |",
      "| --- | --- | --- |",
      ...lines,
    ];
  };
  return [
    "# Spec reference",
    "",
    "<!-- Generated from schemas/container.schema.json by `npm run gen`. Do not edit by hand. -->",
    "",
    "Every field of a `berth/v1` `Container` document. Fields not marked required are optional;",
    "their defaults are in the descriptions. The schema is strict: an unknown field is an error.",
    "",
    "| field | type | description |",
    "| --- | --- | --- |",
    ...out,
    ...objects("Network"),
    ...objects("Volume"),
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(docsPath, generateDocs());
  console.log("wrote", docsPath.pathname);
}
