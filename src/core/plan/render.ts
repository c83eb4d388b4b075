/**
 * The stable text rendering of a plan: what `berth plan` prints and what the golden planner
 * tests compare. One line per action, each field a replace changes indented below it, `! ` before
 * each note.
 */
import { describeObject } from "../declared.js";
import type { HostPortMap } from "../host-ports.js";
import { shortDigest } from "../image-ref.js";
import { shortId } from "../observed.js";
import type { FieldChange } from "../spec-diff.js";
import type { Action, ContainerRef, Note, Plan } from "./plan.js";

const c = (ref: ContainerRef): string => `${ref.name} [${shortId(ref.id)}]`;

/** ` (host port 10000->3000/tcp)` for an action that gives `hostPort: auto` ports; "" otherwise. */
function hostPortsText(ports: HostPortMap | undefined): string {
  const entries = Object.entries(ports ?? {});
  if (entries.length === 0) return "";
  return ` (host port${entries.length > 1 ? "s" : ""} ${entries.map(([key, port]) => `${port}->${key}`).join(", ")})`;
}

export function renderAction(a: Action): string {
  switch (a.kind) {
    case "create":
      return `create  ${a.name}: ${a.reason}${hostPortsText(a.hostPorts)}`;
    case "replace": {
      const digests = a.imageDigests
        ? ` (image ${shortDigest(a.imageDigests.from)} → ${shortDigest(a.imageDigests.to)})`
        : "";
      return `replace ${c(a.old)} ${a.strategy}: ${a.reason}${digests}${hostPortsText(a.hostPorts)}`;
    }
    case "finish":
      return `finish  ${c(a.next)} -> ${a.name}${a.old ? `, removing ${c(a.old)}` : ""}: ${a.reason}`;
    case "start":
      return `start   ${c(a.container)}: ${a.reason}`;
    case "stop":
      return `stop    ${c(a.container)}: ${a.reason}`;
    case "remove":
      return `remove  ${c(a.container)}: ${a.reason}`;
    case "rename":
      return `rename  ${c(a.container)} -> ${a.to}: ${a.reason}`;
    case "reclaim-volume":
      return `remove  volume ${a.volume}: ${a.reason}`;
    case "remove-image":
      return `remove  image ${a.image}: ${a.reason}`;
    case "collect":
      return `collect ${c(a.container)} -> record ${a.record.volume}: ${a.reason}`;
    case "forget":
      return `forget  ${a.reason === "container gone" ? "deadline mark" : "record"} ${a.name}: ${a.reason}`;
    case "create-network":
    case "create-volume":
      return `create  ${describeObject(a.object.object)}: ${a.reason}`;
    case "remove-network":
    case "remove-volume":
      return `remove  ${describeObject(a.target)}: ${a.reason}`;
  }
}

/** `~ resources.memory: 64Mi → 128Mi`, `+ env.DEBUG: "1"`, `- ports[0]: …`, `~ secretEnv.TOKEN: (value changed)`. */
export function renderChange(c: FieldChange): string {
  switch (c.op) {
    case "add":
      return `+ ${c.path}: ${c.to ?? ""}`;
    case "remove":
      return `- ${c.path}: ${c.from ?? ""}`;
    case "change": {
      const value = c.valueChanged ? "(value changed)" : "";
      const refs = c.from !== undefined && c.to !== undefined ? `${c.from} → ${c.to}` : "";
      return `~ ${c.path}: ${[refs, value].filter((part) => part !== "").join(" ")}`;
    }
  }
}

/** The lines under an action: the per-instance volumes it makes, the fields a replace changes (when known). */
export function renderChanges(a: Action): string[] {
  const volumes = a.kind === "create" || a.kind === "replace" ? (a.newVolumes ?? []) : [];
  return [
    ...volumes.map((v) => `    + volume ${v}`),
    ...(a.kind === "replace" && a.changes ? a.changes.map((c) => `    ${renderChange(c)}`) : []),
  ];
}

/** "a", "a and b", "a, b and c". */
export function andList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1) ?? ""}`;
}

/** What a partition note says: which replicas keep their version, and how they roll. */
export function partitionText(n: Extract<Note, { kind: "partitioned" }>): string {
  return `updatePartition ${n.partition} keeps ${andList(n.kept)} on ${n.kept.length === 1 ? "its" : "their"} version; lower it to roll ${n.kept.length === 1 ? "it" : "them"}`;
}

export function renderNote(n: Note): string {
  switch (n.kind) {
    case "prune-paused":
      return `! ${n.message}: ${n.containers.map(c).join(", ")}`;
    case "conflict":
      return n.by === "foreign"
        ? `! ${n.spec}: the name ${n.name} is held by container [${shortId(n.holder)}], which berth does not own; left untouched (Conflict)`
        : `! ${n.spec}: the name ${n.name} is held by berth's container [${shortId(n.holder)}] of a spec whose file is invalid; left untouched until that file is fixed (Conflict)`;
    case "update-pending":
      return `! ${n.spec}: ${n.message}`;
    case "partitioned":
      return `! ${n.spec}: ${partitionText(n)}`;
    case "volume-prune-paused":
      return `! ${n.message}: ${n.volumes.join(", ")}`;
    case "object":
      return n.object === "" ? `! ${n.message}` : `! ${n.object.replace(":", " ")}: ${n.message}`;
    case "blocked":
      return `! ${n.spec}: ${n.message} (${n.failed ? "Failed" : "Pending"})`;
    case "unschedulable":
      return `! ${n.spec}: ${n.message} (Pending)`;
  }
}

/**
 * `berth plan`'s last line: the changes pending, and the problems said above (files that do not
 * load, specs blocked), which the changes leave out.
 */
export function renderPlanSummary(changes: number, problems: number, waiting = 0): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
  const pending = changes === 0 ? "nothing to do" : `${plural(changes, "change")} pending`;
  const loads = problems === 0 ? "" : " for the specs that load";
  // Not "nothing to do" alone while a spec waits for room: its containers are missing.
  const room = waiting === 0 ? "" : `, and ${plural(waiting, "spec")} ${waiting === 1 ? "waits" : "wait"} for room`;
  const above = problems === 0 ? (waiting === 0 ? "" : " (above)") : `; ${plural(problems, "problem")} above`;
  return `${pending}${loads}${room}${above}\n`;
}

/** The specs a plan leaves waiting for room on the host (docs/capacity.md). */
export function waitingForRoom(notes: readonly Note[]): number {
  return new Set(notes.flatMap((n) => (n.kind === "unschedulable" ? [n.spec] : []))).size;
}

export function renderPlan(p: Plan): string {
  const lines = [...p.actions.flatMap((a) => [renderAction(a), ...renderChanges(a)]), ...p.notes.map(renderNote)];
  return lines.length === 0 ? "nothing to do\n" : `${lines.join("\n")}\n`;
}
