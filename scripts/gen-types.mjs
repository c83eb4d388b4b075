// Generates src/core/document.gen.ts from schemas/container.schema.json, the single source of truth.
// `npm run gen` rewrites it; test/unit/schema-types.test.ts fails when the committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { compile } from "json-schema-to-typescript";

export const schemaPath = new URL("../schemas/container.schema.json", import.meta.url);
export const typesPath = new URL("../src/core/document.gen.ts", import.meta.url);

export async function generateTypes() {
  const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
  return compile(schema, "ContainerDocument", {
    bannerComment: "/* Generated from schemas/container.schema.json by `npm run gen`. Do not edit by hand. */",
    additionalProperties: false,
    unreachableDefinitions: false,
    style: { singleQuote: false, printWidth: 100 },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(typesPath, await generateTypes());
  console.log("wrote", typesPath.pathname);
}
