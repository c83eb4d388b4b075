/**
 * `berth events`: the running controller's recent reconcile events (GET /v1/events) — what it did,
 * why, and how it went — as `kubectl get events` shows a cluster's; `--watch` keeps printing new
 * ones. Read-only and open, like the API's read; only a berth of this --id is believed (live.ts).
 */
import { type Command, Option } from "commander";
import { BerthError } from "../../core/errors.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import { type Answerer, DEFAULT_SERVER, type LiveEvent, liveEvents, standbyWords } from "../live.js";
import { addControllerOptions, addExamples, addOutputOption, GROUPS, type OutputFormat } from "../options.js";
import { formatData, isData } from "../output.js";
import { printable, printableDeep } from "../sanitize.js";
import { age, table } from "../table.js";

interface EventsOptions {
  readonly id: string;
  readonly server: string;
  readonly spec?: string;
  readonly limit: string;
  readonly watch?: boolean;
  readonly output: OutputFormat;
}

/** How often `--watch` asks for newer events. */
const WATCH_EVERY_MS = 1000;
/** How long `--watch` waits for an --ha group's next leader once the one it read stopped answering. */
const FAILOVER_WAIT_MS = 60_000;
const HEADER = ["AGE", "SPEC", "EVENT", "RESULT", "MESSAGE"];

function rows(events: readonly LiveEvent[], now: number): string[][] {
  return events.map((e) => [
    age(Date.parse(e.at), now),
    e.spec ?? "-",
    e.kind,
    e.ok ? "ok" : "failed",
    printable(e.error === null ? e.text : `${e.text}: ${e.error}`),
  ]);
}

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("events")
    .description("Show the running controller's recent events: what it did, why, and how it went.")
    .addOption(new Option("--spec <name>", "only this spec's events").env("BERTH_EVENTS_SPEC"))
    .addOption(
      new Option("--limit <n>", "at most the newest N (1 to 1000)")
        .env("BERTH_EVENTS_LIMIT")
        .default("100")
        .argParser((v) => {
          if (!/^([1-9][0-9]{0,2}|1000)$/.test(v)) throw BerthError.usage(`--limit ${v}: give a number from 1 to 1000`);
          return v;
        }),
    )
    .addOption(new Option("-w, --watch", "keep printing new events as they come, until interrupted").env("BERTH_WATCH"))
    .addOption(
      new Option("--server <url>", "the running controller (berth run) whose events are read")
        .env("BERTH_SERVER")
        .default(DEFAULT_SERVER)
        .helpGroup(GROUPS.controller),
    );
  addOutputOption(addControllerOptions(command));
  addExamples(command, [
    { command: "berth events", what: "the last 100 events of the controller at 127.0.0.1:7435" },
    { command: "berth events --spec web -w", what: "web's events, then each new one as it happens" },
    { command: "berth events -o json | jq '.events[] | select(.ok == false)'", what: "what failed, for a script" },
  ]).action(async (opts: EventsOptions) => {
    setExit(await events(opts, io));
  });
}

async function events(opts: EventsOptions, io: CliIO): Promise<number> {
  // Once a standby named the leader, --watch asks the leader.
  let server = opts.server;
  const query = (since?: number) => ({
    ...(since !== undefined ? { since } : {}),
    ...(opts.spec !== undefined ? { spec: opts.spec } : {}),
    limit: Number(opts.limit),
  });
  const ask = async (since?: number): Promise<LiveEvent[] | null> => {
    const answer = await liveEvents(server, opts.id, query(since));
    if (answer === null) return null;
    if (server === opts.server) told(answer.from);
    server = answer.from.url;
    return answer.events;
  };
  // Where the events come from, when that is not simply --server: the leader it named, or a standby.
  const told = (from: Answerer): void => {
    if (from.via !== null)
      io.err(`${printable(`(events of the leader at ${from.url}; the standby at ${from.via} named it)`)}\n`);
    else if (from.role === "standby") io.err(`${printable(`(events of ${standbyWords(from)})`)}\n`);
  };
  const missing = (): number => {
    io.err(
      printable(
        `berth: no berth with --id ${opts.id} answers at ${opts.server}; berth events reads a running controller's (berth run): give the --server it listens at and its --id`,
      ) + "\n",
    );
    return EXIT.failed;
  };
  const first = await ask();
  if (first === null) return missing();
  if (!opts.watch) {
    io.out(
      isData(opts.output)
        ? formatData(opts.output, printableDeep({ events: first }))
        : first.length === 0
          ? "no events\n"
          : table(HEADER, rows(first, Date.now())),
    );
    return EXIT.ok;
  }
  // Watching: each event once, as it comes; as data, one JSON object a line (or a YAML document).
  let header = true;
  const print = (batch: readonly LiveEvent[]): void => {
    if (batch.length === 0) return;
    if (opts.output === "json") for (const e of batch) io.out(`${JSON.stringify(printableDeep(e))}\n`);
    else if (opts.output === "yaml") for (const e of batch) io.out(`---\n${formatData("yaml", printableDeep(e))}`);
    else {
      const lines = table(HEADER, rows(batch, Date.now())).split("\n");
      io.out(lines.slice(header ? 0 : 1).join("\n"));
      header = false;
    }
  };
  // Until interrupted, or until the reader of the output has gone (`berth events -w | head -3`).
  let gone = false;
  void io.outClosed?.then(() => {
    gone = true;
  });
  print(first);
  let since = first.at(-1)?.seq ?? 0;
  let lastAt = Date.parse(first.at(-1)?.at ?? "") || 0;
  /** Since when the berth asked has not answered (a failover under --ha), or null. */
  let silentSince: number | null = null;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, WATCH_EVERY_MS));
    if (gone) return EXIT.ok;
    let batch = await ask(since);
    if (batch === null && server !== opts.server) {
      // The leader a standby named went away: the group elects another within its lease's TTL.
      // Asked through --server each second, for FAILOVER_WAIT_MS, until a leader answers there.
      if (silentSince === null) {
        silentSince = Date.now();
        io.err(
          `${printable(`(the leader at ${server} stopped answering; waiting for the next one through ${opts.server})`)}\n`,
        );
      }
      const next = await liveEvents(opts.server, opts.id, query());
      if (next !== null && next.from.role !== "standby" && next.from.url !== server) {
        server = next.from.url;
        silentSince = null;
        io.err(`${printable(`(events of the leader at ${server} from now on)`)}\n`);
        // Its own events, numbered its own way: those after the last one printed.
        batch = next.events.filter((e) => Date.parse(e.at) > lastAt);
        since = next.events.at(-1)?.seq ?? 0;
      } else if (Date.now() - silentSince < FAILOVER_WAIT_MS) continue;
    }
    if (batch === null) {
      io.err(`${printable(`berth: the controller at ${server} stopped answering`)}\n`);
      return EXIT.failed;
    }
    print(batch);
    since = batch.at(-1)?.seq ?? since;
    lastAt = Date.parse(batch.at(-1)?.at ?? "") || lastAt;
  }
}
