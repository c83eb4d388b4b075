/**
 * The admission policy, check by check: for each, a spec that violates it is refused with the
 * check's id and the field's path and position, and the nearest spec that does not is accepted.
 * Bind-mount path escapes are tried against a real folder with symbolic links.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildPolicy, type PolicyOptions } from "../../../src/config.js";
import { formatIssue } from "../../../src/core/errors.js";
import { CHECKS, type Policy } from "../../../src/core/policy/policy.js";
import { hostPolicyContext, resolveHostPath } from "../../../src/host/host-paths.js";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";
import { loadChecked } from "../../support/load.js";

interface Case {
  /** The check's id. */
  readonly check: string;
  readonly why: string;
  /** Lines under `spec:` that violate the check … */
  readonly bad: readonly string[];
  /** … and the nearest lines that do not. */
  readonly good: readonly string[];
  /** The field path of the error. */
  readonly path: string;
  readonly policy?: PolicyOptions;
}

const RESTRICTED_OK = [
  'user: "1000:1000"',
  "securityContext: { noNewPrivileges: true, capDrop: [ALL] }",
  "mounts: [{ type: volume, source: data, target: /data }]",
];

const CASES: readonly Case[] = [
  {
    check: "no-privileged",
    why: "privileged",
    bad: ["securityContext: { privileged: true }"],
    good: ["securityContext: { privileged: false }"],
    path: "spec.securityContext.privileged",
  },
  {
    check: "no-host-namespaces",
    why: "host network",
    bad: ["network: host"],
    good: ["network: bridge"],
    path: "spec.network",
  },
  {
    check: "no-host-namespaces",
    why: "host pid",
    bad: ["pidMode: host"],
    good: ["pidMode: private"],
    path: "spec.pidMode",
  },
  {
    check: "no-host-namespaces",
    why: "host userns",
    bad: ["usernsMode: host"],
    good: [],
    path: "spec.usernsMode",
  },
  {
    check: "no-foreign-namespace-join",
    why: "joining a container of no spec",
    bad: ["network: container:vpn"],
    good: ["network: container:app"],
    path: "spec.network",
  },
  {
    check: "bind-forbidden",
    why: "the Docker socket, even when /var/run is allowed",
    bad: ["mounts: [{ type: bind, source: /var/run/docker.sock, target: /s }]"],
    good: ["mounts: [{ type: bind, source: /var/run/berth, target: /s }]"],
    path: "spec.mounts[0].source",
    policy: { allowBind: ["/var/run"] },
  },
  {
    check: "bind-forbidden",
    why: "/etc through ..",
    bad: ["mounts: [{ type: bind, source: /srv/data/../../etc, target: /e }]"],
    good: ["mounts: [{ type: bind, source: /srv/data/../data/x, target: /e }]"],
    path: "spec.mounts[0].source",
    policy: { allowBind: ["/srv/data", "/"] },
  },
  {
    check: "bind-forbidden",
    why: "a folder holding /var/lib/docker",
    bad: ["mounts: [{ type: bind, source: /var/lib/, target: /v }]"],
    good: ["mounts: [{ type: bind, source: /var/lib/app, target: /v }]"],
    path: "spec.mounts[0].source",
    policy: { allowBind: ["/var/lib"] },
  },
  {
    check: "bind-allowed-prefix",
    why: "no prefix allowed by default",
    bad: ["mounts: [{ type: bind, source: /srv/data, target: /d }]"],
    good: ["mounts: [{ type: volume, source: data, target: /d }]"],
    path: "spec.mounts[0].source",
  },
  {
    check: "bind-allowed-prefix",
    why: "a sibling with the prefix as a string prefix",
    bad: ["mounts: [{ type: bind, source: /srv/data-other, target: /d }]"],
    good: ["mounts: [{ type: bind, source: /srv/data/, target: /d }]"],
    path: "spec.mounts[0].source",
    policy: { allowBind: ["/srv/data"] },
  },
  {
    check: "bind-inside-writable",
    why: "a read-only bind mount inside a writable one of the same spec",
    bad: [
      "mounts:",
      "  - { type: bind, source: /srv/data/x, target: /w }",
      "  - { type: bind, source: /srv/data/x/d, target: /d, readOnly: true }",
    ],
    good: [
      "mounts:",
      "  - { type: bind, source: /srv/data/x, target: /w, readOnly: true }",
      "  - { type: bind, source: /srv/data/x/d, target: /d, readOnly: true }",
    ],
    path: "spec.mounts[1].source",
    policy: { allowBind: ["/srv/data"] },
  },
  {
    check: "default-capabilities",
    why: "SYS_ADMIN",
    bad: ["securityContext: { capAdd: [CHOWN, cap_sys_admin] }"],
    good: ["securityContext: { capAdd: [CHOWN, cap_kill] }"],
    path: "spec.securityContext.capAdd[1]",
  },
  {
    check: "default-capabilities",
    why: "NET_RAW added back",
    bad: ["securityContext: { capDrop: [ALL], capAdd: [NET_RAW] }"],
    good: ["securityContext: { capDrop: [ALL], capAdd: [NET_BIND_SERVICE] }"],
    path: "spec.securityContext.capAdd[0]",
  },
  {
    check: "no-unconfined-seccomp",
    why: "unconfined",
    bad: ["securityContext: { seccompProfile: unconfined }"],
    good: ["securityContext: { seccompProfile: default }"],
    path: "spec.securityContext.seccompProfile",
  },
  {
    check: "no-unconfined-seccomp",
    why: "a custom profile file",
    bad: ["securityContext: { seccompProfile: /etc/berth/allow-all.json }"],
    good: ["securityContext: { seccompProfile: default }"],
    path: "spec.securityContext.seccompProfile",
  },
  {
    check: "no-unconfined-apparmor",
    why: "unconfined",
    bad: ["securityContext: { apparmorProfile: unconfined }"],
    good: ["securityContext: { apparmorProfile: docker-default }"],
    path: "spec.securityContext.apparmorProfile",
  },
  {
    check: "selinux-allowed-types",
    why: "label=disable",
    bad: ["securityContext: { selinuxOptions: ['type:container_t', disable] }"],
    good: ["securityContext: { selinuxOptions: ['type:container_t'] }"],
    path: "spec.securityContext.selinuxOptions[1]",
  },
  {
    check: "no-devices",
    why: "a device",
    bad: ["devices: [{ hostPath: /dev/fuse }]"],
    good: [],
    path: "spec.devices[0].hostPath",
  },
  {
    check: "no-device-cgroup-rules",
    why: "a rule",
    bad: ["deviceCgroupRules: ['c 10:229 rwm']"],
    good: [],
    path: "spec.deviceCgroupRules[0]",
  },
  {
    check: "safe-sysctls",
    why: "kernel.msgmax",
    bad: ["sysctls: { net.ipv4.tcp_syncookies: '1', kernel.msgmax: '65536' }"],
    good: ["sysctls: { net.ipv4.tcp_syncookies: '1' }"],
    path: 'spec.sysctls["kernel.msgmax"]',
  },
  {
    check: "ulimit-ceilings",
    why: "nofile above 1048576",
    bad: ["ulimits: { nofile: { soft: 1024, hard: 2097152 } }"],
    good: ["ulimits: { nofile: { soft: 1024, hard: 1048576 } }"],
    path: "spec.ulimits.nofile.hard",
  },
  {
    check: "ulimit-ceilings",
    why: "memlock unlimited",
    bad: ["ulimits: { memlock: -1 }"],
    good: ["ulimits: { memlock: 67108864 }"],
    path: "spec.ulimits.memlock",
  },
  {
    check: "ulimit-ceilings",
    why: "memlock up to the memory limit",
    bad: ["resources: { memory: 256Mi }", "ulimits: { memlock: 268435457 }"],
    good: ["resources: { memory: 256Mi }", "ulimits: { memlock: 268435456 }"],
    path: "spec.ulimits.memlock",
  },
  {
    check: "ulimit-ceilings",
    why: "nice above nice 0",
    bad: ["ulimits: { nice: 21 }"],
    good: ["ulimits: { nice: 20 }"],
    path: "spec.ulimits.nice",
  },
  {
    check: "ulimit-ceilings",
    why: "real-time priority",
    bad: ["ulimits: { rtprio: { soft: 0, hard: 1 } }"],
    good: ["ulimits: { rtprio: 0, nproc: -1, core: -1, stack: -1 }"],
    path: "spec.ulimits.rtprio.hard",
  },
  {
    check: "ulimit-ceilings",
    why: "nofile's ceiling raised by --max-ulimit",
    bad: ["ulimits: { nofile: 4194305 }"],
    good: ["ulimits: { nofile: 4194304 }"],
    path: "spec.ulimits.nofile",
    policy: { maxUlimit: ["nofile=4194304"] },
  },
  {
    check: "ulimit-ceilings",
    why: "a ceiling where baseline has none, by --max-ulimit",
    bad: ["ulimits: { nproc: 4097 }"],
    good: ["ulimits: { nproc: 4096, memlock: -1 }"],
    path: "spec.ulimits.nproc",
    policy: { maxUlimit: ["nproc=4096", "memlock=-1"] },
  },
  {
    check: "allowed-runtime",
    why: "runsc not listed",
    bad: ["runtime: runsc"],
    good: ["runtime: runc"],
    path: "spec.runtime",
  },
  {
    check: "allowed-runtime",
    why: "runsc listed",
    bad: ["runtime: nvidia"],
    good: ["runtime: runsc"],
    path: "spec.runtime",
    policy: { allowRuntime: ["runc", "runsc"] },
  },
  {
    check: "allowed-log-driver",
    why: "a driver that sends the output off the host",
    bad: ["logging: { driver: syslog, options: { syslog-address: udp://10.0.0.9:514 } }"],
    good: ["logging: { driver: json-file, options: { max-size: 10m } }"],
    path: "spec.logging.driver",
  },
  {
    check: "allowed-log-driver",
    why: "syslog listed",
    bad: ["logging: { driver: gelf }"],
    good: ["logging: { driver: syslog }"],
    path: "spec.logging.driver",
    policy: { allowLogDriver: ["syslog"] },
  },
  {
    check: "allowed-host-ports",
    why: "a port below 1024",
    bad: ["ports: [{ containerPort: 80, hostPort: 80 }]"],
    good: ["ports: [{ containerPort: 80, hostPort: 1024 }]"],
    path: "spec.ports[0].hostPort",
  },
  {
    check: "allowed-host-ports",
    why: "outside an explicit range",
    bad: ["ports: [{ containerPort: 80, hostPort: 9001 }]"],
    good: ["ports: [{ containerPort: 80, hostPort: 443 }]"],
    path: "spec.ports[0].hostPort",
    policy: { allowHostPorts: ["443", "8000-9000"] },
  },
  {
    check: "allowed-host-ports",
    why: "auto, with no port of --host-port-range allowed",
    bad: ["ports: [{ containerPort: 80, hostPort: auto }]"],
    good: ["ports: [{ containerPort: 80, hostPort: 8080 }]"],
    path: "spec.ports[0].hostPort",
    policy: { allowHostPorts: ["443", "8000-9000"] },
  },
  {
    check: "allowed-host-ports",
    why: "auto, --host-port-range moved outside the allowed ports",
    bad: ["ports: [{ containerPort: 80, hostPort: auto }]"],
    good: ["ports: [{ containerPort: 80 }]"],
    path: "spec.ports[0].hostPort",
    policy: { hostPortRange: "100-200" },
  },
  {
    check: "allowed-host-ip",
    why: "every interface",
    bad: ["ports: [{ containerPort: 80, hostPort: 8080, hostIP: 0.0.0.0 }]"],
    good: ["ports: [{ containerPort: 80, hostPort: 8080, hostIP: 127.0.0.2 }]"],
    path: "spec.ports[0].hostIP",
  },
  {
    check: "allowed-host-ip",
    why: "an address not listed",
    bad: ["ports: [{ containerPort: 80, hostPort: 8080, hostIP: '::' }]"],
    good: ["ports: [{ containerPort: 80, hostPort: 8080, hostIP: 0.0.0.0 }]"],
    path: "spec.ports[0].hostIP",
    policy: { allowHostIp: ["0.0.0.0"] },
  },
  {
    check: "secret-file-dirs",
    why: "a file outside the secret folders",
    bad: ["secretEnv: { TOKEN: { fromFile: /etc/shadow } }"],
    good: ["secretEnv: { TOKEN: { fromFile: /run/secrets/token } }"],
    path: "spec.secretEnv.TOKEN.fromFile",
  },
  {
    check: "secret-file-dirs",
    why: "escaping the folder through ..",
    bad: ["secretEnv: { TOKEN: { fromFile: /run/secrets/../../etc/shadow } }"],
    good: ["secretEnv: { TOKEN: { fromFile: /run/secrets/team/../token } }"],
    path: "spec.secretEnv.TOKEN.fromFile",
  },
  {
    check: "no-own-credentials",
    why: "berth's API token file under the secret folder",
    bad: ["secretEnv: { TOKEN: { fromFile: /run/secrets/berth/../berth-token } }"],
    good: ["secretEnv: { TOKEN: { fromFile: /run/secrets/gh-token } }"],
    path: "spec.secretEnv.TOKEN.fromFile",
    policy: { apiTokenFile: "/run/secrets/berth-token" },
  },
  {
    check: "no-berth-secrets",
    why: "berth's API token",
    bad: ["secretEnv: { TOKEN: { fromHostEnv: BERTH_API_TOKEN } }"],
    good: ["secretEnv: { TOKEN: { fromHostEnv: AGENT_TOKEN } }"],
    path: "spec.secretEnv.TOKEN.fromHostEnv",
  },
  {
    check: "run-as-non-root",
    why: "gid 0",
    bad: ['user: "1000:0"', ...RESTRICTED_OK.slice(1)],
    good: RESTRICTED_OK,
    path: "spec.user",
    policy: { policy: "restricted" },
  },
  {
    check: "run-as-non-root",
    why: "a user name (its uid is unknown)",
    bad: ["user: nobody", ...RESTRICTED_OK.slice(1)],
    good: RESTRICTED_OK,
    path: "spec.user",
    policy: { policy: "restricted" },
  },
  {
    check: "no-new-privileges",
    why: "not set",
    bad: ['user: "1000:1000"', "securityContext: { capDrop: [ALL] }", RESTRICTED_OK[2] as string],
    good: RESTRICTED_OK,
    path: "spec.securityContext",
    policy: { policy: "restricted" },
  },
  {
    check: "drop-all-capabilities",
    why: "CHOWN added back",
    bad: [
      'user: "1000:1000"',
      "securityContext: { noNewPrivileges: true, capDrop: [ALL], capAdd: [CHOWN] }",
      RESTRICTED_OK[2] as string,
    ],
    good: [
      'user: "1000:1000"',
      "securityContext: { noNewPrivileges: true, capDrop: [ALL], capAdd: [NET_BIND_SERVICE] }",
      RESTRICTED_OK[2] as string,
    ],
    path: "spec.securityContext.capAdd[0]",
    policy: { policy: "restricted" },
  },
  {
    check: "volume-mounts-only",
    why: "an allowed bind mount",
    bad: [...RESTRICTED_OK.slice(0, 2), "mounts: [{ type: bind, source: /srv/data, target: /data }]"],
    good: RESTRICTED_OK,
    path: "spec.mounts[0].type",
    policy: { policy: "restricted", allowBind: ["/srv/data"] },
  },
  {
    check: "max-memory",
    why: "above the ceiling",
    bad: ["resources: { memory: 2Gi }"],
    good: ["resources: { memory: 1Gi }"],
    path: "spec.resources.memory",
    policy: { maxMemory: "1Gi" },
  },
  {
    check: "max-memory",
    why: "required by --require-limits",
    bad: ["resources: { pids: 100 }"],
    good: ["resources: { pids: 100, memory: 64Mi }"],
    path: "spec",
    policy: { requireLimits: true },
  },
  {
    check: "max-cpus",
    why: "above the ceiling",
    bad: ["resources: { cpus: 1500m }"],
    good: ["resources: { cpus: '1' }"],
    path: "spec.resources.cpus",
    policy: { maxCpus: "1", policy: "privileged" },
  },
  {
    check: "max-pids",
    why: "missing under a ceiling",
    bad: ["resources: { memory: 64Mi }"],
    good: ["resources: { memory: 64Mi, pids: 64 }"],
    path: "spec",
    policy: { maxPids: "128" },
  },
  {
    check: "max-stop-timeout",
    why: "above the default ceiling of 10m",
    bad: ["stopTimeout: 1000h"],
    good: ["stopTimeout: 10m"],
    path: "spec.stopTimeout",
  },
];

/** The errors of spec `s` under a policy, loaded as the controller does (with a spec `app` to join). */
async function verdict(lines: readonly string[], options: PolicyOptions = {}): Promise<string[]> {
  const dir = tempDir();
  writeFileSync(path.join(dir, "s.yaml"), specText("s", { extra: lines }));
  writeFileSync(path.join(dir, "app.yaml"), specText("app"));
  const policy: Policy = buildPolicy(options);
  const loaded = await loadChecked(
    new SpecLoader([dir], {
      ...DEFAULT_PARSE_OPTIONS,
      maxFiles: 10,
      maxDirDepth: 2,
      policy,
      policyContext: { realpath: (p) => p },
    }),
    policy.profile,
  );
  return loaded.issues
    .map((i) => formatIssue({ ...i, file: path.basename(i.file) }))
    .filter((line) => line.startsWith("s.yaml:"));
}

describe("each policy check: refused with its id and field, the nearest spec accepted", () => {
  it("has a case for every check", () => {
    // Checks without a spec reading need the engine (volumes): test/docker/security-volumes.test.ts.
    expect(new Set(CASES.map((c) => c.check))).toEqual(new Set(CHECKS.filter((c) => c.spec).map((c) => c.id)));
  });

  it.each(CASES.map((c) => [`${c.check}: ${c.why}`, c] as const))("%s", async (_name, c) => {
    const bad = await verdict(c.bad, c.policy);
    expect(bad.length).toBeGreaterThanOrEqual(1);
    const profile = c.policy?.policy ?? "baseline";
    const scope = c.check.startsWith("max-") ? "the resource limits" : `policy ${profile}`;
    // s.yaml: line 5 is `spec:`; the field is on one of the lines below it.
    expect(bad[0]).toMatch(
      new RegExp(`^s\\.yaml:\\d+:\\d+: ${escape(c.path)}: .+ \\[${escape(scope)}: ${c.check}\\]$`),
    );
    expect(await verdict(c.good, c.policy)).toEqual([]);
  });

  it("allows everything under --policy privileged, but still applies resource ceilings", async () => {
    for (const c of CASES.filter((x) => !x.check.startsWith("max-"))) {
      expect(await verdict(c.bad, { ...c.policy, policy: "privileged" })).toEqual([]);
    }
  });

  it("points at the line and column of the field", async () => {
    expect(await verdict(["securityContext:", "  privileged: true"])).toEqual([
      "s.yaml:8:17: spec.securityContext.privileged: privileged containers are refused [policy baseline: no-privileged]",
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("bind mount path escapes, resolved on a real folder", () => {
  const root = tempDir("berth-policy-", "file");
  const allowed = path.join(root, "allowed");
  mkdirSync(path.join(allowed, "sub"), { recursive: true });
  symlinkSync("/etc", path.join(allowed, "etc-link"));
  symlinkSync(allowed, path.join(root, "allowed-link"));
  symlinkSync("/var/run", path.join(allowed, "run-link"));

  const check = (source: string, allowBind: readonly string[] = [allowed]): string | null => {
    const policy = buildPolicy({ allowBind });
    const doc = parseSpecText(
      specText("s", { extra: [`mounts: [{ type: bind, source: "${source}", target: /m }]`] }),
      "s.yaml",
      { ...DEFAULT_PARSE_OPTIONS, policy, policyContext: hostPolicyContext },
    );
    return doc.issues[0]?.message ?? null;
  };

  it.each([
    ["a folder under the prefix", `${allowed}/sub`],
    ["a folder that does not exist yet (Docker creates it)", `${allowed}/new/deeper`],
    ["the prefix itself, with a trailing slash", `${allowed}/`],
    ["a doubled slash inside", `${allowed}//sub`],
    ["a symlinked prefix that resolves inside", `${root}/allowed-link/sub`],
  ])("accepts %s", (_what, source) => {
    expect(check(source)).toBeNull();
  });

  it.each([
    ["/allowed/../etc", `${allowed}/../../../../../../etc`, "bind-forbidden"],
    ["//etc", "//etc", "bind-forbidden"],
    ["/etc/ with a trailing slash", "/etc/", "bind-forbidden"],
    ["a symlink inside the prefix to /etc", `${allowed}/etc-link`, "bind-forbidden"],
    ["a path below such a symlink", `${allowed}/etc-link/ssh`, "bind-forbidden"],
    ["a symlink to the folder of the Docker socket", `${allowed}/run-link`, "bind-forbidden"],
    ["a sibling folder reached through ..", `${allowed}/../other`, "bind-allowed-prefix"],
    ["the root filesystem", "/", "bind-forbidden"],
  ])("refuses %s", (_what, source, id) => {
    expect(check(source)).toMatch(new RegExp(`\\[policy baseline: ${id}\\]$`));
  });

  it("refuses forbidden paths even when --allow-bind / allows everything else", () => {
    expect(check("/proc/1", ["/"])).toMatch(/bind-forbidden/);
    expect(check(`${allowed}/sub`, ["/"])).toBeNull();
  });

  it("resolves a path as far as it exists", () => {
    expect(resolveHostPath(`${allowed}/etc-link/missing/x`)).toBe("/etc/missing/x");
    expect(resolveHostPath(`${root}/allowed-link/a/b`)).toBe(`${allowed}/a/b`);
  });
});

describe("docs/policy.md", () => {
  it("lists every check with its summary, and nothing else", () => {
    const doc = readFileSync("docs/policy.md", "utf8");
    const rows = [...doc.matchAll(/^\| `([a-z-]+)` +\| (\w+) +\| (.+?) +\|$/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toEqual(CHECKS.map((c) => [c.id, c.scope, c.summary]));
  });
});
