/** `berth validate [PATH…]`: check spec files without touching Docker. */
import { formatIssue } from "../../core/errors.js";
import { buildPolicy, type PolicyOptions } from "../../config.js";
import { hostPolicyContext } from "../../host/host-paths.js";
import { DEFAULT_LOADER_OPTIONS, SpecLoader } from "../../manifest/loader.js";
import { EXIT, type CliIO } from "../io.js";

export interface ValidateOptions extends PolicyOptions {
  readonly format: "text" | "json";
  readonly labelPrefix: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export async function validateCommand(paths: readonly string[], options: ValidateOptions, io: CliIO): Promise<number> {
  // The same policy, resolving host paths the same way, as the controller: the same verdict.
  const loader = new SpecLoader(paths, {
    ...DEFAULT_LOADER_OPTIONS,
    labelPrefix: options.labelPrefix,
    policy: buildPolicy(options),
    policyContext: hostPolicyContext,
  });
  const result = await loader.load();
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
