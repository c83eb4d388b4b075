/** `berth claim POOL`: take a ready member of a warm pool (docs/pools.md) from the running controller. */
import { type Command, Option } from "commander";
import { BerthError } from "../../core/errors.js";
import { type CommandContext, EXIT } from "../io.js";
import { addExamples, addOutputOption, collect, type OutputFormat } from "../options.js";
import { formatData, isData } from "../output.js";
import { addApiOptions, type ApiOptions, callApi, text } from "../pool-api.js";
import { printable } from "../sanitize.js";

interface ClaimOptions extends ApiOptions {
  readonly name?: string;
  readonly ttl?: string;
  readonly wait?: string;
  readonly label?: string[];
  readonly output: OutputFormat;
}

function labelsOf(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw BerthError.usage(`--label ${pair}: write KEY=VALUE`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("claim")
    .description(
      "Claim a ready member of a warm pool from the running controller; it is yours until released or expired.",
    )
    .argument("<pool>", "the pool spec's name")
    .addOption(
      new Option("--name <claim>", "the claim's name (a DNS label); generated when not given").env("BERTH_CLAIM_NAME"),
    )
    .addOption(
      new Option("--ttl <duration>", "the claim expires this long from now (default: never)").env("BERTH_CLAIM_TTL"),
    )
    .addOption(
      new Option(
        "--wait <duration>",
        "how long to wait when no member is ready (one is made cold meanwhile; default 1m, 0s: a ready one or none)",
      ).env("BERTH_CLAIM_WAIT"),
    )
    .addOption(
      new Option("--label <key=value>", "a label reported with the claim (repeatable)")
        .env("BERTH_CLAIM_LABEL")
        .argParser(collect),
    );
  addOutputOption(addApiOptions(command));
  addExamples(command, [
    { command: "berth claim sandbox --ttl 30m", what: "a member of pool sandbox for 30 minutes" },
    {
      command: "berth claim sandbox --name job-42 --wait 10s -o json",
      what: "named, waiting up to 10 s, for a script",
    },
  ]).action(async (pool: string, opts: ClaimOptions) => {
    const body = {
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
      ...(opts.wait !== undefined ? { wait: opts.wait } : {}),
      ...(opts.label !== undefined ? { labels: labelsOf(opts.label) } : {}),
    };
    const res = await callApi(opts, io, "POST", `/v1/pools/${encodeURIComponent(pool)}/claims`, body);
    if (res.status !== 201) {
      io.err(`berth: claim on ${printable(pool)} refused (${res.status}): ${printable(text(res.body.error))}\n`);
      setExit(EXIT.failed);
      return;
    }
    const b = res.body;
    io.out(
      isData(opts.output)
        ? formatData(opts.output, b)
        : printable(
            `claimed ${text(b.name)} (${text(b.container).slice(0, 12)}) as ${text(b.pool)}/${text(b.claim)}, ` +
              `expires ${text(b.expiresAt ?? "never")}`,
          ) + "\n",
    );
    setExit(EXIT.ok);
  });
}
