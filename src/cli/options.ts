/** Options shared by the commands that talk to Docker. Each has a BERTH_* environment variable. */
import { type Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_LABEL_PREFIX, isValidLabelPrefix } from "../core/labels.js";
import { LOG_LEVELS } from "../util/log-levels.js";

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

export function labelPrefixOption(): Option {
  return new Option("--label-prefix <prefix>", "prefix of berth's label keys")
    .env("BERTH_LABEL_PREFIX")
    .default(DEFAULT_LABEL_PREFIX)
    .argParser((value: string) => {
      if (!isValidLabelPrefix(value)) {
        throw new InvalidArgumentError("expected lowercase letters, digits, '.' and '-' (e.g. berth, acme.berth)");
      }
      return value;
    });
}

/** The admission policy's flags (docs/policy.md). */
export function addPolicyOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--policy <profile>", "admission policy: what specs may ask of the host")
        .env("BERTH_POLICY")
        .choices(["baseline", "restricted", "privileged"])
        .default("baseline"),
    )
    .addOption(
      new Option("--allow-bind <prefix>", "host folder bind mounts may use (repeatable; none by default)")
        .env("BERTH_ALLOW_BIND")
        .argParser(collect),
    )
    .addOption(
      new Option("--allow-host-ports <ranges>", "host ports that may be published (default 1024-65535)")
        .env("BERTH_ALLOW_HOST_PORTS")
        .argParser(collect),
    )
    .addOption(
      new Option("--allow-host-ip <ip>", "host address besides loopback ports may bind, e.g. 0.0.0.0 (repeatable)")
        .env("BERTH_ALLOW_HOST_IP")
        .argParser(collect),
    )
    .addOption(
      new Option("--allow-runtime <name>", "OCI runtime specs may name (repeatable; default runc)")
        .env("BERTH_ALLOW_RUNTIME")
        .argParser(collect),
    )
    .addOption(
      new Option("--allow-secret-dir <dir>", "folder secretEnv fromFile may read (repeatable; default /run/secrets)")
        .env("BERTH_ALLOW_SECRET_DIR")
        .argParser(collect),
    )
    .addOption(
      new Option(
        "--allow-volume <pattern>",
        "restricted: a named volume berth did not make that specs may mount, `*` and `?` as wildcards (repeatable)",
      )
        .env("BERTH_ALLOW_VOLUME")
        .argParser(collect),
    )
    .addOption(
      new Option("--max-memory <quantity>", "largest memory limit a container may have").env("BERTH_MAX_MEMORY"),
    )
    .addOption(new Option("--max-cpus <quantity>", "largest CPU limit a container may have").env("BERTH_MAX_CPUS"))
    .addOption(new Option("--max-pids <n>", "largest pids limit a container may have").env("BERTH_MAX_PIDS"))
    .addOption(
      new Option(
        "--max-stop-timeout <duration>",
        "longest stopTimeout a spec may ask for, whole seconds (default 10m)",
      ).env("BERTH_MAX_STOP_TIMEOUT"),
    )
    .addOption(
      new Option("--require-limits", "every spec must set resources.memory and resources.pids").env(
        "BERTH_REQUIRE_LIMITS",
      ),
    );
}

/** --specs, --id, --label-prefix, policy, logging and Docker options. */
export function addCommonOptions(command: Command): Command {
  return addPolicyOptions(command)
    .addOption(
      new Option("--specs <dir>", "a spec directory (repeatable; default ./specs)")
        .env("BERTH_SPECS")
        .argParser(collect),
    )
    .addOption(
      new Option("--id <id>", "controller instance id: berth only touches containers labelled with it")
        .env("BERTH_ID")
        .default("default"),
    )
    .addOption(labelPrefixOption())
    .addOption(new Option("--network <name>", "the network `network: auto` resolves to").env("BERTH_NETWORK"))
    .addOption(
      new Option("--docker-timeout <duration>", "deadline of each Docker API call")
        .env("BERTH_DOCKER_TIMEOUT")
        .default("30s"),
    )
    .addOption(new Option("--log-level <level>", "log level").env("BERTH_LOG_LEVEL").choices(LOG_LEVELS))
    .addOption(
      new Option("--log-format <format>", "log format: json, pretty, or auto (pretty on a terminal)")
        .env("BERTH_LOG_FORMAT")
        .choices(["json", "pretty", "auto"])
        .default("auto"),
    );
}

/** Options of the commands that change containers (run, apply). */
export function addReconcileOptions(command: Command): Command {
  return command
    .addOption(new Option("--concurrency <n>", "container operations at once").env("BERTH_CONCURRENCY").default("4"))
    .addOption(
      new Option("--force-prune", "prune even when more than --prune-max-share of the containers would go").env(
        "BERTH_FORCE_PRUNE",
      ),
    )
    .addOption(
      new Option(
        "--prune-max-share <share>",
        "a pass that would prune more than this share of the managed containers prunes nothing",
      )
        .env("BERTH_PRUNE_MAX_SHARE")
        .default("0.5"),
    )
    .addOption(reapLabelOption())
    .addOption(
      new Option(
        "--state-dir <dir>",
        "where berth keeps its host lock, <dir>/<id>.sock (default /run/berth, else $XDG_RUNTIME_DIR/berth, else <tmpdir>/berth-<uid>)",
      ).env("BERTH_STATE_DIR"),
    );
}

/** --reap-label (run, apply, reap). */
export function reapLabelOption(): Option {
  return new Option(
    "--reap-label <key>",
    "also reap any container whose label KEY holds a past RFC 3339 time (repeatable)",
  )
    .env("BERTH_REAP_LABELS")
    .argParser(collect);
}
