/**
 * Observe: one label-filtered list of berth's containers, one list of local images, and an
 * inspect of each name known to be held by a container berth does not own (so a conflict clears
 * itself when that container goes). A no-op pass costs two list calls.
 */
import type { LabelKeys } from "../core/labels.js";
import type { ObservedState } from "../core/observed.js";
import type { DockerPort } from "../docker/port.js";

export interface ObserveOptions {
  readonly labels: LabelKeys;
  readonly controllerId: string;
}

export async function observe(
  port: DockerPort,
  options: ObserveOptions,
  conflictNames: Iterable<string>,
): Promise<ObservedState> {
  const [containers, imageIds] = await Promise.all([
    port.listContainers({ labels: [`${options.labels.controller}=${options.controllerId}`] }),
    port.listImages(),
  ]);
  const foreignNames = new Map<string, string>();
  for (const name of conflictNames) {
    const holder = await port.inspectContainer(name);
    if (holder && holder.labels[options.labels.controller] !== options.controllerId) foreignNames.set(name, holder.id);
  }
  return { containers, imageIds, foreignNames };
}
