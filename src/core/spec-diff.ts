/**
 * What a replace changes (docs/design.md, "What a replace changes"): two applied specs
 * (core/applied.ts) → the fields that differ, named and shown as a spec writes them:
 * `resources.memory: 64Mi → 128Mi`, `env.DEBUG`, `mounts[1].readOnly`, `securityContext.capDrop`.
 *
 * - A field left at its default is compared as that default (`restartPolicy: Always → Never`,
 *   not an addition).
 * - Mounts are named by their target (`mounts[/cache].readOnly`): berth sorts them, so a position
 *   would not be the file's. Other lists of objects (ports, devices) are aligned on their unchanged
 *   elements, so that removing the first port says `- ports[0]` rather than changing every later
 *   one; their positions count in berth's order (ports by container port). Lists of words
 *   (command, capDrop) change as a whole.
 * - A secret is compared by its reference and its keyed digest; neither a value nor a digest is
 *   ever shown: a rotated value reads `secretEnv.TOKEN: (value changed)`.
 */
import type { AppliedSpec, JsonObject, SecretRef } from "./applied.js";
import { canonicalJson, type Json } from "./hash.js";
import { DEFAULTS } from "./spec.js";
import { formatDurationMs, formatQuantity } from "./units.js";

export interface FieldChange {
  readonly op: "add" | "remove" | "change";
  /** The field as a spec names it, below `spec:` (labels as `metadata.labels…`). */
  readonly path: string;
  /** The value before, as berth shows it; absent for an addition, and for a secret whose reference stayed. */
  readonly from?: string;
  /** The value after; absent for a removal, and for a secret whose reference stayed. */
  readonly to?: string;
  /** secretEnv only: the secret's value changed (its keyed digest differs). */
  readonly valueChanged?: true;
}

interface Rule {
  /** The spec's name for the field, where the hash input names it otherwise. */
  readonly name?: string;
  /** How a value is shown (units), where not as itself. */
  readonly show?: (value: Json) => string;
  /** The value of an omitted field (canonical units), or how it follows from its object. */
  readonly fallback?: string | number | boolean | ((object: JsonObject) => Json);
  /** The fields of an object, or of each element of a list; absent: a map of the user's keys. */
  readonly fields?: Rules;
  /** A map of the user's keys: the rule of its values (ulimits: soft before hard). */
  readonly values?: Rule;
  /** A list whose elements this field tells apart (unique in a spec): they are named by it, not by position. */
  readonly keyBy?: string;
  /** Absent means none (added or removed as a whole), not "every field at its default". */
  readonly whole?: true;
  /** secretEnv: compared by reference and digest, never shown. */
  readonly secret?: true;
}
type Rules = Readonly<Record<string, Rule>>;

const isObject = (value: Json): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const unit =
  (format: (n: number) => string) =>
  (value: Json): string =>
    typeof value === "number" ? format(value) : scalar(value);
const bytes = unit(formatQuantity);
const duration = unit(formatDurationMs);
const cpus = unit((nano) => String(nano / 1e9));
const octal = unit((mode) => `0o${mode.toString(8)}`);
const off = { fallback: false } as const;

/** The hash input's fields (core/hash.ts, hashInput), in the order a spec lists them. */
const SPEC: Rules = {
  labels: { name: "metadata.labels" },
  image: {},
  command: {},
  entrypoint: {},
  init: off,
  workingDir: {},
  user: {},
  hostname: {},
  hostAliases: { fields: { ip: {}, hostnames: {} } },
  dnsConfig: { fields: { nameservers: {}, searches: {}, options: {} } },
  env: {},
  secretEnv: { secret: true },
  mounts: {
    keyBy: "target",
    fields: {
      type: {},
      source: {},
      target: {},
      readOnly: off,
      sizeBytes: { name: "size", show: bytes },
      mode: { show: octal },
      perInstance: off,
    },
  },
  shmSizeBytes: { name: "shmSize", show: bytes },
  network: { fallback: DEFAULTS.network },
  extraNetworks: {},
  ports: {
    fields: {
      containerPort: {},
      protocol: { fallback: DEFAULTS.protocol },
      hostPort: {},
      hostIP: { fallback: DEFAULTS.hostIP },
    },
  },
  resources: {
    fields: {
      nanoCpus: { name: "cpus", show: cpus },
      memoryBytes: { name: "memory", show: bytes },
      memoryReservationBytes: { name: "memoryReservation", show: bytes },
      pids: {},
    },
  },
  restartPolicy: { fallback: DEFAULTS.restartPolicy },
  healthcheck: {
    whole: true,
    fields: {
      command: {},
      intervalMs: { name: "interval", show: duration, fallback: DEFAULTS.healthcheck.intervalMs },
      timeoutMs: { name: "timeout", show: duration, fallback: DEFAULTS.healthcheck.timeoutMs },
      retries: { fallback: DEFAULTS.healthcheck.retries },
      startPeriodMs: { name: "startPeriod", show: duration, fallback: DEFAULTS.healthcheck.startPeriodMs },
    },
  },
  security: {
    name: "securityContext",
    fields: {
      readOnlyRootFilesystem: off,
      noNewPrivileges: off,
      privileged: off,
      capAdd: {},
      capDrop: {},
      seccompProfile: {},
      apparmorProfile: {},
      selinuxOptions: {},
    },
  },
  pidMode: {},
  ipcMode: {},
  utsMode: {},
  usernsMode: {},
  devices: {
    fields: {
      hostPath: {},
      containerPath: { fallback: (device) => device.hostPath },
      permissions: { fallback: DEFAULTS.devicePermissions },
    },
  },
  deviceCgroupRules: {},
  sysctls: {},
  runtime: {},
  stopTimeoutMs: { name: "stopTimeout", show: duration, fallback: DEFAULTS.stopTimeoutMs },
  stopSignal: {},
  logging: { whole: true, fields: { driver: {}, options: {} } },
  ulimits: { values: { whole: true, fields: { soft: {}, hard: {} } } },
  backoffLimit: {},
  placement: { fields: { constraints: {}, spreads: { name: "preferences" } } },
};

const PLAIN = /^[A-Za-z0-9_/.-][A-Za-z0-9_./:@+=-]*$/;
const YAML_WORDS = /^(true|false|null|yes|no|on|off)$/i;

/** A scalar as YAML would need it: bare where it reads back as the same string, else quoted. */
function scalar(value: Json): string {
  if (typeof value === "string") {
    const plain = PLAIN.test(value) && !YAML_WORDS.test(value) && !value.endsWith(":") && Number.isNaN(Number(value));
    return plain && value !== "-" ? value : JSON.stringify(value);
  }
  return value === undefined ? "null" : JSON.stringify(value);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const field = (path: string, name: string): string => (path === "" ? name : `${path}.${name}`);
const key = (path: string, name: string): string =>
  IDENTIFIER.test(name) ? field(path, name) : `${path}[${JSON.stringify(name)}]`;

/** The keys of an object in the order its rule lists them, then any others (a later berth's) sorted. */
function keysOf(rule: Rule, ...objects: JsonObject[]): string[] {
  const all = new Set(objects.flatMap((o) => Object.keys(o)));
  const known = rule.fields ? Object.keys(rule.fields) : [];
  return [...known.filter((k) => all.has(k)), ...[...all].filter((k) => !known.includes(k)).sort()];
}

function show(value: Json, rule: Rule): string {
  if (rule.show) return rule.show(value);
  if (Array.isArray(value)) {
    const element: Rule = rule.fields ? { fields: rule.fields } : {};
    return `[${value.map((v) => show(v, element)).join(", ")}]`;
  }
  if (isObject(value)) {
    const parts = keysOf(rule, value).map((k) => {
      const child = rule.fields?.[k] ?? rule.values ?? {};
      return `${rule.fields ? (child.name ?? k) : scalar(k)}: ${show(value[k], child)}`;
    });
    return `{${parts.join(", ")}}`;
  }
  return scalar(value);
}

const showRef = (ref: SecretRef | undefined): string => (ref ? show(ref, {}) : "null");

class Differ {
  readonly changes: FieldChange[] = [];

  constructor(
    private readonly refsBefore: Readonly<Record<string, SecretRef>>,
    private readonly refsAfter: Readonly<Record<string, SecretRef>>,
  ) {}

  value(path: string, before: Json, after: Json, rule: Rule): void {
    // An absent map, object or list of objects is an empty one: its entries are added one by one.
    if (!rule.whole) {
      const empty = (other: Json): Json =>
        isObject(other) ? {} : Array.isArray(other) && rule.fields ? [] : undefined;
      if (before === undefined) before = empty(after);
      else if (after === undefined) after = empty(before);
    }
    if (before === undefined && after === undefined) return;
    if (before === undefined) {
      this.changes.push({ op: "add", path, to: show(after, rule) });
      return;
    }
    if (after === undefined) {
      this.changes.push({ op: "remove", path, from: show(before, rule) });
      return;
    }
    if (canonicalJson(before) === canonicalJson(after)) return;
    if (isObject(before) && isObject(after)) {
      this.object(path, before, after, rule);
      return;
    }
    if (Array.isArray(before) && Array.isArray(after) && rule.fields) {
      const element: Rule = { fields: rule.fields, whole: true };
      if (rule.keyBy !== undefined) this.keyed(path, before, after, rule.keyBy, element);
      else this.list(path, before, after, element);
      return;
    }
    this.changes.push({ op: "change", path, from: show(before, rule), to: show(after, rule) });
  }

  private object(path: string, before: JsonObject, after: JsonObject, rule: Rule): void {
    for (const k of keysOf(rule, before, after)) {
      const child = rule.fields?.[k] ?? rule.values ?? {};
      const at = rule.fields ? field(path, child.name ?? k) : key(path, k);
      if (child.secret) this.secrets(at, before[k], after[k]);
      else this.value(at, orDefault(before[k], child, before), orDefault(after[k], child, after), child);
    }
  }

  private keyed(path: string, before: readonly Json[], after: readonly Json[], by: string, element: Rule): void {
    const index = (list: readonly Json[]): Map<string, Json> =>
      new Map(list.map((e) => [isObject(e) && typeof e[by] === "string" ? e[by] : canonicalJson(e), e]));
    const [b, a] = [index(before), index(after)];
    for (const id of [...new Set([...b.keys(), ...a.keys()])].sort()) {
      this.value(`${path}[${scalar(id)}]`, b.get(id), a.get(id), element);
    }
  }

  /**
   * Elements equal on both sides anchor the alignment (a longest common subsequence); between two
   * anchors, removed and added elements pair up in order and are compared field by field, and the
   * rest are removals (old index) or additions (new index).
   */
  private list(path: string, before: readonly Json[], after: readonly Json[], element: Rule): void {
    const b = before.map((v) => canonicalJson(v));
    const a = after.map((v) => canonicalJson(v));
    const width = a.length + 1;
    const common = new Array<number>((b.length + 1) * width).fill(0);
    const at = (i: number, j: number): number => common[i * width + j] ?? 0;
    if (b.length * a.length <= MAX_ALIGNED) {
      for (let i = b.length - 1; i >= 0; i--) {
        for (let j = a.length - 1; j >= 0; j--) {
          common[i * width + j] = b[i] === a[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
        }
      }
    }
    let gone: number[] = [];
    let come: number[] = [];
    const flush = (): void => {
      const paired = Math.min(gone.length, come.length);
      for (let k = 0; k < paired; k++) {
        const [i, j] = [gone[k] ?? 0, come[k] ?? 0];
        this.value(`${path}[${j}]`, before[i], after[j], element);
      }
      for (const i of gone.slice(paired))
        this.changes.push({ op: "remove", path: `${path}[${i}]`, from: show(before[i], element) });
      for (const j of come.slice(paired))
        this.changes.push({ op: "add", path: `${path}[${j}]`, to: show(after[j], element) });
      gone = [];
      come = [];
    };
    let i = 0;
    let j = 0;
    while (i < b.length || j < a.length) {
      if (i < b.length && j < a.length && b[i] === a[j]) {
        flush();
        i++;
        j++;
      } else if (j >= a.length || (i < b.length && at(i + 1, j) >= at(i, j + 1))) {
        gone.push(i++);
      } else {
        come.push(j++);
      }
    }
    flush();
  }

  private secrets(path: string, before: Json, after: Json): void {
    const b = isObject(before) ? before : {};
    const a = isObject(after) ? after : {};
    for (const name of keysOf({}, b, a)) {
      const at = key(path, name);
      const [refBefore, refAfter] = [this.refsBefore[name], this.refsAfter[name]];
      if (!(name in b)) {
        this.changes.push({ op: "add", path: at, to: showRef(refAfter) });
      } else if (!(name in a)) {
        this.changes.push({ op: "remove", path: at, from: showRef(refBefore) });
      } else {
        const moved = showRef(refBefore) !== showRef(refAfter);
        const rotated = b[name] !== a[name];
        if (!moved && !rotated) continue;
        this.changes.push({
          op: "change",
          path: at,
          ...(moved ? { from: showRef(refBefore), to: showRef(refAfter) } : {}),
          ...(rotated ? { valueChanged: true } : {}),
        });
      }
    }
  }
}

/** Lists longer than this (elements before × after) are compared position by position. */
const MAX_ALIGNED = 100_000;

function orDefault(value: Json, rule: Rule, object: JsonObject): Json {
  if (value !== undefined) return value;
  return typeof rule.fallback === "function" ? rule.fallback(object) : rule.fallback;
}

/**
 * The fields that differ from `before` (what a container was made from) to `after` (the spec now);
 * null when the two cannot be compared (another hash format).
 */
export function specChanges(before: AppliedSpec, after: AppliedSpec): readonly FieldChange[] | null {
  if (before.hashed.v !== after.hashed.v) return null;
  const differ = new Differ(before.secretEnv, after.secretEnv);
  differ.value("", before.hashed, after.hashed, { fields: SPEC });
  return differ.changes;
}
