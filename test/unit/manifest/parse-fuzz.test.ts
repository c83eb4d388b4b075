/**
 * The loader, fed arbitrary text and arbitrary JSON-like values, never throws: every outcome is
 * documents or our own typed issues, each with a place and a message. What keeps a parse bounded
 * (the alias, depth and size limits) is tested in parse-limits.test.ts; how long a parse takes is
 * not a functional assertion (a hang still fails here, at the test's timeout).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../../src/core/errors.js";
import { parseSpecBytes, parseSpecText } from "../../../src/manifest/parse.js";
import { specArb, toYaml } from "../../support/arbitraries.js";

const KNOWN_CODES = new Set(Object.keys(ERROR_CODES));

function checkOutcome(run: () => ReturnType<typeof parseSpecText>): void {
  let result: ReturnType<typeof parseSpecText> | undefined;
  expect(() => (result = run())).not.toThrow();
  for (const issue of result?.issues ?? []) {
    expect(KNOWN_CODES.has(issue.code)).toBe(true);
    expect(issue.line).toBeGreaterThanOrEqual(1);
    expect(issue.column).toBeGreaterThanOrEqual(1);
    expect(issue.message.length).toBeGreaterThan(0);
  }
  // Either valid documents or issues, never both.
  if ((result?.issues.length ?? 0) > 0) expect(result?.documents).toEqual([]);
}

describe("the parser never throws", () => {
  it("on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        checkOutcome(() => parseSpecText(text, "fuzz.yaml"));
      }),
      { numRuns: 1000 },
    );
  });

  it("on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        checkOutcome(() => parseSpecBytes(bytes, "fuzz.yaml"));
      }),
      { numRuns: 1000 },
    );
  });

  it("on arbitrary JSON-like values rendered as YAML", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        checkOutcome(() => parseSpecText(toYaml(value), "fuzz.yaml"));
      }),
      { numRuns: 500 },
    );
  });

  it("on valid specs with one field replaced by an arbitrary value", () => {
    const fields = ["image", "command", "env", "resources", "mounts", "ports", "replicas", "expiresAt", "healthcheck"];
    fc.assert(
      fc.property(specArb, fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 }), (doc, field, value) => {
        const mutated = { ...doc, spec: { ...doc.spec, [field]: value } };
        checkOutcome(() => parseSpecText(toYaml(mutated), "fuzz.yaml"));
      }),
      { numRuns: 500 },
    );
  });

  it("on YAML-flavoured noise: brackets, anchors, aliases, tags, markers", () => {
    const token = fc.constantFrom(
      "[",
      "]",
      "{",
      "}",
      "&a ",
      "*a ",
      "!!str ",
      "!x ",
      "---\n",
      "- ",
      ": ",
      "\n",
      "  ",
      "\t",
      '"',
      "'",
      "#",
      "key",
      "1",
      "?",
      "|",
      ">",
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 300 }), (tokens) => {
        checkOutcome(() => parseSpecText(tokens.join(""), "fuzz.yaml"));
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts every generated valid spec", () => {
    fc.assert(
      fc.property(specArb, (doc) => {
        const result = parseSpecText(toYaml(doc), "ok.yaml");
        expect(result.issues).toEqual([]);
        expect(result.documents.map((d) => d.spec.name)).toEqual([doc.metadata.name]);
      }),
      { numRuns: 300 },
    );
  });
});
