/** Flags from BERTH_* variables: a boolean flag's variable holding false means off, as it reads. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../support/cli.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

afterEach(() => {
  delete process.env.BERTH_REQUIRE_LIMITS;
});

describe("a boolean flag's environment variable", () => {
  const folder = (): string => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "web.yaml"), specText("web"));
    return dir;
  };

  it.each(["false", "0", "no", "off", ""])("BERTH_REQUIRE_LIMITS=%j leaves the flag off", async (value) => {
    process.env.BERTH_REQUIRE_LIMITS = value;
    const run = await runCli(["validate", folder()]);
    expect(run).toMatchObject({ code: 0, stdout: "ok: 1 file, 1 spec, all valid\n" });
  });

  it.each(["true", "1", "yes"])("BERTH_REQUIRE_LIMITS=%j turns it on", async (value) => {
    process.env.BERTH_REQUIRE_LIMITS = value;
    const run = await runCli(["validate", folder()]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("spec.resources.memory is required");
  });

  it("the flag itself beats the variable", async () => {
    process.env.BERTH_REQUIRE_LIMITS = "false";
    const run = await runCli(["validate", "--require-limits", folder()]);
    expect(run.code).toBe(1);
  });
});
