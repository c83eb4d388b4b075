/** `berth schema [--write FILE]`: the JSON Schema of spec documents. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Command, Option } from "commander";
import { BerthError } from "../../core/errors.js";
import { schemaSource } from "../../manifest/schema.js";
import { type CommandContext, EXIT } from "../io.js";
import { addExamples, addOutputOption, type OutputFormat } from "../options.js";
import { formatData } from "../output.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("schema")
    .description(
      "Print the JSON Schema (draft-07) of spec documents, or write it where editors and CI find it (docs/editors.md).",
    )
    .addOption(
      new Option(
        "--write <file>",
        "write the schema to FILE instead of printing it, e.g. schemas/berth.schema.json",
      ).env("BERTH_SCHEMA_WRITE"),
    );
  addOutputOption(command);
  addExamples(command, [
    {
      command: "berth schema --write schemas/berth.schema.json",
      what: "the schema where an editor's yaml.schemas finds it",
    },
    { command: "berth schema -o yaml", what: "the same, as YAML, on stdout" },
  ]).action(async (opts: { output: OutputFormat; write?: string }) => {
    // The schema has no table: table and wide print it as it is, JSON.
    const text = opts.output === "yaml" ? formatData("yaml", JSON.parse(schemaSource()) as unknown) : schemaSource();
    if (opts.write === undefined) {
      io.out(text);
    } else {
      // Its folder is made as needed (`schemas/` in a repository that has none yet).
      const target = opts.write;
      await mkdir(path.dirname(target), { recursive: true })
        .then(() => writeFile(target, text, "utf8"))
        .catch((err: unknown) => {
          throw BerthError.usage(`--write: cannot write ${opts.write ?? ""}: ${(err as Error).message}`);
        });
      io.err(`wrote ${opts.write}\n`);
    }
    setExit(EXIT.ok);
  });
}
