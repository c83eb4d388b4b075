/**
 * Ceilings, under every profile: resources (--max-memory, --max-cpus, --max-pids,
 * --require-limits) and the stop timeout (--max-stop-timeout).
 */
import type { FieldPath } from "../spec.js";
import { formatBytes, formatDurationMs } from "../units.js";
import type { Check, Found } from "./check.js";

function ceiling(
  value: number | null,
  max: number | null,
  required: boolean,
  field: "memory" | "cpus" | "pids",
  show: (n: number) => string,
): Found[] {
  const path: FieldPath = ["spec", "resources", field];
  if (value === null) {
    if (max === null && !required) return [];
    return [
      {
        path: ["spec"],
        message: `spec.resources.${field} is required${max !== null ? ` (at most ${show(max)})` : ""}`,
      },
    ];
  }
  if (max !== null && value > max) return [{ path, message: `${show(value)} is above the limit of ${show(max)}` }];
  return [];
}

function requestCeiling(value: number | undefined, max: number | null, required: boolean, key: string): string[] {
  if (value === undefined || value <= 0) return max !== null || required ? [`no ${key}`] : [];
  return max !== null && value > max ? [`${key} ${value} above ${max}`] : [];
}

export const LIMIT_CHECKS: readonly Check[] = [
  {
    id: "max-memory",
    scope: "limits",
    summary:
      "With `--max-memory`, `resources.memory` is required and at most that (also required by `--require-limits`).",
    spec: (_doc, spec, policy) =>
      ceiling(spec.resources.memoryBytes, policy.maxMemoryBytes, policy.requireLimits, "memory", formatBytes),
    request: (b, policy) => requestCeiling(b.HostConfig.Memory, policy.maxMemoryBytes, policy.requireLimits, "Memory"),
  },
  {
    id: "max-cpus",
    scope: "limits",
    summary: "With `--max-cpus`, `resources.cpus` is required and at most that.",
    spec: (_doc, spec, policy) =>
      ceiling(spec.resources.nanoCpus, policy.maxNanoCpus, false, "cpus", (n) => `${n / 1e9} CPUs`),
    request: (b, policy) => requestCeiling(b.HostConfig.NanoCpus, policy.maxNanoCpus, false, "NanoCpus"),
  },
  {
    id: "max-pids",
    scope: "limits",
    summary: "With `--max-pids`, `resources.pids` is required and at most that (also required by `--require-limits`).",
    spec: (_doc, spec, policy) => ceiling(spec.resources.pids, policy.maxPids, policy.requireLimits, "pids", String),
    request: (b, policy) => requestCeiling(b.HostConfig.PidsLimit, policy.maxPids, policy.requireLimits, "PidsLimit"),
  },
  {
    id: "max-stop-timeout",
    scope: "limits",
    summary:
      "`stopTimeout` is at most `--max-stop-timeout` (default 10m): every stop berth makes waits that long at most, and never the container's own setting.",
    spec: (_doc, spec, policy) =>
      spec.stopTimeoutMs > policy.maxStopTimeoutMs
        ? [
            {
              path: ["spec", "stopTimeout"],
              message: `${formatDurationMs(spec.stopTimeoutMs)} is above the limit of ${formatDurationMs(policy.maxStopTimeoutMs)} (--max-stop-timeout)`,
            },
          ]
        : [],
    // The body counts whole seconds (rounded up); the limit is whole seconds too, so the two agree.
    request: (b, policy) =>
      b.StopTimeout * 1000 > policy.maxStopTimeoutMs
        ? [`StopTimeout ${b.StopTimeout}s above ${policy.maxStopTimeoutMs / 1000}s`]
        : [],
  },
];
