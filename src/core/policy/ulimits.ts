/**
 * The ceilings baseline puts on `ulimits`. Lowering a limit is always safe; these are the four
 * whose raised value reaches past the container: open files (kernel memory for file tables), locked
 * memory (cannot be reclaimed or swapped), and `nice`/`rtprio`, which let an unprivileged process
 * take CPU priority that only CAP_SYS_NICE grants otherwise (real-time scheduling can starve the
 * host). The others only cap the container's own use of what cgroups already bound.
 */
import type { UlimitName } from "../spec.js";
import { formatBytes } from "../units.js";
import type { Check, Found } from "./check.js";

/** nofile's ceiling: the kernel's default fs.nr_open, and Docker's own default for containers. */
export const MAX_NOFILE = 1_048_576;
/** memlock's ceiling without a memory limit (bytes); with one, the limit. */
export const MAX_MEMLOCK_BYTES = 64 * 2 ** 20;
/** nice's ceiling: 20 - 20 = nice 0, the default priority, and no higher. */
export const MAX_NICE = 20;

/** The highest hard limit baseline admits for a name (bytes of memory limit, if any); null: no ceiling. */
function ceiling(name: string, memoryBytes: number | null): { max: number; why: string } | null {
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

/** A hard limit above its ceiling (-1, unlimited, is above every ceiling): why, or null. */
function refusal(name: string, hard: number, memoryBytes: number | null): string | null {
  const limit = ceiling(name, memoryBytes);
  if (limit === null || (hard !== -1 && hard <= limit.max)) return null;
  return `${name} ${hard === -1 ? "unlimited (-1)" : hard} is above the ceiling of ${limit.max} (${limit.why})`;
}

export const ULIMIT_CHECKS: readonly Check[] = [
  {
    id: "ulimit-ceilings",
    scope: "baseline",
    summary: `\`ulimits\` may not raise \`nofile\` above ${MAX_NOFILE}, \`memlock\` above ${formatBytes(MAX_MEMLOCK_BYTES)} (or \`resources.memory\` when larger), \`nice\` above ${MAX_NICE} (no priority above nice 0) or \`rtprio\` above 0 (no real-time scheduling); -1 (unlimited) counts as above. The other names only limit the container itself.`,
    spec: (doc, spec) => {
      const found: Found[] = [];
      for (const [name, limit] of Object.entries(spec.ulimits)) {
        const why = refusal(name, limit.hard, spec.resources.memoryBytes);
        if (why === null) continue;
        const written = doc.spec.ulimits?.[name];
        found.push({
          path: typeof written === "object" ? ["spec", "ulimits", name, "hard"] : ["spec", "ulimits", name],
          message: `${why}; run berth with --policy privileged to allow it`,
        });
      }
      return found;
    },
    request: (b) =>
      (b.HostConfig.Ulimits ?? []).flatMap((u) => {
        const why = refusal(u.Name, u.Hard, b.HostConfig.Memory ?? null);
        return why === null ? [] : [`Ulimit ${why}`];
      }),
  },
];
