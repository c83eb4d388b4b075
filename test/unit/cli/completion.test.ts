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
    expect(complete(file, ["berth", "logs", "--t"])).toEqual(["--tail", "--timestamps", "--target"]);
    expect(complete(file, ["berth", "run", "--resy"])).toEqual(["--resync"]);
    expect(complete(file, ["berth", "validate", "-f", "we"], dir)).toEqual(["web.yaml"]);
    expect(complete(file, ["berth", "validate", "we"], dir)).toEqual(["web.yaml"]);
    expect(complete(file, ["berth", "completion", "--"])).toContain("--help");
    expect(complete(file, ["berth", "completion", "z"])).toEqual(["zsh"]);
  });

  it("follows the definitions: logs offers no policy flags", async () => {
    const dir = tempDir();
    const file = path.join(dir, "berth.bash");
    writeFileSync(file, await script("bash"));
    expect(complete(file, ["berth", "logs", "--allow"])).toEqual([]);
    expect(complete(file, ["berth", "validate", "--allow-b"])).toEqual(["--allow-bind"]);
  });
});

/** A shell the completion tests run; scripts/ensure-docker.sh installs zsh and fish. */
function shell(name: string, args: readonly string[], input?: string): { stdout: string; stderr: string } {
  const run = spawnSync(name, args, { encoding: "utf8", ...(input === undefined ? {} : { input }) });
  if (run.error)
    throw new Error(`${name} is needed by this test (bash scripts/ensure-docker.sh installs it): ${run.error.message}`);
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return { stdout: run.stdout, stderr: run.stderr };
}

/**
 * What zsh hands its completion system for the words typed: the script is sourced by zsh itself
 * (so its quoting is zsh's), with _describe and _arguments replaced by functions that print what
 * they were given, one item a line.
 */
function zshOffers(file: string, words: readonly string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const program = [
    "compdef() { :; }",
    '_describe() { print -rl -- "${(@P)4}"; }',
    '_arguments() { shift; print -rl -- "$@"; }',
    `source '${file}'`,
    `words=(${quoted}); CURRENT=${words.length}; _berth`,
  ].join("\n");
  return shell("zsh", ["-f", "-c", program]).stdout.split("\n").filter(Boolean);
}

/** What fish's own completion engine offers for the command line (`complete -C`). */
function fishOffers(file: string, line: string): string[] {
  const out = shell("fish", ["--no-config", "-c", `source '${file}'; complete -C '${line}'`]).stdout;
  return out.split("\n").filter(Boolean);
}

describe("berth completion zsh and fish, run by the shells", () => {
  it("zsh: the script parses (zsh -n) and hands zsh every command and each command's own options", async () => {
    const dir = tempDir();
    const file = path.join(dir, "_berth");
    writeFileSync(file, await script("zsh"));
    shell("zsh", ["-n", file]);
    const commands = zshOffers(file, ["berth", ""]);
    expect(commands).toContain("validate:Check spec files");
    // A quote and a colon of a description reach zsh as text.
    expect(commands).toContain("status:Show every spec's phase and containers");
    expect(commands.map((c) => c.split(":")[0])).toEqual(
      expect.arrayContaining(["run", "plan", "import", "completion"]),
    );
    const plan = zshOffers(file, ["berth", "plan", "-o", ""]);
    expect(plan).toContain("(-o --output)-o[output format]:value:(table json yaml wide)");
    expect(plan).toContain("*--specs[a spec file or folder, or - for the standard input]:path:_files");
    expect(plan.some((spec) => spec.startsWith("--follow"))).toBe(false);
    expect(zshOffers(file, ["berth", "logs", ""]).some((spec) => spec.includes("--allow-bind"))).toBe(false);
    expect(zshOffers(file, ["berth", "completion", ""])).toContain("1:value:(bash zsh fish)");
    // A colon inside a description reaches _arguments escaped, so it does not end the description.
    expect(zshOffers(file, ["berth", "run", ""])).toContain(
      "--policy[admission policy\\: what specs may ask of the host]:value:(baseline restricted privileged)",
    );
  });

  it("fish: fish's own completion offers commands, options, choices and spec paths", async () => {
    const dir = tempDir();
    const file = path.join(dir, "berth.fish");
    writeFileSync(file, await script("fish"));
    expect(fishOffers(file, "berth val")).toEqual(["validate\tCheck spec files"]);
    expect(fishOffers(file, "berth plan -o ")).toEqual(
      ["json", "table", "wide", "yaml"].map((v) => `${v}\toutput format`),
    );
    expect(fishOffers(file, "berth completion ")).toEqual(expect.arrayContaining(["bash", "zsh", "fish"]));
    expect(fishOffers(file, "berth logs --allow")).toEqual([]);
    expect(fishOffers(file, "berth validate --allow-b").map((l) => l.split("\t")[0])).toEqual(["--allow-bind"]);
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
