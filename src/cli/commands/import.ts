/**
 * `berth import compose FILE [OVERRIDE…]`: Compose files → berth spec files (docs/compose.md). The converter
 * (src/compose) is pure; this reads the files, checks every produced spec as `berth validate`
 * would (schema, then the admission policy given by the same flags), and writes the result.
 *
 * Exit 0: converted; what berth cannot express, and policy flags the specs need, are warnings on
 * stderr. Exit 1: the file cannot be converted (no image, bad YAML, a required variable unset, a
 * produced spec that would not validate); nothing is written. With `-o json` (or yaml) the same
 * findings, each with its code, and the specs are one report on stdout instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Argument, type Command, Option } from "commander";
import { Document, isPair, isScalar, visit } from "yaml";
import { convertCompose, type Finding } from "../../compose/convert.js";
import type { Position } from "../../compose/tree.js";
import { buildPolicy, type PolicyOptions } from "../../config.js";
import type { ErrorCode } from "../../core/errors.js";
import { hostPolicyContext } from "../../host/host-paths.js";
import { DEFAULT_LOADER_OPTIONS, displayPath } from "../../manifest/loader.js";
import { parseSpecText } from "../../manifest/parse.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import { addExamples, addOutputOption, addPolicyOptions, collect, type OutputFormat } from "../options.js";
import { formatData, isData } from "../output.js";

interface ImportOptions extends PolicyOptions {
  readonly outDir?: string;
  readonly projectName?: string;
  readonly prefixNames?: boolean;
  readonly envFile?: string;
  readonly force?: boolean;
  readonly profile?: readonly string[];
  /** false with --no-override. */
  readonly override?: boolean;
  readonly output: OutputFormat;
}

/** One thing the import found, as `-o json` reports it (and the text line says). */
interface ImportFinding {
  readonly code: ErrorCode;
  /** error: nothing is written; warning: converted with a difference; policy: berth needs a flag to admit it. */
  readonly severity: "error" | "warning" | "policy";
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
  readonly text: string;
}

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = addPolicyOptions(
    program
      .command("import")
      .description(
        "Convert a Docker Compose file into berth spec files: one per service, and a kind: Network (or Volume) document per network (or configured volume) Compose would create, in --out-dir, else a multi-document YAML stream on stdout. What berth cannot express is listed on stderr with its file:line. Exit 0 when converted (warnings included), 1 when it cannot be.",
      )
      .addArgument(new Argument("<format>", "what to import from").choices(["compose"]))
      .argument(
        "<files...>",
        "the Compose file (compose.yaml, docker-compose.yml), then any files merged onto it in order, as docker compose -f A -f B merges them",
      ),
  )
    .addOption(
      new Option(
        "--out-dir <dir>",
        "write one file per service (NAME.yaml), network (NAME.network.yaml) and volume (NAME.volume.yaml) into this folder",
      ).env("BERTH_IMPORT_OUT_DIR"),
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
    .addOption(new Option("--force", "overwrite spec files that exist in --out-dir").env("BERTH_IMPORT_FORCE"))
    .addOption(
      new Option(
        "--profile <name>",
        "convert the services of this profile too (repeatable; default: COMPOSE_PROFILES, from the environment or .env)",
      )
        .env("BERTH_IMPORT_PROFILES")
        .argParser(collect),
    )
    .addOption(
      new Option(
        "--no-override",
        "do not merge the compose.override.yaml (docker-compose.override.yml) beside a single Compose file given",
      ).env("BERTH_IMPORT_NO_OVERRIDE"),
    );
  addOutputOption(command);
  addExamples(command, [
    { command: "berth import compose compose.yaml > specs/app.yaml", what: "every service, one YAML stream" },
    {
      command: "berth import compose -p shop --allow-bind /srv --out-dir specs/ docker-compose.yml",
      what: "one spec file per service, names as project shop, bind mounts under /srv admitted as berth run would be told",
    },
    {
      command: "berth import compose compose.yaml -o json | jq '.findings[] | select(.severity != \"warning\")'",
      what: "the specs and every finding with its code, as JSON",
    },
  ]).action((_format: string, files: string[], opts: ImportOptions) => {
    setExit(importCompose(files, opts, io));
  });
}

/** ", 1 network and 2 volumes" as berth would create them, or "". */
function objectsText(objects: readonly { document: { kind: string } }[]): string {
  const n = (kind: string, word: string): string | null => {
    const k = objects.filter((o) => o.document.kind === kind).length;
    return k === 0 ? null : `${k} ${word}${k === 1 ? "" : "s"}`;
  };
  const parts = [n("Network", "network"), n("Volume", "volume")].filter((p) => p !== null);
  return parts.length === 0 ? "" : ` and ${parts.join(" and ")}`;
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

function finding(
  code: ErrorCode,
  severity: ImportFinding["severity"],
  file: string,
  f: Finding,
  path = f.path,
): ImportFinding {
  const text = `${file}:${f.line}:${f.column}: ${path === "" ? "" : `${path}: `}${severity}: ${f.message}`;
  return { code, severity, file, line: f.line, column: f.column, path, message: f.message, text };
}

/** Where the longest known prefix of a spec path (`spec.ports[0].hostIP` → `spec.ports[0]`) comes from. */
function placeOf(places: ReadonlyMap<string, Position>, specPath: string): Position | undefined {
  for (let i = specPath.length; i > 0; i--) {
    if (i < specPath.length && specPath[i] !== "." && specPath[i] !== "[") continue;
    const at = places.get(specPath.slice(0, i));
    if (at !== undefined) return at;
  }
  return undefined;
}

/**
 * The override file docker compose merges onto a Compose file it finds itself (no -f):
 * compose.override.yaml beside compose.yaml, docker-compose.override.yml beside docker-compose.yml.
 */
function standardOverride(full: string): string | null {
  const m = /^((?:docker-)?compose)\.ya?ml$/.exec(path.basename(full));
  if (!m) return null;
  const candidates = ["yaml", "yml"].map((ext) => path.join(path.dirname(full), `${m[1] ?? ""}.override.${ext}`));
  return candidates.find((c) => existsSync(c)) ?? null;
}

function importCompose(files: readonly string[], options: ImportOptions, io: CliIO): number {
  const [file = "", ...rest] = files;
  const full = path.resolve(io.cwd, file);
  const text = readText(full);
  if (text === null) {
    io.err(`berth: cannot read ${file}\n`);
    return EXIT.failed;
  }
  const implicit = rest.length === 0 && options.override !== false ? standardOverride(full) : null;
  const overrides: { file: string; text: string }[] = [];
  for (const name of implicit === null ? rest : [implicit]) {
    const overrideText = readText(path.resolve(io.cwd, name));
    if (overrideText === null) {
      io.err(`berth: cannot read ${name}\n`);
      return EXIT.failed;
    }
    overrides.push({ file: path.resolve(io.cwd, name), text: overrideText });
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
    dotenvFile: envFile,
    projectName: options.projectName ?? null,
    profiles: options.profile ?? [],
    prefixNames: options.prefixNames === true,
    readFile: readText,
    file: full,
    overrides,
    displayPath: (p) => displayPath(p, io.cwd),
  });
  // A finding in another file (an override file, an env file) names it.
  const fileOf = (f: Finding): string => (f.file === undefined ? shown : displayPath(f.file, io.cwd));
  const findings: ImportFinding[] = [
    ...(implicit === null
      ? []
      : [
          finding("BERTH_COMPOSE_LOSSY", "warning", displayPath(implicit, io.cwd), {
            line: 1,
            column: 1,
            path: "",
            message: `merged onto ${path.basename(full)}, as docker compose merges the override file beside it; give --no-override to leave it out, or name the files to merge (berth import compose A.yaml B.yaml)`,
          }),
        ]),
    ...result.warnings.map((w) => finding("BERTH_COMPOSE_LOSSY", "warning", fileOf(w), w)),
    ...result.errors.map((e) => finding("BERTH_COMPOSE", "error", fileOf(e), e)),
  ];

  // Each spec as berth validate would read it: its schema errors stop the import; its policy
  // refusals are warnings that name the flag berth run and berth validate need.
  const policy = buildPolicy(options);
  const parseOptions = { ...DEFAULT_LOADER_OPTIONS, policy, policyContext: hostPolicyContext };
  const outputs: { name: string; text: string; from: string; document: object }[] = [];
  /** Spec fields whose problem is already reported: berth's parser would say it again, less clearly. */
  const reported = new Set<string>();
  for (const spec of result.specs) {
    const build = spec.document.spec.build;
    if (!build) continue;
    const at = { ...(spec.places.get("spec.build") ?? spec), path: `services.${spec.service}.build` };
    const shownAt = fileOf({ ...at, message: "" });
    if (options.outDir === undefined) {
      findings.push(
        finding("BERTH_COMPOSE_LOSSY", "warning", shownAt, {
          ...at,
          message: `the build context ${build.context} is relative to the Compose file's folder (${displayPath(dir, io.cwd) || "."}): save these specs there, or give --out-dir DIR, which rebases it onto DIR`,
        }),
      );
      continue;
    }
    // Compose's context is relative to the Compose file; a spec's to the spec file.
    const rel = path.relative(path.resolve(io.cwd, options.outDir), path.resolve(dir, build.context));
    const posix = rel.split(path.sep).join("/");
    if (posix.startsWith("..") || path.isAbsolute(rel)) {
      reported.add(`services.${spec.service} spec.build.context`);
      findings.push(
        finding("BERTH_COMPOSE", "error", shownAt, {
          ...at,
          message: `the build context ${build.context} is outside --out-dir ${options.outDir}, and a spec's build context must lie inside the spec's folder: write the specs into a folder that contains it, such as the Compose file's own (--out-dir ${displayPath(dir, io.cwd) || "."}), or move the context under ${options.outDir}`,
        }),
      );
    }
    build.context = posix === "" ? "." : posix.startsWith("..") ? posix : `./${posix}`;
  }
  // A service the converter found an error in is not checked again: its spec is not whole.
  const broken = new Set(result.errors.map((e) => /^services\.([^.[]+)/.exec(e.path)?.[1]));
  const convertedFrom = [
    ...result.objects.map((o) => ({
      ...o,
      places: new Map<string, Position>(),
      from: `${o.document.kind === "Network" ? "networks" : "volumes"}.${o.key}`,
      file: `${o.document.metadata.name}.${o.document.kind.toLowerCase()}.yaml`,
    })),
    ...result.specs.map((s) => ({
      ...s,
      from: `services.${s.service}`,
      file: `${s.document.metadata.name}.yaml`,
    })),
  ];
  for (const spec of convertedFrom) {
    const body = specYaml(spec.document);
    const text = `# Converted from ${path.basename(full)} (${spec.from}) by berth import compose\n${body}`;
    const target = options.outDir === undefined ? spec.document.metadata.name : path.join(options.outDir, spec.file);
    const checked = !broken.has(spec.from.replace(/^services\./, ""));
    for (const issue of checked ? parseSpecText(text, target, parseOptions).issues : []) {
      if (reported.has(`${spec.from} ${issue.path}`)) continue;
      // At the Compose line the field comes from (a port's, a volume's), else the service's.
      const place = placeOf(spec.places, issue.path) ?? spec;
      const at = { ...place, path: issue.path, message: issue.message };
      const where = `${spec.from}: ${issue.path}`;
      findings.push(
        issue.code === "BERTH_POLICY"
          ? finding(issue.code, "policy", fileOf(at), at, where)
          : finding(issue.code, "error", fileOf(at), at, where),
      );
    }
    outputs.push({ name: target, text, from: spec.from, document: spec.document });
  }
  const count = (severity: ImportFinding["severity"]): number => findings.filter((f) => f.severity === severity).length;
  const errors = count("error");
  const report = (converted: boolean): number => {
    io.out(
      formatData(options.output as "json" | "yaml", {
        converted,
        project: result.project,
        written: converted && options.outDir !== undefined ? outputs.map((o) => o.name) : [],
        specs: outputs.map((o) => ({ name: o.name, from: o.from, document: o.document })),
        findings,
      }),
    );
    return converted ? EXIT.ok : EXIT.failed;
  };
  const data = isData(options.output);
  if (!data) for (const f of findings) io.err(`${f.text}\n`);
  if (errors > 0) {
    if (data) return report(false);
    io.err(`failed: ${errors} error${errors === 1 ? "" : "s"}; nothing written\n`);
    return EXIT.failed;
  }
  if (data && options.outDir === undefined) return report(true);
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
    if (data) return report(true);
  }
  const where = options.outDir === undefined ? "" : ` into ${options.outDir}`;
  const needsFlags = count("policy");
  const n = (count: number, word: string): string => `${count} ${word}${count === 1 ? "" : "s"}`;
  io.err(
    `converted ${n(result.specs.length, "service")}${objectsText(result.objects)} of project ${result.project}${where}: ` +
      n(count("warning"), "warning") +
      (needsFlags > 0
        ? `, ${n(needsFlags, "policy refusal")} (give berth the flags named above, or change the specs)`
        : "") +
      "\n",
  );
  return EXIT.ok;
}
