/**
 * Finds one of berth's own containers for the operator surfaces. Only containers carrying this
 * controller's label are candidates, so a container berth does not manage is never reachable.
 */
import type { LabelKeys } from "../core/labels.js";
import type { ObservedContainer } from "../core/observed.js";
import type { DockerPort } from "../docker/port.js";

/** By container name, full or short (12+ hex) ID, or spec name: then its running replica first, lowest first. */
export function pickManaged(
  containers: readonly ObservedContainer[],
  keys: LabelKeys,
  name: string,
): ObservedContainer | null {
  const exact = containers.find((c) => c.name === name || c.id === name);
  if (exact) return exact;
  if (/^[0-9a-f]{12,63}$/.test(name)) {
    const byPrefix = containers.filter((c) => c.id.startsWith(name));
    if (byPrefix.length === 1) return byPrefix[0] as ObservedContainer;
  }
  const ofSpec = containers
    .filter((c) => c.labels[keys.spec] === name)
    .sort(
      (a, b) =>
        Number(b.state === "running") - Number(a.state === "running") ||
        Number(a.labels[keys.replica] ?? 0) - Number(b.labels[keys.replica] ?? 0),
    );
  return ofSpec[0] ?? null;
}

export async function findManaged(
  port: DockerPort,
  keys: LabelKeys,
  controllerId: string,
  name: string,
): Promise<ObservedContainer | null> {
  const containers = await port.listContainers({ labels: [`${keys.controller}=${controllerId}`] });
  return pickManaged(containers, keys, name);
}
