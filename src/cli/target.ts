/**
 * The container `berth exec` and `berth logs` act on, straight from Docker: NAME is a container
 * name, an ID or a spec name; only this controller's containers (--id) are reachable.
 */
import { BerthError } from "../core/errors.js";
import { labelKeys } from "../core/labels.js";
import type { ObservedContainer } from "../core/observed.js";
import { ownership } from "../core/ownership.js";
import { connectDocker } from "../docker/connect.js";
import { ManagedContainers } from "../ops/containers.js";
import type { Setup } from "./setup.js";

export async function target(
  { config, log }: Setup,
  name: string,
): Promise<{ readonly container: ObservedContainer; readonly containers: ManagedContainers }> {
  const docker = connectDocker(config.dockerTimeoutMs);
  const owner = ownership(labelKeys(config.labelPrefix), config.controllerId);
  const containers = new ManagedContainers(docker.port, docker.io, owner, log, config.policy.profile);
  const container = await containers.find(name);
  if (!container) throw BerthError.usage(`no container ${name} managed by berth --id ${config.controllerId}`);
  return { container, containers };
}
