/**
 * What each target can express (docs/swarm.md, "What maps to what"). Under `--target swarm` a
 * spec becomes a Swarm service, and the fields a service cannot carry are refused at validation,
 * each at its field path — never silently dropped. Under `--target engine` the Swarm-only field
 * (`placement`) is refused the same way.
 */
import type { BerthContainer } from "./document.gen.js";
import type { FieldIssue } from "./normalize.js";
import { AUTO_HOST_PORT, DEFAULTS, type NormalizedSpec } from "./spec.js";
import { canaryName, MAX_CANARY_SPEC_NAME } from "./swarm-canary.js";
import { fileEnvName } from "./swarm-secrets.js";

/** Where berth converges specs: this host's engine (containers) or a Swarm manager (services). */
export type Target = "engine" | "swarm";
export const TARGETS: readonly Target[] = ["engine", "swarm"];

const SWARM = "a Swarm service cannot express it";
/** The addresses that say "every address", which is how Swarm publishes. */
const EVERY_ADDRESS = ["0.0.0.0", "::"];

const issue = (path: FieldIssue["path"], message: string): FieldIssue => ({ code: "BERTH_TARGET", path, message });

/** The fields of a spec its target cannot express; empty when it can express them all. */
export function targetIssues(doc: BerthContainer, spec: NormalizedSpec, target: Target): FieldIssue[] {
  const s = doc.spec;
  const out: FieldIssue[] = [];
  if (target === "engine") {
    const swarmOnly = (path: FieldIssue["path"], what: string): void => {
      out.push(
        issue(
          ["spec", ...path],
          `${what}; --target engine runs every container on this host: remove it, or run berth with --target swarm`,
        ),
      );
    };
    if (spec.placement)
      swarmOnly(["placement"], "placement is for --target swarm (Swarm's scheduler places tasks on nodes)");
    if (s.global !== undefined) swarmOnly(["global"], "global is for --target swarm (one task on every node)");
    (s.ports ?? []).forEach((p, i) => {
      if (p.mode !== undefined)
        swarmOnly(["ports", i, "mode"], "a port's mode is for --target swarm (ingress or host publishing)");
    });
    if (spec.pool === null && spec.replicas > 1 && spec.ports.some((p) => typeof p.hostPort === "number"))
      out.push({
        code: "BERTH_VALUE",
        path: ["spec", "replicas"],
        message: `${spec.replicas} replicas cannot all publish the same host port; use replicas: 1 or drop hostPort`,
      });
    return out;
  }
  const refuse = (path: FieldIssue["path"], why: string): void => {
    out.push(issue(["spec", ...path], `not under --target swarm: ${why}`));
  };
  const sec = s.securityContext;
  if (sec?.privileged === true) refuse(["securityContext", "privileged"], `${SWARM} (services never run privileged)`);
  if (sec?.noNewPrivileges === true)
    refuse(["securityContext", "noNewPrivileges"], "the service API has it only from Docker 27 (API 1.46)");
  for (const key of ["seccompProfile", "apparmorProfile", "selinuxOptions"] as const) {
    if (sec?.[key] !== undefined) refuse(["securityContext", key], "berth does not map it to a service yet");
  }
  if (spec.network.startsWith("container:") || spec.network === "host" || spec.network === "none")
    refuse(["network"], `${SWARM} (a service joins swarm-scoped networks by name, or none given: the default)`);
  for (const key of ["pidMode", "ipcMode", "utsMode", "usernsMode", "runtime"] as const) {
    if (s[key] !== undefined) refuse([key], SWARM);
  }
  if ((s.devices ?? []).length > 0) refuse(["devices"], SWARM);
  if (s.shmSize !== undefined) refuse(["shmSize"], `${SWARM} (mount a tmpfs at /dev/shm instead)`);
  if (s.dependsOn !== undefined)
    refuse(
      ["dependsOn"],
      "Swarm starts services in no order (as docker stack deploy ignores depends_on): make the service retry",
    );
  if ((s.deviceCgroupRules ?? []).length > 0) refuse(["deviceCgroupRules"], SWARM);
  (s.ports ?? []).forEach((p, i) => {
    if (p.hostPort === undefined) {
      if (p.mode !== undefined)
        refuse(["ports", i, "mode"], "a port's mode says how hostPort is published; set hostPort");
    } else if (p.hostPort === AUTO_HOST_PORT) {
      refuse(["ports", i, "hostPort"], "auto ports are picked on this host (docs/ports.md); give the port's number");
    } else if (p.hostIP === undefined || !EVERY_ADDRESS.includes(p.hostIP)) {
      // The engine target's default is loopback: publishing on every node's every address must be said.
      refuse(
        ["ports", i, p.hostIP === undefined ? "hostPort" : "hostIP"],
        "Swarm publishes a port on every address of the nodes (no loopback-only publishing); write hostIP: 0.0.0.0 to say so",
      );
    }
  });
  (s.mounts ?? []).forEach((m, i) => {
    if (m.type === "volume" && m.perInstance === true) refuse(["mounts", i, "perInstance"], SWARM);
  });
  for (const key of Object.keys(s.secretEnv ?? {})) {
    // The task gets the secret as a file, named by <KEY>_FILE (core/swarm-secrets.ts).
    if (s.env?.[fileEnvName(key)] !== undefined)
      refuse(["env", fileEnvName(key)], `berth sets it to the file of secretEnv.${key} under --target swarm`);
  }
  if (s.global === true) {
    if (s.replicas !== undefined)
      refuse(["replicas"], "a global service runs one task on every eligible node; remove replicas or global");
    if (s.suspended === true)
      refuse(
        ["suspended"],
        "a global service cannot be scaled to 0; remove the spec's file to stop it, or make it replicated",
      );
  }
  if (s.pool !== undefined) refuse(["pool"], "pools and claims are this host's (docs/pools.md)");
  if (s.updatePartition !== undefined) {
    // The canaries run as a second service, NAME_canary (core/swarm-canary.ts).
    if (s.global === true)
      refuse(["updatePartition"], "a global service runs one task on every node; it has no replicas to hold back");
    else if ((s.ports ?? []).some((p) => p.hostPort !== undefined))
      refuse(
        ["updatePartition"],
        "the canaries run as a second service, and Swarm publishes a port for one service only; remove hostPort, or roll every task",
      );
    else if (spec.name.length > MAX_CANARY_SPEC_NAME)
      refuse(
        ["updatePartition"],
        `the canaries' service is named ${canaryName(spec.name)}, longer than Swarm's 63 characters; use a name of at most ${MAX_CANARY_SPEC_NAME}`,
      );
  }
  for (const key of ["activeDeadline", "ttlAfterFinished"] as const) {
    if (s[key] !== undefined) refuse([key], "runs that finish are the engine target's (docs/runs.md)");
  }
  if (s.imagePullPolicy === "Always")
    refuse(["imagePullPolicy"], "Swarm resolves the image when the service is created or updated");
  if (s.build !== undefined)
    refuse(["build"], "every node pulls a service's image from a registry; build and push it, then name it in image");
  return out;
}

/**
 * The spec as a Swarm service updates it. One host's rule that a published port updates
 * stop-first (two containers cannot bind one host port) holds under swarm for host-mode ports
 * only: the routing mesh serves an ingress port from the old and the new task alike, so the
 * spec's own order (StartFirst by default) is kept. Not in the hash, so no service is touched by it.
 */
export function asSwarmService(doc: BerthContainer, spec: NormalizedSpec): NormalizedSpec {
  const hostMode = spec.ports.some((p) => typeof p.hostPort === "number" && p.mode === "host");
  const updateStrategy = hostMode ? "StopFirst" : (doc.spec.updateStrategy ?? DEFAULTS.updateStrategy);
  return updateStrategy === spec.updateStrategy ? spec : { ...spec, updateStrategy };
}
