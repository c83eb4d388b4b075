/**
 * What each target can express (docs/swarm.md, "What maps to what"). Under `--target swarm` a
 * spec becomes a Swarm service, and the fields a service cannot carry are refused at validation,
 * each at its field path — never silently dropped. Under `--target engine` the Swarm-only field
 * (`placement`) is refused the same way.
 */
import type { BerthContainer } from "./document.gen.js";
import type { FieldIssue } from "./normalize.js";
import type { NormalizedSpec } from "./spec.js";

/** Where berth converges specs: this host's engine (containers) or a Swarm manager (services). */
export type Target = "engine" | "swarm";
export const TARGETS: readonly Target[] = ["engine", "swarm"];

const SWARM = "a Swarm service cannot express it";

const issue = (path: FieldIssue["path"], message: string): FieldIssue => ({ code: "BERTH_TARGET", path, message });

/** The fields of a spec its target cannot express; empty when it can express them all. */
export function targetIssues(doc: BerthContainer, spec: NormalizedSpec, target: Target): FieldIssue[] {
  if (target === "engine") {
    return spec.placement
      ? [
          issue(
            ["spec", "placement"],
            "placement is for --target swarm (Swarm's scheduler places tasks on nodes); --target engine runs every container on this host: remove it, or run berth with --target swarm",
          ),
        ]
      : [];
  }
  const s = doc.spec;
  const out: FieldIssue[] = [];
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
  if ((s.deviceCgroupRules ?? []).length > 0) refuse(["deviceCgroupRules"], SWARM);
  (s.ports ?? []).forEach((p, i) => {
    if (p.hostPort !== undefined)
      refuse(
        ["ports", i, "hostPort"],
        "Swarm publishes a port on every address of every node (hostIP cannot be kept); publish it outside berth",
      );
  });
  (s.mounts ?? []).forEach((m, i) => {
    if (m.type === "volume" && m.perInstance === true) refuse(["mounts", i, "perInstance"], SWARM);
  });
  if (Object.keys(s.secretEnv ?? {}).length > 0)
    refuse(["secretEnv"], "Swarm secrets are not made by berth yet (docs/swarm.md); use env or a file mount");
  if (s.pool !== undefined) refuse(["pool"], "pools and claims are this host's (docs/pools.md)");
  for (const key of ["activeDeadline", "ttlAfterFinished"] as const) {
    if (s[key] !== undefined) refuse([key], "runs that finish are the engine target's (docs/runs.md)");
  }
  if (s.imagePullPolicy === "Always")
    refuse(["imagePullPolicy"], "Swarm resolves the image when the service is created or updated");
  if (s.build !== undefined)
    refuse(["build"], "every node pulls a service's image from a registry; build and push it, then name it in image");
  return out;
}
