/**
 * Finding 13: the loader followed symbolic links out of the spec folder and quoted what it found
 * (a link to a shadow file logged `unknown field "root:$6$salt$…"`). Links below a spec folder
 * may now only lead inside it — a ConfigMap's ..data links still work — and a link leading out is
 * refused, naming the link, without reading its target; a file swapped for such a link between
 * listing and reading is caught on the opened file. Messages quote at most 40 characters of an
 * unknown key, JSON-escaped.
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue } from "../../../src/core/errors.js";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

/** What a shadow file looks like; its hash must never reach a message. */
const SHADOW_HASH =
  "$6$saltsalt$Zq0rVhXh6T1o4nq2uW8GgkqXxWc5Yk3pX0iA1wYl0pJ0mN7s9eQ2c4r6t8u0v2x4z6B8D0F2H4J6L8N0P2R4T6";
const SHADOW = `root:${SHADOW_HASH}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`;

function outside(): string {
  const dir = tempDir("berth-outside-");
  writeFileSync(path.join(dir, "shadow"), SHADOW);
  writeFileSync(path.join(dir, "shadow.yaml"), SHADOW);
  return dir;
}

async function load(dir: string) {
  const result = await new SpecLoader([dir]).load();
  const text = JSON.stringify(result);
  return { result, text, lines: result.issues.map((i) => formatIssue({ ...i, file: path.basename(i.file) })) };
}

describe("symbolic links out of a spec folder (finding 13)", () => {
  it("refuses a link to a file outside, naming the link, never its content", async () => {
    const secret = outside();
    const dir = tempDir();
    writeFileSync(path.join(dir, "web.yaml"), specText("web"));
    symlinkSync(path.join(secret, "shadow"), path.join(dir, "evil.yaml"));
    const { result, text, lines } = await load(dir);
    expect(lines).toEqual([
      expect.stringMatching(/^evil\.yaml:1:1: is a symbolic link that leads outside the spec folder .*; not read/),
    ]);
    expect(result.issues[0]?.code).toBe("BERTH_UNREADABLE");
    expect(result.files.map((f) => path.basename(f.path))).toEqual(["web.yaml"]);
    expect(text).not.toContain("saltsalt");
    expect(text).not.toContain("root:");
  });

  it("refuses a link to a folder outside, and relative links climbing out with ..", async () => {
    const secret = outside();
    const dir = tempDir();
    mkdirSync(path.join(dir, "sub"));
    symlinkSync(secret, path.join(dir, "host"));
    symlinkSync(`../../${path.basename(secret)}/shadow.yaml`, path.join(dir, "sub", "up.yaml"));
    const { result, text, lines } = await load(dir);
    expect(lines).toEqual([
      expect.stringMatching(/^host:1:1: is a symbolic link that leads outside the spec folder/),
      expect.stringMatching(/^up\.yaml:1:1: is a symbolic link that leads outside the spec folder/),
    ]);
    expect(result.files).toEqual([]);
    expect(text).not.toContain("saltsalt");
  });

  it("still follows links inside the folder: ConfigMap ..data, a folder link, a spec folder that is itself a link", async () => {
    const real = tempDir();
    mkdirSync(path.join(real, "..2026_11_23"));
    writeFileSync(path.join(real, "..2026_11_23", "web.yaml"), specText("web"));
    symlinkSync("..2026_11_23", path.join(real, "..data"));
    symlinkSync("..data/web.yaml", path.join(real, "web.yaml"));
    mkdirSync(path.join(real, "team"));
    writeFileSync(path.join(real, "team", "db.yaml"), specText("db"));
    symlinkSync("team", path.join(real, "alias"));
    const linked = path.join(tempDir(), "specs");
    symlinkSync(real, linked);
    for (const root of [real, linked]) {
      const { result } = await load(root);
      expect(result.issues).toEqual([]);
      // A folder reached twice is read once (the loader never loops).
      expect(result.files.map((f) => f.source).sort()).toEqual(["alias/db.yaml", "web.yaml"]);
    }
  });

  it("catches a file swapped for a link out between listing and reading", async () => {
    const secret = outside();
    const dir = tempDir();
    const file = path.join(dir, "flip.yaml");
    writeFileSync(file, specText("flip"));
    // The swapper turns the spec into a link to the shadow file and back, on every turn of the
    // event loop: the loader lists a regular file and, often, opens the link.
    let running = true;
    let linked = false;
    let flips = 0;
    const flip = (): void => {
      if (!running) return;
      const next = `${file}.next`;
      rmSync(next, { force: true });
      if (linked) writeFileSync(next, specText("flip"));
      else symlinkSync(path.join(secret, "shadow.yaml"), next);
      renameSync(next, file);
      linked = !linked;
      flips++;
      setImmediate(flip);
    };
    setImmediate(flip);
    const loader = new SpecLoader([dir]);
    const seen = new Set<string>();
    try {
      for (let i = 0; i < 300; i++) {
        const result = await loader.load();
        expect(JSON.stringify(result)).not.toContain("saltsalt");
        for (const issue of result.issues) seen.add(issue.message.split(" (")[0] ?? "");
      }
    } finally {
      running = false;
    }
    expect(flips).toBeGreaterThan(300);
    expect([...seen].join("\n")).toContain("is a symbolic link that leads outside the spec folder");
    unlinkSync(file);
  });
});

describe("messages quote a short, escaped excerpt of an unknown key (finding 13)", () => {
  it("cuts an unknown key at 40 characters, in the message and in the field path", () => {
    const key = `root:${SHADOW_HASH}`;
    const text = `apiVersion: berth/v1\nkind: Container\nmetadata: { name: a }\nspec: { image: busybox, ${JSON.stringify(key)}: 1 }\n`;
    const [issue] = parseSpecText(text, "a.yaml").issues;
    const excerpt = JSON.stringify(`${key.slice(0, 40)}…`);
    expect(issue?.path).toBe(`spec[${excerpt}]`);
    expect(issue?.message).toBe(`unknown field ${excerpt} (see \`berth schema\` for the valid fields)`);
    expect(JSON.stringify(issue)).not.toContain(key.slice(0, 41));
  });

  it("escapes control characters and cuts duplicate and top-level keys too", () => {
    const key = `\u001b[31m${"k".repeat(100)}`;
    const top = parseSpecText(`${JSON.stringify(key)}: 1\n`, "a.yaml").issues.map((i) => `${i.path} ${i.message}`);
    const dup = parseSpecText(`${JSON.stringify(key)}: 1\n${JSON.stringify(key)}: 2\n`, "a.yaml").issues;
    for (const line of [...top, ...dup.map((i) => i.message)]) {
      expect(line).not.toContain("\u001b");
      expect(line).not.toContain("k".repeat(40));
    }
    expect(top.join("\n")).toContain(JSON.stringify(`${key.slice(0, 40)}…`));
    expect(dup[0]?.message).toMatch(/^duplicate key "\\u001b\[31mk{35}…" \(first at line 1\)/);
  });
});
