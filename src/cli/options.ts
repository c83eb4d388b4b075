/**
 * The options the commands share, one convention everywhere: specs from `-f/--specs` (repeatable),
 * positional files and folders, and `-` for the standard input; `-o table|json|yaml|wide` on every
 * command that prints data; every flag with its BERTH_* variable. Each command takes only the
 * groups it uses, and `--help` shows them under these headings.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_LABEL_PREFIX, isValidLabelPrefix } from "../core/labels.js";
import { TARGETS } from "../core/swarm-fields.js";
import { LOG_LEVELS } from "../util/log-levels.js";

/** The help headings, in the order help lists them. */
export const GROUPS = {
  specs: "Spec sources:",
  git: "Git sources (docs/gitops.md):",
  policy: "Admission policy:",
  capacity: "Capacity:",
  controller: "Controller:",
  reconcile: "Reconcile:",
  http: "HTTP API:",
  ha: "High availability:",
  docker: "Docker:",
  output: "Output:",
} as const;

/** Repeatable flags; an environment variable may list several values separated by commas. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

function grouped(group: string, ...options: Option[]): Option[] {
  return options.map((o) => o.helpGroup(group));
}

function addAll(command: Command, options: readonly Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}

/**
 * `-f/--specs PATH` (repeatable), and with `positional` the same as arguments: spec files or
 * folders, `-` for the standard input. Arguments and flags add up; either beats BERTH_SPECS.
 */
export function addSpecSources(command: Command, { positional }: { positional: boolean }): Command {
  command.addOption(
    new Option("-f, --specs <path>", "a spec file or folder, or - for the standard input (repeatable; default ./specs)")
      .env("BERTH_SPECS")
      .argParser(collect)
      .helpGroup(GROUPS.specs),
  );
  if (!positional) return command;
  return command
    .argument("[paths...]", "spec files or folders, or - for the standard input (as -f)")
    .hook("preAction", (_program, action) => {
      if (action !== command) return;
      const paths = action.processedArgs[0] as string[] | undefined;
      if (paths === undefined || paths.length === 0) return;
      const fromFlags = action.getOptionValueSource("specs") === "cli" ? (action.opts().specs as string[]) : [];
      action.setOptionValueWithSource("specs", [...fromFlags, ...paths], "cli");
    });
}

export function labelPrefixOption(): Option {
  return new Option("--label-prefix <prefix>", "prefix of berth's label keys")
    .env("BERTH_LABEL_PREFIX")
    .default(DEFAULT_LABEL_PREFIX)
    .argParser((value: string) => {
      if (!isValidLabelPrefix(value)) {
        throw new InvalidArgumentError("expected lowercase letters, digits, '.' and '-' (e.g. berth, acme.berth)");
      }
      return value;
    })
    .helpGroup(GROUPS.controller);
}

/** --policy alone: `exec` needs only the profile (restricted refuses root). */
export function policyProfileOption(): Option {
  return new Option("--policy <profile>", "admission policy: what specs may ask of the host")
    .env("BERTH_POLICY")
    .choices(["baseline", "restricted", "privileged"])
    .default("baseline")
    .helpGroup(GROUPS.policy);
}

/** The admission policy's flags (docs/policy.md). */
export function addPolicyOptions(command: Command): Command {
  return addAll(
    command,
    grouped(
      GROUPS.policy,
      policyProfileOption(),
      new Option("--allow-bind <prefix>", "host folder bind mounts may use (repeatable; none by default)")
        .env("BERTH_ALLOW_BIND")
        .argParser(collect),
      new Option("--allow-host-ports <ranges>", "host ports that may be published (default 1024-65535)")
        .env("BERTH_ALLOW_HOST_PORTS")
        .argParser(collect),
      new Option(
        "--host-port-range <from-to>",
        "host ports `hostPort: auto` takes, lowest free first, within --allow-host-ports (default 10000-20000)",
      ).env("BERTH_HOST_PORT_RANGE"),
      new Option("--allow-host-ip <ip>", "host address besides loopback ports may bind, e.g. 0.0.0.0 (repeatable)")
        .env("BERTH_ALLOW_HOST_IP")
        .argParser(collect),
      new Option("--allow-runtime <name>", "OCI runtime specs may name (repeatable; default runc)")
        .env("BERTH_ALLOW_RUNTIME")
        .argParser(collect),
      new Option(
        "--allow-log-driver <name>",
        "log driver specs may name besides json-file, local, journald and none, e.g. syslog (repeatable)",
      )
        .env("BERTH_ALLOW_LOG_DRIVER")
        .argParser(collect),
      new Option("--allow-secret-dir <dir>", "folder secretEnv fromFile may read (repeatable; default /run/secrets)")
        .env("BERTH_ALLOW_SECRET_DIR")
        .argParser(collect),
      new Option(
        "--allow-volume <pattern>",
        "restricted: a named volume berth did not make that specs may mount, `*` and `?` as wildcards (repeatable)",
      )
        .env("BERTH_ALLOW_VOLUME")
        .argParser(collect),
      new Option("--max-memory <quantity>", "largest memory limit a container may have").env("BERTH_MAX_MEMORY"),
      new Option("--max-cpus <quantity>", "largest CPU limit a container may have").env("BERTH_MAX_CPUS"),
      new Option("--max-pids <n>", "largest pids limit a container may have").env("BERTH_MAX_PIDS"),
      new Option(
        "--max-stop-timeout <duration>",
        "longest stopTimeout a spec may ask for, whole seconds (default 10m)",
      ).env("BERTH_MAX_STOP_TIMEOUT"),
      new Option("--require-limits", "every spec must set resources.memory and resources.pids").env(
        "BERTH_REQUIRE_LIMITS",
      ),
      new Option(
        "--max-ulimit <name=n>",
        "highest hard ulimit NAME a spec may ask for, -1 for none; replaces baseline's ceiling (repeatable)",
      )
        .env("BERTH_MAX_ULIMIT")
        .argParser(collect),
    ),
  );
}

/** Host capacity admission (docs/capacity.md). */
export function addCapacityOptions(command: Command): Command {
  return addAll(
    command,
    grouped(
      GROUPS.capacity,
      new Option(
        "--capacity <resources>",
        "what berth's containers may hold in all: cpus=8,memory=14Gi,containers=100 (any of them), or auto (the engine's CPUs and memory, less --reserve; e.g. auto,containers=100)",
      ).env("BERTH_CAPACITY"),
      new Option(
        "--reserve <resources>",
        "with --capacity auto: what is kept for the host, e.g. memory=2Gi,cpus=0.5",
      ).env("BERTH_RESERVE"),
      new Option(
        "--default-request <resources>",
        "what a container without resources limits counts (default memory=256Mi,cpus=0.25)",
      ).env("BERTH_DEFAULT_REQUEST"),
    ),
  );
}

/** --id and --label-prefix: which containers are this controller's. */
export function addControllerOptions(command: Command): Command {
  return addAll(command, [
    new Option("--id <id>", "controller instance id: berth only touches containers labelled with it")
      .env("BERTH_ID")
      .default("default")
      .helpGroup(GROUPS.controller),
    labelPrefixOption(),
  ]);
}

/**
 * --ha and its timings: `run` campaigns with them; with `oneShot` (apply, reap) the command takes
 * the lease in turn before its first write, and --ha-wait says how long it may wait for it.
 */
export function addHaOptions(command: Command, { oneShot }: { oneShot: boolean }): Command {
  const options = [
    new Option(
      "--ha <store>",
      oneShot
        ? "the --ha store of the berths running this --id: take their lease before writing, and let it go at exit (file:/run/berth/<id>.lock or redis://[:password@]host:6379/0)"
        : "be one of several berths with this --id, one leading: file:/run/berth/<id>.lock (one host) or redis://[:password@]host:6379/0",
    ).env("BERTH_HA"),
    new Option("--ha-ttl <duration>", "how long the leader's lease lasts unrenewed").env("BERTH_HA_TTL").default("10s"),
    new Option("--ha-renew <duration>", "how often the leader renews it (and a standby tries to take it)")
      .env("BERTH_HA_RENEW")
      .default("2s"),
    new Option(
      "--ha-password-file <path>",
      "file holding Redis's password (under an allowed secret folder; beats one in the URL)",
    ).env("BERTH_HA_PASSWORD_FILE"),
  ];
  if (!oneShot)
    options.push(
      new Option(
        "--ha-advertise <url>",
        "this berth's API as the other members and CLIs reach it while it leads (default: the --listen address; this host's name when it listens on every interface)",
      ).env("BERTH_HA_ADVERTISE"),
    );
  if (oneShot)
    options.push(
      new Option(
        "--ha-wait <duration>",
        "how long to wait for the lease while another berth holds it (0: refuse at once, naming the holder)",
      )
        .env("BERTH_HA_WAIT")
        .default("0s"),
    );
  return addAll(command, grouped(GROUPS.ha, ...options));
}

/** --target: what specs become, containers on this engine or services of a Swarm (docs/swarm.md). */
export function addTargetOption(command: Command): Command {
  return command.addOption(
    new Option("--target <target>", "what specs become: containers on this engine, or services on a Swarm manager")
      .env("BERTH_TARGET")
      .choices(TARGETS)
      .default("engine")
      .helpGroup(GROUPS.docker),
  );
}

/** --docker-timeout, and with `network` the network `network: auto` resolves to. */
export function addDockerOptions(command: Command, { network }: { network: boolean }): Command {
  const options = [
    new Option("--docker-timeout <duration>", "deadline of each Docker API call")
      .env("BERTH_DOCKER_TIMEOUT")
      .default("30s"),
  ];
  if (network)
    options.push(
      new Option("--network <name>", "the network `network: auto` resolves to").env("BERTH_NETWORK"),
      new Option(
        "--registry-auth-file <file>",
        "registry credentials in Docker's config.json format, under an allowed secret folder (besides $DOCKER_CONFIG/config.json)",
      ).env("BERTH_REGISTRY_AUTH_FILE"),
      new Option(
        "--image-check <duration>",
        "how often the tags of imagePullPolicy: Always specs are asked for their digest again (off or 0: once per start)",
      )
        .env("BERTH_IMAGE_CHECK")
        .default("off"),
    );
  return addAll(command, grouped(GROUPS.docker, ...options));
}

export function addLogOptions(command: Command): Command {
  return addAll(
    command,
    grouped(
      GROUPS.output,
      new Option("--log-level <level>", "log level").env("BERTH_LOG_LEVEL").choices(LOG_LEVELS),
      new Option(
        "--log-format <format>",
        "log format: json, pretty, or auto (run: pretty on a terminal, else json; other commands: pretty, on stderr)",
      )
        .env("BERTH_LOG_FORMAT")
        .choices(["json", "pretty", "auto"])
        .default("auto"),
    ),
  );
}

/** What -o takes; `wide` is the table with more columns where the command has them. */
export const OUTPUT_FORMATS = ["table", "json", "yaml", "wide"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * -o/--output (BERTH_OUTPUT). With `deprecatedFormat`, the command's old --format (text, json)
 * stays as a hidden alias: `--format text` is `-o table`.
 */
export function addOutputOption(
  command: Command,
  { deprecatedFormat = false }: { deprecatedFormat?: boolean } = {},
): Command {
  command.addOption(
    new Option("-o, --output <format>", "output format; wide: the table with more columns where there are any")
      .env("BERTH_OUTPUT")
      .choices(OUTPUT_FORMATS)
      .default("table")
      .helpGroup(GROUPS.output),
  );
  if (!deprecatedFormat) return command;
  return command
    .addOption(
      new Option("--format <format>", "deprecated: use -o/--output").choices(["text", ...OUTPUT_FORMATS]).hideHelp(),
    )
    .hook("preAction", (_program, action) => {
      if (action !== command) return;
      const format = action.opts().format as string | undefined;
      if (format === undefined || action.getOptionValueSource("output") === "cli") return;
      action.setOptionValueWithSource("output", format === "text" ? "table" : format, "cli");
    });
}

/**
 * The options of the commands that read specs and Docker (plan, status, get, reap, run, apply):
 * spec sources, admission policy, controller, Docker and logging.
 */
export function addCommonOptions(command: Command, { positional }: { positional: boolean }): Command {
  addSpecSources(command, { positional });
  addPolicyOptions(command);
  addCapacityOptions(command);
  addControllerOptions(command);
  addDockerOptions(command, { network: true });
  return addLogOptions(command);
}

/** Options of the commands that change containers (run, apply). */
export function addReconcileOptions(command: Command): Command {
  return addAll(
    command,
    grouped(
      GROUPS.reconcile,
      new Option("--concurrency <n>", "container operations at once").env("BERTH_CONCURRENCY").default("4"),
      new Option("--force-prune", "prune even when more than --prune-max-share of the containers would go").env(
        "BERTH_FORCE_PRUNE",
      ),
      new Option(
        "--prune-max-share <share>",
        "a pass that would prune more than this share of the managed containers prunes nothing",
      )
        .env("BERTH_PRUNE_MAX_SHARE")
        .default("0.5"),
      reapLabelOption(),
      stateDirOption(),
    ),
  );
}

/** --state-dir (run, apply, reap; logs --build reads the build logs there). */
/**
 * Where a running berth records its pool claims (its --runtime-specs): with it, a spec name in
 * `exec` and `logs` passes over claimed members, as the HTTP API's does.
 */
export function claimsDirOption(): Option {
  return new Option(
    "--runtime-specs <dir>",
    "the runtime spec directory of the berth that runs the pools: a spec name then skips claimed members",
  ).env("BERTH_RUNTIME_SPECS");
}

export function stateDirOption(): Option {
  return new Option(
    "--state-dir <dir>",
    "where berth keeps its host lock, <dir>/<id>.sock, and the last build of each spec, <dir>/builds/<id>/<spec>.log (default /run/berth, else $XDG_RUNTIME_DIR/berth, else <tmpdir>/berth-<uid>)",
  ).env("BERTH_STATE_DIR");
}

/** --reap-label (run, apply, reap). */
export function reapLabelOption(): Option {
  return new Option(
    "--reap-label <key>",
    "also reap any container whose label KEY holds a past RFC 3339 time (repeatable)",
  )
    .env("BERTH_REAP_LABELS")
    .argParser(collect)
    .helpGroup(GROUPS.reconcile);
}

/** One example of a command: the command line and what it does. */
export interface Example {
  readonly command: string;
  readonly what: string;
}

const EXAMPLES = new WeakMap<Command, readonly Example[]>();

/** Examples after the options in `--help` (and in docs/cli.md). */
export function addExamples(command: Command, examples: readonly Example[]): Command {
  EXAMPLES.set(command, examples);
  const text = examples.map((e) => `  # ${e.what}\n  $ ${e.command}`).join("\n\n");
  return command.addHelpText("after", `\nExamples:\n${text}\n`);
}

export function examplesOf(command: Command): readonly Example[] {
  return EXAMPLES.get(command) ?? [];
}
