/** `berth completion`: scripts generated from the commander definitions, checked by bash itself. */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../support/cli.js";
import { tempDir } from "../../support/tmp.js";

async function script(shell: string): Promise<string> {
  const run = await runCli(["completion", shell]);
  expect(run.code).toBe(0);
  expect(run.stderr).toBe("");
  return run.stdout;
}

/** What bash's completion offers for the words typed, the last one being completed. */
function complete(file: string, words: readonly string[], cwd?: string): string[] {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const run = spawnSync(
    "bash",
    [
      "-c",
      `source '${file}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: "utf8", ...(cwd ? { cwd } : {}) },
  );
  expect(run.stderr).toBe("");
  return run.stdout.split("\n").filter(Boolean);
}

describe("berth completion bash", () => {
  it("is valid bash (bash -n)", async () => {
    const run = spawnSync("bash", ["-n"], { input: await script("bash"), encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("completes command names, options, choices and spec paths", async () => {
    const dir = tempDir();
    const file = path.join(dir, "berth.bash");
    writeFileSync(file, await script("bash"));
    writeFileSync(path.join(dir, "web.yaml"), "");
    expect(complete(file, ["berth", "va"])).toEqual(["validate"]);
    expect(complete(file, ["berth", "co"])).toEqual(["completion"]);
    expect(complete(file, ["berth", "plan", "-o", ""])).toEqual(["table", "json", "yaml", "wide"]);
    expect(complete(file, ["berth", "logs", "--t"])).toEqual(["--tail", "--timestamps"]);
    expect(complete(file, ["berth", "run", "--resy"])).toEqual(["--resync"]);
    expect(complete(file, ["berth", "validate", "-f", "we"], dir)).toEqual(["web.yaml"]);
    expect(complete(file, ["berth", "validate", "we"], dir)).toEqual(["web.yaml"]);
    expect(complete(file, ["berth", "completion", "--"])).toContain("--help");
  });

  it("follows the definitions: logs offers no policy flags", async () => {
    const dir = tempDir();
    const file = path.join(dir, "berth.bash");
    writeFileSync(file, await script("bash"));
    expect(complete(file, ["berth", "logs", "--allow"])).toEqual([]);
    expect(complete(file, ["berth", "validate", "--allow-b"])).toEqual(["--allow-bind"]);
  });
});

describe("berth completion zsh and fish", () => {
  it.each([
    [
      "zsh",
      [
        "#compdef berth",
        "compdef _berth berth",
        "'*'{-f,--specs}'[a spec file or folder, or - for the standard input]:path:_files'",
      ],
    ],
    [
      "fish",
      [
        "complete -c berth -n __fish_use_subcommand -a validate -d 'Check spec files'",
        "-s o -l output -x -a 'table json yaml wide'",
      ],
    ],
  ])("%s: declares every command and its options", async (shell, parts) => {
    const text = await script(shell);
    for (const part of parts) expect(text).toContain(part);
    for (const name of [
      "validate",
      "run",
      "apply",
      "plan",
      "status",
      "get",
      "exec",
      "logs",
      "reap",
      "schema",
      "completion",
    ])
      expect(text).toContain(name);
  });

  it("refuses another shell, naming the three", async () => {
    const run = await runCli(["completion", "tcsh"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Allowed choices are bash, zsh, fish.");
  });
});
