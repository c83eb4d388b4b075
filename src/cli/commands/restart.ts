/**
 * `berth restart NAME…`: restart specs' running containers in place, one at a time, each once the
 * one before runs again (ops/restart.ts). Beside a running controller (`berth run` holds the id's
 * lock) it asks that controller's API, which does the same while no pass acts on the spec. Under
 * `--target swarm` each spec's service is updated with force, one after the other
 * (ops/swarm-restart.ts).
 */
import { type Command, Option } from "commander";
import { createInspector, createSwarm } from "../../app.js";
import type { RawOptions } from "../../config.js";
import { BerthError } from "../../core/errors.js";
import { labelKeys } from "../../core/labels.js";
import { formatSeconds } from "../../core/units.js";
import type { WriteFence } from "../../docker/fenced.js";
import { type RestartStep, restarted, restartTargets, rollingRestart } from "../../ops/restart.js";
import { rollingSwarmRestart, swarmRestartTargets } from "../../ops/swarm-restart.js";
import { systemClock } from "../../util/clock.js";
import { writeOrAsk } from "../ha.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import {
  addCommonOptions,
  addExamples,
  addHaOptions,
  addOutputOption,
  addTargetOption,
  type OutputFormat,
  GROUPS,
  stateDirOption,
} from "../options.js";
import { formatData, isData } from "../output.js";
import { addApiOptions, type ApiOptions, postEachSpec } from "../pool-api.js";
import { printable } from "../sanitize.js";
import { setup, verdictsFor } from "../setup.js";

type RestartOptions = RawOptions & ApiOptions & { output?: OutputFormat; viaApi?: boolean };

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("restart")
    .description(
      "Restart specs' running containers in place, one at a time: each once the one before runs again (healthy, and for its stableFor). Under --target swarm: each spec's service is updated with force, in turn.",
    )
    .argument("<name...>", "the specs to restart, in this order");
  addTargetOption(addOutputOption(addCommonOptions(command, { positional: false })))
    .addOption(stateDirOption().helpGroup(GROUPS.reconcile))
    .addOption(
      new Option("--via-api", "always ask the running controller at --server, even where none holds the id's lock")
        .env("BERTH_RESTART_VIA_API")
        .helpGroup(GROUPS.controller),
    );
  addApiOptions(command);
  addHaOptions(command, { oneShot: true });
  addExamples(command, [
    { command: "berth restart web", what: "web's containers, one after the other" },
    { command: "berth restart api worker -o json", what: "two specs in turn, the steps as JSON" },
  ]).action(async (names: string[], opts: RestartOptions) => {
    setExit(await restart(names, opts, io));
  });
}

/** `berth restart`, and `berth rollout restart` (kubectl's spelling). */
export async function restart(names: readonly string[], raw: RestartOptions, io: CliIO): Promise<number> {
  const { config, log } = setup(raw, { level: "warn", fd: 2 });
  const print = (step: RestartStep): void => {
    if (!isData(raw.output)) io.out(`${stepLine(step, config.target === "swarm" ? "services" : "containers")}\n`);
  };
  // One spec at a time through the running controller's API (POST /v1/specs/{name}/restart), until one fails.
  const viaApi = (): Promise<RestartStep[]> =>
    postEachSpec(names, raw, io, "restart", print, (answered: readonly RestartStep[]) =>
      answered.some((s) => s.outcome === "failed"),
    );
  let steps: readonly RestartStep[];
  if (config.target === "swarm") {
    if (raw.viaApi === true) throw BerthError.usage("--via-api is for --target engine: under swarm the CLI asks Swarm");
    // No lock: Swarm orders the forced update with any controller's by the service's version.
    const app = createSwarm(config, { log });
    const result = await app.reconciler.pass({ act: false });
    const targets = swarmRestartTargets(names, result.snapshot.input.desired, result.services, app.owner);
    steps = await rollingSwarmRestart({ swarm: app.swarm, clock: systemClock }, targets, print);
  } else if (raw.viaApi === true) steps = await viaApi();
  else {
    const restartWith = async (fence: WriteFence | null): Promise<RestartStep[]> => {
      const inspector = createInspector(config, {
        log,
        ...verdictsFor(io, config.specDirs),
        ...(fence ? { fence } : {}),
      });
      const result = await inspector.reconciler.pass({ reload: true });
      const targets = restartTargets(
        names,
        result.snapshot.input.desired,
        result.observed.containers,
        labelKeys(config.labelPrefix),
      );
      return rollingRestart({ docker: inspector.docker, clock: systemClock }, targets, print);
    };
    steps = await writeOrAsk(config, log, "restart", restartWith, viaApi, raw.server);
  }
  const failed = steps.filter((s) => s.outcome === "failed").length;
  if (isData(raw.output)) io.out(formatData(raw.output, { steps }));
  else {
    const done = steps.length - failed;
    const unit = config.target === "swarm" ? "service" : "container";
    io.out(`${done} ${unit}${done === 1 ? "" : "s"} restarted${failed > 0 ? "; stopped at the failure" : ""}\n`);
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

/** One step's line, under either target: `restarted web: its tasks were replaced (14.2s)`. */
export function stepLine(step: RestartStep, units: string): string {
  const took = formatSeconds(step.durationMs);
  return printable(
    step.outcome === "restarted"
      ? `restarted ${restarted(step)}: ${step.detail} (${took})`
      : `failed ${restarted(step)}: ${step.detail} (${took}); the ${units} after it were not restarted`,
  );
}
