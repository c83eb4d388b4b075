/** The input limits, exactly at and just past each boundary. */
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, parseSpecText } from "../../../src/manifest/parse.js";
import { specText } from "../../support/specs.js";

const codes = (text: string): string[] => parseSpecText(text, "x.yaml").issues.map((i) => i.code);

function docs(count: number, leadingMarker: boolean): string {
  const parts = Array.from({ length: count }, (_, i) => specText(`s${i}`));
  return (leadingMarker ? "---\n" : "") + parts.join("---\n");
}

describe("limits", () => {
  it.each([true, false])("accepts the maximum of documents and refuses one more (leading ---: %s)", (leading) => {
    const max = DEFAULT_LIMITS.maxDocuments;
    const ok = parseSpecText(docs(max, leading), "x.yaml");
    expect(ok.issues).toEqual([]);
    expect(ok.documents).toHaveLength(max);
    expect(codes(docs(max + 1, leading))).toEqual(["BERTH_TOO_MANY_DOCUMENTS"]);
  });

  it("accepts 100 aliases and refuses 101", () => {
    const withAliases = (n: number): string =>
      specText("a", { extra: [`command: [&c sh, ${Array.from({ length: n }, () => "*c").join(", ")}]`] });
    const ok = parseSpecText(withAliases(100), "x.yaml");
    expect(ok.issues).toEqual([]);
    expect(ok.documents[0]?.spec.command).toHaveLength(101);
    expect(codes(withAliases(101))).toEqual(["BERTH_TOO_MANY_ALIASES"]);
  });

  it("accepts nesting up to the depth limit and refuses one level more", () => {
    // The depth counts every mapping and list of the document: the root and spec mappings are
    // two levels, so spec.command can hold max - 2 nested lists.
    const nested = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const max = DEFAULT_LIMITS.maxDepth;
    expect(codes(specText("a", { extra: [`command: ${nested(max - 2)}`] }))).not.toContain("BERTH_TOO_DEEP");
    expect(codes(specText("a", { extra: [`command: ${nested(max - 1)}`] }))).toEqual(["BERTH_TOO_DEEP"]);
    const block = (depth: number): string =>
      Array.from({ length: depth }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n") + " 1\n";
    expect(codes(block(max))).not.toContain("BERTH_TOO_DEEP");
    expect(codes(block(max + 1))).toEqual(["BERTH_TOO_DEEP"]);
  });

  it("does not count brackets, aliases or markers inside quoted strings and comments", () => {
    const text = specText("a", {
      extra: [`command: ["${"[".repeat(50)}", '${"*x ".repeat(200)}'] # ${"[".repeat(50)} *y *z`],
    });
    expect(parseSpecText(text, "x.yaml").issues).toEqual([]);
  });
});
