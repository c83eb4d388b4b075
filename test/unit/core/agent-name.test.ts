/** docker-spawner's bead ids → berth's agent names (core/agent-name.ts), as a golden table. */
import { describe, expect, it } from "vitest";
import { agentName, agentNameOf, BEAD_ID_PATTERN } from "../../../src/core/agent-name.js";
import { isDnsLabel } from "../../../src/core/names.js";

const GOLDEN: readonly (readonly [string, string])[] = [
  // Already a DNS label: the name docker-spawner gave it.
  ["tidepool-abc", "tidepool-agent-tidepool-abc"],
  ["tp-123", "tidepool-agent-tp-123"],
  ["9", "tidepool-agent-9"],
  ["x".repeat(48), `tidepool-agent-${"x".repeat(48)}`],
  // Anything else: lowercased, other characters → "-", then "--" and 8 hex digits of SHA-256.
  ["tidepool-abc.1", "tidepool-agent-tidepool-abc-1--6cc957ed"],
  ["TP-123", "tidepool-agent-tp-123--078a1c79"],
  ["Tp.123", "tidepool-agent-tp-123--c13d63ba"],
  ["bd_a1", "tidepool-agent-bd-a1--02624281"],
  ["a.-_b", "tidepool-agent-a-b--1d081770"],
  // A DNS label holding "--" is hashed too, so that no kept name looks like a hashed one.
  ["a--b", "tidepool-agent-a-b--90827a2e"],
  ["-x", "tidepool-agent-x--a4209624"],
  // Too long for a DNS label: cut, then hashed.
  ["x".repeat(49), `tidepool-agent-${"x".repeat(38)}--55bb9823`],
  ["A".repeat(200), `tidepool-agent-${"a".repeat(38)}--70d3bf8b`],
  // Nothing left of it: a word stands in.
  ["___", "tidepool-agent-bead--bda25155"],
];

describe("agentName", () => {
  it.each(GOLDEN)("%j → %s", (beadId, name) => {
    expect(agentName(beadId)).toBe(name);
    expect(isDnsLabel(name)).toBe(true);
  });

  it("gives distinct names to the ids of the table, and kept names never hold the hashed ones' separator", () => {
    const names = GOLDEN.map(([id]) => agentName(id));
    expect(new Set(names).size).toBe(names.length);
    for (const [id, name] of GOLDEN) expect(name.includes("--")).toBe(name !== `tidepool-agent-${id}`);
  });

  it("accepts what docker-spawner accepted", () => {
    const accepted = new RegExp(BEAD_ID_PATTERN);
    for (const id of ["tidepool-abc.1", "TP-123", "bd_a1", "tidepool-abc"]) expect(accepted.test(id)).toBe(true);
    for (const id of ["", "-x", ".x", "a/b", "a b", "../x"]) expect(accepted.test(id)).toBe(false);
  });
});

describe("agentNameOf", () => {
  it.each([
    ["tidepool-agent-TP-123", "tidepool-agent-tp-123--078a1c79"],
    ["tidepool-agent-tidepool-abc", "tidepool-agent-tidepool-abc"],
    ["tidepool-agent-", null],
    ["tidepool-agent-a/b", null],
    ["web", null],
  ] as const)("%s → %s", (text, name) => {
    expect(agentNameOf(text)).toBe(name);
  });
});
