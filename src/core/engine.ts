/**
 * Known defects of Docker engine versions that berth can meet in normal work, so that berth can
 * say so when it starts instead of leaving an operator to find out from hung calls.
 */

export interface EngineDefect {
  /** Where it is described. */
  readonly issue: string;
  /** The first release without it. */
  readonly fixedIn: string;
  readonly effect: string;
}

const LIBNETWORK_DEADLOCK: EngineDefect = {
  issue: "moby/moby#46661",
  fixedIn: "20.10.27",
  effect:
    "can deadlock when containers on one network stop at the same moment; every later container start and stop then hangs until dockerd is restarted",
};

/** The numeric version of an engine version string ("20.10.24+dfsg1" → [20, 10, 24]), or null. */
export function parseEngineVersion(version: string): [number, number, number] | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

export function engineDefects(version: string): EngineDefect[] {
  const v = parseEngineVersion(version);
  if (!v) return [];
  const [major, minor, patch] = v;
  // Docker's own versions before 17 are 1.x; 17.03 to 20.10.26 all carry the lock-order bug.
  const beforeFix = major < 20 || (major === 20 && (minor < 10 || (minor === 10 && patch < 27)));
  return beforeFix ? [LIBNETWORK_DEADLOCK] : [];
}
