/** `berth validate [PATH…]`: check spec files without touching Docker. */
import { type Command, Option } from "commander";
import { buildPolicy, type PolicyOptions } from "../../config.js";
import { compareIssues, formatIssue } from "../../core/errors.js";
import { hostPolicyContext } from "../../host/host-paths.js";
import { findBindsInsideWritable } from "../../manifest/cross-file.js";
import { DEFAULT_LOADER_OPTIONS, SpecLoader, specsOf, validateLoad } from "../../manifest/loader.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import { addPolicyOptions, labelPrefixOption } from "../options.js";

interface ValidateOptions extends PolicyOptions {
  readonly format: "text" | "json";
  readonly labelPrefix: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function register(program: Command, { io, setExit }: CommandContext): void {
  addPolicyOptions(
    program
      .command("validate")
      .description(
        "Check spec files (schema, units, names, admission policy) without touching Docker. Exit 0 when all are valid, 1 otherwise.",
      ),
  )
    .argument("[paths...]", "spec files or directories", ["./specs"])
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addOption(labelPrefixOption())
    .addHelpText(
      "after",
      "\nEach error is one line: FILE:LINE:COLUMN: FIELD: MESSAGE, then a summary line.\nExample: berth validate specs/ && git commit",
    )
    .action(async (paths: string[], opts: ValidateOptions) => {
      setExit(
        await validate(
          paths,
          { ...opts, dockerHost: io.env.DOCKER_HOST, apiTokenFile: io.env.BERTH_API_TOKEN_FILE },
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

  if (options.format === "json") {
    io.out(
      `${JSON.stringify(
        {
          valid,
          files: result.files.length,
          specs: result.specs.length,
          errors: result.issues.map((i) => ({ ...i, text: formatIssue(i) })),
        },
        null,
        2,
      )}\n`,
    );
    return valid ? EXIT.ok : EXIT.failed;
  }
  for (const issue of result.issues) io.out(`${formatIssue(issue)}\n`);
  if (valid) {
    io.out(`ok: ${plural(result.files.length, "file")}, ${plural(result.specs.length, "spec")}, all valid\n`);
  } else {
    io.out(
      `failed: ${plural(result.issues.length, "error")} in ${plural(badFiles, "file")} (${plural(result.files.length, "file")} checked)\n`,
    );
  }
  return valid ? EXIT.ok : EXIT.failed;
}
