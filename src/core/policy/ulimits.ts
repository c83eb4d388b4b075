/**
 * The ceilings baseline puts on `ulimits`. Lowering a limit is always safe; these are the four
 * whose raised value reaches past the container: open files (kernel memory for file tables), locked
 * memory (cannot be reclaimed or swapped), and `nice`/`rtprio`, which let an unprivileged process
 * take CPU priority that only CAP_SYS_NICE grants otherwise (real-time scheduling can starve the
 * host). The others only cap the container's own use of what cgroups already bound.
 */
import type { UlimitName } from "../spec.js";
import { formatBytes } from "../units.js";
import { type Check, type Found, widen } from "./check.js";
import type { Policy } from "./types.js";

/** nofile's ceiling: the kernel's default fs.nr_open, and Docker's own default for containers. */
export const MAX_NOFILE = 1_048_576;
/** memlock's ceiling without a memory limit (bytes); with one, the limit. */
export const MAX_MEMLOCK_BYTES = 64 * 2 ** 20;
/** nice's ceiling: 20 - 20 = nice 0, the default priority, and no higher. */
export const MAX_NICE = 20;

/**
 * The highest hard limit admitted for a name: --max-ulimit's, else baseline's (memlock's from the
 * memory limit, if any); null: no ceiling.
 */
function ceiling(name: string, memoryBytes: number | null, policy: Policy): { max: number; why: string } | null {
  const set = policy.maxUlimits[name];
  if (set !== undefined) return { max: set, why: "--max-ulimit" };
  switch (name as UlimitName) {
    case "nofile":
      return { max: MAX_NOFILE, why: "the kernel's default fs.nr_open" };
    case "memlock":
      return memoryBytes !== null && memoryBytes > MAX_MEMLOCK_BYTES
        ? { max: memoryBytes, why: `resources.memory, ${formatBytes(memoryBytes)}` }
        : { max: MAX_MEMLOCK_BYTES, why: `${formatBytes(MAX_MEMLOCK_BYTES)}, or resources.memory when larger` };
    case "nice":
      return { max: MAX_NICE, why: "nice 0, the default priority: raising it is CAP_SYS_NICE's" };
    case "rtprio":
      return { max: 0, why: "no real-time scheduling: it can starve the host's CPUs" };
    default:
      return null;
  }
}

/** A hard limit above its ceiling (-1, unlimited, is above every ceiling but -1): why, or null. */
function refusal(name: string, hard: number, memoryBytes: number | null, policy: Policy): string | null {
  const limit = ceiling(name, memoryBytes, policy);
  if (limit === null || limit.max === -1 || (hard !== -1 && hard <= limit.max)) return null;
  return `${name} ${hard === -1 ? "unlimited (-1)" : hard} is above the ceiling of ${limit.max} (${limit.why})`;
}

export const ULIMIT_CHECKS: readonly Check[] = [
  {
    id: "ulimit-ceilings",
    scope: "baseline",
    summary: `\`ulimits\` may not raise \`nofile\` above ${MAX_NOFILE}, \`memlock\` above ${formatBytes(MAX_MEMLOCK_BYTES)} (or \`resources.memory\` when larger), \`nice\` above ${MAX_NICE} (nice 0) or \`rtprio\` above 0; -1 (unlimited) counts as above; other names are not capped. \`--max-ulimit NAME=N\` sets a name's ceiling (-1: none).`,
    spec: (doc, spec, policy) => {
      const found: Found[] = [];
      for (const [name, limit] of Object.entries(spec.ulimits)) {
        const why = refusal(name, limit.hard, spec.resources.memoryBytes, policy);
        if (why === null) continue;
        const written = doc.spec.ulimits?.[name];
        found.push({
          path: typeof written === "object" ? ["spec", "ulimits", name, "hard"] : ["spec", "ulimits", name],
          message: `${why}${widen(`--max-ulimit ${name}=${limit.hard}`)}`,
        });
      }
      return found;
    },
    request: (b, policy) =>
      (b.HostConfig.Ulimits ?? []).flatMap((u) => {
        const why = refusal(u.Name, u.Hard, b.HostConfig.Memory ?? null, policy);
        return why === null ? [] : [`Ulimit ${why}`];
      }),
  },
];
