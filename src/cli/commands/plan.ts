/** `berth plan`: what a reconcile would change now. Exit 0 nothing, 2 changes pending, 1 error. */
import type { Command } from "commander";
import { createInspector } from "../../app.js";
import type { RawOptions } from "../../config.js";
import { formatIssue } from "../../core/errors.js";
import { renderAction, renderChanges, renderNote, renderPlanSummary, waitingForRoom } from "../../core/plan/render.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import { addCommonOptions, addExamples, addOutputOption, addTargetOption, type OutputFormat } from "../options.js";
import { formatData, isData } from "../output.js";
import { setup, verdictsFor } from "../setup.js";
import { swarmPlan } from "../swarm.js";

type PlanOptions = RawOptions & { output?: OutputFormat };

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("plan")
    .description("Show what a reconcile would change. Exit 0: nothing to do; 2: changes pending; 1: an error.");
  addTargetOption(addOutputOption(addCommonOptions(command, { positional: true }), { deprecatedFormat: true }));
  addExamples(command, [
    { command: "berth plan", what: "what run would change now, for ./specs" },
    { command: "berth plan -f specs/ --id web -o json", what: "one controller's plan, as JSON" },
    { command: "berth plan specs/ || [ $? -eq 2 ]", what: "in a script: exit 2 means changes are pending" },
  ]).action(async (_paths: string[], opts: PlanOptions) => {
    setExit(await plan(opts, io));
  });
}

async function plan(raw: PlanOptions, io: CliIO): Promise<number> {
  const { config, log } = setup(raw, { level: "error", fd: 2 });
  if (config.target === "swarm") return swarmPlan(config, log, raw.output, io);
  const result = await createInspector(config, { log, ...verdictsFor(io, config.specDirs) }).reconciler.pass({
    reload: true,
  });
  const issues = result.snapshot.issues;
  const blocked = [...result.snapshot.records.values()].filter((r) => r.error !== null);
  if (isData(raw.output)) {
    io.out(
      formatData(raw.output, {
        actions: result.plan.actions,
        notes: result.plan.notes.map((n) => ({ ...n, text: renderNote(n).slice(2) })),
        errors: [
          ...issues.map((i) => ({ ...i, text: formatIssue(i) })),
          ...blocked.map((r) => ({ spec: r.name, message: r.error, text: `${r.name}: ${r.error ?? ""}` })),
        ],
      }),
    );
  } else {
    for (const issue of issues) io.err(`${formatIssue(issue)}\n`);
    for (const record of blocked) io.err(`${record.name}: ${record.error ?? ""}\n`);
    for (const action of result.plan.actions) {
      io.out(`${[renderAction(action), ...renderChanges(action)].join("\n")}\n`);
    }
    for (const note of result.plan.notes) io.out(`${renderNote(note)}\n`);
    io.out(
      renderPlanSummary(result.plan.actions.length, issues.length + blocked.length, waitingForRoom(result.plan.notes)),
    );
  }
  if (issues.length > 0 || blocked.length > 0) return EXIT.failed;
  // A spec waiting for room is drift too: its containers are not there.
  return result.plan.actions.length > 0 || waitingForRoom(result.plan.notes) > 0 ? EXIT.changes : EXIT.ok;
}
