/**
 * `berth status` and `berth get NAME`: every spec's phase and containers, or one spec in detail.
 * From the running controller when one with the same --id answers at --server (its status is
 * the freshest: retries, last actions); else from Docker and the spec files.
 */
import { createApp } from "../../app.js";
import type { RawOptions } from "../../config.js";
import type { SpecStatus, StatusReport } from "../../loop/status.js";
import { EXIT, type CliIO } from "../io.js";
import { DEFAULT_SERVER, liveStatus } from "../live.js";
import { setup } from "../setup.js";
import { renderStatus } from "../status-view.js";
import { table } from "../table.js";

export interface StatusOptions extends RawOptions {
  readonly output?: string;
  readonly server?: string;
}

async function report(raw: StatusOptions, io: CliIO): Promise<StatusReport> {
  const { config, log } = setup(raw, { level: "error", fd: 2 });
  const live = await liveStatus(raw.server ?? DEFAULT_SERVER, config.controllerId);
  if (live) {
    if (raw.output !== "json") io.err(`(live from the controller at ${live.url}, observed ${live.observedAt})\n`);
    return live.report;
  }
  const app = createApp(config, { log });
  return (await app.reconciler.pass({ reload: true, execute: false })).report;
}

export async function statusCommand(raw: StatusOptions, io: CliIO): Promise<number> {
  const result = await report(raw, io);
  if (raw.output === "json") io.out(`${JSON.stringify(result, null, 2)}\n`);
  else io.out(renderStatus(result, Date.now()));
  return EXIT.ok;
}

function renderSpec(s: SpecStatus): string {
  const field = (key: string, value: string | number | null): string => `${`${key}:`.padEnd(13)}${value ?? "-"}\n`;
  let out =
    field("Name", s.name) +
    field("Phase", s.phase) +
    (s.message ? field("Message", s.message) : "") +
    field("File", s.file) +
    field("Hash", s.hash) +
    field("Replicas", `${s.replicas.ready}/${s.replicas.desired} ready`) +
    field("Expires", s.expiresAt ?? "never") +
    field(
      "Last action",
      s.lastAction
        ? `${s.lastAction.kind} (${s.lastAction.reason}) at ${s.lastAction.at}${s.lastAction.ok ? "" : ", failed"}`
        : null,
    ) +
    (s.lastError ? field("Last error", s.lastError) : "") +
    (s.retryAt ? field("Retry at", s.retryAt) : "");
  if (s.containers.length > 0) {
    out += "Containers:\n";
    out += table(
      ["  NAME", "ID", "STATE", "HEALTH", "CURRENT", "CREATED"],
      s.containers.map((c) => [
        `  ${c.name}`,
        c.id.slice(0, 12),
        c.state,
        c.health ?? "-",
        c.current ? "yes" : "no",
        c.createdAt,
      ]),
    );
  }
  return out;
}

export async function getCommand(name: string, raw: StatusOptions, io: CliIO): Promise<number> {
  const result = await report(raw, io);
  const spec = result.specs.find((s) => s.name === name);
  if (!spec) {
    io.err(`berth: no spec ${name} (specs: ${result.specs.map((s) => s.name).join(", ") || "none"})\n`);
    return EXIT.failed;
  }
  io.out(raw.output === "json" ? `${JSON.stringify(spec, null, 2)}\n` : renderSpec(spec));
  return EXIT.ok;
}
