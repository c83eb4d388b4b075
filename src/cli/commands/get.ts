/** `berth get NAME`: one spec in detail. */
import type { Command } from "commander";
import { shortId } from "../../core/observed.js";
import type { SpecStatus } from "../../core/status.js";
import { type CommandContext, EXIT } from "../io.js";
import { addCommonOptions, addExamples, addOutputOption } from "../options.js";
import { formatData, isData } from "../output.js";
import { printable } from "../sanitize.js";
import { addServerOption, type StatusOptions, statusReport } from "../status-source.js";
import { formatAddresses, formatHostPorts } from "../status-view.js";
import { table } from "../table.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("get")
    .description("Show one spec in detail: phase, containers and their addresses, last action, errors.")
    .argument("<name>", "the spec's name");
  addOutputOption(addServerOption(addCommonOptions(command, { positional: false })));
  addExamples(command, [
    { command: "berth get web", what: "one spec in detail" },
    { command: "berth get web -o json | jq .containers", what: "its containers, for a script" },
  ]).action(async (name: string, opts: StatusOptions) => {
    const report = await statusReport(opts, io);
    const spec = report.specs.find((s) => s.name === name);
    if (!spec) {
      io.err(`berth: no spec ${printable(name)} (specs: ${report.specs.map((s) => s.name).join(", ") || "none"})\n`);
      setExit(EXIT.failed);
      return;
    }
    io.out(isData(opts.output) ? formatData(opts.output, spec) : renderSpec(spec));
    setExit(EXIT.ok);
  });
}

function renderSpec(s: SpecStatus): string {
  const field = (key: string, value: string | number | null): string => `${`${key}:`.padEnd(13)}${value ?? "-"}\n`;
  let out =
    field("Name", s.name) +
    field("Phase", s.phase) +
    (s.message ? field("Message", s.message) : "") +
    field("File", s.file) +
    field("Hash", s.hash) +
    field("Replicas", `${s.replicas.ready}/${s.replicas.desired} ready`) +
    field("Expires", s.expiresAt ?? "never") +
    field(
      "Last action",
      s.lastAction
        ? `${s.lastAction.kind} (${s.lastAction.reason}) at ${s.lastAction.at}${s.lastAction.ok ? "" : ", failed"}`
        : null,
    ) +
    (s.lastError ? field("Last error", s.lastError) : "") +
    (s.retryAt ? field("Retry at", s.retryAt) : "");
  if (s.containers.length > 0) {
    out += "Containers:\n";
    out += table(
      ["  NAME", "ID", "STATE", "HEALTH", "CURRENT", "CREATED", "PORTS", "ADDRESSES"],
      s.containers.map((c) => [
        `  ${c.name}`,
        c.collected ? "-" : shortId(c.id),
        // A finished run (docs/runs.md): how and when it ended.
        c.reason === null
          ? c.state
          : `${c.collected ? "collected" : c.state} (${c.reason}, exit ${c.exitCode ?? "?"}, finished ${c.finishedAt ?? "?"})`,
        c.health ?? "-",
        c.current ? "yes" : "no",
        c.createdAt,
        formatHostPorts(c.hostPorts),
        formatAddresses(c),
      ]),
    );
  }
  return out;
}
