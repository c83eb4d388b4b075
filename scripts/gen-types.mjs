// Generates src/core/document.gen.ts from schemas/container.schema.json, the single source of truth.
// `npm run gen` rewrites it; test/unit/schema-types.test.ts fails when the committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { compile } from "json-schema-to-typescript";

export const schemaPath = new URL("../schemas/container.schema.json", import.meta.url);
export const typesPath = new URL("../src/core/document.gen.ts", import.meta.url);

export async function generateTypes() {
  const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
  // One type per document kind (the root only dispatches on kind), compiled together so that
  // the definitions they share are written once.
  const { definitions } = schema;
  const kinds = {
    title: "berth documents",
    description: "Every kind of berth spec document.",
    type: "object",
    properties: {
      container: { $ref: "#/definitions/containerDocument" },
      network: { $ref: "#/definitions/networkDocument" },
      volume: { $ref: "#/definitions/volumeDocument" },
    },
    definitions,
  };
  return compile(kinds, "BerthDocuments", {
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
