/** `berth validate [PATH…]`: check spec files without touching Docker. */
import type { Command } from "commander";
import { buildPolicy, type PolicyOptions, targetOf } from "../../config.js";
import { compareIssues, formatIssue } from "../../core/errors.js";
import { hostPolicyContext } from "../../host/host-paths.js";
import { findBindsInsideWritable } from "../../manifest/cross-file.js";
import { DEFAULT_LOADER_OPTIONS, SpecLoader, specsOf, validateLoad } from "../../manifest/loader.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import {
  addExamples,
  addOutputOption,
  addPolicyOptions,
  addTargetOption,
  addSpecSources,
  labelPrefixOption,
  type OutputFormat,
} from "../options.js";
import { formatData, isData } from "../output.js";
import { verdictsFor } from "../setup.js";

interface ValidateOptions extends PolicyOptions {
  readonly specs?: readonly string[];
  readonly output: OutputFormat;
  readonly labelPrefix: string;
  readonly target?: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("validate")
    .description(
      "Check spec files (schema, units, names, admission policy) without touching Docker. Exit 0 when all are valid, 1 otherwise.",
    );
  addSpecSources(command, { positional: true });
  addPolicyOptions(command);
  addTargetOption(command);
  command.addOption(labelPrefixOption());
  addOutputOption(command, { deprecatedFormat: true });
  addExamples(command, [
    { command: "berth validate specs/ && git commit", what: "check a folder before committing it" },
    { command: "berth validate -f web.yaml -f db.yaml -o json", what: "two files, as JSON for a machine" },
    { command: "cat web.yaml | berth validate -f -", what: "a spec from the standard input" },
  ])
    .addHelpText("after", "\nEach error is one line: FILE:LINE:COLUMN: FIELD: MESSAGE, then a summary line.")
    .action(async (_paths: string[], opts: ValidateOptions) => {
      setExit(
        await validate(
          opts.specs && opts.specs.length > 0 ? opts.specs : ["./specs"],
          {
            ...opts,
            dockerHost: io.env.DOCKER_HOST,
            apiTokenFile: io.env.BERTH_API_TOKEN_FILE,
            registryAuthFile: io.env.BERTH_REGISTRY_AUTH_FILE,
          },
          io,
        ),
      );
    });
}

async function validate(paths: readonly string[], options: ValidateOptions, io: CliIO): Promise<number> {
  // The same policy, resolving host paths the same way, as the controller: the same verdict.
  const policy = buildPolicy(options);
  const loader = new SpecLoader(paths, {
    ...DEFAULT_LOADER_OPTIONS,
    labelPrefix: options.labelPrefix,
    policy,
    policyContext: hostPolicyContext,
    target: targetOf(options.target),
    ...verdictsFor(io, paths),
  });
  const load = await loader.load();
  const checked = validateLoad(load, policy.profile);
  // Bind mounts across specs, with host paths resolved as the controller resolves them.
  const binds = findBindsInsideWritable(
    load.files.flatMap((f) => specsOf(f.file, f.source, f.result.documents)),
    policy.profile,
    hostPolicyContext,
  );
  const at = (s: { file: string; line: number; column: number }): string => `${s.file}:${s.line}:${s.column}`;
  const refused = new Set([...binds.refused].map(at));
  const result = {
    files: checked.files,
    specs: checked.specs.filter((s) => !refused.has(at(s))),
    issues: [...checked.issues, ...binds.issues].sort(compareIssues),
  };
  const badFiles = new Set(result.issues.map((i) => i.file)).size;
  const valid = result.issues.length === 0;

  if (isData(options.output)) {
    io.out(
      formatData(options.output, {
        valid,
        files: result.files.length,
        specs: result.specs.length,
        ...(checked.objects.length > 0 ? { objects: checked.objects.length } : {}),
        errors: result.issues.map((i) => ({ ...i, text: formatIssue(i) })),
      }),
    );
    return valid ? EXIT.ok : EXIT.failed;
  }
  for (const issue of result.issues) io.out(`${formatIssue(issue)}\n`);
  if (valid) {
    const n = checked.objects.length;
    const objects = n === 0 ? "" : `, ${n} declared network${n === 1 ? " or volume" : "s and volumes"}`;
    io.out(`ok: ${plural(result.files.length, "file")}, ${plural(result.specs.length, "spec")}${objects}, all valid\n`);
  } else {
    io.out(
      `failed: ${plural(result.issues.length, "error")} in ${plural(badFiles, "file")} (${plural(result.files.length, "file")} checked)\n`,
    );
  }
  return valid ? EXIT.ok : EXIT.failed;
}
