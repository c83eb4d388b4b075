/** `berth schema`: the JSON Schema of spec documents. */
import type { Command } from "commander";
import { schemaSource } from "../../manifest/schema.js";
import { type CommandContext, EXIT } from "../io.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  program
    .command("schema")
    .description("Print the JSON Schema of spec documents (for editors and CI).")
    .action(() => {
      io.out(schemaSource());
      setExit(EXIT.ok);
    });
}
