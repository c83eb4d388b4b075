// Generates src/manifest/validate.gen.ts, the spec validator, from schemas/container.schema.json: ajv's
// standalone code for the schema, compiled here once instead of in every berth process (ajv's
// import and compile took about 180 ms of each command's start; loading this takes about 15 ms).
// `npm run gen` rewrites it; test/unit/contracts.test.ts fails when the committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
// The schema is draft-07, which every editor's JSON Schema support resolves fully: ajv's default class.
import { Ajv } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";

export const validatorPath = new URL("../src/manifest/validate.gen.ts", import.meta.url);
const schemaPath = new URL("../schemas/container.schema.json", import.meta.url);

/** Our annotation keyword (src/manifest/schema.ts): a short phrase for error messages. */
const EXPECTED_KEYWORD = "x-expected";

export function generateValidator() {
  const ajv = new Ajv({
    strict: true,
    allErrors: true,
    allowUnionTypes: true,
    discriminator: true,
    verbose: true,
    $data: false,
    messages: true,
    code: { source: true, esm: true },
  });
  // tsType: json-schema-to-typescript's keyword, where a value of two types (a ulimit) needs a plain union.
  ajv.addVocabulary([EXPECTED_KEYWORD, "tsType"]);
  const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
  ajv.addSchema(schema);
  // The root (what editors use) dispatches on kind; berth validates each kind with its own
  // definition, so that a Container document's errors read as they always have.
  const id = schema.$id;
  const code = standaloneCode.default(ajv, {
    validateDocument: id,
    validateContainer: `${id}#/definitions/containerDocument`,
    validateNetwork: `${id}#/definitions/networkDocument`,
    validateVolume: `${id}#/definitions/volumeDocument`,
  });
  // ajv's ESM output still calls require() for its runtime helpers (a CommonJS package): give the
  // ES module one of its own.
  const body = code.replace(/^"use strict";/, "");
  const others = [...body.matchAll(/require\("([^"]+)"\)/g)].filter((m) => !m[1].startsWith("ajv/dist/runtime/"));
  if (others.length > 0) throw new Error(`gen-validator: ajv's code requires ${others.map((m) => m[1]).join(", ")}`);
  return [
    "// @ts-nocheck",
    "/* Generated from schemas/container.schema.json by `npm run gen` (scripts/gen-validator.mjs). Do not edit by hand. */",
    'import { createRequire } from "node:module";',
    "const require = createRequire(import.meta.url);",
    body,
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(validatorPath, generateValidator());
  console.log("wrote", validatorPath.pathname);
}
