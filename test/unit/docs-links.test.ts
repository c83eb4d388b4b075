/**
 * The links of README.md and docs/*.md: every relative link names a file that exists, and every
 * #anchor into a markdown file names one of its headings (GitHub's slugs). External links are not
 * followed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const FILES = [
  "README.md",
  ...readdirSync("docs")
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
].sort();

/** The lines outside fenced code blocks: links and headings in code are neither. */
function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of text.split("\n")) {
    const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === null) fence = marker;
      else if (marker.startsWith(fence)) fence = null;
      continue;
    }
    if (fence === null) lines.push(line);
  }
  return lines;
}

/** GitHub's anchor for a heading: lowercase, punctuation but - and _ dropped, spaces → -. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a markdown file's headings; a repeated heading gets -1, -2, … as on GitHub. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** The targets of inline links, `[text](target)`, without a title. */
function linkTargets(text: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(text)) {
    // Inline code is not a link either.
    const prose = line.replace(/`[^`]*`/g, "");
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (m[1] !== undefined) targets.push(m[1]);
    }
  }
  return targets;
}

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** What is wrong with one link of `file`, or null. */
function problem(file: string, target: string): string | null {
  if (isExternal(target)) return null;
  const hash = target.indexOf("#");
  const pathPart = hash === -1 ? target : target.slice(0, hash);
  const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
  const resolved = pathPart === "" ? file : path.normalize(path.join(path.dirname(file), decodeURIComponent(pathPart)));
  if (!existsSync(resolved)) return `${file}: ${target}: no file ${resolved}`;
  if (anchor === null || !resolved.endsWith(".md")) return null;
  return anchors(readFileSync(resolved, "utf8")).has(anchor)
    ? null
    : `${file}: ${target}: ${resolved} has no heading with the anchor #${anchor}`;
}

describe("documentation links", () => {
  it("slugs headings as GitHub does", () => {
    expect(slug("Expiry and reaping")).toBe("expiry-and-reaping");
    expect(slug("The prune guard, and broken files")).toBe("the-prune-guard-and-broken-files");
    expect(slug("`berth validate` in CI")).toBe("berth-validate-in-ci");
    expect(slug("docker-spawner compatibility")).toBe("docker-spawner-compatibility");
    expect([...anchors("# A\n## B\n```\n# not a heading\n```\n## B\n")]).toEqual(["a", "b", "b-1"]);
    expect(linkTargets('[a](x.md) `[b](y.md)` [c](z.md#d "title")\n```\n[e](f.md)\n```')).toEqual(["x.md", "z.md#d"]);
  });

  it.each(FILES)("%s: every relative link resolves, and every anchor names a heading", (file) => {
    const problems = linkTargets(readFileSync(file, "utf8"))
      .map((target) => problem(file, target))
      .filter((p) => p !== null);
    expect(problems).toEqual([]);
  });
});

/**
 * Rows of a table that say one thing twice: the same row (its words, padding aside) — or, where
 * the first cell names the row (a decisions table), the same first cell — and a header row in the
 * middle of a table. Merges of re-padded tables leave both.
 */
function repeatedRows(text: string, key: "row" | "first" = "row"): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  let header: string | null = null;
  for (const line of proseLines(text)) {
    if (!line.startsWith("|")) {
      seen.clear();
      header = null;
      continue;
    }
    const cells = line.split("|").map((c) => c.trim().replace(/\s+/g, " "));
    const first = cells[1] ?? "";
    if (/^:?-+:?$/.test(first)) continue;
    const id = key === "first" ? first : cells.join("|");
    if (header === null) header = id;
    else if (id === header) problems.push(`header row again: ${first}`);
    else if (first !== "" && seen.has(id)) problems.push(`row twice: ${first.slice(0, 80)}`);
    seen.add(id);
  }
  return problems;
}

describe("documentation tables", () => {
  it("finds a row said twice and a header mid-table", () => {
    expect(repeatedRows("| a | b |\n| - | - |\n| x | 1 |\n| y | 2 |\n| x  |  1 |\n| a | b |\n")).toEqual([
      "row twice: x",
      "header row again: a",
    ]);
    expect(repeatedRows("| a | b |\n| - | - |\n| x | 1 |\n\n| a | b |\n| - | - |\n| x | 1 |\n")).toEqual([]);
    expect(repeatedRows("| a | b |\n| - | - |\n| x | 1 |\n| x | 2 |\n")).toEqual([]);
    expect(repeatedRows("| a | b |\n| - | - |\n| x | 1 |\n| x | 2 |\n", "first")).toEqual(["row twice: x"]);
  });

  it.each(FILES)("%s: no table says one row twice", (file) => {
    expect(repeatedRows(readFileSync(file, "utf8"), file === "docs/design.md" ? "first" : "row")).toEqual([]);
  });
});
