/** One Compose service key at a time → berth spec fields: the table of handlers. */
import { build } from "./build.js";
import { ULIMIT_NAMES } from "../core/spec.js";
import { type Handler, noService, type ServiceContext } from "./context.js";
import { expose, ports } from "./ports.js";
import { tmpfs, volumes } from "./mounts.js";
import type { Entry, Position, Tree } from "./tree.js";
import { commandList, composeBytes, composeDuration, keyValues, scalarText } from "./values.js";
import { environment, envFile } from "./environment.js";
import { dependsOn } from "./depends-on.js";
import { dns, dnsOpt, dnsSearch, extraHosts, logging, shmSize, stopSignal } from "./host-options.js";

type Spec = ServiceContext["spec"];
type Security = NonNullable<Spec["securityContext"]>;
type Resources = NonNullable<Spec["resources"]>;

const text = (v: Tree): string => scalarText(v);
const bool = (ctx: ServiceContext, v: Tree, at: Position, path: string): boolean | null => {
  if (v.kind === "scalar" && typeof v.value === "boolean") return v.value;
  if (v.kind === "scalar" && (v.value === "true" || v.value === "false")) return v.value === "true";
  ctx.error(at, path, "expected true or false");
  return null;
};
const security = (ctx: ServiceContext): Security => (ctx.spec.securityContext ??= {});
const resources = (ctx: ServiceContext): Resources => (ctx.spec.resources ??= {});

/** A field set from the whole value as a string. */
const stringField =
  (set: (spec: Spec, value: string) => void): Handler =>
  (ctx, value) => {
    set(ctx.spec, text(value));
  };

const command =
  (key: "command" | "entrypoint"): Handler =>
  (ctx, value, at, path) => {
    const r = commandList(value);
    if ("error" in r) ctx.error(at, path, r.error);
    else if (r.ok.length === 0)
      ctx.warn(at, path, `an empty ${key} resets the image's in Compose; berth keeps the image's`);
    else ctx.spec[key] = r.ok as [string, ...string[]];
  };

const RESTART: Readonly<Record<string, "Always" | "OnFailure" | "Never">> = {
  no: "Never",
  always: "Always",
  "unless-stopped": "Always",
  "on-failure": "OnFailure",
};

const restart: Handler = (ctx, value, at, path) => {
  const [policy = "", retries] = text(value).split(":");
  const mapped = RESTART[policy];
  if (!mapped) {
    ctx.error(at, path, `"${text(value)}" is not a restart policy (no, always, unless-stopped, on-failure[:N])`);
    return;
  }
  ctx.spec.restartPolicy = mapped;
  if (retries === undefined) return;
  // on-failure:N is the engine's maximum retry count, which is what backoffLimit gives it (docs/runs.md).
  if (mapped !== "OnFailure" || !/^\d{1,9}$/.test(retries))
    ctx.error(at, path, `"${text(value)}" is not a restart policy (no, always, unless-stopped, on-failure[:N])`);
  else ctx.spec.backoffLimit = Number(retries);
};

const duration = (ctx: ServiceContext, v: Tree, at: Position, path: string): string | null => {
  const r = composeDuration(text(v));
  if ("error" in r) {
    ctx.error(at, path, r.error);
    return null;
  }
  return r.ok;
};

const TIMINGS = new Set(["interval", "timeout", "start_period", "retries", "start_interval"]);

const healthcheck: Handler = (ctx, value, at, path) => {
  if (value.kind !== "map") {
    ctx.error(at, path, "expected a mapping");
    return;
  }
  const hc: NonNullable<Spec["healthcheck"]> = { command: [""] };
  let command: string[] | null = null;
  let disabled = false;
  for (const [k, e] of value.entries) {
    const p = `${path}.${k}`;
    switch (k) {
      case "test": {
        if (e.value.kind === "scalar") {
          command = ["/bin/sh", "-c", text(e.value)];
          break;
        }
        const list = e.value.kind === "seq" ? e.value.items.map(text) : [];
        const [kind, ...rest] = list;
        if (kind === "CMD" && rest.length > 0) command = rest;
        else if (kind === "CMD-SHELL" && rest.length > 0) command = ["/bin/sh", "-c", rest.join(" ")];
        else if (kind === "NONE") ctx.warn(e, p, "berth cannot turn off an image's healthcheck: the image's is kept");
        else ctx.error(e, p, 'expected a string, or a list starting with "CMD", "CMD-SHELL" or "NONE"');
        break;
      }
      case "interval":
      case "timeout": {
        const d = duration(ctx, e.value, e, p);
        if (d !== null) hc[k] = d;
        break;
      }
      case "start_period": {
        const d = duration(ctx, e.value, e, p);
        if (d !== null) hc.startPeriod = d;
        break;
      }
      case "retries":
        hc.retries = Number(text(e.value));
        break;
      case "disable":
        disabled = bool(ctx, e.value, e, p) === true;
        if (disabled) ctx.warn(e, p, "berth cannot turn off an image's healthcheck: the image's is kept");
        break;
      case "start_interval":
        ctx.warn(e, p, "berth's healthcheck has no start interval (checks run at interval from the start)");
        break;
      default:
        ctx.warn(e, p, "unknown healthcheck key, ignored");
    }
  }
  if (command !== null && !disabled) ctx.spec.healthcheck = { ...hc, command: command as [string, ...string[]] };
  else if (!value.entries.has("test") && [...value.entries.keys()].some((k) => TIMINGS.has(k)) && !disabled) {
    // A disabled healthcheck's timings say nothing: its own finding is enough.
    ctx.warn(at, path, "berth's healthcheck needs test: the image's healthcheck is kept and these timings are dropped");
  }
};

const labels: Handler = (ctx, value, at, path) => {
  const r = keyValues(value);
  if ("error" in r) ctx.error(at, path, r.error);
  else for (const [k, v] of r.ok) ctx.labels[k] = v ?? "";
};

const sysctls: Handler = (ctx, value, at, path) => {
  const r = keyValues(value);
  if ("error" in r) ctx.error(at, path, r.error);
  else for (const [k, v] of r.ok) (ctx.spec.sysctls ??= {})[k] = v ?? "";
};

/** A whole number (or -1, unlimited) as Compose writes a ulimit; null when it is not one. */
const limitNumber = (v: Tree): number | null => {
  const n = v.kind === "scalar" ? Number(text(v)) : NaN;
  return Number.isSafeInteger(n) && n >= -1 ? n : null;
};

/** `ulimits: { nproc: 65535, nofile: { soft: 20000, hard: 40000 } }`, as berth writes it. */
const ulimits: Handler = (ctx, value, at, path) => {
  if (value.kind !== "map") {
    ctx.error(at, path, "expected a mapping of ulimit names");
    return;
  }
  for (const [name, e] of value.entries) {
    const p = `${path}.${name}`;
    if (!(ULIMIT_NAMES as readonly string[]).includes(name)) {
      ctx.error(e, p, `"${name}" is not a ulimit Docker knows (${ULIMIT_NAMES.join(", ")})`);
      continue;
    }
    const single = limitNumber(e.value);
    const soft = e.value.kind === "map" ? e.value.entries.get("soft") : undefined;
    const hard = e.value.kind === "map" ? e.value.entries.get("hard") : undefined;
    const pair = soft && hard ? { soft: limitNumber(soft.value), hard: limitNumber(hard.value) } : null;
    if (single !== null) (ctx.spec.ulimits ??= {})[name] = single;
    else if (pair?.soft != null && pair.hard != null)
      (ctx.spec.ulimits ??= {})[name] = { soft: pair.soft, hard: pair.hard };
    else ctx.error(e, p, "expected a whole number, or soft and hard as whole numbers (-1: unlimited)");
  }
};

const caps =
  (key: "capAdd" | "capDrop"): Handler =>
  (ctx, value, at, path) => {
    if (value.kind !== "seq") ctx.error(at, path, "expected a list of capabilities");
    else security(ctx)[key] = value.items.map((i) => text(i).replace(/^CAP_/i, "").toUpperCase());
  };

const flag =
  (set: (ctx: ServiceContext, on: boolean) => void): Handler =>
  (ctx, value, at, path) => {
    const b = bool(ctx, value, at, path);
    if (b !== null) set(ctx, b);
  };

const securityOpt: Handler = (ctx, value, at, path) => {
  if (value.kind !== "seq") {
    ctx.error(at, path, "expected a list");
    return;
  }
  value.items.forEach((item, i) => {
    const option = text(item);
    const [k = "", v = ""] = option.split(/[=:](.*)/);
    const p = `${path}[${i}]`;
    if (k === "no-new-privileges") security(ctx).noNewPrivileges = v === "" || v === "true";
    else if (k === "seccomp") security(ctx).seccompProfile = v;
    else if (k === "apparmor") security(ctx).apparmorProfile = v;
    else if (k === "label") {
      const sec = security(ctx);
      sec.selinuxOptions = [...(sec.selinuxOptions ?? []), v] as Security["selinuxOptions"];
    } else ctx.warn(item, p, `security option "${option}" is not supported by berth, ignored`);
  });
};

const byteLimit =
  (key: "memory" | "memoryReservation"): Handler =>
  (ctx, value, at, path) => {
    const r = composeBytes(text(value));
    if ("error" in r) ctx.error(at, path, r.error);
    else resources(ctx)[key] = r.ok;
  };

const cpus: Handler = (ctx, value) => {
  resources(ctx).cpus = text(value);
};

const pids: Handler = (ctx, value) => {
  const n = Number(text(value));
  if (n > 0) resources(ctx).pids = n;
};

const replicas: Handler = (ctx, value, at, path) => {
  const n = Number(text(value));
  if (!Number.isInteger(n) || n < 0) ctx.error(at, path, "expected a whole number");
  else if (n === 0) ctx.spec.suspended = true;
  else ctx.spec.replicas = n;
};

const namespace =
  (key: "pidMode" | "ipcMode" | "utsMode" | "usernsMode"): Handler =>
  (ctx, value, at, path) => {
    const mode = text(value);
    const service = /^service:(.*)$/.exec(mode)?.[1];
    if (service === undefined) ctx.spec[key] = mode;
    else if (ctx.project.names.has(service)) ctx.spec[key] = `container:${ctx.project.names.get(service) ?? ""}`;
    else ctx.error(at, path, noService(ctx.project, service));
  };

const devices: Handler = (ctx, value, at, path) => {
  if (value.kind !== "seq") {
    ctx.error(at, path, "expected a list of devices");
    return;
  }
  for (const item of value.items) {
    const [hostPath = "", containerPath, permissions] = text(item).split(":");
    (ctx.spec.devices ??= []).push({
      hostPath,
      ...(containerPath ? { containerPath } : {}),
      ...(permissions ? { permissions } : {}),
    });
  }
};

const DEPLOY_SUPPORTED = new Set(["replicas", "resources", "restart_policy", "update_config"]);

/** deploy: replicas, resources (limits, reservations.memory), restart_policy, update_config.order. */
const deploy: Handler = (ctx, value, at, path) => {
  if (value.kind !== "map") {
    ctx.error(at, path, "expected a mapping");
    return;
  }
  for (const [k, e] of value.entries) {
    const p = `${path}.${k}`;
    if (!DEPLOY_SUPPORTED.has(k)) {
      ctx.warn(
        e,
        p,
        k === "mode" && text(e.value) === "replicated"
          ? "replicated is berth's only mode"
          : "a Swarm setting berth has no equivalent for, ignored",
      );
      continue;
    }
    if (k === "replicas") replicas(ctx, e.value, e, p);
    else if (e.value.kind !== "map") ctx.error(e, p, "expected a mapping");
    else if (k === "resources") deployResources(ctx, e.value, p);
    else if (k === "restart_policy") deployRestart(ctx, e.value, p);
    else {
      for (const [u, ue] of e.value.entries) updateConfig(ctx, u, ue, `${p}.${u}`);
    }
  }
};

/** Where each converted spec's stableFor came from (update_config.monitor), for a warning that drops it. */
const monitors = new WeakMap<object, Position>();

/** The position of the update_config.monitor a spec's stableFor came from; undefined: none. */
export function monitorOf(spec: object): Position | undefined {
  return monitors.get(spec);
}

/**
 * deploy.update_config: order is updateStrategy, parallelism is updateParallelism, monitor is
 * stableFor. failure_action pause is what berth does under StopFirst, and under StartFirst it
 * keeps the old container; rollback (of replicas already replaced) and continue have no
 * equivalent.
 */
function updateConfig(ctx: ServiceContext, key: string, e: Entry, path: string): void {
  const value = text(e.value);
  if (key === "order" && (value === "start-first" || value === "stop-first")) {
    ctx.spec.updateStrategy = value === "start-first" ? "StartFirst" : "StopFirst";
  } else if (key === "monitor") {
    const d = duration(ctx, e.value, e, path);
    if (d !== null && d !== "0s") {
      ctx.spec.stableFor = d;
      monitors.set(ctx.spec, e);
    }
  } else if (key === "parallelism") {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) ctx.error(e, path, "expected a whole number");
    else if (n === 0)
      ctx.warn(e, path, "berth has no all-at-once rollout: give updateParallelism the replica count; left out");
    else if (n > 1) ctx.spec.updateParallelism = n;
  } else if (key === "failure_action" && value === "pause") {
    // berth's own behaviour on a replacement that does not stay up (docs/design.md, "Safe replacements").
  } else if (key === "failure_action") {
    ctx.warn(
      e,
      path,
      `berth does not ${value === "rollback" ? "roll back replicas already replaced" : "go on"}: a replacement that does not stay up (stableFor) holds the rest of the rollout`,
    );
  } else ctx.warn(e, path, "update_config keeps order, parallelism, monitor and failure_action: ignored");
}

function deployResources(ctx: ServiceContext, value: Tree & { kind: "map" }, path: string): void {
  for (const [k, e] of value.entries) {
    const p = `${path}.${k}`;
    if ((k !== "limits" && k !== "reservations") || e.value.kind !== "map") {
      ctx.warn(e, p, "only limits and reservations are read, ignored");
      continue;
    }
    for (const [r, re] of e.value.entries) {
      const rp = `${p}.${r}`;
      if (k === "limits" && r === "cpus") cpus(ctx, re.value, re, rp);
      else if (k === "limits" && r === "memory") byteLimit("memory")(ctx, re.value, re, rp);
      else if (k === "limits" && r === "pids") pids(ctx, re.value, re, rp);
      else if (k === "reservations" && r === "memory") byteLimit("memoryReservation")(ctx, re.value, re, rp);
      else ctx.warn(re, rp, `berth's resources have no ${k === "limits" ? "limit" : "reservation"} of ${r}, ignored`);
    }
  }
}

function deployRestart(ctx: ServiceContext, value: Tree & { kind: "map" }, path: string): void {
  // `restart` wins over deploy.restart_policy, as in Compose.
  const byRestart = ctx.entries.has("restart");
  let mapped: "Never" | "OnFailure" | "Always" | null = null;
  const condition = value.entries.get("condition");
  if (condition) {
    const c = text(condition.value);
    mapped = c === "none" ? "Never" : c === "on-failure" ? "OnFailure" : c === "any" ? "Always" : null;
    if (mapped === null) ctx.error(condition, `${path}.condition`, `"${c}" is not none, on-failure or any`);
    else if (!byRestart) ctx.spec.restartPolicy = mapped;
  }
  for (const [k, e] of value.entries) {
    const p = `${path}.${k}`;
    if (k === "condition") continue;
    if (k !== "max_attempts") ctx.warn(e, p, "berth restarts with its own backoff: ignored");
    else if (byRestart) ctx.warn(e, p, "restart is set, and wins over deploy.restart_policy (as in Compose): ignored");
    else if (mapped !== "OnFailure")
      ctx.warn(e, p, "berth limits restarts (backoffLimit) under condition on-failure only: ignored");
    else if (!/^\d{1,9}$/.test(text(e.value))) ctx.error(e, p, "expected a whole number");
    // As restart: on-failure:N, the engine's maximum retry count (docs/runs.md).
    else ctx.spec.backoffLimit = Number(text(e.value));
  }
}

const pullPolicy: Handler = (ctx, value, at, path) => {
  const p = text(value);
  const mapped = { always: "Always", never: "Never", missing: "IfNotPresent", if_not_present: "IfNotPresent" }[p] as
    "Always" | "Never" | "IfNotPresent" | undefined;
  if (mapped) ctx.spec.imagePullPolicy = mapped;
  else ctx.warn(at, path, `pull_policy ${p} is not supported by berth (always, never, missing), ignored`);
};

const stopGrace: Handler = (ctx, value, at, path) => {
  const d = duration(ctx, value, at, path);
  if (d !== null) ctx.spec.stopTimeout = d;
};

const mem = byteLimit("memory");

/**
 * Every Compose service key berth reads. Keys handled elsewhere (image, container_name, networks,
 * network_mode, profiles, restart defaults) have no-op entries so the converter does not call them unknown.
 */
export const HANDLERS: Readonly<Record<string, Handler>> = {
  image: () => undefined,
  build,
  container_name: () => undefined,
  networks: () => undefined,
  network_mode: () => undefined,
  profiles: () => undefined,
  scale: replicas,
  command: command("command"),
  entrypoint: command("entrypoint"),
  environment,
  env_file: envFile,
  ports,
  expose,
  volumes,
  tmpfs,
  restart,
  depends_on: dependsOn,
  healthcheck,
  user: stringField((s, v) => (s.user = v)),
  working_dir: stringField((s, v) => (s.workingDir = v)),
  hostname: stringField((s, v) => (s.hostname = v)),
  extra_hosts: extraHosts,
  dns,
  dns_search: dnsSearch,
  dns_opt: dnsOpt,
  labels,
  deploy,
  cap_add: caps("capAdd"),
  cap_drop: caps("capDrop"),
  read_only: flag((ctx, on) => (security(ctx).readOnlyRootFilesystem = on)),
  privileged: flag((ctx, on) => (security(ctx).privileged = on)),
  init: flag((ctx, on) => (ctx.spec.init = on)),
  security_opt: securityOpt,
  sysctls,
  ulimits,
  stop_grace_period: stopGrace,
  stop_signal: stopSignal,
  shm_size: shmSize,
  logging,
  mem_limit: mem,
  mem_reservation: byteLimit("memoryReservation"),
  cpus,
  pids_limit: pids,
  pid: namespace("pidMode"),
  ipc: namespace("ipcMode"),
  uts: namespace("utsMode"),
  userns_mode: namespace("usernsMode"),
  devices,
  device_cgroup_rules: (ctx, value) => {
    ctx.spec.deviceCgroupRules = value.kind === "seq" ? value.items.map(text) : [text(value)];
  },
  runtime: stringField((s, v) => (s.runtime = v)),
  pull_policy: pullPolicy,
};
