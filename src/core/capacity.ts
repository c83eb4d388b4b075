/**
 * Capacity admission (docs/capacity.md): the second gate a create passes, after the admission
 * policy. The policy asks "may this spec have this?"; capacity asks "is there room for it now?".
 *
 * Pure: given the host's totals, what berth's existing containers hold (never taken back: no
 * preemption) and the containers a plan would add, it admits them in order — priority, highest
 * first, then spec name, then replica — each one that fits, and says for the others what they
 * need and what is free, as Kubernetes' scheduler does (`Unschedulable: needs memory 1Gi, 512Mi
 * free`). Admission is per container, as Kubernetes admits per pod.
 */
import { formatQuantity, isParseError, parseBytes, parseNanoCpus } from "./units.js";

export const RESOURCES = ["cpus", "memory", "containers"] as const;
export type Resource = (typeof RESOURCES)[number];

/** An amount of each resource: nano-CPUs, bytes, containers. */
export type Amounts = Readonly<Record<Resource, number>>;

/** What berth may fill on this host; null: that resource is not limited. */
export type CapacityTotals = Readonly<Record<Resource, number | null>>;

/** What a container without a limit counts (nano-CPUs, bytes). */
export interface DefaultRequest {
  readonly cpus: number;
  readonly memory: number;
}

/** The capacity in force for a plan (config resolved: `auto` already read from the engine). */
export interface CapacityOptions {
  readonly total: CapacityTotals;
  readonly defaultRequest: DefaultRequest;
}

export const ZERO: Amounts = { cpus: 0, memory: 0, containers: 0 };

/** The stated default request of a container without limits. */
export const DEFAULT_REQUEST: DefaultRequest = { cpus: 250_000_000, memory: 256 * 2 ** 20 };

/** The resource fields of a spec (NormalizedSpec.resources), or as a container was made. */
export interface ResourceLimits {
  readonly nanoCpus?: number | null;
  readonly memoryBytes?: number | null;
  readonly memoryReservationBytes?: number | null;
}

/**
 * What one container of a spec requests: its CPU limit, its memory limit (else its memory
 * reservation), else the default request for what it leaves unlimited.
 */
export function requestOf(resources: ResourceLimits, defaults: DefaultRequest): Amounts {
  return {
    cpus: resources.nanoCpus ?? defaults.cpus,
    memory: resources.memoryBytes ?? resources.memoryReservationBytes ?? defaults.memory,
    containers: 1,
  };
}

/** The resources whose request comes from the default (the spec sets no limit for them): named when they do not fit. */
export function defaultedOf(resources: ResourceLimits): readonly Resource[] {
  const defaulted: Resource[] = [];
  if (resources.nanoCpus == null) defaulted.push("cpus");
  if (resources.memoryBytes == null && resources.memoryReservationBytes == null) defaulted.push("memory");
  return defaulted;
}

export function add(a: Amounts, b: Amounts): Amounts {
  return { cpus: a.cpus + b.cpus, memory: a.memory + b.memory, containers: a.containers + b.containers };
}

/** a − b per resource, never below 0. */
export function less(a: Amounts, b: Amounts): Amounts {
  const d = (r: Resource): number => Math.max(0, a[r] - b[r]);
  return { cpus: d("cpus"), memory: d("memory"), containers: d("containers") };
}

/** What is left of each limited resource (null: unlimited), never below 0. */
export function freeOf(total: CapacityTotals, requested: Amounts): CapacityTotals {
  const f = (r: Resource): number | null => {
    const t = total[r];
    return t === null ? null : Math.max(0, t - requested[r]);
  };
  return { cpus: f("cpus"), memory: f("memory"), containers: f("containers") };
}

/** Nano-CPUs as a spec writes CPUs: 250000000 → "0.25", 8e9 → "8". */
export function formatCpus(nano: number): string {
  return String(Math.round(nano / 1e6) / 1e3);
}

/**
 * Bytes as a spec writes them when that is short ("512Mi", "1Gi"), else to one decimal of the
 * largest binary unit ("5.8Gi" for 6227020800, "1.5Gi", not "1615112Ki").
 */
export function formatMemory(bytes: number): string {
  const exact = formatQuantity(bytes);
  if (/^[0-9]{1,4}[A-Za-z]+$/.test(exact) || bytes < 1024) return exact;
  for (const [suffix, size] of [
    ["Ti", 2 ** 40],
    ["Gi", 2 ** 30],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ] as const) {
    if (bytes >= size) return `${String(Math.round((bytes / size) * 10) / 10)}${suffix}`;
  }
  return exact;
}

export function formatAmount(resource: Resource, amount: number): string {
  return resource === "cpus" ? formatCpus(amount) : resource === "memory" ? formatMemory(amount) : String(amount);
}

/** One container a plan would add, as admission sees it. */
export interface Candidate<T> {
  /** What the caller admits or holds back (a plan action). */
  readonly item: T;
  readonly spec: string;
  readonly replica: number;
  /** Higher first (spec.priority, default 0). */
  readonly priority: number;
  /**
   * A pool's unclaimed member (docs/capacity.md, "Pools"): admitted after every other container
   * of its priority, so a full host stops refilling pools first.
   */
  readonly standby?: boolean;
  /** What it adds while it exists: a create its request; a StopFirst replace its request less the old container's. */
  readonly need: Amounts;
  /** The resources of `need` that come from the default request (defaultedOf): the reason says so. */
  readonly defaulted?: readonly Resource[];
  /** A StopFirst replace: what its old container holds, which `need` is beyond (the reason says so). */
  readonly replacing?: Amounts;
}

export interface Refusal<T> {
  readonly item: T;
  readonly spec: string;
  /** `Unschedulable: needs memory 1Gi, 512Mi free`. */
  readonly reason: string;
}

export interface AdmissionResult<T> {
  /** In admission order. */
  readonly admitted: readonly T[];
  readonly refused: readonly Refusal<T>[];
  /** What the existing containers hold plus what was admitted. */
  readonly requested: Amounts;
}

/** The order containers are admitted in: priority (highest first), pools' standby members last, name, replica. */
export function admissionOrder<T>(a: Candidate<T>, b: Candidate<T>): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const sa = a.standby === true ? 1 : 0;
  const sb = b.standby === true ? 1 : 0;
  if (sa !== sb) return sa - sb;
  if (a.spec !== b.spec) return a.spec < b.spec ? -1 : 1;
  return a.replica - b.replica;
}

/**
 * What `need` lacks in `free`, in words; null when it fits. A need above the whole capacity says
 * so: no room that frees will ever admit it.
 */
export function shortfall(
  need: Amounts,
  free: CapacityTotals,
  total?: CapacityTotals,
  { defaulted = [], replacing }: Pick<Candidate<unknown>, "defaulted" | "replacing"> = {},
): string | null {
  const short: string[] = [];
  for (const r of RESOURCES) {
    const left = free[r];
    if (left === null || need[r] <= 0 || need[r] <= left) continue;
    const all = total?.[r] ?? null;
    // A spec without a limit for r asks the default: saying so points at the fix (a limit, or --default-request).
    const old = replacing?.[r] ?? 0;
    const whole = need[r] + old;
    const defaultNote = defaulted.includes(r) ? " (the default request: no limit set)" : "";
    if (all !== null && whole > all) {
      // The container as a whole, even where a StopFirst replace needs only what its old one lacks.
      short.push(
        `${r} ${formatAmount(r, whole)}${defaultNote}, more than the whole capacity (${formatAmount(r, all)}, --capacity): it never fits`,
      );
      continue;
    }
    // A StopFirst replace needs only what its old container does not hold already: said so.
    const beyond = old > 0 ? ` more than its old container holds (${formatAmount(r, whole)} in all)` : "";
    short.push(`${r} ${formatAmount(r, need[r])}${beyond}${defaultNote}, ${formatAmount(r, left)} free`);
  }
  return short.length === 0 ? null : `Unschedulable: needs ${short.join("; ")}`;
}

/**
 * Admits, in admissionOrder, every candidate that fits in what the held containers and those
 * admitted before it leave. A candidate that does not fit never blocks a later, smaller one
 * (Kubernetes' scheduler does the same); room that frees later goes first to the highest priority.
 */
export function admit<T>(
  total: CapacityTotals,
  held: Amounts,
  candidates: readonly Candidate<T>[],
): AdmissionResult<T> {
  let requested = held;
  const admitted: T[] = [];
  const refused: Refusal<T>[] = [];
  for (const c of [...candidates].sort(admissionOrder)) {
    const why = shortfall(c.need, freeOf(total, requested), total, c);
    if (why === null) {
      requested = add(requested, c.need);
      admitted.push(c.item);
    } else refused.push({ item: c.item, spec: c.spec, reason: why });
  }
  return { admitted, refused, requested };
}

/** A resource list as the flags write it, `cpus=8,memory=14Gi,containers=100`, parsed; or what is wrong. */
export function parseResourceList(
  text: string,
  allowed: readonly Resource[],
): { readonly amounts: Partial<Record<Resource, number>>; readonly words: readonly string[] } | { error: string } {
  const amounts: Partial<Record<Resource, number>> = {};
  const words: string[] = [];
  const example = allowed.map((r) => `${r}=${EXAMPLES[r]}`).join(",");
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) {
      words.push(item);
      continue;
    }
    const name = item.slice(0, eq).trim() as Resource;
    const value = item.slice(eq + 1).trim();
    if (!allowed.includes(name))
      return {
        error: `${JSON.stringify(item)}: ${JSON.stringify(name)} is not one of ${allowed.join(", ")} (e.g. ${example})`,
      };
    if (amounts[name] !== undefined) return { error: `${name} is given twice` };
    const parsed =
      name === "cpus"
        ? value === "0"
          ? 0
          : parseNanoCpus(value)
        : name === "memory"
          ? parseBytes(value)
          : /^[0-9]{1,9}$/.test(value)
            ? Number(value)
            : { error: `${JSON.stringify(value)} is not a whole number of containers (e.g. 100)` };
    if (isParseError(parsed)) return { error: `${name}: ${parsed.error}` };
    amounts[name] = parsed;
  }
  return { amounts, words };
}

const EXAMPLES: Readonly<Record<Resource, string>> = { cpus: "8", memory: "14Gi", containers: "100" };

/** Amounts as the API and `-o json` show them: CPUs (not nano-CPUs), bytes, containers. */
export interface ShownAmounts<N = number> {
  readonly cpus: N;
  readonly memory: N;
  readonly containers: N;
}

/** The host's capacity as `GET /v1/node` and `berth status -o json` show it. */
export interface NodeReport {
  /** What berth may fill; null: not limited. */
  readonly capacity: ShownAmounts<number | null>;
  /** What berth's containers hold, with what the last pass admitted. */
  readonly requested: ShownAmounts;
  /** What is left; null: not limited. */
  readonly free: ShownAmounts<number | null>;
  /** Each container of berth's that holds capacity. */
  readonly containers: readonly {
    readonly name: string;
    readonly spec: string;
    readonly cpus: number;
    readonly memory: number;
  }[];
  /** Specs with containers waiting for room, and why. */
  readonly pending: readonly { readonly spec: string; readonly reason: string }[];
}

const shownCpus = (nano: number): number => Math.round(nano / 1e6) / 1e3;

function shown<N extends number | null>(a: Readonly<Record<Resource, N>>): ShownAmounts<N> {
  return {
    cpus: (a.cpus === null ? null : shownCpus(a.cpus)) as N,
    memory: a.memory,
    containers: a.containers,
  };
}

export function nodeReport(
  usage: {
    readonly total: CapacityTotals;
    readonly requested: Amounts;
    readonly holdings: readonly { readonly name: string; readonly spec: string; readonly amounts: Amounts }[];
  },
  pending: readonly { readonly spec: string; readonly reason: string }[],
): NodeReport {
  return {
    capacity: shown(usage.total),
    requested: shown(usage.requested),
    free: shown(freeOf(usage.total, usage.requested)),
    containers: usage.holdings.map((h) => ({
      name: h.name,
      spec: h.spec,
      cpus: shownCpus(h.amounts.cpus),
      memory: h.amounts.memory,
    })),
    pending,
  };
}

/** One line for `berth status`: `capacity: cpus 1.5/8, memory 3Gi/14Gi, containers 4/100; 1 spec waits`. */
export function capacityLine(node: NodeReport): string {
  const part = (r: Resource): string => {
    const used = r === "cpus" ? node.requested.cpus * 1e9 : node.requested[r];
    const total = node.capacity[r];
    const t = total === null ? null : r === "cpus" ? total * 1e9 : total;
    return `${r} ${formatAmount(r, used)}/${t === null ? "unlimited" : formatAmount(r, t)}`;
  };
  const waits = node.pending.length;
  return `capacity: ${RESOURCES.map(part).join(", ")}${waits > 0 ? `; ${waits} spec${waits === 1 ? "" : "s"} waiting for room` : ""}`;
}

/** `--capacity`, `--reserve`, `--default-request` as configured (config.ts), before the engine is asked. */
export interface CapacitySetting {
  /** `--capacity auto`: the engine's NCPU and MemTotal, less `reserve`. */
  readonly auto: boolean;
  /** Totals given (with `auto`, they override what the engine says): nano-CPUs, bytes, containers. */
  readonly given: Readonly<Partial<Record<Resource, number>>>;
  /** What `auto` keeps back for the host itself (nano-CPUs, bytes). */
  readonly reserve: DefaultRequest;
  readonly defaultRequest: DefaultRequest;
}

/** The capacity in force: what was given, and for `auto` the engine's totals less the reserve. */
export function resolveCapacity(
  setting: CapacitySetting,
  engine: { readonly nanoCpus: number; readonly memoryBytes: number } | null,
): CapacityOptions {
  const fromEngine = (r: "cpus" | "memory", total: number | undefined): number | null =>
    setting.given[r] ?? (setting.auto && total !== undefined ? Math.max(0, total - setting.reserve[r]) : null);
  return {
    total: {
      cpus: fromEngine("cpus", engine?.nanoCpus),
      memory: fromEngine("memory", engine?.memoryBytes),
      containers: setting.given.containers ?? null,
    },
    defaultRequest: setting.defaultRequest,
  };
}
