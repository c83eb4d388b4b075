/**
 * The berth command line. Every command returns its exit code; flags beat BERTH_* environment
 * variables beat defaults (commander's Option.env).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DEFAULT_LABEL_PREFIX, isValidLabelPrefix } from "../core/labels.js";
import { schemaSource } from "../spec/schema.js";
import { EXIT, type CliIO, processIO } from "./io.js";
import { validateCommand } from "./validate.js";

const VERSION = "0.1.0";

function labelPrefixOption(): Option {
  return new Option("--label-prefix <prefix>", "prefix of berth's label keys")
    .env("BERTH_LABEL_PREFIX")
    .default(DEFAULT_LABEL_PREFIX)
    .argParser((value: string) => {
      if (!isValidLabelPrefix(value)) {
        throw new InvalidArgumentError("expected lowercase letters, digits, '.' and '-' (e.g. berth, acme.berth)");
      }
      return value;
    });
}

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("berth")
    .description("Keep a Docker host's containers where a folder of YAML says they should be.")
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => {
        io.out(s);
      },
      writeErr: (s) => {
        io.err(s);
      },
    })
    .exitOverride();

  program
    .command("validate")
    .description(
      "Check spec files (schema, units, names) without touching Docker. Exit 0 when all are valid, 1 otherwise.",
    )
    .argument("[paths...]", "spec files or directories", ["./specs"])
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addOption(labelPrefixOption())
    .addHelpText(
      "after",
      "\nEach error is one line: FILE:LINE:COLUMN: FIELD: MESSAGE, then a summary line.\nExample: berth validate specs/ && git commit",
    )
    .action(async (paths: string[], opts: { format: "text" | "json"; labelPrefix: string }) => {
      setExit(await validateCommand(paths, opts, io));
    });

  program
    .command("schema")
    .description("Print the JSON Schema of spec documents (for editors and CI).")
    .action(() => {
      io.out(schemaSource());
      setExit(EXIT.ok);
    });

  return program;
}

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return err.exitCode;
    }
    io.err(`berth: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
  return code;
}
