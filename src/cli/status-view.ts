/** The status table `berth status` and `berth apply` print. */
import type { StatusReport } from "../core/status.js";
import { age, table } from "./table.js";

/** With `wide`, each spec's file, hash and last action too (`berth status -o wide`). */
export function renderStatus(report: StatusReport, now: number, { wide = false }: { wide?: boolean } = {}): string {
  const rows = report.specs.map((s) => {
    const oldest = s.containers.reduce<number | null>((min, c) => {
      const t = Date.parse(c.createdAt);
      return min === null || t < min ? t : min;
    }, null);
    const more = wide
      ? [
          s.file ?? "-",
          s.hash?.slice(0, 12) ?? "-",
          s.lastAction ? `${s.lastAction.kind}(${s.lastAction.ok ? "ok" : "failed"})` : "-",
        ]
      : [];
    return [
      s.name,
      s.phase,
      `${s.replicas.ready}/${s.replicas.desired}`,
      s.containers.map((c) => `${c.name}(${c.state}${c.health ? `,${c.health}` : ""})`).join(" ") || "-",
      oldest === null ? "-" : age(oldest, now),
      s.expiresAt ?? "never",
      ...more,
      s.message ?? "",
    ];
  });
  const header = ["SPEC", "PHASE", "READY", "CONTAINERS", "AGE", "EXPIRES"];
  let out = table([...header, ...(wide ? ["FILE", "HASH", "LAST ACTION"] : []), "MESSAGE"], rows);
  if (report.orphans.length > 0) {
    out += `\ncontainers without a spec (kept): ${report.orphans.map((c) => `${c.name}(${c.state})`).join(" ")}\n`;
  }
  const objects = report.objects ?? [];
  if (objects.length > 0) {
    out += `\n${table(
      ["NETWORK/VOLUME", "STATE", "USED BY", "MESSAGE"],
      objects.map((o) => [
        `${o.kind.toLowerCase()}/${o.name}`,
        o.state,
        o.usedBy.length === 0 ? "-" : o.usedBy.join(" "),
        o.message ?? "",
      ]),
    )}`;
  }
  for (const note of report.notes) out += `! ${note}\n`;
  return out;
}
