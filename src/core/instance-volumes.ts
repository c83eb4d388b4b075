/**
 * Per-instance volumes (docs/design.md, "Volume reclaim"): a volume mount with `perInstance: true`
 * gives each container of the spec its own named volume, `<container name>-<source>`, as a
 * StatefulSet gives each ordinal its own claim. The name follows from the spec and the replica
 * alone, so the create request stays a pure function of them; the labels say whose it is, so that
 * berth finds it again from one list call and reclaims it when its instance goes.
 */
import { containerName } from "./names.js";
import type { ObservedVolume } from "./observed.js";
import type { Ownership } from "./ownership.js";
import type { NormalizedSpec, ReclaimPolicy } from "./spec.js";

export interface InstanceVolume {
  /** The volume's name: `<container name>-<source>`. */
  readonly name: string;
  /** The mount's source in the spec, e.g. "data". */
  readonly source: string;
  readonly reclaimPolicy: ReclaimPolicy;
}

export function instanceVolumeName(container: string, source: string): string {
  return `${container}-${source}`;
}

/** The per-instance volumes of one replica of a spec, in mount order. */
export function instanceVolumes(spec: NormalizedSpec, replica: number): InstanceVolume[] {
  const container = containerName(spec.name, replica, spec.replicas);
  return spec.mounts.flatMap((m) =>
    m.type === "volume" && m.perInstance
      ? [{ name: instanceVolumeName(container, m.source), source: m.source, reclaimPolicy: m.reclaimPolicy }]
      : [],
  );
}

/** The labels berth puts on a per-instance volume it makes. */
export function instanceVolumeLabels(
  spec: NormalizedSpec,
  replica: number,
  volume: InstanceVolume,
  owner: Ownership,
  sourceFile: string,
): Record<string, string> {
  const keys = owner.keys;
  return {
    [keys.controller]: owner.controllerId,
    [keys.spec]: spec.name,
    [keys.replica]: String(replica),
    [keys.source]: sourceFile,
    [keys.instanceVolume]: volume.source,
    [keys.reclaimPolicy]: volume.reclaimPolicy,
  };
}

/** A per-instance volume of this controller's: the only volumes berth ever removes. */
export function isOwnInstanceVolume(volume: ObservedVolume, owner: Ownership): boolean {
  return owner.owns(volume) && (volume.labels[owner.keys.instanceVolume] ?? "") !== "";
}

/**
 * An existing volume that a replica's per-instance mount may use: one berth made for this spec's
 * mount of that source. Anything else under that name (a user's volume, another controller's) is
 * never adopted: it would be mounted as instance data and later reclaimed.
 */
export function isInstanceVolumeFor(
  volume: ObservedVolume,
  spec: string,
  wanted: InstanceVolume,
  owner: Ownership,
): boolean {
  const keys = owner.keys;
  return (
    isOwnInstanceVolume(volume, owner) &&
    volume.labels[keys.spec] === spec &&
    volume.labels[keys.instanceVolume] === wanted.source
  );
}
