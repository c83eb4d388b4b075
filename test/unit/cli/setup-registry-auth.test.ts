/**
 * --registry-auth-file outside the allowed secret folders is a usage error at start (cli/setup.ts),
 * naming the flag and --allow-secret-dir, as other bad flags are: not a failure of every pull.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BerthError } from "../../../src/core/errors.js";
import { setup } from "../../../src/cli/setup.js";
import { tempDir } from "../../support/tmp.js";

function refusal(run: () => unknown): BerthError {
  try {
    run();
  } catch (err) {
    if (err instanceof BerthError) return err;
    throw err;
  }
  throw new Error("expected a usage error");
}

describe("--registry-auth-file at start", () => {
  it("outside the allowed secret folders: a usage error naming the flag and --allow-secret-dir", () => {
    const dir = tempDir("berth-registry-auth-");
    const file = path.join(dir, "auth.json");
    writeFileSync(file, "{}");
    const err = refusal(() => setup({ registryAuthFile: file }, { level: "error", fd: 2 }));
    expect([err.code, err.message]).toEqual([
      "BERTH_USAGE",
      `--registry-auth-file: ${file} is not under an allowed secret folder (/run/secrets); allow it with ` +
        "--allow-secret-dir, or run berth with --policy privileged",
    ]);
  });

  it("inside an allowed secret folder, or under --policy privileged: taken", () => {
    const dir = tempDir("berth-registry-auth-");
    const file = path.join(dir, "auth.json");
    writeFileSync(file, "{}");
    const allowed = setup({ registryAuthFile: file, allowSecretDir: [dir] }, { level: "error", fd: 2 });
    expect(allowed.config.registryAuth.file).toBe(file);
    const privileged = setup({ registryAuthFile: file, policy: "privileged" }, { level: "error", fd: 2 });
    expect(privileged.config.registryAuth.file).toBe(file);
  });
});
