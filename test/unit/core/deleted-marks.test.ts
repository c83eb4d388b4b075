/** When a deleted spec's mark is let go (core/deleted-marks.ts), as a table: both targets use it. */
import { describe, expect, it } from "vitest";
import { forgottenDeletions } from "../../../src/core/deleted-marks.js";

describe("forgottenDeletions", () => {
  it.each([
    { marked: ["a"], loaded: [], left: [], forgotten: ["a"], why: "nothing loaded, nothing left" },
    { marked: ["a"], loaded: ["a"], left: [], forgotten: [], why: "still loaded: a create may follow" },
    { marked: ["a"], loaded: [], left: ["a"], forgotten: [], why: "something of it is left to remove" },
    { marked: ["a"], loaded: ["a"], left: ["a"], forgotten: [], why: "both" },
    { marked: ["a", "b", "c"], loaded: ["b"], left: ["c", "x"], forgotten: ["a"], why: "each on its own" },
    { marked: [], loaded: ["a"], left: ["a"], forgotten: [], why: "no marks" },
  ])("$why", ({ marked, loaded, left, forgotten }) => {
    expect(forgottenDeletions(new Set(marked), new Set(loaded), new Set(left))).toEqual(forgotten);
  });
});
