/** The desired state from loaded files: hashes are kept for unchanged specs, never for secrets. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DesiredStateBuilder } from "../../../src/loop/desired.js";
import { specHash } from "../../../src/core/hash.js";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";
import { loadChecked } from "../../support/load.js";

describe("DesiredStateBuilder", () => {
  it("hashes each spec as the hash function does, again when its file changes, and a secret's spec after every read", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "plain.yaml"), specText("plain"));
    writeFileSync(
      path.join(dir, "secret.yaml"),
      specText("secret", { extra: ["secretEnv:", "  TOKEN: { fromHostEnv: DEMO_TOKEN }"] }),
    );
    const env: Record<string, string> = { DEMO_TOKEN: "one" };
    const builder = new DesiredStateBuilder({ env, readFile: () => Promise.reject(new Error("no files")) });
    const loader = new SpecLoader([dir]);
    const hashes = async (): Promise<Record<string, string | null>> => {
      const snapshot = await builder.build(await loader.load());
      return Object.fromEntries([...snapshot.records].map(([name, r]) => [name, r.hash]));
    };

    const first = await hashes();
    const plain = (await loadChecked(new SpecLoader([path.join(dir, "plain.yaml")]))).specs[0]?.spec;
    expect(plain && first.plain).toBe(plain && specHash(plain));
    expect(await hashes()).toEqual(first);

    // A rotated secret changes the hash although its file did not change.
    env.DEMO_TOKEN = "two";
    const rotated = await hashes();
    expect(rotated.plain).toBe(first.plain);
    expect(rotated.secret).not.toBe(first.secret);

    // A changed file is hashed again.
    writeFileSync(path.join(dir, "plain.yaml"), specText("plain", { extra: ["workingDir: /srv"] }));
    const edited = await hashes();
    expect(edited.plain).not.toBe(first.plain);
    expect(edited.secret).toBe(rotated.secret);
  });
});
