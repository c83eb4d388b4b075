/** Things kept twice on purpose, checked to agree: generated types, the CLI reference, error codes and their docs. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/core/errors.js";
import { generateCliDocs } from "../../scripts/gen-cli-docs.js";
import { generateDocs } from "../../scripts/gen-docs.mjs";
import { generateTypes } from "../../scripts/gen-types.mjs";
import { generateValidator } from "../../scripts/gen-validator.mjs";

describe("contracts", () => {
  it("src/core/document.gen.ts is what `npm run gen` makes from the schema", async () => {
    expect(readFileSync("src/core/document.gen.ts", "utf8")).toBe(await generateTypes());
  });

  it("src/manifest/validate.gen.ts is what `npm run gen` makes from the schema", () => {
    expect(readFileSync("src/manifest/validate.gen.ts", "utf8")).toBe(generateValidator());
  });

  it("docs/spec.md is what `npm run gen` makes from the schema", () => {
    expect(readFileSync("docs/spec.md", "utf8")).toBe(generateDocs());
  });

  it("docs/cli.md is what `npm run gen` makes from the commander definitions", async () => {
    expect(readFileSync("docs/cli.md", "utf8")).toBe(await generateCliDocs());
  });

  it("docs/errors.md lists exactly the error codes of src/core/errors.ts", () => {
    const documented = [...readFileSync("docs/errors.md", "utf8").matchAll(/^\|\s*`(BERTH_[A-Z_]+)`\s*\|/gm)].map(
      (m) => m[1],
    );
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
