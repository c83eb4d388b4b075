/**
 * The installed entry point, bin/berth.js, as `npm run build` leaves it. It lives in this project
 * although it needs no engine: this project's globalSetup builds dist/ before its first file and
 * runs its files one at a time, so dist/ is never rewritten while a test runs it (the unit project,
 * which vitest runs alongside, neither builds nor runs dist/).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN } from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

describe("the installed entry point (bin/berth.js after npm run build)", () => {
  it("validates the bundled specs and fails on a broken folder", () => {
    const ok = spawnSync(process.execPath, [BIN, "validate", "specs/"], { encoding: "utf8" });
    expect([ok.status, ok.stdout, ok.stderr]).toEqual([0, "ok: 4 files, 5 specs, all valid\n", ""]);
    const dir = tempDir();
    writeFileSync(path.join(dir, "bad.yaml"), "kind: Pod\n");
    const bad = spawnSync(process.execPath, [BIN, "validate", dir], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`${dir}/bad.yaml:1:1: missing required field "apiVersion"`);
    const help = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("validate");
  });
});
