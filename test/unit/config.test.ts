import os from "node:os";
import path from "node:path";
/** Configuration: defaults, validation, and the resync schedule. */
import { describe, expect, it, vi } from "vitest";
import { buildConfig, buildPolicy, parseResync, rustLogLevel } from "../../src/config.js";
import { ALWAYS_FORBIDDEN, DEFAULT_POLICY } from "../../src/core/policy/policy.js";
import { scheduleEvery } from "../../src/util/cron.js";

describe("resync schedule", () => {
  it.each([
    ["30s", { kind: "every", ms: 30_000, text: "30s" }],
    ["45s", { kind: "every", ms: 45_000, text: "45s" }],
    ["7s", { kind: "every", ms: 7_000, text: "7s" }],
    ["1m30s", { kind: "every", ms: 90_000, text: "1m30s" }],
    ["1s", { kind: "every", ms: 1_000, text: "1s" }],
    ["6h", { kind: "every", ms: 6 * 3_600_000, text: "6h" }],
    ["*/15 * * * * *", { kind: "cron", cron: "*/15 * * * * *", text: "*/15 * * * * *" }],
    [" 0 0 3 * * * ", { kind: "cron", cron: "0 0 3 * * *", text: "0 0 3 * * *" }],
  ])("%j → %j", (text, expected) => {
    expect(parseResync(text)).toEqual(expected);
  });

  it.each([
    ["500ms", "--resync: 500ms is not from 1s to 596h (e.g. 30s, 45s, 5m), or give a cron expression"],
    ["720h", "--resync: 720h is not from 1s to 596h (e.g. 30s, 45s, 5m), or give a cron expression"],
    ["soon", '--resync: "soon" is not a duration (e.g. 500ms, 10s, 1m30s)'],
    [
      "* * nonsense",
      '--resync: "* * nonsense" is not a valid cron expression (five fields, or six with seconds first, e.g. "0 0 3 * * *"), nor a duration (e.g. 45s)',
    ],
  ])("refuses %s", (text, message) => {
    expect(() => parseResync(text)).toThrow(message);
  });
});

describe("a duration's resync timer", () => {
  it("ticks every 45 s from its start, and not after stop", () => {
    vi.useFakeTimers();
    try {
      const tick = vi.fn();
      const timer = scheduleEvery(45_000, tick);
      vi.advanceTimersByTime(44_999);
      expect(tick).toHaveBeenCalledTimes(0);
      vi.advanceTimersByTime(1 + 45_000);
      expect(tick).toHaveBeenCalledTimes(2);
      timer.stop();
      vi.advanceTimersByTime(10 * 45_000);
      expect(tick).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("buildConfig", () => {
  it.each([
    ["127.0.0.1:7435", { host: "127.0.0.1", port: 7435 }],
    ["[::1]:8080", { host: "::1", port: 8080 }],
    [":7435", { host: "0.0.0.0", port: 7435 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["off", null],
  ])("--listen %s", (text, expected) => {
    expect(buildConfig({ listen: text }).listen).toEqual(expected);
  });

  it("adds the runtime spec directory to the spec directories", () => {
    expect(buildConfig({ specs: ["a"], runtimeSpecs: "rt" }).specDirs).toEqual(["a", "rt"]);
  });

  it("reads the docker-spawner compatibility flags", () => {
    const config = buildConfig({
      compat: "docker-spawner",
      spawnImage: "agent:1",
      runtimeSpecs: "/rt",
      spawnUser: "2000:3000",
      spawnTimeout: "30s",
      network: "agents",
    });
    expect(config.compat).toEqual({
      image: "agent:1",
      network: "agents",
      user: { uid: 2000, gid: 3000 },
      waitMs: 30_000,
    });
    expect(buildConfig({ compat: "docker-spawner", spawnImage: "a", runtimeSpecs: "/rt" }).compat?.network).toBe(
      "auto",
    );
  });

  it("honours docker-spawner's variables under --compat docker-spawner, its defaults without them, and berth's flags first", () => {
    const spawnerEnv = {
      TIDEPOOL_AGENT_IMAGE: "tidepool-agent:2",
      HOST_UID: "2001",
      HOST_GID: "2002",
      TIDEPOOL_NETWORK: "tidepool-internal",
    };
    const base = { compat: "docker-spawner", runtimeSpecs: "/rt" } as const;
    expect(buildConfig({ ...base, spawnerEnv }).compat).toEqual({
      image: "tidepool-agent:2",
      network: "tidepool-internal",
      user: { uid: 2001, gid: 2002 },
      waitMs: 120_000,
    });
    expect(buildConfig(base).compat).toEqual({
      image: "tidepool-agent:latest",
      network: "auto",
      user: { uid: 1000, gid: 1000 },
      waitMs: 120_000,
    });
    expect(buildConfig({ ...base, spawnerEnv: { HOST_GID: "2002" } }).compat?.user).toEqual({ uid: 1000, gid: 2002 });
    const flags = { spawnImage: "mine:1", spawnUser: "3000:3000", network: "agents" };
    expect(buildConfig({ ...base, ...flags, spawnerEnv }).compat).toMatchObject({
      image: "mine:1",
      network: "agents",
      user: { uid: 3000, gid: 3000 },
    });
    // Not a docker-spawner: its variables mean nothing.
    expect(buildConfig({ spawnerEnv }).compat).toBeNull();
  });

  it.each([
    ["info", "info"],
    ["debug", "debug"],
    ["WARN", "warn"],
    ["off", "silent"],
    ["docker_spawner=trace,tower_http=info", "trace"],
    ["info,docker_spawner=debug", "debug"],
    ["warn,hyper=trace", "warn"],
    ["hyper=trace", null],
    ["loud", null],
    ["", null],
    [undefined, null],
  ] as const)("RUST_LOG=%s → log level %s", (text, level) => {
    expect(rustLogLevel(text)).toBe(level);
  });

  it("reads the Artie compatibility flags, beside docker-spawner's and apart from them", () => {
    const token = "0123456789abcdef";
    const config = buildConfig({
      compat: "artie",
      runtimeSpecs: "/rt",
      apiToken: token,
      artieImage: "dev:1",
      artieHostIp: "0.0.0.0",
      spawnTimeout: "30s",
    });
    expect(config.artie).toEqual({ image: "dev:1", hostIP: "0.0.0.0", network: "auto", waitMs: 30_000 });
    expect(config.compat).toBeNull();
    expect(buildConfig({ compat: "artie", runtimeSpecs: "/rt", apiToken: token }).artie).toEqual({
      image: "node:24-slim",
      hostIP: null,
      network: "auto",
      waitMs: 120_000,
    });
    expect(buildConfig({ compat: "docker-spawner", spawnImage: "a", runtimeSpecs: "/rt" }).artie).toBeNull();
  });

  it("fills in the defaults", () => {
    expect(buildConfig({})).toEqual({
      specDirs: ["./specs"],
      controllerId: "default",
      labelPrefix: "berth",
      concurrency: 4,
      resync: { kind: "every", ms: 30_000, text: "30s" },
      forcePrune: false,
      ha: null,
      git: {
        sources: [],
        timeoutMs: 120_000,
        tokenFile: null,
        sshKeyFile: null,
        knownHostsFile: null,
        webhookSecretFile: null,
      },
      pruneMaxShare: 0.5,
      reapLabels: [],
      network: null,
      logLevel: "info",
      logFormat: "auto",
      dockerTimeoutMs: 30_000,
      drainTimeoutMs: 30_000,
      listen: { host: "127.0.0.1", port: 7435 },
      runtimeSpecs: null,
      apiToken: null,
      allowHosts: [],
      allowOrigins: [],
      requestTimeoutMs: 30_000,
      policy: DEFAULT_POLICY,
      compat: null,
      artie: null,
      stateDir: null,
      capacity: null,
      registryAuth: { file: null, dockerConfig: path.join(os.homedir(), ".docker", "config.json") },
      imageCheckMs: null,
      target: "engine",
    });
    expect(Object.isFrozen(buildConfig({}))).toBe(true);
  });

  it("takes the registry auth file as a credential file of berth's own, never readable through secretEnv", () => {
    const config = buildConfig({ registryAuthFile: "rel/auth.json", dockerConfig: "/d/config.json" });
    expect(config.registryAuth).toEqual({ file: path.resolve("rel/auth.json"), dockerConfig: "/d/config.json" });
    expect(config.policy.ownCredentialFiles).toEqual([path.resolve("rel/auth.json")]);
  });

  it.each([
    [{ id: "bad id" }, "--id"],
    [{ concurrency: "0" }, "--concurrency"],
    [{ concurrency: "many" }, "--concurrency"],
    [{ pruneMaxShare: "2" }, "--prune-max-share"],
    [{ labelPrefix: "Berth" }, "--label-prefix"],
    [{ reapLabel: ["has space"] }, "--reap-label"],
    [{ dockerTimeout: "10" }, "--docker-timeout"],
    [{ policy: "lax" }, "--policy"],
    [{ allowBind: ["relative/dir"] }, "--allow-bind"],
    [{ allowHostPorts: ["80-70"] }, "--allow-host-ports"],
    [{ allowHostPorts: ["0"] }, "--allow-host-ports"],
    [{ allowHostIp: ["any"] }, "--allow-host-ip"],
    [{ allowSecretDir: ["secrets"] }, "--allow-secret-dir"],
    [{ maxMemory: "lots" }, "--max-memory"],
    [{ maxCpus: "-1" }, "--max-cpus"],
    [{ maxPids: "0" }, "--max-pids"],
    [{ maxUlimit: ["nofiles=10"] }, "--max-ulimit"],
    [{ maxUlimit: ["nofile"] }, "--max-ulimit"],
    [{ maxUlimit: ["nofile=-2"] }, "--max-ulimit"],
    [{ listen: "localhost" }, "--listen"],
    [{ listen: "1.2.3.4:99999" }, "--listen"],
    [{ apiToken: "short" }, "API token"],
    [{ compat: "kubernetes" }, "--compat"],
    [{ compat: "docker-spawner", runtimeSpecs: "/rt", spawnerEnv: { HOST_UID: "me" } }, "HOST_UID:HOST_GID"],
    [{ compat: "docker-spawner", runtimeSpecs: "/rt", spawnerEnv: { HOST_GID: "0" } }, "HOST_UID:HOST_GID"],
    [{ compat: "docker-spawner", spawnImage: "agent" }, "--runtime-specs"],
    [{ compat: "docker-spawner", spawnImage: "agent", runtimeSpecs: "/rt", spawnUser: "agent" }, "--spawn-user"],
    [{ compat: "artie", apiToken: "0123456789abcdef" }, "--compat artie needs --runtime-specs"],
    [{ compat: "artie", runtimeSpecs: "/rt" }, "--compat artie needs a token"],
    [{ compat: "artie", runtimeSpecs: "/rt", apiToken: "0123456789abcdef", artieHostIp: "all" }, "--artie-host-ip"],
  ])("refuses %j with a message naming the flag", (raw, flag) => {
    expect(() => buildConfig(raw)).toThrow(flag);
  });
});

describe("buildPolicy", () => {
  it("reads every policy flag", () => {
    expect(
      buildPolicy({
        policy: "restricted",
        allowBind: ["/srv/worktrees"],
        allowHostPorts: ["80", "8000-9000"],
        allowHostIp: ["0.0.0.0"],
        allowRuntime: ["runc", "runsc"],
        allowLogDriver: ["syslog", "json-file"],
        allowSecretDir: ["/etc/berth/secrets"],
        maxMemory: "1Gi",
        maxCpus: "2",
        maxPids: "512",
        requireLimits: true,
        allowVolume: ["cache-*"],
        maxStopTimeout: "2m",
        maxUlimit: ["nofile=4194304", "memlock=-1"],
        dockerHost: "unix:///srv/docker.sock",
      }),
    ).toEqual({
      profile: "restricted",
      allowBind: ["/srv/worktrees"],
      allowHostPorts: [
        { from: 80, to: 80 },
        { from: 8000, to: 9000 },
      ],
      hostPortRange: { from: 10000, to: 20000 },
      allowHostIPs: ["0.0.0.0"],
      allowRuntimes: ["runc", "runsc"],
      allowLogDrivers: ["json-file", "local", "journald", "none", "syslog"],
      allowSecretDirs: ["/etc/berth/secrets"],
      ownCredentialFiles: [],
      forbiddenHostPaths: [...ALWAYS_FORBIDDEN, "/srv/docker.sock"],
      maxMemoryBytes: 2 ** 30,
      maxNanoCpus: 2e9,
      maxPids: 512,
      requireLimits: true,
      allowVolumes: ["cache-*"],
      maxStopTimeoutMs: 120_000,
      maxUlimits: { nofile: 4194304, memlock: -1 },
    });
  });
});

describe("capacity flags (docs/capacity.md)", () => {
  const Gi = 2 ** 30;
  it("--capacity with any subset; what is not given is unlimited; the stated default request", () => {
    expect(buildConfig({ capacity: "cpus=8,memory=14Gi,containers=100" }).capacity).toEqual({
      auto: false,
      given: { cpus: 8e9, memory: 14 * Gi, containers: 100 },
      reserve: { cpus: 0, memory: 0 },
      defaultRequest: { cpus: 25e7, memory: 256 * 2 ** 20 },
    });
    expect(buildConfig({ capacity: "containers=2" }).capacity?.given).toEqual({ containers: 2 });
  });

  it("auto, with a reserve, a container count and a default request", () => {
    expect(
      buildConfig({ capacity: "auto,containers=100", reserve: "memory=2Gi,cpus=0.5", defaultRequest: "memory=128Mi" })
        .capacity,
    ).toEqual({
      auto: true,
      given: { containers: 100 },
      reserve: { cpus: 5e8, memory: 2 * Gi },
      defaultRequest: { cpus: 25e7, memory: 128 * 2 ** 20 },
    });
  });

  it("no --capacity, or off: none", () => {
    expect(buildConfig({ defaultRequest: "memory=1Gi" }).capacity).toBeNull();
    expect(buildConfig({ capacity: "off" }).capacity).toBeNull();
  });

  it.each([
    [{ capacity: "auto,disk=1Gi" }, '--capacity: "disk=1Gi": "disk" is not one of cpus, memory, containers'],
    [{ capacity: "everything" }, '--capacity: "everything" is not one of auto, cpus=…, memory=…, containers=…'],
    [{ capacity: "memory=lots" }, '--capacity: memory: "lots" is not a quantity (e.g. 512Mi, 1Gi)'],
    [{ capacity: "containers=2", reserve: "memory=1Gi" }, "--reserve: applies only with --capacity auto"],
    [{ reserve: "memory=1Gi" }, "--reserve: applies only with --capacity auto"],
    [
      { capacity: "auto", reserve: "containers=1" },
      '--reserve: "containers=1": "containers" is not one of cpus, memory',
    ],
    [{ defaultRequest: "cpus=x" }, '--default-request: cpus: "x" is not a CPU quantity'],
  ])("%j is refused, naming the flag and what would be valid", (raw, message) => {
    expect(() => buildConfig(raw)).toThrow(message);
  });
});

describe("Git sources (--git)", () => {
  it("pairs --git-ref, --git-path and --git-interval with --git by position, or one for all", () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const config = buildConfig({
      git: ["https://h.example/a.git", "file:///srv/b.git"],
      gitRef: ["main", sha],
      gitPath: ["specs/"],
      gitInterval: ["30s", "5m"],
    });
    expect(config.git.sources).toEqual([
      {
        url: "https://h.example/a.git",
        ref: { kind: "name", name: "main" },
        refText: "main",
        path: "specs",
        intervalMs: 30_000,
      },
      { url: "file:///srv/b.git", ref: { kind: "commit", sha }, refText: sha, path: "specs", intervalMs: 300_000 },
    ]);
    // With sources, ./specs is read only when named.
    expect(config.specDirs).toEqual([]);
    expect(buildConfig({ git: ["file:///srv/b.git"], specs: ["./specs"] }).specDirs).toEqual(["./specs"]);
  });

  it.each([
    [{ git: ["https://u:tok@h/r.git"] }, "--git-token-file"],
    [
      { git: ["file:///a.git", "file:///b.git"], gitRef: ["x", "y", "z"] },
      "--git-ref: given 3 times for 2 --git sources",
    ],
    [{ git: ["file:///r.git"], gitRef: ["a..b"] }, "--git-ref:"],
    [{ git: ["file:///r.git"], gitPath: ["../x"] }, "--git-path:"],
    [{ git: ["file:///r.git"], gitInterval: ["500ms"] }, "--git-interval: at least 1s"],
    [{ gitRef: ["main"] }, "--git-ref: applies only with --git URL"],
    [{ git: ["file:///r.git"], gitTokenFile: "/home/me/token" }, "--git-token-file: /home/me/token"],
  ])("refuses %j", (raw, message) => {
    expect(() => buildConfig(raw)).toThrow(message);
  });

  it("takes credential files under the allowed secret folders, and keeps them from secretEnv", () => {
    const config = buildConfig({ git: ["file:///r.git"], gitTokenFile: "/run/secrets/git-token" });
    expect(config.git.tokenFile).toBe("/run/secrets/git-token");
    expect(config.policy.ownCredentialFiles).toEqual(["/run/secrets/git-token"]);
  });
});

describe("--ha-advertise", () => {
  it("takes the URL of this berth's API, as the other members and CLIs reach it", () => {
    expect(buildConfig({ ha: "file:/run/berth/x.lock", haAdvertise: "http://10.0.0.5:7435/" }).ha?.advertise).toBe(
      "http://10.0.0.5:7435",
    );
    expect(buildConfig({ ha: "file:/run/berth/x.lock" }).ha?.advertise).toBeNull();
  });

  it.each([
    [{ ha: "file:/run/berth/x.lock", haAdvertise: "10.0.0.5:7435" }, '--ha-advertise: "10.0.0.5:7435" is not the URL'],
    [
      { ha: "file:/run/berth/x.lock", haAdvertise: "http://h:1/api" },
      "(http://host:port or https://host:port, no path, no user or password)",
    ],
    [{ ha: "file:/run/berth/x.lock", haAdvertise: "http://h:1", listen: "off" }, "but --listen is off"],
  ])("refuses %j", (raw, message) => {
    expect(() => buildConfig(raw)).toThrow(message);
  });
});

describe("--image-check", () => {
  it.each([
    [undefined, null],
    ["off", null],
    ["0", null],
    ["0s", null],
    ["10m", 600_000],
  ])("%s reads as %s ms (null: once per start)", (text, ms) => {
    expect(buildConfig(text === undefined ? {} : { imageCheck: text }).imageCheckMs).toBe(ms);
  });
});

describe("the name an --ha berth advertises is one its API answers for", () => {
  it.each([
    [{ listen: "0.0.0.0:7435" }, [os.hostname().toLowerCase()]],
    [{ listen: "10.0.0.5:7435" }, ["10.0.0.5"]],
    [{ listen: "127.0.0.1:7435" }, []],
    [{ haAdvertise: "http://berth-a.internal:7435" }, ["berth-a.internal"]],
    [{ haAdvertise: "http://berth-a.internal:7435", allowHost: ["berth-a.internal"] }, ["berth-a.internal"]],
  ])("%j", (raw, hosts) => {
    expect(buildConfig({ ha: "file:/run/berth/x.lock", ...raw }).allowHosts).toEqual(hosts);
  });

  it("without --ha nothing is added, and --ha-advertise alone is refused", () => {
    expect(buildConfig({ listen: "0.0.0.0:7435" }).allowHosts).toEqual([]);
    expect(() => buildConfig({ haAdvertise: "http://h:1" })).toThrow("give --ha too");
  });

  it("a refused --ha-advertise with a password does not echo it", () => {
    expect(() => buildConfig({ ha: "file:/run/berth/x.lock", haAdvertise: "http://u:s3cret@h:1" })).toThrow(
      /^--ha-advertise: the value given is not/,
    );
  });
});
