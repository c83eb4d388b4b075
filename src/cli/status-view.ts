/** The status table `berth status` and `berth apply` print. */
import type { StatusReport } from "../core/status.js";
import { age, table } from "./table.js";

export function renderStatus(report: StatusReport, now: number): string {
  const rows = report.specs.map((s) => {
    const oldest = s.containers.reduce<number | null>((min, c) => {
      const t = Date.parse(c.createdAt);
      return min === null || t < min ? t : min;
    }, null);
    return [
      s.name,
      s.phase,
      `${s.replicas.ready}/${s.replicas.desired}`,
      s.containers.map((c) => `${c.name}(${c.state}${c.health ? `,${c.health}` : ""})`).join(" ") || "-",
      oldest === null ? "-" : age(oldest, now),
      s.expiresAt ?? "never",
      s.message ?? "",
    ];
  });
  let out = table(["SPEC", "PHASE", "READY", "CONTAINERS", "AGE", "EXPIRES", "MESSAGE"], rows);
  if (report.orphans.length > 0) {
    out += `\ncontainers without a spec (kept): ${report.orphans.map((c) => `${c.name}(${c.state})`).join(" ")}\n`;
  }
  for (const note of report.notes) out += `! ${note}\n`;
  return out;
}
