/**
 * Names. Spec names are DNS labels. A spec with one replica owns the container named after it;
 * with n > 1 it owns name-0 … name-(n-1). A replacement in progress uses a temporary name that no
 * spec can produce (DNS labels never contain "."); so does the stopped record of a version that
 * did not stay up (spec.stableFor, core/plan/rollout.ts).
 */
export const TEMP_SUFFIX = ".next";
export const REJECTED_SUFFIX = ".rejected";

/** A DNS label (RFC 1123): what metadata.name must be, and so every name berth gives a container. */
export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_LABEL_RE = new RegExp(DNS_LABEL_PATTERN);
export const DNS_LABEL_MAX = 63;

export function isDnsLabel(name: string): boolean {
  return name.length <= DNS_LABEL_MAX && DNS_LABEL_RE.test(name);
}

export function containerName(specName: string, replica: number, replicas: number): string {
  return replicas === 1 ? specName : `${specName}-${replica}`;
}

export function tempName(finalName: string): string {
  return `${finalName}${TEMP_SUFFIX}`;
}

export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}

/** The name of the record of a version that did not stay up as `finalName`'s replacement. */
export function rejectedName(finalName: string): string {
  return `${finalName}${REJECTED_SUFFIX}`;
}

export function isRejectedName(name: string): boolean {
  return name.endsWith(REJECTED_SUFFIX);
}

/** Every container name a spec produces, in replica order. */
export function containerNames(specName: string, replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => containerName(specName, i, replicas));
}
