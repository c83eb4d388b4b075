/**
 * `berth rollout status NAME…`: follow specs' rollouts until their version runs, as `kubectl
 * rollout status` does (core/rollout-status.ts): from the running controller's live status when
 * one with the same --id answers, else from a look at Docker and the files each second. The
 * version waited for is the one in the files this command reads. Under --target swarm, from the
 * services' status (Swarm's update state). With --stable-for, a spec rolled out is waited on until
 * its version's replicas (a canary) have run that long without a restart, from a look that
 * inspects each of their containers (core/rollout-status.ts, stabilityState); under swarm, until
 * each slot's task has, from the task history (swarmStabilityState).
 *
 * `berth rollout restart NAME…` is `berth restart NAME…`, as kubectl spells it.
 *
 * `berth rollout retry NAME…`: release a rollout a rejected version holds (ops/rollout-retry.ts),
 * as apply and restart write: holding the id's lock, or under --ha the lease; beside a running
 * controller, through its API (POST /v1/specs/{name}/retry).
 */
import { Argument, type Command, InvalidArgumentError, Option } from "commander";
import type { Logger } from "pino";
import { createInspector, createSwarm } from "../../app.js";
import type { Config, RawOptions } from "../../config.js";
import { BerthError } from "../../core/errors.js";
import { labelKeys } from "../../core/labels.js";
import {
  judgedForStability,
  type RolloutState,
  type RolloutView,
  rolloutState,
  stabilityState,
  swarmRolloutView,
  swarmStabilityState,
  withStability,
} from "../../core/rollout-status.js";
import type { Phase, SpecStatus } from "../../core/status.js";
import { formatDurationMs, isParseError, parseTimerMs } from "../../core/units.js";
import type { WriteFence } from "../../docker/fenced.js";
import { type RetryStep, retryRollouts, retryTargets } from "../../ops/rollout-retry.js";
import { writeOrAsk } from "../ha.js";
import { restart } from "./restart.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import { liveStatus, liveSwarmStatus } from "../live.js";
import {
  addCommonOptions,
  addExamples,
  addHaOptions,
  addOutputOption,
  addTargetOption,
  GROUPS,
  type OutputFormat,
  stateDirOption,
} from "../options.js";
import { formatData, isData } from "../output.js";
import { addApiOptions, type ApiOptions, postEachSpec } from "../pool-api.js";
import { printable, printableDeep } from "../sanitize.js";
import { setup, verdictsFor } from "../setup.js";

const ACTIONS = ["status", "retry", "restart"] as const;
type RolloutAction = (typeof ACTIONS)[number];

/** kubectl rollout's other verbs: what berth has instead, each said where the verb is refused. */
const KUBECTL_ONLY: Readonly<Record<string, string>> = {
  pause:
    "berth has no rollout pause: declare it, spec.updatePartition at the replica count holds every replica (docs/design.md, Safe replacements)",
  resume: "berth has no rollout resume: lower spec.updatePartition (0 rolls every replica)",
  undo: "berth keeps no rollout history: put the earlier version back in the spec's file (git revert), and it rolls out as any change does",
  history:
    "berth keeps no rollout history: the spec file's history is it (git log -p); berth get NAME shows which containers run the current version",
};

function parseAction(value: string): RolloutAction {
  if ((ACTIONS as readonly string[]).includes(value)) return value as RolloutAction;
  throw new InvalidArgumentError(KUBECTL_ONLY[value] ?? `Allowed choices are ${ACTIONS.join(", ")}.`);
}

type RolloutOptions = RawOptions &
  ApiOptions & { output?: OutputFormat; timeout?: string; watch?: boolean; stableFor?: string };

/** How often status is looked at while a rollout is under way. */
const POLL_MS = 1_000;

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("rollout")
    .description(
      "Follow specs' rollouts until their version runs (status), release a rollout a version that did not stay up holds (retry), or restart them (restart).",
    )
    .addArgument(
      new Argument(
        "<action>",
        "status: wait until each spec's version runs (exit 0), fails (1) or --timeout passes (1); retry: remove the records of a rejected version, so the next pass tries it again; restart: the same as berth restart",
      )
        .choices(ACTIONS)
        .argParser(parseAction),
    )
    .argument("[name...]", "the specs (status: every spec in the files when none is named)");
  addTargetOption(addOutputOption(addCommonOptions(command, { positional: false })))
    .addOption(
      new Option("--timeout <duration>", "status: give up after this long")
        .env("BERTH_ROLLOUT_TIMEOUT")
        .default("5m")
        .helpGroup(GROUPS.reconcile),
    )
    .addOption(
      new Option(
        "--stable-for <duration>",
        "status: once rolled out, wait until every replica of the version (the canaries, under an updatePartition) has run this long without a restart (under swarm: each slot's task); one restarted, down or unhealthy meanwhile fails it",
      )
        .env("BERTH_ROLLOUT_STABLE_FOR")
        .helpGroup(GROUPS.reconcile),
    )
    .addOption(
      new Option("--no-watch", "status: look once; exit 0 when done, 1 when failed, 2 while under way")
        .env("BERTH_ROLLOUT_NO_WATCH")
        .helpGroup(GROUPS.reconcile),
    )
    .addOption(stateDirOption().helpGroup(GROUPS.reconcile));
  addApiOptions(command);
  addHaOptions(command, { oneShot: true });
  addExamples(command, [
    {
      command: "berth rollout status web",
      what: "wait until the running controller (or a berth apply) has rolled out web's version in ./specs",
    },
    {
      command: "berth rollout status web --stable-for 10m --timeout 15m",
      what: "a canary (updatePartition): exit 0 once web's new replicas have run 10 minutes without a restart, 1 as soon as one fails",
    },
    { command: "berth rollout retry web", what: "try web's rejected version again (after a fix outside the spec)" },
  ]).action(async (action: RolloutAction, names: string[], opts: RolloutOptions) => {
    setExit(
      action === "status"
        ? await rolloutStatus(names, opts, io)
        : action === "retry"
          ? await rolloutRetry(names, opts, io)
          : await restart(names, opts, io),
    );
  });
}

/** Where the rollouts are read: the files and the engine (or Swarm), and a running controller's live status. */
interface RolloutSource {
  /** A look at the files and the host, as a pass takes it: its hashes are the versions waited for. */
  local(): Promise<readonly RolloutView[]>;
  /** The running controller's status when one with this --id answers at --server, else null. */
  live(): Promise<readonly RolloutView[] | null>;
  /**
   * --stable-for: a look at the files and the host that inspects these specs' containers (under
   * swarm: their services' tasks, each marked by Swarm as of the version or not), each spec judged
   * by how long its version's replicas have run; with the version the look saw.
   */
  stability(specs: ReadonlySet<string>, stableForMs: number): Promise<ReadonlyMap<string, Stability>>;
}

interface Stability {
  readonly hash: string | null;
  readonly state: RolloutState;
}

function rolloutSource(config: Config, log: Logger, io: CliIO, server: string): RolloutSource {
  if (config.target === "swarm") {
    const app = createSwarm(config, { log });
    return {
      local: async () => (await app.reconciler.pass({ act: false })).status.map(swarmRolloutView),
      live: async () =>
        (await liveSwarmStatus(server, config.controllerId))?.report.specs.map(swarmRolloutView) ?? null,
      stability: async (specs, stableForMs) => {
        const { status } = await app.reconciler.pass({ act: false });
        const now = Date.now();
        const judged = printableDeep(status.filter((s) => specs.has(s.name)));
        return new Map(
          judged.map((s) => [s.name, { hash: s.hash, state: swarmStabilityState(s.name, s.tasks, stableForMs, now) }]),
        );
      },
    };
  }
  const inspector = createInspector(config, { log, ...verdictsFor(io, config.specDirs) });
  const look = async (closer?: ReadonlySet<string>): Promise<readonly SpecStatus[]> => {
    // No events stream tells this command what changed between looks: an inspect kept from the
    // last one (restarts, last start) is not trusted.
    inspector.reconciler.eventsOpened();
    return (await inspector.reconciler.pass({ reload: true, ...(closer ? { closer } : {}) })).report.specs;
  };
  return {
    local: () => look(),
    live: async () => (await liveStatus(server, config.controllerId))?.report.specs ?? null,
    stability: async (specs, stableForMs) => {
      const inspected = printableDeep((await look(specs)).filter((s) => specs.has(s.name)));
      const now = Date.now();
      return new Map(
        inspected.map((s) => [s.name, { hash: s.hash, state: stabilityState(s.name, s.containers, stableForMs, now) }]),
      );
    },
  };
}

type Followed = RolloutState & {
  readonly name: string;
  readonly phase: Phase | null;
  readonly view: RolloutView | null;
};

async function rolloutStatus(named: readonly string[], raw: RolloutOptions, io: CliIO): Promise<number> {
  const { config, log } = setup(raw, { level: "error", fd: 2 });
  const timeoutMs = parseTimerMs(raw.timeout ?? "5m");
  if (isParseError(timeoutMs)) throw BerthError.usage(`--timeout: ${timeoutMs.error}`);
  const stableForMs = stableForOption(raw, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  const source = rolloutSource(config, log, io, raw.server);
  // The version waited for: the files' (a controller that has not read them yet is behind).
  const local = await source.local();
  const names = named.length > 0 ? named : local.map((s) => s.name);
  if (names.length === 0) {
    if (!isData(raw.output)) io.out("no specs in the files: nothing rolls out\n");
    else io.out(formatData(raw.output, { timedOut: false, specs: [] }));
    return EXIT.ok;
  }
  const expected = new Map(names.map((n) => [n, local.find((s) => s.name === n)?.hash ?? null]));
  const shown = new Map<string, string>();
  for (let first = true; ; first = false) {
    const views = printableDeep((await source.live()) ?? (first ? local : await source.local()));
    const rolled: Followed[] = names.map((name) => {
      const view = views.find((s) => s.name === name) ?? null;
      return {
        name,
        ...rolloutState(name, view ?? undefined, expected.get(name) ?? null),
        phase: view?.phase ?? null,
        view,
      };
    });
    const states =
      stableForMs === null ? rolled : await stability(config.target, rolled, stableForMs, expected, source);
    for (const s of states) {
      if (isData(raw.output) || shown.get(s.name) === s.line) continue;
      shown.set(s.name, s.line);
      io.out(`${printable(s.line)}\n`);
    }
    const failed = states.some((s) => s.kind === "failed");
    const done = states.every((s) => s.kind === "complete");
    const timedOut = !failed && !done && raw.watch !== false && Date.now() >= deadline;
    if (failed || done || timedOut || raw.watch === false) {
      if (isData(raw.output)) io.out(formatData(raw.output, { timedOut, specs: states.map(jsonOf) }));
      else if (timedOut) {
        const waiting = states.filter((s) => s.kind === "waiting").map((s) => s.name);
        io.err(`timed out after ${formatDurationMs(timeoutMs)} waiting for ${printable(waiting.join(", "))}\n`);
      }
      return failed || timedOut ? EXIT.failed : done ? EXIT.ok : EXIT.changes;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(POLL_MS, deadline - Date.now()))));
  }
}

/** --stable-for in ms, or null without it; refused where --timeout would end the wait first. */
function stableForOption(raw: RolloutOptions, timeoutMs: number): number | null {
  if (raw.stableFor === undefined) return null;
  const ms = parseTimerMs(raw.stableFor);
  if (isParseError(ms)) throw BerthError.usage(`--stable-for: ${ms.error}`);
  if (ms <= 0) throw BerthError.usage("--stable-for: give a duration longer than 0s");
  if (raw.watch !== false && ms >= timeoutMs)
    throw BerthError.usage(
      `--stable-for ${formatDurationMs(ms)} is not shorter than --timeout ${formatDurationMs(timeoutMs)}: rollout status could never see it`,
    );
  return ms;
}

/**
 * The specs rolled out, judged again by how long their version's replicas have run
 * (core/rollout-status.ts), from a look that inspects each of their containers (under swarm, their
 * services' tasks). A spec still rolling out keeps its state unless one of its version's replicas
 * already failed.
 */
async function stability(
  target: Config["target"],
  states: readonly Followed[],
  stableForMs: number,
  expected: ReadonlyMap<string, string | null>,
  source: RolloutSource,
): Promise<Followed[]> {
  const judged = new Set(states.filter((s) => judgedForStability(s, s.phase, target)).map((s) => s.name));
  if (judged.size === 0) return [...states];
  const looks = await source.stability(judged, stableForMs);
  return states.map((s) => {
    if (!judged.has(s.name)) return s;
    const look = looks.get(s.name);
    const version = expected.get(s.name) ?? null;
    if (look === undefined || (version !== null && look.hash !== version))
      return s.kind === "complete"
        ? { ...s, kind: "waiting", line: `${s.name}: rolled out; its files changed since this command read them` }
        : s;
    return { ...s, ...withStability(s, look.state) };
  });
}

/** A spec's outcome as -o json prints it: its state, line and phase, and its replicas (or tasks). */
function jsonOf(s: Followed): Record<string, unknown> {
  const counts = s.view === null ? {} : "tasks" in s.view ? { tasks: s.view.tasks } : { replicas: s.view.replicas };
  return { name: s.name, state: s.kind, line: s.line, phase: s.phase, ...counts };
}

async function rolloutRetry(names: readonly string[], raw: RolloutOptions, io: CliIO): Promise<number> {
  if (names.length === 0) throw BerthError.usage("berth rollout retry: name the specs to retry");
  const { config, log } = setup(raw, { level: "warn", fd: 2 });
  if (config.target === "swarm")
    throw BerthError.usage(
      "berth rollout retry is for --target engine: Swarm keeps no record of a failed version; a paused update goes on when the spec or its image changes",
    );
  const print = (step: RetryStep): void => {
    if (isData(raw.output)) return;
    io.out(
      `${printable(step.container === null ? `${step.spec}: ${step.detail}` : `${step.outcome} ${step.container}: ${step.detail}`)}\n`,
    );
  };
  const retryWith = async (fence: WriteFence | null): Promise<RetryStep[]> => {
    const inspector = createInspector(config, {
      log,
      ...verdictsFor(io, config.specDirs),
      ...(fence ? { fence } : {}),
    });
    const result = await inspector.reconciler.pass({ reload: true });
    const targets = retryTargets(names, result.snapshot.input.desired, result.observed, labelKeys(config.labelPrefix));
    return retryRollouts(
      {
        docker: inspector.docker,
        executor: inspector.executor,
        records: result.snapshot.records,
        observed: result.observed,
      },
      targets,
      print,
    );
  };
  const steps = await writeOrAsk(
    config,
    log,
    "rollout retry",
    retryWith,
    () =>
      postEachSpec(names, raw, io, "retry", print, (answered: readonly RetryStep[]) =>
        answered.some((s) => s.outcome === "failed"),
      ),
    raw.server,
  );
  if (isData(raw.output)) io.out(formatData(raw.output, { steps }));
  return steps.some((s) => s.outcome === "failed") ? EXIT.failed : EXIT.ok;
}
