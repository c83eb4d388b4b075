/**
 * The metrics' names and labels, read from the registry's Prometheus text as a scraper reads it:
 * standard names for the process metrics, berth_build_info, identifiers as label values, and
 * every series an alert may watch present at 0 before anything happened.
 */
import { describe, expect, it } from "vitest";
import { CONTAINER_STATES } from "../../../src/core/observed.js";
import type { Action } from "../../../src/core/plan/plan.js";
import { type ActionReason, REASON_CODES } from "../../../src/core/plan/reasons.js";
import { PHASES } from "../../../src/core/status.js";
import { Metrics } from "../../../src/http/metrics.js";

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Prometheus text → its samples (the exposition format prom-client writes: no escapes needed here). */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string;
    }
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** The metric families: name → label names (le and quantile aside). */
function families(text: string): Map<string, string[]> {
  const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string] as const);
  const all = samples(text);
  return new Map(
    types.map(([name, type]) => {
      const own = all.filter((s) =>
        type === "histogram" || type === "summary" ? s.name.startsWith(name) : s.name === name,
      );
      const labels = new Set(own.flatMap((s) => Object.keys(s.labels)).filter((l) => l !== "le" && l !== "quantile"));
      return [name, [...labels].sort()];
    }),
  );
}

function metrics(): Metrics {
  return new Metrics({ version: "1.2.3", queue: () => ({ queued: 0, inFlight: 0 }) });
}

const value = (all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe("metrics", () => {
  it("names berth's own families and their labels (golden)", async () => {
    const berth = [...families(await metrics().text())].filter(([name]) => name.startsWith("berth_"));
    expect(Object.fromEntries(berth)).toEqual({
      berth_build_info: ["version"],
      berth_reconciles_total: ["result"],
      berth_source_fetch_failures_total: [],
      berth_source_last_fetch_timestamp_seconds: [],
      berth_reconcile_duration_seconds: [],
      berth_actions_total: [],
      berth_docker_calls_total: [],
      berth_docker_call_duration_seconds: [],
      berth_reaped_containers_total: ["by"],
      berth_events_reconnects_total: [],
      berth_leader: [],
      berth_leader_term: [],
      berth_leader_transitions_total: [],
      berth_managed_containers: ["state"],
      // By spec, only those whose containers restarted (none here).
      berth_container_restarts: [],
      // By spec (none here).
      berth_spec_replicas: [],
      berth_specs: ["phase"],
      berth_spec_errors: [],
      // With --capacity only (absent here): series by resource.
      berth_capacity_total: [],
      berth_capacity_requested: [],
      berth_capacity_waiting_specs: [],
      berth_queue_depth: [],
      berth_operations_in_flight: [],
    });
  });

  it("keeps the standard names of the process and Node.js metrics", async () => {
    const names = [...families(await metrics().text()).keys()];
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
    ]) {
      expect(names).toContain(name);
    }
    expect(names.filter((n) => !/^(berth|process|nodejs)_/.test(n))).toEqual([]);
    expect(names.filter((n) => n.startsWith("berth_process"))).toEqual([]);
  });

  it("says berth's version in berth_build_info", async () => {
    expect(value(samples(await metrics().text()), "berth_build_info", { version: "1.2.3" })).toBe(1);
  });

  it("has every phase, container state, pass result and reaper at 0 before the first pass", async () => {
    const all = samples(await metrics().text());
    for (const phase of PHASES) expect(value(all, "berth_specs", { phase })).toBe(0);
    for (const state of CONTAINER_STATES) expect(value(all, "berth_managed_containers", { state })).toBe(0);
    for (const result of ["ok", "error"]) expect(value(all, "berth_reconciles_total", { result })).toBe(0);
    for (const by of ["spec", "label"]) expect(value(all, "berth_reaped_containers_total", { by })).toBe(0);
    expect(value(all, "berth_events_reconnects_total")).toBe(0);
  });

  it("labels actions by reason code, not by the words a plan prints (golden)", async () => {
    // Each code is its reason's words joined by underscores: one identifier per reason, none shared.
    for (const [reason, code] of Object.entries(REASON_CODES)) {
      expect(code).toBe(reason.replaceAll(" ", "_"));
      expect(code).toMatch(/^[a-z][a-z0-9_]*$/);
    }
    expect(new Set(Object.values(REASON_CODES)).size).toBe(Object.keys(REASON_CODES).length);
    const m = metrics();
    const container = { id: "0123456789ab", name: "web" };
    m.action(
      {
        kind: "replace",
        spec: "web",
        replica: 0,
        name: "web",
        old: container,
        strategy: "StartFirst",
        reason: "hash changed",
      },
      null,
    );
    m.action({ kind: "create", spec: "web", replica: 0, name: "web", reason: "not found" }, new Error("boom"));
    m.action({ kind: "remove", spec: "web", container, reason: "leftover temporary" }, null);
    const all = samples(await m.text());
    expect(value(all, "berth_actions_total", { kind: "replace", reason: "hash_changed", outcome: "ok" })).toBe(1);
    expect(value(all, "berth_actions_total", { kind: "create", reason: "not_found", outcome: "error" })).toBe(1);
    expect(value(all, "berth_actions_total", { kind: "remove", reason: "leftover_temporary", outcome: "ok" })).toBe(1);
  });

  it("gives every label value as an identifier, whatever reason or Docker call fed it", async () => {
    const m = metrics();
    const container = { id: "0123456789ab", name: "web" };
    for (const reason of Object.keys(REASON_CODES) as ActionReason[]) {
      // The counter reads only kind and reason: one action shape carries every reason here.
      m.action({ kind: "remove", spec: "web", container, reason } as unknown as Action, null);
    }
    m.dockerCall("volume-create", "image-missing", 3);
    m.dockerCall("create", "bad-request", 3);
    const all = samples(await m.text()).filter((s) => s.name.startsWith("berth_") && s.name !== "berth_build_info");
    const values = new Set(
      all.flatMap((s) =>
        Object.entries(s.labels)
          .filter(([k]) => k !== "le" && k !== "phase")
          .map(([, v]) => v),
      ),
    );
    expect([...values].filter((v) => !/^[a-z][a-z0-9_]*$/.test(v))).toEqual([]);
    expect(value(all, "berth_docker_calls_total", { operation: "volume_create", outcome: "image_missing" })).toBe(1);
    expect(value(all, "berth_docker_calls_total", { operation: "create", outcome: "bad_request" })).toBe(1);
    // Phases are the status API's names (Running, Expired), as kube-state-metrics labels pod phases.
    for (const s of all.filter((x) => x.name === "berth_specs")) expect(PHASES).toContain(s.labels.phase);
  });
});
