/** `berth schema`: the JSON Schema of spec documents. */
import type { Command } from "commander";
import { schemaSource } from "../../manifest/schema.js";
import { type CommandContext, EXIT } from "../io.js";
import { addExamples, addOutputOption, type OutputFormat } from "../options.js";
import { formatData } from "../output.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("schema")
    .description("Print the JSON Schema of spec documents (for editors and CI); -o yaml prints it as YAML.");
  addOutputOption(command);
  addExamples(command, [
    { command: "berth schema > berth.schema.json", what: "the schema for an editor's yaml.schemas setting" },
    { command: "berth schema -o yaml", what: "the same, as YAML" },
  ]).action((opts: { output: OutputFormat }) => {
    // The schema has no table: table and wide print it as it is, JSON.
    io.out(opts.output === "yaml" ? formatData("yaml", JSON.parse(schemaSource()) as unknown) : schemaSource());
    setExit(EXIT.ok);
  });
}
