/**
 * `berth rollout status NAME…`: follow specs' rollouts until their version runs, as `kubectl
 * rollout status` does (core/rollout-status.ts): from the running controller's live status when
 * one with the same --id answers, else from a look at Docker and the files each second. The
 * version waited for is the one in the files this command reads.
 *
 * `berth rollout retry NAME…`: release a rollout a rejected version holds (ops/rollout-retry.ts),
 * as apply and restart write: holding the id's lock, or under --ha the lease; beside a running
 * controller, through its API (POST /v1/specs/{name}/retry).
 */
import { Argument, type Command, Option } from "commander";
import { createInspector } from "../../app.js";
import type { RawOptions } from "../../config.js";
import { BerthError } from "../../core/errors.js";
import { labelKeys } from "../../core/labels.js";
import { type RolloutState, rolloutState } from "../../core/rollout-status.js";
import type { SpecStatus, StatusReport } from "../../core/status.js";
import { formatDurationMs, isParseError, parseDurationMs } from "../../core/units.js";
import type { WriteFence } from "../../docker/fenced.js";
import { type RetryStep, retryRollouts, retryTargets } from "../../ops/rollout-retry.js";
import { withHostLockAlone, withLease } from "../ha.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import { liveStatus } from "../live.js";
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
import { addApiOptions, type ApiOptions, callApi, text } from "../pool-api.js";
import { printable, printableDeep } from "../sanitize.js";
import { setup, verdictsFor } from "../setup.js";

const ACTIONS = ["status", "retry"] as const;
type RolloutAction = (typeof ACTIONS)[number];

type RolloutOptions = RawOptions & ApiOptions & { output?: OutputFormat; timeout?: string; watch?: boolean };

/** How often status is looked at while a rollout is under way. */
const POLL_MS = 1_000;

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("rollout")
    .description(
      "Follow specs' rollouts until their version runs (status), or release a rollout a version that did not stay up holds (retry).",
    )
    .addArgument(
      new Argument(
        "<action>",
        "status: wait until each spec's version runs (exit 0), fails (1) or --timeout passes (1); retry: remove the records of a rejected version, so the next pass tries it again",
      ).choices(ACTIONS),
    )
    .argument("<name...>", "the specs");
  addTargetOption(addOutputOption(addCommonOptions(command, { positional: false })))
    .addOption(
      new Option("--timeout <duration>", "status: give up after this long")
        .env("BERTH_ROLLOUT_TIMEOUT")
        .default("5m")
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
    { command: "berth apply -f specs/ --timeout 0s; berth rollout status web", what: "wait for web's new version" },
    { command: "berth rollout status web api --timeout 10m -o json", what: "two specs, the outcome as JSON" },
    { command: "berth rollout retry web", what: "try web's rejected version again (after a fix outside the spec)" },
  ]).action(async (action: RolloutAction, names: string[], opts: RolloutOptions) => {
    setExit(action === "status" ? await rolloutStatus(names, opts, io) : await rolloutRetry(names, opts, io));
  });
}

function refuseSwarm(target: string): void {
  if (target === "swarm")
    throw BerthError.usage(
      "berth rollout is for --target engine: Swarm rolls services itself (berth status --target swarm shows each update)",
    );
}

type Followed = RolloutState & {
  readonly name: string;
  readonly phase: SpecStatus["phase"] | null;
  readonly replicas: SpecStatus["replicas"] | null;
};

async function rolloutStatus(names: readonly string[], raw: RolloutOptions, io: CliIO): Promise<number> {
  const { config, log } = setup(raw, { level: "error", fd: 2 });
  refuseSwarm(config.target);
  const timeoutMs = parseDurationMs(raw.timeout ?? "5m");
  if (isParseError(timeoutMs)) throw BerthError.usage(`--timeout: ${timeoutMs.error}`);
  const deadline = Date.now() + timeoutMs;
  const inspector = createInspector(config, { log, ...verdictsFor(io, config.specDirs) });
  const look = async (): Promise<StatusReport> => (await inspector.reconciler.pass({ reload: true })).report;
  // The version waited for: the files' (a controller that has not read them yet is behind).
  const local = await look();
  const expected = new Map(names.map((n) => [n, local.specs.find((s) => s.name === n)?.hash ?? null]));
  const shown = new Map<string, string>();
  for (let first = true; ; first = false) {
    const live = await liveStatus(raw.server, config.controllerId);
    const report = printableDeep(live?.report ?? (first ? local : await look()));
    const states: Followed[] = names.map((name) => {
      const status = report.specs.find((s) => s.name === name);
      return {
        name,
        ...rolloutState(name, status, expected.get(name) ?? null),
        phase: status?.phase ?? null,
        replicas: status?.replicas ?? null,
      };
    });
    for (const s of states) {
      if (isData(raw.output) || shown.get(s.name) === s.line) continue;
      shown.set(s.name, s.line);
      io.out(`${printable(s.line)}\n`);
    }
    const failed = states.some((s) => s.kind === "failed");
    const done = states.every((s) => s.kind === "complete");
    const timedOut = !failed && !done && raw.watch !== false && Date.now() >= deadline;
    if (failed || done || timedOut || raw.watch === false) {
      if (isData(raw.output))
        io.out(formatData(raw.output, { timedOut, specs: states.map(({ kind, ...s }) => ({ ...s, state: kind })) }));
      else if (timedOut) {
        const waiting = states.filter((s) => s.kind === "waiting").map((s) => s.name);
        io.err(`timed out after ${formatDurationMs(timeoutMs)} waiting for ${printable(waiting.join(", "))}\n`);
      }
      return failed || timedOut ? EXIT.failed : done ? EXIT.ok : EXIT.changes;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(POLL_MS, deadline - Date.now()))));
  }
}

async function rolloutRetry(names: readonly string[], raw: RolloutOptions, io: CliIO): Promise<number> {
  const { config, log } = setup(raw, { level: "warn", fd: 2 });
  refuseSwarm(config.target);
  const print = (step: RetryStep): void => {
    if (isData(raw.output)) return;
    io.out(
      `${printable(step.container === null ? `${step.spec}: ${step.detail}` : `removed ${step.container}: ${step.detail}`)}\n`,
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
    return retryRollouts(inspector.docker, targets, print);
  };
  let steps: RetryStep[];
  try {
    steps = config.ha
      ? await withLease(config, config.ha, log, "rollout retry", retryWith)
      : await withHostLockAlone(config, "rollout retry", () => retryWith(null));
  } catch (err) {
    // `berth run` holds this id: it removes them, while none of its passes acts on the spec.
    if (!(err instanceof BerthError && err.code === "BERTH_LOCKED")) throw err;
    steps = await viaApi(names, raw, io, print);
  }
  if (isData(raw.output)) io.out(formatData(raw.output, { steps }));
  return EXIT.ok;
}

/** One spec at a time through the running controller's API: POST /v1/specs/{name}/retry. */
async function viaApi(
  names: readonly string[],
  opts: RolloutOptions,
  io: CliIO,
  print: (step: RetryStep) => void,
): Promise<RetryStep[]> {
  const steps: RetryStep[] = [];
  for (const name of names) {
    const res = await callApi(opts, io, "POST", `/v1/specs/${encodeURIComponent(name)}/retry`);
    if (res.status !== 200)
      throw BerthError.usage(
        `retry of ${printable(name)} refused by ${opts.server} (${res.status}): ${printable(text(res.body.error))}`,
      );
    for (const step of Array.isArray(res.body.steps) ? (res.body.steps as RetryStep[]) : []) {
      steps.push(step);
      print(step);
    }
  }
  return steps;
}
