/** `berth status`: every spec's phase and containers. */
import { type Command, Option } from "commander";
import { type CommandContext, EXIT } from "../io.js";
import { addCommonOptions } from "../options.js";
import { addServerOption, type StatusOptions, statusReport } from "../status-source.js";
import { renderStatus } from "../status-view.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  addServerOption(
    addCommonOptions(
      program
        .command("status")
        .description("Show every spec's phase and containers (live from a running controller when one answers)."),
    ),
  )
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"))
    .action(async (opts: StatusOptions) => {
      const report = await statusReport(opts, io);
      io.out(opts.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, Date.now()));
      setExit(EXIT.ok);
    });
}
