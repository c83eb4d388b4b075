/** The desired state from loaded files: hashes are kept for unchanged specs, never for secrets. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DesiredStateBuilder } from "../../../src/loop/desired.js";
import { specHash } from "../../../src/core/hash.js";
import { sha256Hex } from "../../../src/core/sha256.js";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";
import { loadChecked } from "../../support/load.js";

/** The one valid spec of a file, loaded on its own; fails the test when the file does not load. */
async function specOf(file: string): Promise<NormalizedSpec> {
  const loaded = await loadChecked(new SpecLoader([file]));
  expect(loaded.issues).toEqual([]);
  expect(loaded.specs).toHaveLength(1);
  const spec = loaded.specs[0]?.spec;
  if (spec === undefined) throw new Error(`${file} holds no spec`);
  return spec;
}

describe("DesiredStateBuilder", () => {
  it("hashes each spec as the hash function does, again when its file changes, and a secret's spec after every read", async () => {
    const dir = tempDir();
    const plainFile = path.join(dir, "plain.yaml");
    const secretFile = path.join(dir, "secret.yaml");
    writeFileSync(plainFile, specText("plain"));
    writeFileSync(secretFile, specText("secret", { extra: ["secretEnv:", "  TOKEN: { fromHostEnv: DEMO_TOKEN }"] }));
    const env: Record<string, string> = { DEMO_TOKEN: "one" };
    const builder = new DesiredStateBuilder({ env, readFile: () => Promise.reject(new Error("no files")) });
    const loader = new SpecLoader([dir]);
    const hashes = async (): Promise<Record<string, string | null>> => {
      const snapshot = await builder.build(await loader.load(), 0);
      return Object.fromEntries([...snapshot.records].map(([name, r]) => [name, r.hash]));
    };
    // What each hash must be, computed here from the spec and, for secrets, the SHA-256 of the value.
    const plain = await specOf(plainFile);
    const secret = await specOf(secretFile);
    const secretHash = (value: string): string => specHash(secret, { TOKEN: sha256Hex(value) });

    const first = await hashes();
    expect(first).toEqual({ plain: specHash(plain), secret: secretHash("one") });
    expect(first.plain).not.toBe(first.secret);
    expect(await hashes()).toEqual(first);

    // A rotated secret changes the hash although its file did not change.
    env.DEMO_TOKEN = "two";
    const rotated = await hashes();
    expect(rotated).toEqual({ plain: specHash(plain), secret: secretHash("two") });
    expect(rotated.secret).not.toBe(first.secret);

    // A changed file is hashed again.
    writeFileSync(plainFile, specText("plain", { extra: ["workingDir: /srv"] }));
    const editedPlain = await specOf(plainFile);
    expect(editedPlain.workingDir).toBe("/srv");
    const edited = await hashes();
    expect(edited).toEqual({ plain: specHash(editedPlain), secret: secretHash("two") });
    expect(edited.plain).not.toBe(first.plain);
  });

  it("reads no secret of an expired spec: it is desired absent, whatever its secrets say", async () => {
    const dir = tempDir();
    const secret = ["secretEnv:", "  TOKEN: { fromHostEnv: DEMO_UNSET_TOKEN }"];
    writeFileSync(
      path.join(dir, "gone.yaml"),
      specText("gone", { extra: [...secret, 'expiresAt: "2020-01-01T00:00:00Z"'] }),
    );
    writeFileSync(path.join(dir, "live.yaml"), specText("live", { extra: secret }));
    const reads: string[] = [];
    const builder = new DesiredStateBuilder({
      env: new Proxy({}, { get: (_t, name) => (reads.push(String(name)), undefined) }),
      readFile: () => Promise.reject(new Error("no files")),
    });
    const snapshot = await builder.build(await new SpecLoader([dir]).load(), Date.parse("2026-01-01T00:00:00Z"));
    expect(snapshot.input.desired.map((d) => d.spec.name)).toEqual(["gone"]);
    expect(snapshot.records.get("gone")).toMatchObject({ hash: null, error: null });
    // The live spec's secret is read, and its absence is its error.
    expect(snapshot.records.get("live")?.error).toMatch(/DEMO_UNSET_TOKEN/);
    expect([...snapshot.input.protectedSpecs]).toEqual(["live"]);
    expect(reads.filter((r) => r === "DEMO_UNSET_TOKEN")).toHaveLength(1);
  });

  it("reads no secret at all for a look that only reaps: a live spec with secrets is left alone, with no error", async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, "live.yaml"),
      specText("live", { extra: ["secretEnv:", "  TOKEN: { fromFile: /run/secrets/t }"] }),
    );
    writeFileSync(path.join(dir, "plain.yaml"), specText("plain"));
    let reads = 0;
    const builder = new DesiredStateBuilder(
      {
        env: {},
        readFile: () => {
          reads++;
          return Promise.reject(new Error("no files"));
        },
      },
      "baseline",
      undefined,
      false,
    );
    const snapshot = await builder.build(await new SpecLoader([dir]).load(), 0);
    expect(reads).toBe(0);
    expect(snapshot.records.get("live")).toMatchObject({ hash: null, error: null });
    expect([...snapshot.input.protectedSpecs]).toEqual(["live"]);
    expect(snapshot.input.desired.map((d) => d.spec.name)).toEqual(["plain"]);
    expect(snapshot.input.desired[0]?.hash).toBe(specHash(await specOf(path.join(dir, "plain.yaml"))));
  });
});
