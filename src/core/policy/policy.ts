/**
 * The admission policy: what a spec may ask of the host. berth holds the Docker socket (root on
 * the host) and a socket proxy cannot read request bodies, so berth refuses here, before anything
 * reaches Docker. Pure: host paths are resolved through a function the caller hands in.
 *
 * One table, CHECKS: each check has an id, the profile that applies it, a summary (docs/policy.md
 * lists the same ids; a test keeps the two in sync), a check on the spec document (with field
 * paths, for validation errors) and, where the create request shows the same thing, a second,
 * independent check on the Engine API create body (run again just before every create, and by
 * the property test that every accepted spec renders an acceptable request).
 */
import path from "node:path";
import type { BerthContainer } from "../document.gen.js";
import type { EngineCreateBody } from "../create-request.js";
import { canonicalCapability, type FieldPath, type NormalizedSpec } from "../spec.js";
import { formatBytes } from "../units.js";

export type Profile = "baseline" | "restricted" | "privileged";
export const PROFILES: readonly Profile[] = ["baseline", "restricted", "privileged"];

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface Policy {
  readonly profile: Profile;
  /** Host path prefixes bind mounts may use (none by default). */
  readonly allowBind: readonly string[];
  /** Host ports that may be published. */
  readonly allowHostPorts: readonly PortRange[];
  /** Host addresses besides loopback that ports may be published on (e.g. 0.0.0.0). */
  readonly allowHostIPs: readonly string[];
  /** OCI runtimes a spec may name. */
  readonly allowRuntimes: readonly string[];
  /** Folders secretEnv fromFile may read. */
  readonly allowSecretDirs: readonly string[];
  /** Host paths never bind-mounted under baseline or restricted, whatever --allow-bind says. */
  readonly forbiddenHostPaths: readonly string[];
  readonly maxMemoryBytes: number | null;
  readonly maxNanoCpus: number | null;
  readonly maxPids: number | null;
  /** Memory and pids limits are mandatory. */
  readonly requireLimits: boolean;
}

/** Always refused as bind sources (with their parents and children), and the engine's socket. */
export const ALWAYS_FORBIDDEN = [
  "/",
  "/etc",
  "/proc",
  "/sys",
  "/var/lib/docker",
  "/var/run/docker.sock",
  "/run/docker.sock",
];

export const DEFAULT_POLICY: Policy = {
  profile: "baseline",
  allowBind: [],
  allowHostPorts: [{ from: 1024, to: 65535 }],
  allowHostIPs: [],
  allowRuntimes: ["runc"],
  allowSecretDirs: ["/run/secrets"],
  forbiddenHostPaths: ALWAYS_FORBIDDEN,
  maxMemoryBytes: null,
  maxNanoCpus: null,
  maxPids: null,
  requireLimits: false,
};

/** Docker's default capability set (moby's oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "NET_RAW",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

/** Namespaced sysctls that cannot affect the host or other containers (Kubernetes' safe set). */
export const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ping_group_range",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_syncookies",
]);

export interface PolicyContext {
  /** Resolves symbolic links in a host path (as far as it exists). Identity: lexical checks only. */
  readonly realpath: (p: string) => string;
  /**
   * Whether a container name belongs to berth (a spec's container). Undefined: not known here
   * (one file parsed alone); the loader checks namespace joins across files instead.
   */
  readonly ownsContainer?: (name: string) => boolean;
}

export const LEXICAL_CONTEXT: PolicyContext = { realpath: (p) => p };

export interface Violation {
  readonly check: string;
  readonly path: FieldPath;
  readonly message: string;
}

type Scope = "baseline" | "restricted" | "limits";

interface Check {
  readonly id: string;
  /** baseline checks also apply under restricted; limits apply under every profile when set. */
  readonly scope: Scope;
  readonly summary: string;
  readonly spec: (doc: BerthContainer, spec: NormalizedSpec, policy: Policy, ctx: PolicyContext) => Found[];
  /** The same rule read off the Engine API create body; absent when the body cannot show it. */
  readonly request?: (body: EngineCreateBody, policy: Policy, ctx: PolicyContext) => string[];
}

interface Found {
  readonly path: FieldPath;
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------
// Host paths

/** `/a/../etc/` → `/etc`; `//etc` → `/etc`. */
export function lexicalPath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
}

function isWithin(child: string, parent: string): boolean {
  return parent === "/" ? true : child === parent || child.startsWith(`${parent}/`);
}

/** The forbidden path a host path is, lies in, or contains; null when none. */
function forbiddenHit(p: string, policy: Policy): string | null {
  for (const f of policy.forbiddenHostPaths) {
    const forbidden = lexicalPath(f);
    if (p === forbidden || (forbidden !== "/" && (isWithin(p, forbidden) || isWithin(forbidden, p)))) return forbidden;
  }
  return null;
}

/** Why a host path may not be bind-mounted, or null. Checks the path as written and resolved. */
export function bindRefusal(
  source: string,
  policy: Policy,
  ctx: PolicyContext,
): { check: string; message: string } | null {
  const lexical = lexicalPath(source);
  const resolved = lexicalPath(ctx.realpath(lexical));
  const shown = resolved === lexical ? JSON.stringify(source) : `${JSON.stringify(source)} (resolves to ${resolved})`;
  const hit = forbiddenHit(lexical, policy) ?? forbiddenHit(resolved, policy);
  if (hit !== null) {
    return {
      check: "bind-forbidden",
      message:
        hit === "/"
          ? `${shown} is the host's root filesystem, which is never mounted`
          : `${shown} is or holds ${hit}, which is never mounted (it would give the container the host)`,
    };
  }
  const allowed = policy.allowBind.map((prefix) => lexicalPath(ctx.realpath(lexicalPath(prefix))));
  // Docker mounts what the path resolves to: that is what must lie under an allowed prefix.
  if (!allowed.some((prefix) => isWithin(resolved, prefix))) {
    return {
      check: "bind-allowed-prefix",
      message:
        allowed.length === 0
          ? `${shown}: bind mounts are refused unless berth allows their host folder (--allow-bind PREFIX); use a volume or tmpfs mount instead`
          : `${shown} is not under an allowed host folder (${policy.allowBind.join(", ")}); move it there or allow it with --allow-bind`,
    };
  }
  return null;
}

/** The host source of a Binds entry: `src:dst[:opts]`. */
function bindSource(bind: string): string {
  return bind.split(":")[0] ?? bind;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const NAMESPACE_FIELDS = [
  ["pidMode", "PidMode"],
  ["ipcMode", "IpcMode"],
  ["utsMode", "UTSMode"],
  ["usernsMode", "UsernsMode"],
] as const;

function isLoopback(ip: string): boolean {
  return ip === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

function portAllowed(port: number, policy: Policy): boolean {
  return policy.allowHostPorts.some((r) => port >= r.from && port <= r.to);
}

export function formatRanges(ranges: readonly PortRange[]): string {
  if (ranges.length === 0) return "none";
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(",");
}

const widen = (flag: string): string => `; allow it with ${flag}, or run berth with --policy privileged`;

function listFound<T>(items: readonly T[] | undefined, test: (item: T, i: number) => Found | null): Found[] {
  const out: Found[] = [];
  (items ?? []).forEach((item, i) => {
    const found = test(item, i);
    if (found) out.push(found);
  });
  return out;
}

/** The `container:NAME` namespace joins of a document, with their field paths. */
export function namespaceJoins(doc: BerthContainer): { path: FieldPath; name: string }[] {
  const joins: { path: FieldPath; name: string }[] = [];
  const s = doc.spec;
  if (s.network?.startsWith("container:")) joins.push({ path: ["spec", "network"], name: s.network.slice(10) });
  for (const [field] of NAMESPACE_FIELDS) {
    const mode = s[field];
    if (mode?.startsWith("container:")) joins.push({ path: ["spec", field], name: mode.slice(10) });
  }
  return joins;
}

export function joinMessage(name: string): string {
  return (
    `joins the namespace of container ${JSON.stringify(name)}, which is not a container of a berth spec; ` +
    "only containers berth manages may be joined (or run berth with --policy privileged)"
  );
}

function requestModes(body: EngineCreateBody): [string, string][] {
  const h = body.HostConfig;
  return [
    ["NetworkMode", h.NetworkMode],
    ["PidMode", h.PidMode ?? ""],
    ["IpcMode", h.IpcMode ?? ""],
    ["UTSMode", h.UTSMode ?? ""],
    ["UsernsMode", h.UsernsMode ?? ""],
  ];
}

// ---------------------------------------------------------------------------------------------
// The checks

export const CHECKS: readonly Check[] = [
  {
    id: "no-privileged",
    scope: "baseline",
    summary: "`securityContext.privileged` is refused: a privileged container has every device and capability.",
    spec: (doc) =>
      doc.spec.securityContext?.privileged === true
        ? [{ path: ["spec", "securityContext", "privileged"], message: "privileged containers are refused" }]
        : [],
    request: (b) => (b.HostConfig.Privileged === true ? ["Privileged is true"] : []),
  },
  {
    id: "no-host-namespaces",
    scope: "baseline",
    summary: "`network: host` and `pidMode`/`ipcMode`/`utsMode`/`usernsMode: host` are refused.",
    spec: (doc) => {
      const found: Found[] = [];
      if (doc.spec.network === "host")
        found.push({ path: ["spec", "network"], message: "the host's network namespace is refused" });
      for (const [field] of NAMESPACE_FIELDS) {
        if (doc.spec[field] === "host")
          found.push({ path: ["spec", field], message: `the host's ${field.slice(0, -4)} namespace is refused` });
      }
      return found;
    },
    request: (b) => requestModes(b).flatMap(([key, mode]) => (mode === "host" ? [`${key} is host`] : [])),
  },
  {
    id: "no-foreign-namespace-join",
    scope: "baseline",
    summary: "`container:NAME` modes may only join a container of a berth spec.",
    spec: (doc, _spec, _policy, ctx) =>
      ctx.ownsContainer === undefined
        ? []
        : namespaceJoins(doc)
            .filter((j) => !ctx.ownsContainer?.(j.name))
            .map((j) => ({ path: j.path, message: joinMessage(j.name) })),
    request: (b, _policy, ctx) =>
      requestModes(b).flatMap(([key, mode]) =>
        mode.startsWith("container:") && ctx.ownsContainer?.(mode.slice(10)) !== true
          ? [`${key} joins ${mode.slice(10)}, which berth does not own`]
          : [],
      ),
  },
  {
    id: "bind-forbidden",
    scope: "baseline",
    summary:
      "Bind mounts of `/`, `/etc`, `/proc`, `/sys`, `/var/lib/docker` and the Docker socket (or a folder holding them) are refused, whatever `--allow-bind` says, also through `..`, `//`, trailing slashes and symbolic links.",
    spec: (doc, _spec, policy, ctx) =>
      listFound(doc.spec.mounts, (m, i) => {
        if (m.type !== "bind") return null;
        const refusal = bindRefusal(m.source, policy, ctx);
        return refusal?.check === "bind-forbidden"
          ? { path: ["spec", "mounts", i, "source"], message: refusal.message }
          : null;
      }),
    request: (b, policy, ctx) =>
      bindSources(b).flatMap((source) =>
        bindRefusal(source, policy, ctx)?.check === "bind-forbidden" ? [`bind mount of ${source}`] : [],
      ),
  },
  {
    id: "bind-allowed-prefix",
    scope: "baseline",
    summary:
      "Bind mounts are refused unless their host path (resolved) lies under an `--allow-bind` prefix; none by default.",
    spec: (doc, _spec, policy, ctx) =>
      listFound(doc.spec.mounts, (m, i) => {
        if (m.type !== "bind") return null;
        const refusal = bindRefusal(m.source, policy, ctx);
        return refusal?.check === "bind-allowed-prefix"
          ? { path: ["spec", "mounts", i, "source"], message: refusal.message }
          : null;
      }),
    request: (b, policy, ctx) =>
      bindSources(b).flatMap((source) =>
        bindRefusal(source, policy, ctx)?.check === "bind-allowed-prefix"
          ? [`bind mount of ${source} outside the allowed prefixes`]
          : [],
      ),
  },
  {
    id: "default-capabilities",
    scope: "baseline",
    summary: "`capAdd` may only re-add capabilities of Docker's default set, and never `NET_RAW` or `ALL`.",
    spec: (doc) =>
      listFound(doc.spec.securityContext?.capAdd, (cap, i) => {
        const c = canonicalCapability(cap);
        if (DOCKER_DEFAULT_CAPS.has(c) && c !== "NET_RAW") return null;
        return {
          path: ["spec", "securityContext", "capAdd", i],
          message:
            c === "NET_RAW"
              ? "adding NET_RAW is refused (raw sockets allow spoofing on the container network)"
              : `${c} is not in Docker's default capability set (${[...DOCKER_DEFAULT_CAPS].filter((x) => x !== "NET_RAW").join(", ")})`,
        };
      }),
    request: (b) =>
      (b.HostConfig.CapAdd ?? [])
        .map(canonicalCapability)
        .filter((c) => !DOCKER_DEFAULT_CAPS.has(c) || c === "NET_RAW")
        .map((c) => `CapAdd ${c}`),
  },
  {
    id: "no-unconfined-seccomp",
    scope: "baseline",
    summary:
      "`seccompProfile: unconfined` is refused, and so is a custom profile file (it could allow everything); `default` is allowed.",
    spec: (doc) => {
      const profile = doc.spec.securityContext?.seccompProfile;
      if (profile === undefined || profile === "default") return [];
      return [
        {
          path: ["spec", "securityContext", "seccompProfile"],
          message:
            profile === "unconfined"
              ? "an unconfined seccomp profile is refused; remove the field to keep Docker's default profile"
              : "a custom seccomp profile file is refused (it may allow every system call); use default",
        },
      ];
    },
    request: (b) =>
      (b.HostConfig.SecurityOpt ?? [])
        .filter((o) => o.startsWith("seccomp="))
        .map((o) => `SecurityOpt ${o.slice(0, 40)}`),
  },
  {
    id: "no-unconfined-apparmor",
    scope: "baseline",
    summary: "`apparmorProfile: unconfined` is refused.",
    spec: (doc) =>
      doc.spec.securityContext?.apparmorProfile === "unconfined"
        ? [
            {
              path: ["spec", "securityContext", "apparmorProfile"],
              message: "an unconfined AppArmor profile is refused; remove the field to keep docker-default",
            },
          ]
        : [],
    request: (b) =>
      (b.HostConfig.SecurityOpt ?? []).filter((o) => o === "apparmor=unconfined").map((o) => `SecurityOpt ${o}`),
  },
  {
    id: "no-selinux-disable",
    scope: "baseline",
    summary: "SELinux `label=disable` and the unconfined types `spc_t` and `unconfined_t` are refused.",
    spec: (doc) =>
      listFound(doc.spec.securityContext?.selinuxOptions, (option, i) =>
        unconfinedLabel(option)
          ? {
              path: ["spec", "securityContext", "selinuxOptions", i],
              message: `SELinux option ${JSON.stringify(option)} turns confinement off and is refused`,
            }
          : null,
      ),
    request: (b) =>
      (b.HostConfig.SecurityOpt ?? [])
        .filter((o) => o.startsWith("label=") && unconfinedLabel(o.slice(6)))
        .map((o) => `SecurityOpt ${o}`),
  },
  {
    id: "no-devices",
    scope: "baseline",
    summary: "`devices` are refused.",
    spec: (doc) =>
      listFound(doc.spec.devices, (d, i) => ({
        path: ["spec", "devices", i, "hostPath"],
        message: `host device ${d.hostPath} is refused`,
      })),
    request: (b) => (b.HostConfig.Devices ?? []).map((d) => `device ${d.PathOnHost}`),
  },
  {
    id: "no-device-cgroup-rules",
    scope: "baseline",
    summary: "`deviceCgroupRules` are refused.",
    spec: (doc) =>
      listFound(doc.spec.deviceCgroupRules, (_rule, i) => ({
        path: ["spec", "deviceCgroupRules", i],
        message: "device cgroup rules are refused",
      })),
    request: (b) => (b.HostConfig.DeviceCgroupRules ?? []).map((r) => `device cgroup rule ${r}`),
  },
  {
    id: "safe-sysctls",
    scope: "baseline",
    summary: `\`sysctls\` outside the safe set (${[...SAFE_SYSCTLS].join(", ")}) are refused.`,
    spec: (doc) =>
      Object.keys(doc.spec.sysctls ?? {})
        .filter((key) => !SAFE_SYSCTLS.has(key))
        .map((key) => ({
          path: ["spec", "sysctls", key],
          message: `sysctl ${key} is not in the safe set (${[...SAFE_SYSCTLS].join(", ")})`,
        })),
    request: (b) =>
      Object.keys(b.HostConfig.Sysctls ?? {})
        .filter((key) => !SAFE_SYSCTLS.has(key))
        .map((key) => `sysctl ${key}`),
  },
  {
    id: "allowed-runtime",
    scope: "baseline",
    summary: "`runtime` must be on the `--allow-runtime` list (default: runc).",
    spec: (doc, _spec, policy) => {
      const runtime = doc.spec.runtime;
      if (runtime === undefined || policy.allowRuntimes.includes(runtime)) return [];
      return [
        {
          path: ["spec", "runtime"],
          message: `runtime ${runtime} is not allowed (allowed: ${policy.allowRuntimes.join(", ") || "none"})${widen("--allow-runtime")}`,
        },
      ];
    },
    request: (b, policy) =>
      b.HostConfig.Runtime !== undefined && !policy.allowRuntimes.includes(b.HostConfig.Runtime)
        ? [`Runtime ${b.HostConfig.Runtime}`]
        : [],
  },
  {
    id: "allowed-host-ports",
    scope: "baseline",
    summary: "A published `hostPort` must lie in `--allow-host-ports` (default 1024-65535: none below 1024).",
    spec: (doc, _spec, policy) =>
      listFound(doc.spec.ports, (p, i) =>
        p.hostPort !== undefined && !portAllowed(p.hostPort, policy)
          ? {
              path: ["spec", "ports", i, "hostPort"],
              message: `host port ${p.hostPort} is outside the allowed ports (${formatRanges(policy.allowHostPorts)})${widen("--allow-host-ports")}`,
            }
          : null,
      ),
    request: (b, policy) =>
      Object.values(b.HostConfig.PortBindings ?? {})
        .flat()
        .filter((binding) => !portAllowed(Number(binding.HostPort), policy))
        .map((binding) => `host port ${binding.HostPort}`),
  },
  {
    id: "allowed-host-ip",
    scope: "baseline",
    summary:
      "Ports are published on loopback unless `hostIP` is listed in `--allow-host-ip` (e.g. 0.0.0.0 for every interface).",
    spec: (doc, _spec, policy) =>
      listFound(doc.spec.ports, (p, i) =>
        p.hostPort !== undefined &&
        p.hostIP !== undefined &&
        !isLoopback(p.hostIP) &&
        !policy.allowHostIPs.includes(p.hostIP)
          ? {
              path: ["spec", "ports", i, "hostIP"],
              message: `publishing on ${p.hostIP} is refused (loopback only)${widen(`--allow-host-ip ${p.hostIP}`)}`,
            }
          : null,
      ),
    request: (b, policy) =>
      Object.values(b.HostConfig.PortBindings ?? {})
        .flat()
        .filter((binding) => !isLoopback(binding.HostIp) && !policy.allowHostIPs.includes(binding.HostIp))
        .map((binding) => `host address ${binding.HostIp}`),
  },
  {
    id: "secret-file-dirs",
    scope: "baseline",
    summary:
      "`secretEnv.*.fromFile` must lie (resolved) under an `--allow-secret-dir` folder (default /run/secrets). Checked again when the file is read.",
    spec: (doc, _spec, policy, ctx) =>
      Object.entries(doc.spec.secretEnv ?? {}).flatMap(([name, ref]) => {
        if (ref.fromFile === undefined) return [];
        const refusal = secretFileRefusal(ref.fromFile, policy, ctx);
        return refusal ? [{ path: ["spec", "secretEnv", name, "fromFile"], message: refusal }] : [];
      }),
  },
  {
    id: "no-berth-secrets",
    scope: "baseline",
    summary:
      "`secretEnv.*.fromHostEnv` may not read berth's own settings (variables starting with BERTH_, such as the API token).",
    spec: (doc) =>
      Object.entries(doc.spec.secretEnv ?? {}).flatMap(([name, ref]) =>
        ref.fromHostEnv?.startsWith("BERTH_")
          ? [
              {
                path: ["spec", "secretEnv", name, "fromHostEnv"],
                message: `${ref.fromHostEnv} is one of berth's own settings and is not handed to containers`,
              },
            ]
          : [],
      ),
  },
  {
    id: "run-as-non-root",
    scope: "restricted",
    summary: "`user` must be a numeric `UID:GID`, neither 0.",
    spec: (doc) => {
      const user = doc.spec.user;
      if (user !== undefined && nonRootUser(user)) return [];
      return [
        {
          path: user === undefined ? ["spec"] : ["spec", "user"],
          message:
            user === undefined
              ? 'spec.user is required: set a numeric non-root UID:GID (e.g. user: "1000:1000")'
              : `${JSON.stringify(user)} is not a numeric non-root UID:GID (e.g. "1000:1000")`,
        },
      ];
    },
    request: (b) => (b.User === undefined || !nonRootUser(b.User) ? [`User ${b.User ?? "(image default)"}`] : []),
  },
  {
    id: "no-new-privileges",
    scope: "restricted",
    summary: "`securityContext.noNewPrivileges` must be true.",
    spec: (doc) =>
      doc.spec.securityContext?.noNewPrivileges === true
        ? []
        : [
            {
              path: doc.spec.securityContext ? ["spec", "securityContext"] : ["spec"],
              message: "set securityContext.noNewPrivileges: true",
            },
          ],
    request: (b) => ((b.HostConfig.SecurityOpt ?? []).includes("no-new-privileges") ? [] : ["no no-new-privileges"]),
  },
  {
    id: "drop-all-capabilities",
    scope: "restricted",
    summary: "`securityContext.capDrop` must hold `ALL`, and `capAdd` at most `NET_BIND_SERVICE`.",
    spec: (doc) => {
      const sc = doc.spec.securityContext;
      const found: Found[] = [];
      if (!(sc?.capDrop ?? []).some((c) => canonicalCapability(c) === "ALL")) {
        found.push({
          path: sc?.capDrop ? ["spec", "securityContext", "capDrop"] : sc ? ["spec", "securityContext"] : ["spec"],
          message: "set securityContext.capDrop: [ALL]",
        });
      }
      found.push(
        ...listFound(sc?.capAdd, (cap, i) =>
          canonicalCapability(cap) === "NET_BIND_SERVICE"
            ? null
            : { path: ["spec", "securityContext", "capAdd", i], message: "only NET_BIND_SERVICE may be added back" },
        ),
      );
      return found;
    },
    request: (b) => [
      ...((b.HostConfig.CapDrop ?? []).map(canonicalCapability).includes("ALL") ? [] : ["CapDrop lacks ALL"]),
      ...(b.HostConfig.CapAdd ?? [])
        .map(canonicalCapability)
        .filter((c) => c !== "NET_BIND_SERVICE")
        .map((c) => `CapAdd ${c}`),
    ],
  },
  {
    id: "volume-mounts-only",
    scope: "restricted",
    summary: "Only `volume` and `tmpfs` mounts: no bind mounts, even under `--allow-bind`.",
    spec: (doc) =>
      listFound(doc.spec.mounts, (m, i) =>
        m.type === "bind"
          ? { path: ["spec", "mounts", i, "type"], message: "bind mounts are refused; use a volume or tmpfs mount" }
          : null,
      ),
    request: (b) => [
      ...(b.HostConfig.Binds ?? []).map((bind) => `bind ${bindSource(bind)}`),
      ...(b.HostConfig.Mounts ?? [])
        .filter((m) => m.Type !== "volume" && m.Type !== "tmpfs")
        .map((m) => `mount ${m.Type}`),
    ],
  },
  {
    id: "max-memory",
    scope: "limits",
    summary:
      "With `--max-memory`, `resources.memory` is required and at most that (also required by `--require-limits`).",
    spec: (_doc, spec, policy) =>
      ceiling(spec.resources.memoryBytes, policy.maxMemoryBytes, policy.requireLimits, "memory", formatBytes),
    request: (b, policy) => requestCeiling(b.HostConfig.Memory, policy.maxMemoryBytes, policy.requireLimits, "Memory"),
  },
  {
    id: "max-cpus",
    scope: "limits",
    summary: "With `--max-cpus`, `resources.cpus` is required and at most that.",
    spec: (_doc, spec, policy) =>
      ceiling(spec.resources.nanoCpus, policy.maxNanoCpus, false, "cpus", (n) => `${n / 1e9} CPUs`),
    request: (b, policy) => requestCeiling(b.HostConfig.NanoCpus, policy.maxNanoCpus, false, "NanoCpus"),
  },
  {
    id: "max-pids",
    scope: "limits",
    summary: "With `--max-pids`, `resources.pids` is required and at most that (also required by `--require-limits`).",
    spec: (_doc, spec, policy) => ceiling(spec.resources.pids, policy.maxPids, policy.requireLimits, "pids", String),
    request: (b, policy) => requestCeiling(b.HostConfig.PidsLimit, policy.maxPids, policy.requireLimits, "PidsLimit"),
  },
];

function bindSources(b: EngineCreateBody): string[] {
  return [
    ...(b.HostConfig.Binds ?? []).map(bindSource),
    ...(b.HostConfig.Mounts ?? []).filter((m) => m.Type !== "volume" && m.Type !== "tmpfs").map((m) => m.Source ?? ""),
  ];
}

function unconfinedLabel(option: string): boolean {
  return option === "disable" || option === "type:spc_t" || option === "type:unconfined_t";
}

function nonRootUser(user: string): boolean {
  const m = /^(\d+):(\d+)$/.exec(user);
  return m !== null && Number(m[1]) !== 0 && Number(m[2]) !== 0;
}

function secretFileRefusal(file: string, policy: Policy, ctx: PolicyContext): string | null {
  const lexical = lexicalPath(file);
  const resolved = lexicalPath(ctx.realpath(lexical));
  const dirs = policy.allowSecretDirs.map((d) => lexicalPath(ctx.realpath(lexicalPath(d))));
  if (dirs.some((d) => isWithin(resolved, d) && resolved !== d)) return null;
  const shown = resolved === lexical ? file : `${file} (resolves to ${resolved})`;
  return `${shown} is not under an allowed secret folder (${policy.allowSecretDirs.join(", ") || "none"})${widen("--allow-secret-dir")}`;
}

/** Checks a secret file path at read time (resolved), under the policy; null when allowed. */
export function secretFileAllowed(file: string, policy: Policy, ctx: PolicyContext): string | null {
  return policy.profile === "privileged" ? null : secretFileRefusal(file, policy, ctx);
}

function ceiling(
  value: number | null,
  max: number | null,
  required: boolean,
  field: "memory" | "cpus" | "pids",
  show: (n: number) => string,
): Found[] {
  const path: FieldPath = ["spec", "resources", field];
  if (value === null) {
    if (max === null && !required) return [];
    return [
      {
        path: ["spec"],
        message: `spec.resources.${field} is required${max !== null ? ` (at most ${show(max)})` : ""}`,
      },
    ];
  }
  if (max !== null && value > max) return [{ path, message: `${show(value)} is above the limit of ${show(max)}` }];
  return [];
}

function requestCeiling(value: number | undefined, max: number | null, required: boolean, key: string): string[] {
  if (value === undefined || value <= 0) return max !== null || required ? [`no ${key}`] : [];
  return max !== null && value > max ? [`${key} ${value} above ${max}`] : [];
}

function applies(scope: Scope, profile: Profile): boolean {
  if (scope === "limits") return true;
  if (profile === "privileged") return false;
  return scope === "baseline" || profile === "restricted";
}

function policyWord(check: Check, policy: Policy): string {
  return check.scope === "limits" ? "the resource limits" : `policy ${policy.profile}`;
}

/** The violations of a spec document under a policy, each with its field path. */
export function checkSpec(
  doc: BerthContainer,
  spec: NormalizedSpec,
  policy: Policy,
  ctx: PolicyContext = LEXICAL_CONTEXT,
): Violation[] {
  const out: Violation[] = [];
  for (const check of CHECKS) {
    if (!applies(check.scope, policy.profile)) continue;
    for (const f of check.spec(doc, spec, policy, ctx)) {
      out.push({ check: check.id, path: f.path, message: `${f.message} [${policyWord(check, policy)}: ${check.id}]` });
    }
  }
  return out;
}

/** The violations of an Engine API create body: `check-id: what` lines; empty when acceptable. */
export function checkRequest(body: EngineCreateBody, policy: Policy, ctx: PolicyContext = LEXICAL_CONTEXT): string[] {
  const out: string[] = [];
  for (const check of CHECKS) {
    if (!applies(check.scope, policy.profile) || !check.request) continue;
    for (const what of check.request(body, policy, ctx)) out.push(`${check.id}: ${what}`);
  }
  return out;
}

/** One line for the start-up log. */
export function describePolicy(policy: Policy): Record<string, unknown> {
  return {
    profile: policy.profile,
    allowBind: policy.allowBind,
    allowHostPorts: formatRanges(policy.allowHostPorts),
    allowHostIPs: policy.allowHostIPs,
    allowRuntimes: policy.allowRuntimes,
    allowSecretDirs: policy.allowSecretDirs,
    ...(policy.maxMemoryBytes !== null ? { maxMemory: formatBytes(policy.maxMemoryBytes) } : {}),
    ...(policy.maxNanoCpus !== null ? { maxCpus: policy.maxNanoCpus / 1e9 } : {}),
    ...(policy.maxPids !== null ? { maxPids: policy.maxPids } : {}),
    requireLimits: policy.requireLimits,
  };
}
