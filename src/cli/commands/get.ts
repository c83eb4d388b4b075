/** `berth get NAME`: one spec in detail. */
import type { Command } from "commander";
import { shortId } from "../../core/observed.js";
import type { SpecStatus } from "../../core/status.js";
import { type CommandContext, EXIT } from "../io.js";
import { DEFAULT_SERVER } from "../live.js";
import { addCommonOptions, addExamples, addOutputOption, addTargetOption, type OutputFormat } from "../options.js";
import { formatData, isData } from "../output.js";
import { printable } from "../sanitize.js";
import { addServerOption, type StatusOptions, statusReport } from "../status-source.js";
import { setup } from "../setup.js";
import { detailLine as field, formatAddresses, formatHostPorts } from "../status-view.js";
import { renderSwarmSpec, swarmStatusReport } from "../swarm.js";
import { age, table } from "../table.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("get")
    .description(
      "Show one spec in detail: phase, containers (restarts, last exit, uptime, addresses), last action, errors.",
    )
    .argument("<name>", "the spec's name");
  addTargetOption(addOutputOption(addServerOption(addCommonOptions(command, { positional: false }))));
  addExamples(command, [
    { command: "berth get web", what: "one spec in detail" },
    { command: "berth get web -o json | jq .containers", what: "its containers, for a script" },
    { command: "berth get web --target swarm", what: "a service's tasks: node, state, error" },
  ]).action(async (name: string, opts: StatusOptions) => {
    if (opts.target === "swarm") {
      const { config, log } = setup(opts, { level: "error", fd: 2 });
      const report = await swarmStatusReport(config, log, opts.output, opts.server ?? DEFAULT_SERVER, io);
      show(name, report.specs, opts.output, (spec) => renderSwarmSpec(spec, Date.now()));
      return;
    }
    show(name, (await statusReport(opts, io, new Set([name]))).specs, opts.output, (spec) =>
      renderSpec(spec, Date.now()),
    );
  });

  /** The spec named, in the format asked; or which specs there are. */
  function show<S extends { readonly name: string }>(
    name: string,
    specs: readonly S[],
    output: OutputFormat | undefined,
    render: (spec: S) => string,
  ): void {
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      io.err(`berth: no spec ${printable(name)} (specs: ${specs.map((s) => s.name).join(", ") || "none"})\n`);
      setExit(EXIT.failed);
      return;
    }
    io.out(isData(output) ? formatData(output, spec) : render(spec));
    setExit(EXIT.ok);
  }
}

function renderSpec(s: SpecStatus, now: number): string {
  let out =
    field("Name", s.name) +
    field("Phase", s.phase) +
    (s.message ? field("Message", s.message) : "") +
    field("File", s.file) +
    field("Hash", s.hash) +
    field(
      "Replicas",
      `${s.replicas.ready}/${s.replicas.desired} ready, ${s.replicas.updated} up to date, ${s.replicas.available} available`,
    ) +
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
      [
        "  NAME",
        "ID",
        "STATE",
        "RESTARTS",
        "LAST EXIT",
        "UPTIME",
        "HEALTH",
        "CURRENT",
        "CREATED",
        "PORTS",
        "ADDRESSES",
      ],
      s.containers.map((c) => [
        `  ${c.name}`,
        c.collected ? "-" : shortId(c.id),
        // A finished run (docs/runs.md): how and when it ended.
        c.reason === null
          ? c.state
          : `${c.collected ? "collected" : c.state} (${c.reason}, exit ${c.exitCode ?? "?"}, finished ${c.finishedAt ?? "?"})`,
        // Not inspected (a live controller that saw no exit of it): not known.
        typeof c.restarts === "number" ? String(c.restarts) : "-",
        c.lastExit ? `${c.lastExit.exitCode ?? "?"} at ${c.lastExit.at}` : "-",
        // Since its last start (after any restart by the engine), while it runs: how long a canary has stayed up.
        c.state === "running" && c.startedAt !== null ? age(Date.parse(c.startedAt), now) : "-",
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
