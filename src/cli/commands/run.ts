/** `berth run`: the controller, until SIGTERM or SIGINT. */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Command, Option } from "commander";
import { type App, createApp } from "../../app.js";
import { COMPAT_MODES, type Config, type HaConfig, type RawOptions, rustLogLevel, SPAWNER_ENV } from "../../config.js";
import { BerthError } from "../../core/errors.js";
import type { Leadership, Role } from "../../loop/leadership.js";
import { type Participation, participate, withHostLockAlone } from "../ha.js";
import { listenApi } from "../listen.js";
import { describePolicy } from "../../core/policy/policy.js";
import { Metrics } from "../../http/metrics.js";
import { buildServer } from "../../http/server.js";
import { type HostLock, resolveStateDir } from "../../host/lock.js";
import { reportEngine } from "../../ops/engine-report.js";
import { readApiToken } from "../api-token.js";
import { type CliIO, type CommandContext, EXIT } from "../io.js";
import {
  addCommonOptions,
  addExamples,
  addHaOptions,
  addReconcileOptions,
  addTargetOption,
  collect,
  GROUPS,
} from "../options.js";
import { setup } from "../setup.js";
import { type GitSecrets, gitCheckouts, readGitSecrets } from "../git-sources.js";
import { swarmRun } from "../swarm.js";
import { VERSION } from "../version.js";
import type { Logger } from "pino";

/** After the drain, how long requests still open have to answer before their connections are cut. */
const ANSWER_GRACE_MS = 1000;

/** Waits for `promise` to settle, or `ms`, whichever comes first. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    timeout,
  ]);
  clearTimeout(timer);
}

export type Signals = (handler: (signal: string) => void) => () => void;

export const processSignals: Signals = (handler) => {
  const on = (signal: NodeJS.Signals): void => {
    handler(signal);
  };
  process.on("SIGTERM", on);
  process.on("SIGINT", on);
  return () => {
    process.off("SIGTERM", on);
    process.off("SIGINT", on);
  };
};

export interface RunOptions extends RawOptions {
  readonly apiTokenFile?: string;
}

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("run")
    .description(
      "Run the controller: watch the spec directories and keep the containers converged until SIGTERM/SIGINT.",
    );
  addTargetOption(addReconcileOptions(addCommonOptions(command, { positional: true })));
  for (const option of [
    new Option(
      "--resync <interval>",
      'periodic full resync: any duration from 1s (45s, 5m, 6h), or a cron expression with seconds ("0 0 3 * * *")',
    )
      .env("BERTH_RESYNC")
      .default("30s"),
    new Option("--drain-timeout <duration>", "on shutdown, how long to let in-flight operations finish")
      .env("BERTH_DRAIN_TIMEOUT")
      .default("30s"),
  ])
    command.addOption(option.helpGroup(GROUPS.reconcile));
  for (const option of [
    new Option("--listen <host:port>", "where the HTTP API listens, or off")
      .env("BERTH_LISTEN")
      .default("127.0.0.1:7435"),
    new Option("--runtime-specs <dir>", "the spec directory the HTTP API writes to (also watched)").env(
      "BERTH_RUNTIME_SPECS",
    ),
    new Option(
      "--api-token-file <path>",
      "file holding the bearer token of the write endpoints (or set BERTH_API_TOKEN)",
    ).env("BERTH_API_TOKEN_FILE"),
    new Option(
      "--allow-host <name>",
      "a Host name besides localhost/127.0.0.0/8/[::1] the API answers for, e.g. berth's service name (repeatable)",
    )
      .env("BERTH_ALLOW_HOST")
      .argParser(collect),
    new Option(
      "--allow-origin <origin>",
      "a browser origin whose requests the API serves (repeatable; none by default)",
    )
      .env("BERTH_ALLOW_ORIGIN")
      .argParser(collect),
    new Option("--request-timeout <duration>", "how long an HTTP client may take to send a request's headers and body")
      .env("BERTH_REQUEST_TIMEOUT")
      .default("30s"),
    new Option("--compat <api>", "also serve another tool's API: docker-spawner or artie (see docs/http-api.md)")
      .env("BERTH_COMPAT")
      .choices(COMPAT_MODES),
    new Option(
      "--spawn-image <image>",
      "the image of agents spawned through --compat docker-spawner (default: TIDEPOOL_AGENT_IMAGE, else tidepool-agent:latest)",
    ).env("BERTH_SPAWN_IMAGE"),
    new Option(
      "--spawn-user <uid:gid>",
      "the user of spawned agents when the request gives none (default: HOST_UID:HOST_GID, else 1000:1000)",
    ).env("BERTH_SPAWN_USER"),
    new Option(
      "--spawn-timeout <duration>",
      "how long /spawn and /stop (and Artie's create and delete) wait for the container to run or go",
    )
      .env("BERTH_SPAWN_TIMEOUT")
      .default("2m"),
    new Option("--artie-image <image>", "the image of a --compat artie create that names none")
      .env("BERTH_ARTIE_IMAGE")
      .default("node:24-slim"),
    new Option(
      "--artie-host-ip <address>",
      "the host address --compat artie containers publish their ports on (default loopback; 0.0.0.0 needs --allow-host-ip)",
    ).env("BERTH_ARTIE_HOST_IP"),
  ])
    command.addOption(option.helpGroup(GROUPS.http));
  addHaOptions(command, { oneShot: false });
  for (const option of [
    new Option(
      "--git <url>",
      "also read specs from this Git repository, fetched by berth (https://, ssh://, git://, file://; repeatable)",
    )
      .env("BERTH_GIT")
      .argParser(collect),
    new Option(
      "--git-ref <ref>",
      "the branch, tag or full commit SHA to follow (default main; once, or once per --git)",
    )
      .env("BERTH_GIT_REF")
      .argParser(collect),
    new Option("--git-path <dir>", "the folder inside the repository that holds the specs (default: its root)")
      .env("BERTH_GIT_PATH")
      .argParser(collect),
    new Option("--git-interval <duration>", "how often to fetch (default 1m; the webhook fetches at once)")
      .env("BERTH_GIT_INTERVAL")
      .argParser(collect),
    new Option("--git-timeout <duration>", "how long one git fetch or checkout may take")
      .env("BERTH_GIT_TIMEOUT")
      .default("2m"),
    new Option(
      "--git-token-file <path>",
      "an https token for the remotes (user:token is sent as Basic, a bare token as Bearer); under an allowed secret folder",
    ).env("BERTH_GIT_TOKEN_FILE"),
    new Option("--git-ssh-key-file <path>", "the ssh private key for ssh remotes; under an allowed secret folder").env(
      "BERTH_GIT_SSH_KEY_FILE",
    ),
    new Option(
      "--git-known-hosts <path>",
      "the known_hosts file ssh remotes are checked against (unknown hosts are refused); under an allowed secret folder",
    ).env("BERTH_GIT_KNOWN_HOSTS"),
    new Option(
      "--git-webhook-secret-file <path>",
      "the secret POST /v1/hooks/git checks signatures with (X-Hub-Signature-256, X-Gitlab-Token); under an allowed secret folder",
    ).env("BERTH_GIT_WEBHOOK_SECRET_FILE"),
  ])
    command.addOption(option.helpGroup(GROUPS.git));
  addExamples(command, [
    { command: "berth run", what: "keep ./specs converged, the HTTP API on 127.0.0.1:7435" },
    {
      command: "berth run --runtime-specs /var/lib/berth/api --api-token-file /run/secrets/berth-token",
      what: "let the HTTP API write specs, behind a token",
    },
    {
      command: "berth run -f /etc/berth/specs --id edge --capacity auto,containers=100 --reserve memory=2Gi",
      what: "another folder and id; admit containers while the host's CPUs and memory, less 2Gi, have room",
    },
  ]).action(async (_paths: string[], opts: RunOptions) => {
    setExit(await runCommand(opts, io));
  });
}

export async function runCommand(raw: RunOptions, io: CliIO, signals: Signals = processSignals): Promise<number> {
  const token = await readApiToken(raw.apiTokenFile, io);
  const { config, log } = setup(
    { ...raw, ...(token !== undefined ? { apiToken: token } : {}), ...spawnerOptions(raw) },
    { level: "info", fd: 1 },
  );
  const git = await readGitSecrets(config);
  if (config.target === "swarm") {
    // The HTTP API is served (docs/swarm.md, "HTTP API"); these are the engine target's alone.
    if (config.compat || config.artie)
      throw BerthError.usage("--target swarm: --compat is for --target engine (docs/swarm.md)");
    if (config.runtimeSpecs !== null) await mkdir(config.runtimeSpecs, { recursive: true });
    // Under --ha, as the engine target's: the lease replaces the host lock (cli/ha.ts).
    const ha = config.ha;
    if (ha)
      return swarmRun(config, log, signals, null, { buildServer, Metrics }, git, (onRole) =>
        joinGroup(config, ha, log, onRole),
      );
    return withHostLockAlone(config, "run", (lock) =>
      swarmRun(config, log, signals, lock, { buildServer, Metrics }, git),
    );
  }
  // Several berths with one id, one leading (docs/reliability.md): the lease replaces the host lock,
  // and the leader does not lead while a berth without --ha holds it.
  if (config.ha) return runElected(config, config.ha, log, signals, git);
  // One controller per id on this host (host/lock.ts), and none beside an --ha group that leads
  // here (cli/ha.ts): refused here, before anything acts.
  return withHostLockAlone(config, "run", (lock) => runLocked(config, log, lock, signals, git));
}

async function runElected(
  config: Config,
  ha: HaConfig,
  log: Logger,
  signals: Signals,
  git: GitSecrets,
): Promise<number> {
  let app: App | null = null;
  const group = await joinGroup(config, ha, log, (role) => {
    app?.dispatcher.setPaused(role !== "leader");
    if (role === "leader") app?.controller.becameLeader();
  });
  return runLocked(config, log, null, signals, git, {
    leadership: group.leadership,
    stop: () => group.stop(),
    created: (made) => {
      app = made;
    },
  });
}

/** `berth run --ha` of either target joins the id's group (cli/ha.ts) and says so. */
async function joinGroup(
  config: Config,
  ha: HaConfig,
  log: Logger,
  onRole: (role: Role) => void,
): Promise<Participation> {
  const group = await participate(config, ha, log, "run", onRole);
  log.info(
    { store: group.leadership.status().store, ttl: ha.timing.ttlMs, renew: ha.timing.renewMs },
    "high availability on",
  );
  return group;
}

/** Under --compat docker-spawner, docker-spawner's own variables (its TIDEPOOL_*, HOST_UID/GID and RUST_LOG). */
function spawnerOptions(raw: RunOptions): Pick<RawOptions, "spawnerEnv" | "logLevel"> {
  if (raw.compat !== "docker-spawner") return {};
  const spawnerEnv = Object.fromEntries(
    SPAWNER_ENV.flatMap((key) => (key in process.env ? [[key, process.env[key]]] : [])),
  );
  const logLevel = raw.logLevel ?? rustLogLevel(process.env.RUST_LOG) ?? undefined;
  return { spawnerEnv, ...(logLevel !== undefined ? { logLevel } : {}) };
}

interface Elected {
  readonly leadership: Leadership;
  /** Lets the lease go and leaves the group. */
  stop(): Promise<void>;
  /** Hands the app to the election's role changes. */
  created(app: App): void;
}

async function runLocked(
  given: Config,
  log: Logger,
  lock: HostLock | null,
  signals: Signals,
  git: GitSecrets,
  elected?: Elected,
): Promise<number> {
  if (given.runtimeSpecs !== null) await mkdir(given.runtimeSpecs, { recursive: true });
  const stateDir = lock ? path.dirname(lock.path) : await resolveStateDir(given.stateDir);
  const checkouts = gitCheckouts(given, stateDir, git);
  const app = createApp(given, {
    log,
    version: VERSION,
    watch: true,
    http: { buildServer, Metrics },
    ...checkouts.deps,
    ...(elected ? { leadership: elected.leadership } : {}),
  });
  elected?.created(app);
  const config = app.config;
  let received = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const unsubscribe = signals((signal) => {
    received++;
    if (received === 1) {
      log.info({ signal }, "signal received; draining");
      stop();
    } else {
      log.warn({ signal }, "second signal; exiting without waiting");
      process.exit(EXIT.failed);
    }
  });
  log.info(
    {
      version: VERSION,
      id: config.controllerId,
      specs: config.specDirs,
      concurrency: config.concurrency,
      resync: config.resync.text,
      lock: lock?.path ?? null,
    },
    "berth run",
  );
  log.info(describePolicy(config.policy), "admission policy");
  if (config.policy.profile === "privileged") {
    log.warn(
      { profile: "privileged" },
      "ADMISSION POLICY OFF: specs may run privileged containers, mount any host path and join host namespaces; anyone who can write a spec is root on this host",
    );
  }
  if (app.server && config.listen) {
    await listenApi(app.server, config, config.listen, lock, elected?.leadership, log);
    if (config.compat) {
      log.info(
        { image: config.compat.image, network: config.compat.network, token: config.apiToken !== null },
        "docker-spawner compatibility API on",
      );
    }
    if (config.artie) {
      log.info(
        { image: config.artie.image, hostIP: config.artie.hostIP, network: config.artie.network },
        "artie compatibility API on",
      );
    }
  }
  void reportEngine(app.docker, log);
  // The first try at the lease before the first pass: a berth that can lead at once does.
  await elected?.leadership.start();
  await checkouts.firstFetch(app.gitSources, stopped);
  await Promise.race([app.controller.start(), stopped]);
  await stopped;
  // Stop listening now, but stop taking work first: a request still open (a log stream that
  // follows, a /spawn or /exec waiting) must not hold the controller running.
  app.gitSources?.stop();
  const serverClosed = app.server?.close();
  await app.controller.stop();
  // Nothing writes any more: let go of the lease, so that a standby takes over at once.
  await elected?.stop();
  // A request waiting on what the drain just finished (a /stop whose container the last operation
  // removed) sees it at its next look, every 100 ms: it gets a moment to answer before the cut.
  if (serverClosed) await settledWithin(serverClosed, ANSWER_GRACE_MS);
  // The drain timeout bounds the whole shutdown: requests still open are cut.
  app.server?.server.closeAllConnections();
  await serverClosed;
  unsubscribe();
  // Whatever still runs (an operation the drain gave up on, a request handler still waiting)
  // would keep this process alive and writing to the engine after "controller stopped". What it
  // leaves half-way is a state the next start finishes.
  process.exit(EXIT.ok);
}
