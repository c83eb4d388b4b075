/** fast-check generators of valid spec documents, and helpers to re-render them. */
import fc from "fast-check";
import { stringify } from "yaml";

export type Doc = {
  apiVersion: "berth/v1";
  kind: "Container";
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
};

const dnsLabel = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}$/);
const safeText = fc.string({ maxLength: 20 });
const absPath = fc
  .array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 4 })
  .map((p) => `/${p.join("/")}`);

/** A memory size in MiB, at least Docker's 6 MiB minimum. */
export const mebibytes = fc.integer({ min: 6, max: 1 << 16 });

export const specArb: fc.Arbitrary<Doc> = fc
  .record(
    {
      name: dnsLabel,
      labels: fc.dictionary(fc.stringMatching(/^com\.example\.[a-z]{1,8}$/), safeText, { maxKeys: 3 }),
      image: fc.constantFrom("busybox:latest", "alpine:3.20", "registry.example.com:5000/team/agent:1.4"),
      command: fc.array(safeText, { minLength: 1, maxLength: 4 }),
      env: fc.dictionary(envName, safeText, { maxKeys: 4 }),
      workingDir: absPath,
      user: fc.constantFrom("1000:1000", "nobody", "0"),
      memoryMi: mebibytes,
      millicpus: fc.integer({ min: 1, max: 64_000 }),
      pids: fc.integer({ min: 1, max: 100_000 }),
      restartPolicy: fc.constantFrom("Always", "OnFailure", "Never"),
      mounts: fc.uniqueArray(
        fc.record({ type: fc.constant("volume"), source: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), target: absPath }),
        { maxLength: 3, selector: (m) => m.target },
      ),
      replicas: fc.integer({ min: 0, max: 5 }),
      suspended: fc.boolean(),
      expiresAt: fc.constantFrom("never", "2026-01-26T00:00:00Z", "2030-06-01T12:30:00+02:00"),
      stopTimeoutS: fc.integer({ min: 1, max: 600 }),
      stopSignal: fc.constantFrom("SIGQUIT", "SIGINT", "9"),
      shmMi: fc.integer({ min: 1, max: 4096 }),
      hostAliases: fc.array(
        fc.record({
          ip: fc.constantFrom("10.0.0.5", "::1", "host-gateway"),
          hostnames: fc.array(dnsLabel, { minLength: 1, maxLength: 3 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      nameservers: fc.array(fc.constantFrom("10.0.0.2", "1.1.1.1", "fd00::53"), { minLength: 1, maxLength: 3 }),
      logOptions: fc.dictionary(
        fc.constantFrom("max-size", "max-file", "compress"),
        fc.constantFrom("10m", "3", "true"),
      ),
    },
    { requiredKeys: ["name", "image"] },
  )
  .map((r) => {
    const spec: Record<string, unknown> = { image: r.image };
    if (r.command) spec.command = r.command;
    if (r.env) spec.env = r.env;
    if (r.workingDir) spec.workingDir = r.workingDir;
    if (r.user) spec.user = r.user;
    const resources: Record<string, unknown> = {};
    if (r.memoryMi !== undefined) resources.memory = `${r.memoryMi}Mi`;
    if (r.millicpus !== undefined) resources.cpus = `${r.millicpus}m`;
    if (r.pids !== undefined) resources.pids = r.pids;
    if (Object.keys(resources).length > 0) spec.resources = resources;
    if (r.restartPolicy) spec.restartPolicy = r.restartPolicy;
    if (r.mounts) spec.mounts = r.mounts;
    if (r.replicas !== undefined) spec.replicas = r.replicas;
    if (r.suspended !== undefined) spec.suspended = r.suspended;
    if (r.expiresAt) spec.expiresAt = r.expiresAt;
    if (r.stopTimeoutS !== undefined) spec.stopTimeout = `${r.stopTimeoutS}s`;
    if (r.stopSignal !== undefined) spec.stopSignal = r.stopSignal;
    if (r.shmMi !== undefined) spec.shmSize = `${r.shmMi}Mi`;
    if (r.hostAliases) spec.hostAliases = r.hostAliases;
    if (r.nameservers) spec.dnsConfig = { nameservers: r.nameservers, options: [{ name: "ndots", value: "2" }] };
    if (r.logOptions) spec.logging = { driver: "json-file", options: r.logOptions };
    const metadata: Doc["metadata"] = { name: r.name };
    if (r.labels) metadata.labels = r.labels;
    return { apiVersion: "berth/v1" as const, kind: "Container" as const, metadata, spec };
  });

/** A deterministic shuffle of every mapping's keys (arrays keep their order). */
export function shuffleKeys(value: unknown, seed: number): unknown {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = walk((v as Record<string, unknown>)[k]);
    return out;
  };
  return walk(value);
}

export function toYaml(doc: unknown): string {
  return stringify(doc, { lineWidth: 0 });
}

/** Present now and then: a risky field is absent three times in four. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const BIND_SOURCES = [
  "/srv/data",
  "/srv/data/",
  "/srv/data/x",
  "/srv/data//y",
  "/srv/data/../data/z",
  "/srv/data/../../etc",
  "/srv/data-other",
  "//etc",
  "/etc/",
  "/var/run/docker.sock",
  "/run",
  "/var",
  "/var/lib/docker/volumes",
  "/proc/1",
  "/home/u",
];

/**
 * Spec documents that ask for things of the host: privileges, namespaces, bind mounts (with path
 * tricks), capabilities, security options, devices, sysctls, runtimes, ports, secrets, limits, ulimits.
 * Many are refused by a policy; many are not.
 */
export const riskySpecArb: fc.Arbitrary<Doc> = fc
  .record({
    base: specArb,
    privileged: sometimes(fc.boolean()),
    capAdd: sometimes(
      fc.uniqueArray(
        fc.constantFrom("CHOWN", "cap_kill", "NET_RAW", "SYS_ADMIN", "net_bind_service", "ALL", "SYS_PTRACE"),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
    ),
    capDrop: sometimes(fc.uniqueArray(fc.constantFrom("ALL", "CHOWN", "NET_RAW"), { minLength: 1, maxLength: 2 })),
    noNewPrivileges: sometimes(fc.boolean()),
    seccompProfile: sometimes(fc.constantFrom("default", "unconfined", "/etc/berth/seccomp.json")),
    apparmorProfile: sometimes(fc.constantFrom("docker-default", "unconfined")),
    selinuxOptions: sometimes(
      fc.uniqueArray(fc.constantFrom("disable", "type:spc_t", "level:s0:c1,c2", "type:container_t"), {
        minLength: 1,
        maxLength: 2,
      }),
    ),
    network: sometimes(fc.constantFrom("bridge", "host", "none", "auto", "mynet", "container:peer", "container:other")),
    pidMode: sometimes(fc.constantFrom("host", "private", "container:peer", "container:other")),
    ipcMode: sometimes(fc.constantFrom("host", "private", "shareable", "container:peer")),
    utsMode: sometimes(fc.constantFrom("host", "private")),
    usernsMode: sometimes(fc.constantFrom("host", "private")),
    binds: sometimes(
      fc.uniqueArray(
        fc.record({ source: fc.constantFrom(...BIND_SOURCES), target: fc.constantFrom("/a", "/b", "/c") }),
        { minLength: 1, maxLength: 2, selector: (m) => m.target },
      ),
    ),
    ports: sometimes(
      fc.uniqueArray(
        fc.record({
          containerPort: fc.constantFrom(80, 443, 8080),
          hostPort: fc.constantFrom(80, 443, 1023, 1024, 8080, 65535),
          hostIP: fc.constantFrom(undefined, "127.0.0.1", "::1", "0.0.0.0", "::", "192.168.1.5"),
        }),
        { minLength: 1, maxLength: 2, selector: (p) => `${p.hostIP ?? ""}:${p.hostPort}` },
      ),
    ),
    devices: sometimes(fc.constant([{ hostPath: "/dev/fuse" }])),
    deviceCgroupRules: sometimes(fc.constant(["c 10:229 rwm"])),
    sysctls: sometimes(
      fc.dictionary(
        fc.constantFrom("net.ipv4.tcp_syncookies", "kernel.msgmax", "net.ipv4.ip_forward"),
        fc.constant("1"),
        {
          minKeys: 1,
          maxKeys: 2,
        },
      ),
    ),
    runtime: sometimes(fc.constantFrom("runc", "runsc", "nvidia")),
    logging: sometimes(fc.record({ driver: fc.constantFrom("json-file", "local", "none", "syslog", "gelf") })),
    user: sometimes(fc.constantFrom("0", "0:0", "1000", "1000:1000", "1000:0", "nobody")),
    secretFile: sometimes(fc.constantFrom("/run/secrets/token", "/run/secrets/../../etc/shadow", "/etc/shadow")),
    secretEnv: sometimes(fc.constantFrom("AGENT_TOKEN", "BERTH_API_TOKEN")),
    dropResources: fc.boolean(),
    ulimits: sometimes(
      fc.dictionary(
        fc.constantFrom("nofile", "memlock", "nice", "rtprio", "nproc"),
        fc.constantFrom(0, 1, 20, 21, 1024, 1_048_576, 2_097_152, 67_108_864, 268_435_456),
        { minKeys: 1, maxKeys: 3 },
      ),
    ),
  })
  .map((r) => {
    const spec: Record<string, unknown> = { ...r.base.spec };
    if (r.dropResources) delete spec.resources;
    // The base may bring volume mounts; keep targets unique.
    const mounts = ((spec.mounts as { target: string }[] | undefined) ?? []).filter(
      (m) => !(r.binds ?? []).some((b) => b.target === m.target),
    );
    if (r.binds) mounts.push(...r.binds.map((b) => ({ type: "bind", ...b })));
    if (mounts.length > 0) spec.mounts = mounts;
    const sc: Record<string, unknown> = {};
    for (const key of [
      "privileged",
      "capAdd",
      "capDrop",
      "noNewPrivileges",
      "seccompProfile",
      "apparmorProfile",
      "selinuxOptions",
    ] as const) {
      if (r[key] !== undefined) sc[key] = r[key];
    }
    if (Object.keys(sc).length > 0) spec.securityContext = sc;
    for (const key of [
      "network",
      "pidMode",
      "ipcMode",
      "utsMode",
      "usernsMode",
      "devices",
      "deviceCgroupRules",
      "sysctls",
      "runtime",
      "user",
      "ulimits",
      "logging",
    ] as const) {
      if (r[key] !== undefined) spec[key] = r[key];
      else if (key === "user") delete spec.user;
    }
    if (r.ports)
      spec.ports = r.ports.map((p) =>
        p.hostIP === undefined ? { containerPort: p.containerPort, hostPort: p.hostPort } : p,
      );
    const secrets: Record<string, unknown> = {};
    if (r.secretFile) secrets.FILE_SECRET = { fromFile: r.secretFile };
    if (r.secretEnv) secrets.ENV_SECRET = { fromHostEnv: r.secretEnv };
    if (Object.keys(secrets).length > 0) {
      spec.secretEnv = secrets;
      const env = { ...(spec.env as Record<string, string> | undefined) };
      delete env.FILE_SECRET;
      delete env.ENV_SECRET;
      spec.env = env;
    }
    return { ...r.base, spec };
  });
