/**
 * `berth import compose FILE`: a Compose file → berth spec files (docs/compose.md). The converter
 * (src/compose) is pure; this reads the files, checks every produced spec as `berth validate`
 * would (schema, then the admission policy given by the same flags), and writes the result.
 *
 * Exit 0: converted; what berth cannot express, and policy flags the specs need, are warnings on
 * stderr. Exit 1: the file cannot be converted (no image, bad YAML, a required variable unset, a
 * produced spec that would not validate); nothing is written.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Argument, type Command, Option } from "commander";
import { Document, isPair, isScalar, visit } from "yaml";
import { convertCompose, type Finding } from "../../compose/convert.js";
import { buildPolicy, type PolicyOptions } from "../../config.js";
import { hostPolicyContext } from "../../host/host-paths.js";
import { DEFAULT_LOADER_OPTIONS, displayPath } from "../../manifest/loader.js";
import { parseSpecText } from "../../manifest/parse.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import { addExamples, addPolicyOptions } from "../options.js";

interface ImportOptions extends PolicyOptions {
  readonly outDir?: string;
  readonly projectName?: string;
  readonly prefixNames?: boolean;
  readonly envFile?: string;
  readonly force?: boolean;
}

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = addPolicyOptions(
    program
      .command("import")
      .description(
        "Convert a Docker Compose file into berth spec files: one per service in --out-dir, else a multi-document YAML stream on stdout. What berth cannot express is listed on stderr with its file:line. Exit 0 when converted (warnings included), 1 when it cannot be.",
      )
      .addArgument(new Argument("<format>", "what to import from").choices(["compose"]))
      .argument("<file>", "the Compose file (compose.yaml, docker-compose.yml)"),
  )
    .addOption(
      new Option("--out-dir <dir>", "write one spec file per service (NAME.yaml) into this folder").env(
        "BERTH_IMPORT_OUT_DIR",
      ),
    )
    .addOption(
      new Option(
        "-p, --project-name <name>",
        "the Compose project name (default: COMPOSE_PROJECT_NAME, name:, the folder)",
      ).env("BERTH_IMPORT_PROJECT_NAME"),
    )
    .addOption(
      new Option("--prefix-names", "name specs PROJECT-SERVICE instead of SERVICE").env("BERTH_IMPORT_PREFIX_NAMES"),
    )
    .addOption(
      new Option("--env-file <file>", "the variables file (default: .env beside the Compose file)").env(
        "BERTH_IMPORT_ENV_FILE",
      ),
    )
    .addOption(new Option("--force", "overwrite spec files that exist in --out-dir").env("BERTH_IMPORT_FORCE"));
  addExamples(command, [
    { command: "berth import compose compose.yaml > specs/app.yaml", what: "every service, one YAML stream" },
    {
      command: "berth import compose -p shop --out-dir specs/ docker-compose.yml",
      what: "one spec file per service, names as project shop",
    },
    {
      command: "berth import compose compose.yaml --allow-bind /srv --out-dir specs/",
      what: "bind mounts under /srv admitted, as berth run would be told",
    },
  ]).action((_format: string, file: string, opts: ImportOptions) => {
    setExit(importCompose(file, opts, io));
  });
}

/** A document as YAML, a tmpfs mode in octal (0o1777) as Compose and chmod write it. */
function specYaml(document: object): string {
  const doc = new Document(document);
  visit(doc, {
    Pair(_key, pair) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.value === "mode" && isScalar(pair.value)) {
        pair.value.format = "OCT";
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

const line = (file: string, f: Finding, kind: string): string =>
  `${file}:${f.line}:${f.column}: ${f.path === "" ? "" : `${f.path}: `}${kind}: ${f.message}\n`;

function importCompose(file: string, options: ImportOptions, io: CliIO): number {
  const full = path.resolve(io.cwd, file);
  const text = readText(full);
  if (text === null) {
    io.err(`berth: cannot read ${file}\n`);
    return EXIT.failed;
  }
  const dir = path.dirname(full);
  const envFile = options.envFile === undefined ? path.join(dir, ".env") : path.resolve(io.cwd, options.envFile);
  const dotenv = readText(envFile);
  if (dotenv === null && options.envFile !== undefined) {
    io.err(`berth: cannot read the env file ${options.envFile}\n`);
    return EXIT.failed;
  }
  const shown = displayPath(full, io.cwd);
  const result = convertCompose({
    text,
    dir,
    env: io.env,
    dotenv,
    projectName: options.projectName ?? null,
    prefixNames: options.prefixNames === true,
    readFile: readText,
  });
  for (const w of result.warnings) io.err(line(shown, w, "warning"));
  for (const e of result.errors) io.err(line(shown, e, "error"));

  // Each spec as berth validate would read it: its schema errors stop the import; its policy
  // refusals are warnings that name the flag berth run and berth validate need.
  const policy = buildPolicy(options);
  const parseOptions = { ...DEFAULT_LOADER_OPTIONS, policy, policyContext: hostPolicyContext };
  const outputs: { name: string; text: string }[] = [];
  let invalid = 0;
  let needsFlags = 0;
  for (const spec of result.specs) {
    const body = specYaml(spec.document);
    const text = `# Converted from ${path.basename(full)} (service ${spec.service}) by berth import compose\n${body}`;
    const target =
      options.outDir === undefined
        ? spec.document.metadata.name
        : path.join(options.outDir, `${spec.document.metadata.name}.yaml`);
    for (const issue of parseSpecText(text, target, parseOptions).issues) {
      const where = `${shown}:${spec.line}:${spec.column}: services.${spec.service}: ${issue.path}`;
      if (issue.code === "BERTH_POLICY") {
        needsFlags++;
        io.err(`${where}: policy: ${issue.message}\n`);
      } else {
        invalid++;
        io.err(`${where}: error: ${issue.message}\n`);
      }
    }
    outputs.push({ name: target, text });
  }
  if (result.errors.length > 0 || invalid > 0) {
    io.err(`failed: ${result.errors.length + invalid} errors; nothing written\n`);
    return EXIT.failed;
  }
  if (options.outDir === undefined) {
    io.out(outputs.map((o) => o.text).join("---\n"));
  } else {
    mkdirSync(options.outDir, { recursive: true });
    const existing = outputs.filter((o) => existsSync(o.name));
    if (existing.length > 0 && options.force !== true) {
      io.err(`berth: ${existing.map((o) => o.name).join(", ")} exist: give --force to overwrite; nothing written\n`);
      return EXIT.failed;
    }
    for (const o of outputs) writeFileSync(o.name, o.text);
  }
  for (const network of result.networksToCreate) {
    io.err(`note: berth does not create networks: before berth apply, run  docker network create ${network}\n`);
  }
  const where = options.outDir === undefined ? "" : ` into ${options.outDir}`;
  io.err(
    `converted ${result.specs.length} services of project ${result.project}${where}: ${result.warnings.length} warnings` +
      (needsFlags > 0
        ? `, ${needsFlags} policy refusals (give berth the flags named above, or change the specs)`
        : "") +
      "\n",
  );
  return EXIT.ok;
}
