/** `berth schema [--write FILE]`: the JSON Schema of spec documents. */
import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { BerthError } from "../../core/errors.js";
import { schemaSource } from "../../manifest/schema.js";
import { type CommandContext, EXIT } from "../io.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  program
    .command("schema")
    .description(
      "Print the JSON Schema (draft-07) of spec documents, or write it where editors and CI find it (docs/editors.md).",
    )
    .addOption(
      new Option("--write <file>", "write the schema to FILE instead of printing it, e.g. schemas/berth.schema.json"),
    )
    .action(async (opts: { write?: string }) => {
      if (opts.write === undefined) {
        io.out(schemaSource());
      } else {
        await writeFile(opts.write, schemaSource(), "utf8").catch((err: unknown) => {
          throw BerthError.usage(`--write: cannot write ${opts.write ?? ""}: ${(err as Error).message}`);
        });
        io.err(`wrote ${opts.write}\n`);
      }
      setExit(EXIT.ok);
    });
}
