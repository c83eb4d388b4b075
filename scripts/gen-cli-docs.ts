/**
 * Generates docs/cli.md, the command-line reference, from the commander definitions in
 * src/cli/commands/*.ts: every command, its arguments and options, their defaults and BERTH_*
 * variables. `npm run gen` rewrites it; test/unit/contracts.test.ts fails when the committed file
 * is stale. The prose around the generated tables is the constants below, so the file itself is
 * never edited by hand. Nothing here may depend on the machine: no paths, no environment values.
 */
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Argument, Command, Option } from "commander";
import type { CliIO } from "../src/cli/io.js";
import { buildProgram, COMMANDS } from "../src/cli/main.js";
import { collect, examplesOf } from "../src/cli/options.js";

export const cliDocsPath = new URL("../docs/cli.md", import.meta.url);

const HEADER =
  "<!-- Generated from the commander definitions by `npm run gen` (scripts/gen-cli-docs.ts). Do not edit by hand. -->";

const INTRO = `Every command also documents itself: \`berth <command> --help\` prints its usage, its options
grouped as they are here, and examples. A usage error prints the error and one hint line.

- **Conventions**: every command that reads specs takes them from \`-f/--specs PATH\` (repeatable,
  \`BERTH_SPECS\`), files and folders alike, and as arguments too (\`berth plan specs/ extra.yaml\`);
  \`-\` is the standard input, as with \`kubectl apply -f -\` (read once; \`run\` does not watch it).
  Every command that prints data takes \`-o table|json|yaml|wide\` (\`BERTH_OUTPUT\`); \`wide\` is the
  table with more columns where the command has them (\`status\`), else the table. \`--format\` of
  \`validate\` and \`plan\` still works, hidden and deprecated (\`--format text\` is \`-o table\`).
  \`berth completion bash|zsh|fish\` prints a completion script built from these definitions.
- **Settings**: a flag beats its \`BERTH_*\` environment variable, which beats the default. A
  repeatable flag's variable takes a comma-separated list (\`BERTH_SPECS=specs,more-specs\`). A flag
  without a value (\`--force-prune\`) is turned on by its variable holding anything but \`false\`,
  \`0\`, \`no\`, \`off\` or nothing.
- **Exit codes**: 0 success; 1 failure (\`validate\` found errors, \`apply\` left a spec failed or
  waiting for room, a flag or argument is invalid, Docker could not be reached, the command
  failed); 2 \`plan\` with changes pending or a spec waiting for room; \`exec\` exits with the
  command's own exit code, and 124 when it timed out.
- **Docker** is reached through \`DOCKER_HOST\` or the default socket, as the docker CLI does.
- **Without an engine** every command that talks to Docker ends by itself, exits 1 and says in
  one line what is wrong, what fixes it and its code ([errors.md](errors.md)): no socket, permission
  denied on it, a server that is not Docker, or no answer. Every Docker call has a deadline
  (\`--docker-timeout\`, default 30s): a silent engine ends \`plan\`, \`status\`, \`get\`,
  \`reap\`, \`exec\` and \`logs\` after one deadline; \`apply\` ends at its own \`--timeout\`
  too. Only what is meant to last (\`run\`, \`logs -f\`, \`exec\`'s command) runs longer.
- **Logs**: \`run\` logs at \`info\` to stdout (JSON, or pretty on a terminal); \`reap\` logs at
  \`warn\` and the other commands at \`error\`, to stderr, so their stdout is only their output.
  \`--log-level\` overrides both.
- **\`BERTH_API_TOKEN\`** holds the bearer token of the HTTP API's write endpoints itself, for
  \`run\`; \`--api-token-file\` beats it. See [http-api.md](http-api.md).
- The admission policy's flags (\`--policy\`, \`--allow-*\`, \`--max-*\`, \`--require-limits\`) are
  explained in [policy.md](policy.md); what \`run\` does on each pass, in
  [design.md](design.md#the-loop).`;

/** Prose after one command's tables: what its options alone do not say. */
const NOTES: Readonly<Record<string, string>> = {
  validate: `Each error is one line, \`FILE:LINE:COLUMN: FIELD: MESSAGE\`, then a summary line; \`-o json\`
prints the same errors as JSON (\`-o yaml\`: as YAML), each with a \`code\` from
[errors.md](errors.md), which also shows an example. Give \`validate\` the controller's policy flags and CI gives the controller's verdict.

A Git pre-commit hook (\`.git/hooks/pre-commit\`, executable):

\`\`\`sh
#!/bin/sh
exec npx --no-install berth validate specs/
\`\`\`

With the [pre-commit](https://pre-commit.com) framework (\`.pre-commit-config.yaml\`):

\`\`\`yaml
repos:
  - repo: local
    hooks:
      - id: berth-validate
        name: berth validate
        entry: npx --no-install berth validate
        language: system
        files: ^specs/.*\\.ya?ml$
        pass_filenames: false
        args: [specs/]
\`\`\`

A CI job (a GitHub Actions step; any CI runs the same command):

\`\`\`yaml
- run: npm ci && npm run build
- run: npx berth validate specs/
\`\`\``,
  run: `SIGTERM or SIGINT stops taking work, lets in-flight operations finish (\`--drain-timeout\`) and
exits 0; the containers keep running. A second signal exits at once. The HTTP API it serves:
[http-api.md](http-api.md); running it in a container: [deploy.md](deploy.md).`,
  apply: `It asks the engine first (one ping), so that no socket, no permission or no engine ends it at
once; then it prints each operation as it is done, waits for healthchecks before it calls a spec
converged, and gives up after \`--timeout\`, exiting within a second of it whatever calls are still
waiting on the engine (the next pass finishes what they leave half done).`,
  plan: `It prints the plan \`run\` would execute, one action and its reason a line, and changes nothing.`,
  status: `It asks the controller at \`--server\` first, when one answers there with the same \`--id\`, and
then shows that controller's last pass (saying so on stderr); otherwise it reads Docker and the
spec files itself. The phases: [design.md](design.md#status).`,
  get: `Like \`status\`, it asks the running controller at \`--server\` first.`,
  exec: `\`exec\` and \`logs\` are for operators on the host: they go straight to Docker, as the docker CLI
would, reach only containers carrying this controller's \`--id\` labels, and need no token. NAME is
a container name, an ID, or a spec name (its lowest running replica). Programs use the HTTP API
instead ([http-api.md](http-api.md)).

**Timeouts.** Docker has no call to kill an exec. At the timeout berth kills the process and its
children by PID when it can see them: when berth runs on the host, or in a container started with
\`--pid host\`. Otherwise berth says it could not kill it, stops waiting and exits 124, and the
process runs on inside the container.`,
  logs: `See \`exec\` about who may use it.`,
  import: `FORMAT is \`compose\`. Each key berth cannot express is one stderr line,
\`FILE:LINE:COLUMN: KEY: warning: not supported: WHY\`; each admission policy refusal of a produced
spec names the flag that admits it. On exit 1 nothing is written. Every Compose key and what it
becomes: [compose.md](compose.md).`,
  rollout: `\`status\` is \`kubectl rollout status\` (with no name: every spec in the files). It prints a line whenever a spec's counts change
(\`web: waiting for the rollout: 1 of 3 updated, 1 ready, 3 available\`) and exits 0 once each named
spec runs the version in the files it read (phase Running: every replica of it ready, and for its
\`stableFor\`), 1 as soon as one will not get there without a change (a held rollout, an invalid
file, a name conflict) or at \`--timeout\`. A failure retried with backoff is waited through. It
reads the running controller at \`--server\` when one answers with the same \`--id\`, else Docker
and the files each second; until the controller's status carries the files' spec hash, it says it
is waiting for the controller to read them. Secret values enter the hash: a \`secretEnv\` this
command reads as another value than the controller does (a \`fromHostEnv\` variable set otherwise)
is another version, so give it the controller's environment; one it cannot read at all leaves
that spec's version to the controller's status. With \`--no-watch\` it looks once: 2 means under way.
Under \`--target swarm\` it follows Swarm's own update: done once Swarm completed it and every task
runs, failed once Swarm paused it.

\`retry\` tries a version that did not stay up for its \`stableFor\` again, after a fix outside the
spec ([design.md](design.md#safe-replacements)). Under StartFirst it removes that version's stopped
records (\`web-0.rejected\`), and the next pass tries the version again, one batch first. Under
StopFirst (no record: the failed replica took the old one's place) it makes each failed replica
again and waits its \`stableFor\`, the others untouched: exit 0 when it stayed up (the next pass
rolls the rest), 1 when it failed again (it stays, and holds). Beside a running controller of the id it asks that controller's API
(\`POST /v1/specs/{name}/retry\`). Under swarm there is no record either, and it is refused: a
paused update goes on when the spec or its image changes.

\`restart\` is [\`berth restart\`](#berth-restart), as kubectl spells it (\`kubectl rollout restart\`).

kubectl's other verbs are refused, each saying what berth has instead: \`pause\` and \`resume\` are
declared (\`spec.updatePartition\`, a canary or a held rollout in the file: [design.md](design.md#safe-replacements)),
and \`undo\` and \`history\` are the spec file's own history (\`git revert\`, \`git log -p\`): berth
keeps no record of earlier versions.`,
  reap: `Expired containers are killed and removed, without their stop timeout: expiry is a deadline.
With \`--reap-label KEY\`, any container, berth's or not, whose label KEY holds a past RFC 3339 time
goes too; \`never\` and values that do not parse are left alone.`,
};

const noop: CliIO = { out() {}, err() {}, isTTY: false, env: {}, cwd: "." };

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(text: string): string {
  return `\`${text}\``;
}

function defaultText(value: unknown, description: string | undefined): string {
  if (description !== undefined) return cell(description);
  if (value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map((v) => code(String(v))).join(", ");
  return code(typeof value === "string" ? value : JSON.stringify(value));
}

function choicesText(choices: readonly string[] | undefined): string {
  return choices ? ` One of ${choices.map(code).join(", ")}.` : "";
}

/** Help text as a sentence: a capital first letter and a full stop. */
function sentence(text: string): string {
  const t = text.trim();
  if (t === "") return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** The flag's variable, and how a value there is read. */
function envText(option: Option): string {
  if (option.envVar === undefined) return "";
  const name = code(option.envVar);
  if (option.parseArg === collect) return `${name} (comma-separated)`;
  if (option.isBoolean()) return `${name} (true: on)`;
  return name;
}

function argumentName(arg: Argument): string {
  return `${arg.name()}${arg.variadic ? "..." : ""}`;
}

function commandSection(command: Command): string[] {
  const name = command.name();
  const lines = [`## berth ${name}`, "", code(`berth ${name} ${command.usage()}`), "", sentence(command.description())];
  const args = command.registeredArguments;
  if (args.length > 0) {
    lines.push("", "| argument | description | default |", "| --- | --- | --- |");
    for (const arg of args) {
      const label = arg.required ? code(argumentName(arg)) : `${code(argumentName(arg))} (optional)`;
      lines.push(
        `| ${label} | ${cell(sentence(arg.description) + choicesText(arg.argChoices))} | ${defaultText(arg.defaultValue, arg.defaultValueDescription)} |`,
      );
    }
  }
  // One table per help group, in the order --help lists them.
  const groups = new Map<string, Option[]>();
  for (const option of command.options.filter((o) => !o.hidden)) {
    const group = option.helpGroupHeading ?? "Options:";
    groups.set(group, [...(groups.get(group) ?? []), option]);
  }
  for (const [group, options] of groups) {
    lines.push("", `**${group.replace(/:$/, "")}**`, "");
    lines.push("| option | description | default | environment |", "| --- | --- | --- | --- |");
    for (const option of options) {
      lines.push(
        `| ${code(option.flags)} | ${cell(sentence(option.description) + choicesText(option.argChoices))} | ${defaultText(option.defaultValue, option.defaultValueDescription)} | ${envText(option)} |`,
      );
    }
  }
  const examples = examplesOf(command);
  if (examples.length > 0) {
    lines.push(
      "",
      "Examples:",
      "",
      "```sh",
      ...examples.flatMap((e, i) => [...(i > 0 ? [""] : []), `# ${e.what}`, e.command]),
      "```",
    );
  }
  const note = NOTES[name];
  if (note !== undefined) lines.push("", note);
  lines.push("");
  return lines;
}

/** Every BERTH_* variable once: its flag and the commands that read it. */
function environmentSection(commands: readonly Command[]): string[] {
  const byVar = new Map<string, { flags: string; commands: string[] }>();
  for (const command of commands) {
    for (const option of command.options) {
      if (option.envVar === undefined || option.hidden) continue;
      const entry = byVar.get(option.envVar) ?? { flags: option.long ?? option.flags, commands: [] };
      entry.commands.push(command.name());
      byVar.set(option.envVar, entry);
    }
  }
  const lines = [
    "## Environment variables",
    "",
    "Each `BERTH_*` variable and the flag it stands for; `BERTH_API_TOKEN` (above) is the one without a flag.",
    "",
    "| variable | flag | commands |",
    "| --- | --- | --- |",
  ];
  for (const [envVar, entry] of [...byVar].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    lines.push(`| ${code(envVar)} | ${code(entry.flags)} | ${entry.commands.join(", ")} |`);
  }
  lines.push("");
  return lines;
}

export async function generateCliDocs(): Promise<string> {
  const program = await buildProgram(noop, () => undefined, Object.keys(COMMANDS));
  const commands = program.commands.filter((c) => c.name() !== "help");
  const index = [
    "| command | what it does |",
    "| --- | --- |",
    ...commands.map((c) => `| [berth ${c.name()}](#berth-${c.name()}) | ${cell(sentence(c.description()))} |`),
  ];
  return [
    "# Command line",
    "",
    HEADER,
    "",
    INTRO,
    "",
    ...index,
    "",
    ...commands.flatMap(commandSection),
    ...environmentSection(commands),
  ].join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(cliDocsPath, await generateCliDocs());
  console.log("wrote", cliDocsPath.pathname);
}
