/**
 * One convention over every command (issue 15, items 4 and 5): specs from -f/--specs, arguments
 * and `-`; -o table|json|yaml|wide; every flag with its BERTH_* variable; help grouped, with
 * examples and only the options a command uses; a usage error in two lines.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Command } from "commander";
import type { CliIO } from "../../../src/cli/io.js";
import { buildProgram, COMMANDS } from "../../../src/cli/main.js";
import { examplesOf, GROUPS } from "../../../src/cli/options.js";
import { DEFAULT_LOADER_OPTIONS, SpecLoader } from "../../../src/manifest/loader.js";
import { runCli } from "../../support/cli.js";
import { specText } from "../../support/specs.js";

const quiet: CliIO = { out() {}, err() {}, isTTY: false, env: {}, cwd: "." };

async function program(): Promise<Command> {
  return buildProgram(quiet, () => undefined, Object.keys(COMMANDS));
}

function commandOf(p: Command, name: string): Command {
  const command = p.commands.find((c) => c.name() === name);
  if (!command) throw new Error(`no command ${name}`);
  return command;
}

/** The options `berth ARGS…` would hand its command, without running it. */
async function parsed(args: readonly string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const p = await program();
  let opts: Record<string, unknown> | null = null;
  commandOf(p, args[0] ?? "").action((...given: unknown[]) => {
    opts = (given[given.length - 1] as Command).opts();
  });
  await p.parseAsync(["node", "berth", ...args]);
  if (opts === null) throw new Error("the action did not run");
  return opts;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Commands that read spec files, and those that print data. */
const READ_SPECS = ["validate", "run", "apply", "plan", "status", "get", "reap"];
const PRINT_DATA = ["validate", "plan", "status", "get", "reap", "schema"];
const POSITIONAL_SPECS = ["validate", "run", "apply", "plan", "status", "reap"];

describe("spec sources", () => {
  it.each(READ_SPECS)("%s takes -f/--specs, repeatable, with BERTH_SPECS", async (name) => {
    const option = commandOf(await program(), name).options.find((o) => o.long === "--specs");
    expect(option).toMatchObject({ short: "-f", envVar: "BERTH_SPECS", helpGroupHeading: GROUPS.specs });
  });

  it.each(["exec", "logs", "schema", "completion"])("%s reads no specs and takes no --specs", async (name) => {
    expect(commandOf(await program(), name).options.map((o) => o.long)).not.toContain("--specs");
  });

  it.each(POSITIONAL_SPECS)("%s: arguments and -f add up, in order", async (name) => {
    expect((await parsed([name, "a/", "-f", "b.yaml", "c.yaml"])).specs).toEqual(["b.yaml", "a/", "c.yaml"]);
  });

  it("BERTH_SPECS lists several, comma-separated, and validate reads it", async () => {
    expect((await parsed(["validate"], { BERTH_SPECS: "x, y" })).specs).toEqual(["x", "y"]);
  });

  it.each([
    [["plan", "-f", "flag/"], ["flag/"]],
    [["plan", "arg/"], ["arg/"]],
  ])("%j beats BERTH_SPECS", async (args, specs) => {
    expect((await parsed(args, { BERTH_SPECS: "env/" })).specs).toEqual(specs);
  });

  it("-f - names the standard input", async () => {
    expect((await parsed(["apply", "-f", "-"])).specs).toEqual(["-"]);
    expect((await parsed(["validate", "-"])).specs).toEqual(["-"]);
  });

  it("the loader reads - once, shown as <stdin>", async () => {
    const bytes = new TextEncoder().encode(specText("piped"));
    const stdin = vi.fn(() => Promise.resolve({ bytes, size: bytes.length }));
    const loader = new SpecLoader(["-"], { ...DEFAULT_LOADER_OPTIONS, stdin });
    const load = await loader.load();
    expect(load.files.map((f) => [f.file, f.result.names])).toEqual([["<stdin>", ["piped"]]]);
    expect(load.issues).toEqual([]);
  });

  it("refuses standard input above the file size limit by its size", async () => {
    const limits = { ...DEFAULT_LOADER_OPTIONS.limits, maxFileBytes: 10 };
    const loader = new SpecLoader(["-"], {
      ...DEFAULT_LOADER_OPTIONS,
      limits,
      stdin: () => Promise.resolve({ bytes: new Uint8Array(11), size: 5000 }),
    });
    const load = await loader.load();
    expect(load.issues.map((i) => [i.file, i.code])).toEqual([["<stdin>", "BERTH_FILE_TOO_LARGE"]]);
  });
});

describe("-o", () => {
  it.each(PRINT_DATA)("%s takes -o table|json|yaml|wide, default table, with BERTH_OUTPUT", async (name) => {
    const option = commandOf(await program(), name).options.find((o) => o.long === "--output");
    expect(option).toMatchObject({
      short: "-o",
      envVar: "BERTH_OUTPUT",
      argChoices: ["table", "json", "yaml", "wide"],
      defaultValue: "table",
      helpGroupHeading: GROUPS.output,
    });
  });

  it("BERTH_OUTPUT sets it; -o beats it", async () => {
    expect((await parsed(["status"], { BERTH_OUTPUT: "yaml" })).output).toBe("yaml");
    expect((await parsed(["status", "-o", "json"], { BERTH_OUTPUT: "yaml" })).output).toBe("json");
  });

  it.each([
    [["validate", "--format", "json"], "json"],
    [["validate", "--format", "text"], "table"],
    [["plan", "--format", "json"], "json"],
    [["plan", "--format", "json", "-o", "yaml"], "yaml"],
  ])("the deprecated --format: %j is -o %s", async (args, output) => {
    expect((await parsed(args)).output).toBe(output);
  });

  it("refuses another format, naming the choices, in two lines", async () => {
    const run = await runCli(["status", "-o", "xml"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "error: option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are table, json, yaml, wide.\n" +
        "run 'berth status --help' for its options and examples\n",
    );
  });

  it.each([
    ["pause", "berth has no rollout pause: declare it, spec.updatePartition at the replica count holds every replica"],
    ["resume", "berth has no rollout resume: lower spec.updatePartition (0 rolls every replica)"],
    ["undo", "berth keeps no rollout history: put the earlier version back in the spec's file (git revert)"],
    ["history", "berth keeps no rollout history: the spec file's history is it (git log -p)"],
    ["nope", "Allowed choices are status, retry, restart."],
  ])("berth rollout %s (kubectl's verbs berth has none of) says what to do instead", async (verb, says) => {
    const run = await runCli(["rollout", verb, "web"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: command-argument value '${verb}' is invalid for argument 'action'. ${says}`);
    expect(run.stderr).toMatch(/\nrun 'berth rollout --help' for its options and examples\n$/);
  });

  it.each([
    [["--stable-for", "10m"], "--stable-for 10m is not shorter than --timeout 5m: rollout status could never see it"],
    [["--stable-for", "0s"], "--stable-for: give a duration longer than 0s"],
    [["--stable-for", "soon"], "--stable-for: "],
    [
      ["--stable-for", "5m", "--target", "swarm"],
      "--stable-for 5m is not shorter than --timeout 5m: rollout status could never see it",
    ],
  ])("berth rollout status %j is refused before it looks at anything", async (args, says) => {
    const run = await runCli(["rollout", "status", "web", ...args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`berth: ${says}`);
    expect(run.stderr).toMatch(/\nrun 'berth rollout --help' for its options and examples\n$/);
  });

  it("validate -o yaml prints the JSON's data as YAML", async () => {
    const run = await runCli(["validate", "-o", "yaml", "specs/web.yaml"]);
    expect(run).toEqual({ code: 0, stdout: "valid: true\nfiles: 1\nspecs: 1\nerrors: []\n", stderr: "" });
  });
});

describe("environment variables", () => {
  it("every visible flag of every command has a BERTH_* variable", async () => {
    const missing = (await program()).commands.flatMap((c) =>
      c.options.filter((o) => !o.hidden && o.envVar === undefined).map((o) => `${c.name()} ${o.flags}`),
    );
    expect(missing).toEqual([]);
    const names = (await program()).commands.flatMap((c) => c.options.flatMap((o) => o.envVar ?? []));
    expect(names.filter((n) => !/^BERTH_[A-Z_]+$/.test(n))).toEqual([]);
  });

  it.each([
    ["logs", "BERTH_LOGS_TAIL", "10", "tail", ["logs", "web"]],
    ["exec", "BERTH_EXEC_USER", "1000", "user", ["exec", "web", "true"]],
    ["reap", "BERTH_REAP_DRY_RUN", "1", "dryRun", ["reap"]],
    ["run", "BERTH_RESYNC", "45s", "resync", ["run"]],
  ])("%s reads %s", async (_name, variable, value, key, args) => {
    expect((await parsed(args, { [variable]: value }))[key]).toBe(key === "dryRun" ? true : value);
  });
});

describe("help", () => {
  const help = async (name: string): Promise<string> => {
    const run = await runCli([name, "--help"]);
    expect(run.code).toBe(0);
    return run.stdout;
  };

  it("groups plan's options under headings, spec sources first", async () => {
    const text = await help("plan");
    const headings = text.split("\n").filter((l) => /^[A-Z][A-Za-z ]+:$/.test(l));
    expect(headings).toEqual([
      "Arguments:",
      "Spec sources:",
      "Admission policy:",
      "Capacity:",
      "Controller:",
      "Docker:",
      "Output:",
      "Options:", // -h, --help alone
      "Examples:",
    ]);
  });

  it("run's HTTP API options are a group of their own", async () => {
    const text = await help("run");
    const http = text.slice(text.indexOf("HTTP API:"));
    expect(http).toMatch(/^HTTP API:\n {2}--listen <host:port>/);
    expect(http).toContain("--api-token-file <path>");
  });

  it.each(["logs", "exec"])("%s shows no spec sources and no policy flags but --policy at most", async (name) => {
    const text = await help(name);
    expect(text).not.toContain("--specs");
    expect(text).not.toContain("--allow-bind");
    expect(text).not.toContain("--max-memory");
    if (name === "logs") expect(text).not.toContain("Admission policy:");
  });

  it.each(Object.keys(COMMANDS))("%s has two or three examples", async (name) => {
    const examples = examplesOf(commandOf(await program(), name));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    expect(examples.length).toBeLessThanOrEqual(3);
    for (const e of examples) expect(e.command).toMatch(new RegExp(`\\bberth ${name}\\b`));
    expect(await help(name)).toContain(`Examples:\n  # ${examples[0]?.what ?? ""}\n  $ ${examples[0]?.command ?? ""}`);
  });
});

describe("usage errors", () => {
  it.each([
    [["logs", "--zzz"], "error: unknown option '--zzz'", "run 'berth logs --help' for its options and examples"],
    [
      ["plan", "--id"],
      "error: option '--id <id>' argument missing",
      "run 'berth plan --help' for its options and examples",
    ],
    [["get"], "error: missing required argument 'name'", "run 'berth get --help' for its options and examples"],
    [["zzz"], "error: unknown command 'zzz'", "run 'berth --help' for the commands"],
  ])("%j: the error and one hint line, exit 1", async (args, error, hint) => {
    const run = await runCli(args);
    expect(run).toEqual({ code: 1, stdout: "", stderr: `${error}\n${hint}\n` });
  });

  it("a flag value refused after parsing: berth's message and the same hint", async () => {
    const run = await runCli(["run", "--resync", "500ms", "--listen", "off"]);
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "berth: --resync: 500ms is not from 1s to 596h (e.g. 30s, 45s, 5m), or give a cron expression\n" +
        "run 'berth run --help' for its options and examples\n",
    });
  });
});
