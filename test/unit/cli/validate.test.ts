/** `berth validate` and `berth schema`, as a user runs them. */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { runCli } from "../../support/cli.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

describe("berth validate", () => {
  it("passes the bundled specs (default path ./specs) with exit 0 and a summary", async () => {
    const run = await runCli(["validate"]);
    expect(run).toEqual({ code: 0, stdout: "ok: 4 files, 5 specs, all valid\n", stderr: "" });
  });

  it("prints one file:line:col line per error and a summary, exit 1", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "a.yaml"), specText("a", { extra: ["workDir: /x", "resources: { memory: 1 GB }"] }));
    writeFileSync(path.join(dir, "b.yaml"), "\tkind: Container\n");
    writeFileSync(path.join(dir, "ok.yaml"), specText("ok"));
    const run = await runCli(["validate", dir]);
    expect(run.code).toBe(1);
    expect(run.stdout.split("\n")).toEqual([
      `${dir}/a.yaml:7:3: spec.workDir: unknown field "workDir"; did you mean "workingDir"?`,
      `${dir}/a.yaml:8:24: spec.resources.memory: "1 GB" is not a quantity (e.g. 512Mi, 1Gi); did you mean "1Gi" (or "1G")?`,
      `${dir}/b.yaml:1:1: invalid YAML: tabs are not allowed in YAML indentation; indent with spaces`,
      "failed: 3 errors in 2 files (3 files checked)",
      "",
    ]);
  });

  it("takes files and folders together", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "x.yaml"), specText("x"));
    const run = await runCli(["validate", path.join(dir, "x.yaml"), "specs/pool.yaml"]);
    expect(run.stdout).toBe("ok: 2 files, 2 specs, all valid\n");
    expect(run.code).toBe(0);
  });

  it("gives machines JSON with --format json", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "a.yaml"), specText("a", { extra: ["replicas: -1"] }));
    const run = await runCli(["validate", "--format", "json", dir]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      valid: false,
      files: 1,
      specs: 0,
      errors: [
        {
          code: "BERTH_SCHEMA",
          file: `${dir}/a.yaml`,
          line: 7,
          column: 13,
          path: "spec.replicas",
          message: "-1 is below the minimum 0",
          text: `${dir}/a.yaml:7:13: spec.replicas: -1 is below the minimum 0`,
        },
      ],
    });
  });

  it("honours --label-prefix (and BERTH_LABEL_PREFIX) for the reserved-label check", async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, "a.yaml"),
      specText("a").replace("metadata:\n", "metadata:\n  labels:\n    acme.spec: x\n    berth.spec: y\n"),
    );
    const flag = await runCli(["validate", "--label-prefix", "acme", dir]);
    expect(flag.code).toBe(1);
    expect(flag.stdout).toContain('metadata.labels["acme.spec"]: label keys under "acme." are reserved');
    expect(flag.stdout).not.toContain("berth.spec");
    vi.stubEnv("BERTH_LABEL_PREFIX", "acme");
    try {
      const env = await runCli(["validate", dir]);
      expect(env.stdout).toBe(flag.stdout);
      // A flag beats the environment.
      const both = await runCli(["validate", "--label-prefix", "berth", dir]);
      expect(both.stdout).toContain('metadata.labels["berth.spec"]: label keys under "berth." are reserved');
    } finally {
      vi.unstubAllEnvs();
    }
    const invalid = await runCli(["validate", "--label-prefix", "Not Valid", dir]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(
      "error: option '--label-prefix <prefix>' argument 'Not Valid' is invalid. expected lowercase letters",
    );
  });

  it("documents itself with --help (exit 0)", async () => {
    const run = await runCli(["validate", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: berth validate [options] [paths...]");
    expect(run.stdout).toContain("-o, --output <format>");
    // The old --format is a hidden alias: it works, and help does not show it.
    expect(run.stdout).not.toContain("--format <format>");
  });
});

describe("berth schema", () => {
  it("prints the JSON Schema file", async () => {
    const run = await runCli(["schema"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(readFileSync("schemas/container.schema.json", "utf8"));
    expect(JSON.parse(run.stdout).$schema).toBe("http://json-schema.org/draft-07/schema#");
  });

  it("writes it to a file with --write, saying so on stderr", async () => {
    const file = path.join(tempDir(), "berth.schema.json");
    const run = await runCli(["schema", "--write", file]);
    expect(run).toEqual({ code: 0, stdout: "", stderr: `wrote ${file}\n` });
    expect(readFileSync(file, "utf8")).toBe(readFileSync("schemas/container.schema.json", "utf8"));
  });

  it("makes the file's folder when it is missing (schemas/ in a repository that has none)", async () => {
    const file = path.join(tempDir(), "schemas", "berth.schema.json");
    const run = await runCli(["schema", "--write", file]);
    expect(run).toEqual({ code: 0, stdout: "", stderr: `wrote ${file}\n` });
    expect(readFileSync(file, "utf8")).toBe(readFileSync("schemas/container.schema.json", "utf8"));
  });

  it("refuses a file it cannot write, naming it", async () => {
    const blocker = path.join(tempDir(), "a-file");
    writeFileSync(blocker, "");
    const file = path.join(blocker, "berth.schema.json");
    const run = await runCli(["schema", "--write", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^berth: --write: cannot write ${file}: (EEXIST|ENOTDIR)`));
  });
});

// The installed entry point (bin/berth.js, which runs dist/) is tested in the docker project
// (test/docker/cli-entry.test.ts), never here: that project's globalSetup builds dist/ once before
// its first file, and its files run the built CLI one at a time. A build from this project would
// rewrite dist/ while the docker project, which vitest runs at the same time, executes it.
