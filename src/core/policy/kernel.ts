/** Checks on what a container may ask of the kernel: capabilities, confinement, devices, sysctls, runtime. */
import { canonicalCapability } from "../spec.js";
import { type Check, listFound, widen } from "./check.js";

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

/**
 * The SELinux label options a spec may set: only the container types Kubernetes' baseline allows.
 * An allow-list: `disable`, `user:`, `role:`, `level:` and every other type (spc_t, unconfined_t,
 * container_runtime_t, unconfined_service_t, …) are refused, whatever new type a policy adds.
 */
export const ALLOWED_SELINUX_OPTIONS = new Set(["type:container_t", "type:container_init_t", "type:container_kvm_t"]);

function selinuxAllowed(option: string): boolean {
  return ALLOWED_SELINUX_OPTIONS.has(option);
}

/** Docker reads `label=…` and, in its older spelling, `label:…`. */
function labelOption(securityOpt: string): string | null {
  return /^label[=:]/.test(securityOpt) ? securityOpt.slice(6) : null;
}

export const KERNEL_CHECKS: readonly Check[] = [
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
    id: "selinux-allowed-types",
    scope: "baseline",
    summary:
      "SELinux options other than `type:container_t`, `type:container_init_t` and `type:container_kvm_t` are refused, as by Kubernetes' baseline: `disable`, `user:`, `role:`, `level:` and every other type (`spc_t`, `unconfined_t`, `container_runtime_t`, …).",
    spec: (doc) =>
      listFound(doc.spec.securityContext?.selinuxOptions, (option, i) =>
        selinuxAllowed(option)
          ? null
          : {
              path: ["spec", "securityContext", "selinuxOptions", i],
              message: `SELinux option ${JSON.stringify(option.slice(0, 64))} is refused; only ${[...ALLOWED_SELINUX_OPTIONS].join(", ")} may be set`,
            },
      ),
    request: (b) =>
      (b.HostConfig.SecurityOpt ?? []).flatMap((o) => {
        const option = labelOption(o);
        return option !== null && !selinuxAllowed(option) ? [`SecurityOpt ${o.slice(0, 70)}`] : [];
      }),
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
    id: "allowed-log-driver",
    scope: "baseline",
    summary:
      "`logging.driver` must be on the `--allow-log-driver` list (default: json-file, local, journald and none, which keep a container's output on this host); a driver that sends it elsewhere (syslog, gelf, fluentd, …) would carry it past `network: none`.",
    spec: (doc, _spec, policy) => {
      const driver = doc.spec.logging?.driver;
      if (driver === undefined || policy.allowLogDrivers.includes(driver)) return [];
      return [
        {
          path: ["spec", "logging", "driver"],
          message: `log driver ${driver} is not allowed (allowed: ${policy.allowLogDrivers.join(", ") || "none"})${widen(`--allow-log-driver ${driver}`)}`,
        },
      ];
    },
    request: (b, policy) => {
      const driver = b.HostConfig.LogConfig?.Type;
      return driver !== undefined && !policy.allowLogDrivers.includes(driver) ? [`log driver ${driver}`] : [];
    },
  },
];
