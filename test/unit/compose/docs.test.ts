/** docs/compose.md's table of service keys names every key the converter reads or refuses, and no other. */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { HANDLERS } from "../../../src/compose/service.js";
import { UNSUPPORTED_SERVICE_KEYS } from "../../../src/compose/unsupported.js";

it("docs/compose.md lists every Compose service key the converter knows", () => {
  const doc = readFileSync("docs/compose.md", "utf8");
  const table = doc.slice(doc.indexOf("## Service keys"), doc.indexOf("## Differences that remain"));
  const documented = new Set(
    table
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .flatMap((line) => [...(line.split("|")[1] ?? "").matchAll(/`([a-z_]+)`/g)].map((m) => m[1])),
  );
  const known = [...Object.keys(HANDLERS), ...Object.keys(UNSUPPORTED_SERVICE_KEYS)].sort();
  expect(known.filter((k) => !documented.has(k))).toEqual([]);
  expect([...documented].filter((k) => k !== undefined && !known.includes(k))).toEqual([]);
  // Each unsupported key's row says so.
  for (const key of Object.keys(UNSUPPORTED_SERVICE_KEYS)) {
    const row = table.split("\n").find((line) => (line.split("|")[1] ?? "").includes(`\`${key}\``));
    expect(row, key).toMatch(/not supported/);
  }
});
