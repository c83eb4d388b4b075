/**
 * The container `berth exec` and `berth logs` act on, straight from Docker: NAME is a container
 * name, an ID or a spec name (passing over claimed pool members when --runtime-specs says where
 * claims are recorded); only this controller's containers (--id) are reachable.
 */
import { BerthError } from "../core/errors.js";
import { labelKeys } from "../core/labels.js";
import type { ObservedContainer } from "../core/observed.js";
import { ownership } from "../core/ownership.js";
import { connectDocker } from "../docker/connect.js";
import { ClaimFiles } from "../host/claim-files.js";
import { ManagedContainers } from "../ops/containers.js";
import type { Setup } from "./setup.js";

export async function target(
  { config, log }: Setup,
  name: string,
): Promise<{ readonly container: ObservedContainer; readonly containers: ManagedContainers }> {
  const docker = connectDocker(config.dockerTimeoutMs);
  const owner = ownership(labelKeys(config.labelPrefix), config.controllerId);
  const containers = new ManagedContainers(docker.port, docker.io, owner, log, config.policy.profile);
  const found = await containers.lookup(name, await claimedMembers(config.runtimeSpecs));
  if (found.kind === "claimed") {
    const held = found.members.map((m) => `${m.container} by claim ${m.claim}`).join(", ");
    throw BerthError.usage(
      `every container of spec ${name} is claimed (${held}): name the container to reach a claimed member`,
    );
  }
  if (found.kind === "none")
    throw BerthError.usage(`no container ${name} managed by berth --id ${config.controllerId}`);
  return { container: found.container, containers };
}

/** The claimed pool members (container id → pool/claim) recorded under `runtimeSpecs`; none without it. */
async function claimedMembers(runtimeSpecs: string | null): Promise<ReadonlyMap<string, string>> {
  if (runtimeSpecs === null) return new Map();
  const { records } = await new ClaimFiles(runtimeSpecs).list();
  return new Map(records.map((r) => [r.containerId, `${r.pool}/${r.name}`]));
}
