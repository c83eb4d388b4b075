/**
 * Container names. A spec with one replica owns the container named after it; with n > 1 it
 * owns name-0 … name-(n-1). A replacement in progress uses a temporary name that no spec can
 * produce (spec names are DNS labels, so they never contain ".").
 */
export const TEMP_SUFFIX = ".next";

export function containerName(specName: string, replica: number, replicas: number): string {
  return replicas === 1 ? specName : `${specName}-${replica}`;
}

export function tempName(finalName: string): string {
  return `${finalName}${TEMP_SUFFIX}`;
}

export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}

/** Every container name a spec produces, in replica order. */
export function containerNames(specName: string, replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => containerName(specName, i, replicas));
}
