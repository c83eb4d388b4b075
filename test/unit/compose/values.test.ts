/** Compose's interpolation and value formats, as tables. */
import { describe, expect, it } from "vitest";
import { interpolate } from "../../../src/compose/interpolate.js";
import { composeBytes, composeDuration, shellSplit } from "../../../src/compose/values.js";

const VARS = { SET: "value", EMPTY: "", TAG: "1.2" };

describe("interpolate", () => {
  it.each([
    ["plain", "plain"],
    ["$SET and ${SET}", "value and value"],
    ["${UNSET}", ""],
    ["${UNSET:-default}", "default"],
    ["${EMPTY:-default}", "default"],
    ["${EMPTY-default}", ""],
    ["${UNSET-default}", "default"],
    ["${SET:+replaced}", "replaced"],
    ["${EMPTY:+replaced}", ""],
    ["${EMPTY+replaced}", "replaced"],
    ["${UNSET:-${TAG}-x}", "1.2-x"],
    ["$$SET costs $$5", "$SET costs $5"],
    ["${SET:?must be set}", "value"],
    ["a${SET}b$TAG.c", "avalueb1.2.c"],
  ])("%s → %s", (text, expected) => {
    expect(interpolate(text, VARS)).toEqual({ value: expected });
  });

  it.each([
    ["${UNSET:?set it first}", "required variable UNSET is not set: set it first"],
    ["${EMPTY:?}", "required variable EMPTY is empty: EMPTY is required"],
    ["${UNSET?}", "required variable UNSET is not set: UNSET is required"],
    ["${SET", 'invalid interpolation: "${" without a closing "}" in "${SET"'],
    ["${1X}", 'invalid interpolation "${1X}": a variable name must follow "${"'],
    ["${SET#x}", 'invalid interpolation "${SET#x}": after the name, use :-, -, :?, ?, :+ or +'],
    ["cost: $5", 'invalid interpolation: "$" must start $NAME, ${NAME} or $$ (a literal $) in "cost: $5"'],
  ])("%s is an error", (text, error) => {
    expect(interpolate(text, VARS)).toEqual({ error });
  });

  it("reports variables used without a default that are not set, as Compose warns of them", () => {
    const missing: string[] = [];
    interpolate("$A ${B} ${C:-x} ${SET}", VARS, missing);
    expect(missing).toEqual(["A", "B"]);
  });
});

describe("Compose value formats", () => {
  it.each([
    ["512m", "512Mi"],
    ["512M", "512Mi"],
    ["1g", "1Gi"],
    ["1.5GB", "1536Mi"],
    ["64k", "64Ki"],
    ["1000", 1000],
    [2048, "2Ki"],
  ])("size %j → %j", (input, expected) => {
    expect(composeBytes(input)).toEqual({ ok: expected });
  });

  it("refuses a size it cannot read", () => {
    expect(composeBytes("lots")).toEqual({ error: '"lots" is not a size (e.g. 512m, 1g, 2048)' });
  });

  it.each([
    ["10s", "10s"],
    ["1m30s", "1m30s"],
    ["90s", "1m30s"],
    ["1.5s", "1s500ms"],
    ["500ms", "500ms"],
    ["2000us", "2ms"],
    ["1h", "1h"],
  ])("duration %s → %s", (input, expected) => {
    expect(composeDuration(input)).toEqual({ ok: expected });
  });

  it.each([
    ["npm run start", ["npm", "run", "start"]],
    [`sh -c "echo \\"hi\\" there"`, ["sh", "-c", 'echo "hi" there']],
    ["echo 'a  b' c\\ d", ["echo", "a  b", "c d"]],
    ["  spaced   out  ", ["spaced", "out"]],
    ["empty '' arg", ["empty", "", "arg"]],
  ])("shell-splits %j", (input, expected) => {
    expect(shellSplit(input)).toEqual({ ok: expected });
  });

  it("refuses an unterminated quote", () => {
    expect(shellSplit("echo 'oops")).toEqual({ error: `unterminated ' quote in "echo 'oops"` });
  });
});
