/** `berth status`: every spec's phase and containers. */
import type { Command } from "commander";
import { type CommandContext, EXIT } from "../io.js";
import { DEFAULT_SERVER } from "../live.js";
import { addCommonOptions, addExamples, addOutputOption, addTargetOption } from "../options.js";
import { formatData, isData } from "../output.js";
import { addServerOption, type StatusOptions, statusReport } from "../status-source.js";
import { renderStatus } from "../status-view.js";
import { setup } from "../setup.js";
import { swarmStatusCommand } from "../swarm.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("status")
    .description("Show every spec's phase and containers (live from a running controller when one answers).");
  addTargetOption(addOutputOption(addServerOption(addCommonOptions(command, { positional: true }))));
  addExamples(command, [
    { command: "berth status", what: "the phase of every spec in ./specs" },
    { command: "berth status --id edge -o wide", what: "another controller's, with file, hash and last action" },
    { command: "berth status -o yaml --server off", what: "read Docker and the files, not the running controller" },
  ]).action(async (_paths: string[], opts: StatusOptions) => {
    if (opts.target === "swarm") {
      const { config, log } = setup(opts, { level: "error", fd: 2 });
      setExit(await swarmStatusCommand(config, log, opts.output, opts.server ?? DEFAULT_SERVER, io));
      return;
    }
    const report = await statusReport(opts, io);
    io.out(
      isData(opts.output)
        ? formatData(opts.output, report)
        : renderStatus(report, Date.now(), { wide: opts.output === "wide" }),
    );
    setExit(EXIT.ok);
  });
}
