/**
 * Normalization: a schema-valid document → the canonical NormalizedSpec berth works with.
 * Units become bytes, nano-CPUs and milliseconds; absent fields take their defaults; lists whose
 * order carries no meaning (mounts, ports, capabilities) are sorted. Checks that the schema cannot
 * express (a reservation above its limit, two mounts on one target) are made here.
 */
import { builtImage, normalizeBuild, UNBUILT_TAG } from "./build.js";
import type { BerthContainer } from "./document.gen.js";
import type { ErrorCode } from "./errors.js";
import { isReservedLabel } from "./labels.js";
import {
  canonicalCapability,
  DEFAULTS,
  type FieldPath,
  MIN_MEMORY_BYTES,
  type NormalizedHealthcheck,
  type NormalizedMount,
  type NormalizedPort,
  type NormalizedPool,
  type NormalizedSpec,
  type NormalizedUlimit,
  type SecretSource,
  AUTO_HOST_PORT,
  type UlimitName,
  type UpdateStrategy,
} from "./spec.js";
import { isParseError, parseBytes, parseDurationMs, parseExpiresAt, parseNanoCpus } from "./units.js";

/** A problem found while normalizing, at a field of the document. */
export interface FieldIssue {
  readonly code: ErrorCode;
  readonly path: FieldPath;
  readonly message: string;
  /** Point at the key rather than the value (for problems with the key itself). */
  readonly atKey?: boolean;
}

export interface NormalizeOptions {
  readonly labelPrefix: string;
  /**
   * The spec file's path relative to its spec root, `/`-separated: a build context must stay inside
   * that root. Default: a file at the root.
   */
  readonly source?: string;
}

export type NormalizeResult =
  { readonly ok: true; readonly spec: NormalizedSpec } | { readonly ok: false; readonly issues: readonly FieldIssue[] };

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts unpublished ports first, then auto ones, then by number. */
function portOrder(hostPort: NormalizedPort["hostPort"]): number {
  return hostPort === null ? -1 : hostPort === AUTO_HOST_PORT ? 0 : hostPort;
}

/** A problem for each metadata label key under berth's reserved prefix. */
export function reservedLabelIssues(labels: Readonly<Record<string, string>>, prefix: string): FieldIssue[] {
  return Object.keys(labels)
    .filter((key) => isReservedLabel(key, prefix))
    .map((key) => ({
      code: "BERTH_RESERVED_LABEL" as const,
      path: ["metadata", "labels", key],
      atKey: true,
      message: `label keys under "${prefix}." are reserved for berth; use your own prefix (e.g. com.example.${key.slice(prefix.length + 1, prefix.length + 41) || "key"})`,
    }));
}

/** Normalizes a document that already passed the schema. */
export function normalize(doc: BerthContainer, options: NormalizeOptions): NormalizeResult {
  const issues: FieldIssue[] = [];
  const s = doc.spec;

  const labels: Record<string, string> = { ...(doc.metadata.labels ?? {}) };
  issues.push(...reservedLabelIssues(labels, options.labelPrefix));

  const value = <T>(path: FieldPath, parsed: T | { readonly error: string }): T | null => {
    if (typeof parsed === "object" && parsed !== null && "error" in parsed) {
      issues.push({ code: "BERTH_SCHEMA", path, message: parsed.error });
      return null;
    }
    return parsed;
  };

  const bytes = (path: FieldPath, v: string | number | undefined): number | null => {
    if (v === undefined) return null;
    const parsed = parseBytes(v);
    return isParseError(parsed) ? value<number>(path, parsed) : parsed;
  };
  const duration = (path: FieldPath, v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    return value(path, parseDurationMs(v)) ?? fallback;
  };

  // Environment and secrets.
  const env = { ...(s.env ?? {}) };
  const secretEnv: Record<string, SecretSource> = {};
  for (const [name, ref] of Object.entries(s.secretEnv ?? {})) {
    if (name in env) {
      issues.push({
        code: "BERTH_VALUE",
        path: ["spec", "secretEnv", name],
        atKey: true,
        message: `${name} is also set in spec.env; keep it in one of the two`,
      });
    }
    secretEnv[name] =
      ref.fromHostEnv !== undefined
        ? { kind: "hostEnv", name: ref.fromHostEnv }
        : { kind: "file", path: ref.fromFile ?? "" };
  }

  // Mounts, sorted by target; two mounts on one target are refused.
  const mounts: NormalizedMount[] = [];
  const targets = new Map<string, number>();
  (s.mounts ?? []).forEach((m, i) => {
    const target = m.target.length > 1 ? m.target.replace(/\/+$/, "") : m.target;
    const first = targets.get(target);
    if (first !== undefined) {
      issues.push({
        code: "BERTH_VALUE",
        path: ["spec", "mounts", i, "target"],
        message: `${JSON.stringify(m.target)} is already the target of spec.mounts[${first}]`,
      });
    }
    targets.set(target, i);
    if (m.type === "bind") {
      // The create body's Binds form is `source:target[:options]`: a ':' or ',' in either would
      // smuggle options in (`/m:z` relabels the host folder; `/m:rshared` shares mounts back).
      for (const field of ["source", "target"] as const) {
        if (/[:,]/.test(m[field])) {
          issues.push({
            code: "BERTH_VALUE",
            path: ["spec", "mounts", i, field],
            message: `${JSON.stringify(m[field])} holds ':' or ','; Docker would read what follows as bind mount options`,
          });
        }
      }
    }
    if (m.type === "tmpfs") {
      mounts.push({
        type: "tmpfs",
        target,
        sizeBytes: bytes(["spec", "mounts", i, "size"], m.size),
        mode: m.mode ?? null,
      });
    } else if (m.type === "bind") {
      mounts.push({ type: m.type, source: m.source, target, readOnly: m.readOnly ?? false });
    } else {
      const perInstance = m.perInstance ?? false;
      if (m.reclaimPolicy !== undefined && !perInstance) {
        issues.push({
          code: "BERTH_VALUE",
          path: ["spec", "mounts", i, "reclaimPolicy"],
          message:
            "reclaimPolicy applies only to a per-instance volume; add perInstance: true, or drop reclaimPolicy (a shared volume is never removed by berth)",
        });
      }
      mounts.push({
        type: m.type,
        source: m.source,
        target,
        readOnly: m.readOnly ?? false,
        perInstance,
        reclaimPolicy: m.reclaimPolicy ?? DEFAULTS.reclaimPolicy,
      });
    }
  });
  mounts.sort((a, b) => compareStrings(a.target, b.target));

  // Network and ports.
  const network = s.network ?? DEFAULTS.network;
  const ports: NormalizedPort[] = [];
  const published = new Map<string, number>();
  const exposed = new Map<string, number>();
  const autoPublished = new Map<string, number>();
  (s.ports ?? []).forEach((p, i) => {
    const protocol = p.protocol ?? "tcp";
    // The schema admits an integer or the string "auto" (its pattern).
    const hostPort = p.hostPort === undefined ? null : typeof p.hostPort === "number" ? p.hostPort : AUTO_HOST_PORT;
    if (hostPort === null && p.hostIP !== undefined) {
      issues.push({
        code: "BERTH_VALUE",
        path: ["spec", "ports", i, "hostIP"],
        message: "hostIP has no effect without hostPort; set hostPort to publish the port",
      });
    }
    const hostIP = hostPort === null ? null : (p.hostIP ?? DEFAULTS.hostIP);
    const exposeKey = `${p.containerPort}/${protocol}`;
    const sameExposed = exposed.get(exposeKey);
    if (hostPort === null && sameExposed !== undefined) {
      issues.push({
        code: "BERTH_VALUE",
        path: ["spec", "ports", i],
        message: `${exposeKey} is already listed at spec.ports[${sameExposed}]`,
      });
    }
    exposed.set(exposeKey, i);
    if (hostPort === AUTO_HOST_PORT) {
      // Two auto ports of one container port would publish it twice, on two allocated ports.
      const key = `${hostIP}:auto:${exposeKey}`;
      const first = autoPublished.get(key);
      if (first !== undefined) {
        issues.push({
          code: "BERTH_VALUE",
          path: ["spec", "ports", i, "hostPort"],
          message: `${exposeKey} is already published on an auto port by spec.ports[${first}]`,
        });
      }
      autoPublished.set(key, i);
    } else if (hostPort !== null) {
      const key = `${hostIP}:${hostPort}/${protocol}`;
      const first = published.get(key);
      if (first !== undefined) {
        issues.push({
          code: "BERTH_VALUE",
          path: ["spec", "ports", i, "hostPort"],
          message: `host port ${key} is already published by spec.ports[${first}]`,
        });
      }
      published.set(key, i);
    }
    ports.push({ containerPort: p.containerPort, protocol, hostPort, hostIP, mode: p.mode ?? null });
  });
  ports.sort(
    (a, b) =>
      a.containerPort - b.containerPort ||
      compareStrings(a.protocol, b.protocol) ||
      compareStrings(a.hostIP ?? "", b.hostIP ?? "") ||
      portOrder(a.hostPort) - portOrder(b.hostPort),
  );
  if (ports.length > 0 && (network === "none" || network === "host" || network.startsWith("container:"))) {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "ports"],
      message: `ports cannot be used with network ${JSON.stringify(network)}: the container has no network of its own`,
    });
  }
  const extraNetworks = s.extraNetworks ?? [];
  extraNetworks.forEach((n, i) => {
    const at = ["spec", "extraNetworks", i];
    const first = extraNetworks.indexOf(n);
    if (network === "none" || network === "host" || network.startsWith("container:")) {
      if (i === 0)
        issues.push({
          code: "BERTH_VALUE",
          path: ["spec", "extraNetworks"],
          message: `extraNetworks cannot be used with network ${JSON.stringify(network)}: use a user-defined network or bridge as network`,
        });
    } else if (n === "bridge" || n === "none" || n === "host" || n === "auto") {
      issues.push({
        code: "BERTH_VALUE",
        path: at,
        message: `${n} is not a user-defined network: list networks made with a name`,
      });
    } else if (n === network) {
      issues.push({ code: "BERTH_VALUE", path: at, message: `${n} is the primary network already (spec.network)` });
    } else if (first !== i) {
      issues.push({ code: "BERTH_VALUE", path: at, message: `${n} is already listed at spec.extraNetworks[${first}]` });
    }
  });
  const replicas = s.pool ? s.pool.size : (s.replicas ?? DEFAULTS.replicas);
  if (s.pool && published.size > 0) {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "ports"],
      message:
        "a pool's members cannot all publish the same host port: a claimed member and its refill run side by side; use hostPort: auto (each member gets its own) or drop hostPort",
    });
  }
  // Replicas publishing one host port: refused for this host's engine only (core/swarm-fields.ts);
  // Swarm's routing mesh spreads one published port over a service's tasks.

  const pool = normalizePool(s, issues);

  // Resources.
  const r = s.resources ?? {};
  const nanoCpus = r.cpus === undefined ? null : value(["spec", "resources", "cpus"], parseNanoCpus(r.cpus));
  const memoryBytes = bytes(["spec", "resources", "memory"], r.memory);
  const memoryReservationBytes = bytes(["spec", "resources", "memoryReservation"], r.memoryReservation);
  if (memoryBytes !== null && memoryBytes < MIN_MEMORY_BYTES) {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "resources", "memory"],
      message: `${JSON.stringify(r.memory)} is below Docker's minimum of 6Mi`,
    });
  }
  if (memoryBytes !== null && memoryReservationBytes !== null && memoryReservationBytes > memoryBytes) {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "resources", "memoryReservation"],
      message: `${JSON.stringify(r.memoryReservation)} is above the memory limit ${JSON.stringify(r.memory)}; a reservation must not exceed the limit`,
    });
  }

  // Healthcheck.
  let healthcheck: NormalizedHealthcheck | null = null;
  if (s.healthcheck) {
    const h = s.healthcheck;
    const d = DEFAULTS.healthcheck;
    healthcheck = {
      command: [...h.command],
      intervalMs: duration(["spec", "healthcheck", "interval"], h.interval, d.intervalMs),
      timeoutMs: duration(["spec", "healthcheck", "timeout"], h.timeout, d.timeoutMs),
      retries: h.retries ?? d.retries,
      startPeriodMs: duration(["spec", "healthcheck", "startPeriod"], h.startPeriod, d.startPeriodMs),
    };
    const prefixed = dockerTestForm(h.command);
    if (prefixed !== null)
      issues.push({ code: "BERTH_VALUE", path: ["spec", "healthcheck", "command", 0], message: prefixed });
    for (const field of ["interval", "timeout"] as const) {
      const ms = field === "interval" ? healthcheck.intervalMs : healthcheck.timeoutMs;
      if (ms < 1) {
        issues.push({
          code: "BERTH_VALUE",
          path: ["spec", "healthcheck", field],
          message: `must be at least 1ms (Docker's minimum)`,
        });
      }
    }
  }

  // Expiry and stop timeout.
  const expiresAt = s.expiresAt === undefined ? null : value(["spec", "expiresAt"], parseExpiresAt(s.expiresAt));
  const stopTimeoutMs = duration(["spec", "stopTimeout"], s.stopTimeout, DEFAULTS.stopTimeoutMs);
  const stableForMs = s.stableFor === undefined ? null : duration(["spec", "stableFor"], s.stableFor, 0) || null;
  if (stableForMs !== null && (s.restartPolicy ?? DEFAULTS.restartPolicy) !== "Always") {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "stableFor"],
      message: `stableFor is for containers that keep running (restartPolicy Always); a run's (${s.restartPolicy ?? ""}) is meant to exit`,
    });
  }

  if (s.updatePartition !== undefined) {
    const why =
      (s.restartPolicy ?? DEFAULTS.restartPolicy) !== "Always"
        ? `a run (restartPolicy ${s.restartPolicy ?? ""}) is made again whole, not rolled replica by replica`
        : s.pool !== undefined
          ? "a pool's members are interchangeable: each refill is made at the spec's version"
          : null;
    if (why !== null)
      issues.push({
        code: "BERTH_VALUE",
        path: ["spec", "updatePartition"],
        message: `updatePartition is for replicas that keep running: ${why}`,
      });
  }

  const ulimits = normalizeUlimits(s.ulimits ?? {}, issues);
  const dependsOn = (s.dependsOn ?? []).map((d) => ({ name: d.name, condition: d.condition ?? "Started" }));
  dependsOn.forEach((d, i) => {
    if (d.name === doc.metadata.name)
      issues.push({
        code: "BERTH_VALUE",
        path: ["spec", "dependsOn", i, "name"],
        message: "a spec cannot depend on itself",
      });
    const first = dependsOn.findIndex((e) => e.name === d.name);
    if (first < i)
      issues.push({
        code: "BERTH_VALUE",
        path: ["spec", "dependsOn", i, "name"],
        message: `${d.name} is already spec.dependsOn[${first}]`,
      });
  });
  const shmSizeBytes = bytes(["spec", "shmSize"], s.shmSize);
  const shmMount = mounts.findIndex((m) => m.target === "/dev/shm");
  if (shmSizeBytes !== null && shmMount >= 0) {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "shmSize"],
      message: `spec.mounts[${shmMount}] already mounts /dev/shm: set its size there, or drop the mount`,
    });
  }
  // Runs that finish (docs/runs.md): their fields mean nothing to a container that always runs.
  const restartPolicy = s.restartPolicy ?? DEFAULTS.restartPolicy;
  const runField = (field: "activeDeadline" | "ttlAfterFinished"): number | null => {
    const v = s[field];
    if (v === undefined) return null;
    if (restartPolicy === "Always") {
      issues.push({
        code: "BERTH_VALUE",
        path: ["spec", field],
        message: `applies only to runs that finish: set restartPolicy: Never or OnFailure (restartPolicy is ${restartPolicy}${s.restartPolicy === undefined ? ", the default" : ""})`,
      });
    }
    return value(["spec", field], parseDurationMs(v));
  };
  const activeDeadlineMs = runField("activeDeadline");
  const ttlAfterFinishedMs = runField("ttlAfterFinished");
  if (s.backoffLimit !== undefined && restartPolicy !== "OnFailure") {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "backoffLimit"],
      message: `applies only to restartPolicy: OnFailure (restartPolicy is ${restartPolicy}${s.restartPolicy === undefined ? ", the default" : ""})`,
    });
  }

  const sc = s.securityContext ?? {};
  // Two containers cannot bind one host port, and must not write one per-instance volume at once.
  const ownsVolume = mounts.some((m) => m.type === "volume" && m.perInstance);
  // An auto port is kept across a StopFirst replacement; a StartFirst one, asked for in so many
  // words, takes a second port while both containers run (docs/ports.md).
  const autoStopFirst = autoPublished.size > 0 && s.updateStrategy !== "StartFirst";
  const updateStrategy: UpdateStrategy =
    published.size > 0 || ownsVolume || autoStopFirst ? "StopFirst" : (s.updateStrategy ?? DEFAULTS.updateStrategy);

  const built = normalizeBuild(s, options.source ?? ".");
  for (const issue of built.issues) {
    issues.push({ code: "BERTH_VALUE", path: ["spec", ...issue.path], message: issue.message, atKey: issue.atKey });
  }

  if (issues.length > 0) return { ok: false, issues };

  return {
    ok: true,
    spec: {
      name: doc.metadata.name,
      labels,
      image: s.image ?? builtImage(doc.metadata.name, UNBUILT_TAG),
      build: built.build,
      imagePullPolicy: s.imagePullPolicy ?? DEFAULTS.imagePullPolicy,
      imagePullSecret: s.imagePullSecret ?? null,
      command: s.command ? [...s.command] : null,
      entrypoint: s.entrypoint ? [...s.entrypoint] : null,
      init: s.init ?? false,
      workingDir: s.workingDir ?? null,
      user: s.user ?? null,
      hostname: s.hostname ?? null,
      hostAliases: (s.hostAliases ?? []).map((a) => ({ ip: a.ip, hostnames: [...a.hostnames] })),
      dnsConfig: s.dnsConfig
        ? {
            nameservers: [...(s.dnsConfig.nameservers ?? [])],
            searches: [...(s.dnsConfig.searches ?? [])],
            options: (s.dnsConfig.options ?? []).map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`)),
          }
        : null,
      env,
      secretEnv,
      mounts,
      shmSizeBytes,
      network,
      extraNetworks: [...extraNetworks],
      ports,
      resources: { nanoCpus, memoryBytes, memoryReservationBytes, pids: r.pids ?? null },
      restartPolicy,
      dependsOn,
      healthcheck,
      security: {
        readOnlyRootFilesystem: sc.readOnlyRootFilesystem ?? false,
        noNewPrivileges: sc.noNewPrivileges ?? false,
        privileged: sc.privileged ?? false,
        capAdd: sortedUnique((sc.capAdd ?? []).map(canonicalCapability)),
        capDrop: sortedUnique((sc.capDrop ?? []).map(canonicalCapability)),
        seccompProfile: sc.seccompProfile ?? null,
        apparmorProfile: sc.apparmorProfile ?? null,
        selinuxOptions: sortedUnique(sc.selinuxOptions ?? []),
      },
      pidMode: s.pidMode ?? null,
      ipcMode: s.ipcMode ?? null,
      utsMode: s.utsMode ?? null,
      usernsMode: s.usernsMode ?? null,
      devices: (s.devices ?? []).map((d) => ({
        hostPath: d.hostPath,
        containerPath: d.containerPath ?? d.hostPath,
        permissions: d.permissions ?? DEFAULTS.devicePermissions,
      })),
      deviceCgroupRules: [...(s.deviceCgroupRules ?? [])],
      sysctls: { ...(s.sysctls ?? {}) },
      runtime: s.runtime ?? null,
      expiresAt,
      replicas,
      updateStrategy,
      updateParallelism: s.updateParallelism ?? DEFAULTS.updateParallelism,
      updatePartition: s.updatePartition ?? DEFAULTS.updatePartition,
      stableForMs,
      stopTimeoutMs,
      stopSignal: s.stopSignal ?? null,
      logging: s.logging ? { driver: s.logging.driver, options: { ...(s.logging.options ?? {}) } } : null,
      suspended: s.suspended ?? DEFAULTS.suspended,
      ulimits,
      activeDeadlineMs,
      ttlAfterFinishedMs,
      backoffLimit: s.backoffLimit ?? null,
      priority: s.priority ?? DEFAULTS.priority,
      pool,
      placement: s.placement
        ? {
            constraints: (s.placement.constraints ?? []).map((c) => c.trim()),
            spreads: (s.placement.preferences ?? []).map((p) => p.spread),
          }
        : null,
      global: s.global ?? false,
    },
  };
}

/** `pool` (docs/pools.md): not with replicas; minReady at most size; defaults filled in. */
type Pool = NonNullable<BerthContainer["spec"]["pool"]>;

function normalizePool(
  s: { readonly replicas?: number; readonly pool?: Pool },
  issues: FieldIssue[],
): NormalizedPool | null {
  const p = s.pool;
  if (p === undefined) return null;
  if (s.replicas !== undefined) {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "pool"],
      message: "a pool has no replicas: its members are counted by pool.size; drop replicas or pool",
    });
  }
  const minReady = p.minReady ?? Math.min(1, p.size);
  if (minReady > p.size) {
    issues.push({
      code: "BERTH_VALUE",
      path: ["spec", "pool", "minReady"],
      message: `minReady ${minReady} is above size ${p.size}; minReady must be at most size`,
    });
  }
  return { size: p.size, minReady, maxCreating: p.maxCreating ?? DEFAULTS.poolMaxCreating };
}

/**
 * Why a healthcheck command written in Docker's `Test` form (`["CMD", …]`, `["CMD-SHELL", …]`,
 * `["NONE"]`) is refused; null when it is not. berth puts "CMD" before the command itself
 * (core/create-request.ts), so `["CMD", "test", …]` would reach the engine as `CMD CMD test …`,
 * fail as "executable file not found" at every probe, and leave the container never healthy.
 */
function dockerTestForm(command: readonly string[]): string | null {
  const [first, ...rest] = command;
  const list = (words: readonly string[]): string => `[${words.map((w) => JSON.stringify(w)).join(", ")}]`;
  const given = (fallback: readonly string[]): readonly string[] => (rest.length > 0 ? rest : fallback);
  switch (first) {
    case "CMD":
      return `"CMD" is Docker's prefix and berth adds it itself; write the command alone: ${list(given(["test", "-e", "/tmp/ready"]))}`;
    case "CMD-SHELL":
      return `"CMD-SHELL" is Docker's prefix for a shell command and berth runs the command as written; write ${list(["/bin/sh", "-c", given(["…"]).join(" ")])}`;
    case "NONE":
      return `"NONE" turns a healthcheck off in Docker; berth cannot turn off an image's healthcheck: leave spec.healthcheck out`;
    default:
      return null;
  }
}

/** A limit as the kernel compares it: -1 is unlimited. */
const ulimitValue = (n: number): number => (n === -1 ? Infinity : n);

/**
 * `ulimits`, sorted by name: a number is soft = hard (as Compose); soft may not pass hard, and
 * nofile cannot be unlimited (the kernel refuses more than fs.nr_open open files, so the container
 * would fail to start).
 */
function normalizeUlimits(
  input: Readonly<Record<string, number | { soft: number; hard: number }>>,
  issues: FieldIssue[],
): Partial<Record<UlimitName, NormalizedUlimit>> {
  const out: Partial<Record<UlimitName, NormalizedUlimit>> = {};
  for (const name of Object.keys(input).sort()) {
    const raw = input[name] ?? 0;
    const limit = typeof raw === "number" ? { soft: raw, hard: raw } : { soft: raw.soft, hard: raw.hard };
    const at = (field: "soft" | "hard"): FieldPath =>
      typeof raw === "number" ? ["spec", "ulimits", name] : ["spec", "ulimits", name, field];
    if (name === "nofile" && (limit.soft === -1 || limit.hard === -1)) {
      issues.push({
        code: "BERTH_VALUE",
        path: at(limit.soft === -1 ? "soft" : "hard"),
        message:
          "nofile cannot be unlimited (-1): the kernel allows at most fs.nr_open open files (1048576 by default); write a number",
      });
    } else if (ulimitValue(limit.soft) > ulimitValue(limit.hard)) {
      issues.push({
        code: "BERTH_VALUE",
        path: at("soft"),
        message: `soft limit ${limit.soft} is above the hard limit ${limit.hard}; soft must be at most hard (-1 is unlimited)`,
      });
    }
    out[name as UlimitName] = limit;
  }
  return out;
}
