/**
 * Golden tables for what a replace changes: the spec a container was made from (its applied label)
 * and the spec now → the exact rendered plan, through plan() as `berth plan` runs it. Then the
 * label itself: what it may hold (never a secret value), and every way it can fail to be believed.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { APPLIED_MAX, APPLIED_PLAIN_MAX, appliedLabel, appliedSpec, readApplied } from "../../../src/core/applied.js";
import { canonicalJson, type Json } from "../../../src/core/hash.js";
import { type DesiredSpec, plan } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import { UNKEYED_DIGEST } from "../../../src/core/secrets.js";
import { sha256Hex } from "../../../src/core/sha256.js";
import { specChanges } from "../../../src/core/spec-diff.js";
import {
  container,
  desired,
  IMAGE,
  input,
  KEYS,
  observed,
  OPTIONS,
  resetIds,
  SECRET_DIGEST,
} from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

interface Version {
  /** Lines under `spec:`. */
  readonly lines: readonly string[];
  /** secretEnv name → the value its reference resolves to. */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly image?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

interface Case {
  readonly before: Version;
  readonly after: Version;
  readonly expected: readonly string[];
}

const v = (lines: readonly string[], secrets?: Record<string, string>): Version => ({
  lines,
  ...(secrets ? { secrets } : {}),
});
const replace = (strategy = "StartFirst"): string => `replace web [0001aaaabbbb] ${strategy}: hash changed`;

const MOUNTS = [
  "mounts:",
  "  - { type: volume, source: data, target: /data }",
  "  - { type: volume, source: cache, target: /cache }",
  "  - { type: tmpfs, target: /tmp, size: 64Mi }",
];

const cases: Record<string, Case> = {
  "a scalar changes": {
    before: v(["resources: { memory: 64Mi }"]),
    after: v(["resources: { memory: 128Mi }"]),
    expected: [replace(), "    ~ resources.memory: 64Mi → 128Mi"],
  },
  "CPUs and pids, in the spec's units": {
    before: v(['resources: { cpus: "0.5", pids: 64 }']),
    after: v(['resources: { cpus: "250m", pids: 128 }']),
    expected: [replace(), "    ~ resources.cpus: 0.5 → 0.25", "    ~ resources.pids: 64 → 128"],
  },
  "a field first set is added; a field unset is removed": {
    before: v(["workingDir: /srv"]),
    after: v(["resources: { memoryReservation: 512M }"]),
    expected: [replace(), "    - workingDir: /srv", "    + resources.memoryReservation: 512M"],
  },
  "the image changes": {
    before: v([]),
    after: { lines: [], image: "busybox:1.36" },
    expected: [replace(), `    ~ image: ${IMAGE} → busybox:1.36`],
  },
  "a map entry is added, removed and changed": {
    before: v(["env: { KEEP: a, OLD: b, MODE: dev }"]),
    after: v(["env: { KEEP: a, DEBUG: '1', MODE: prod }"]),
    expected: [replace(), '    + env.DEBUG: "1"', "    ~ env.MODE: dev → prod", "    - env.OLD: b"],
  },
  "the first entry of a map that was empty": {
    before: v([]),
    after: v(["env: { DEBUG: 'true' }"]),
    expected: [replace(), '    + env.DEBUG: "true"'],
  },
  "ulimits, by name, soft before hard": {
    before: v(["ulimits: { nofile: 1024, core: 0 }"]),
    after: v(["ulimits: { nofile: { soft: 4096, hard: 8192 }, nproc: 512 }"]),
    expected: [
      replace(),
      "    - ulimits.core: {soft: 0, hard: 0}",
      "    ~ ulimits.nofile.soft: 1024 → 4096",
      "    ~ ulimits.nofile.hard: 1024 → 8192",
      "    + ulimits.nproc: {soft: 512, hard: 512}",
    ],
  },
  "a label key with dots is quoted": {
    before: { lines: [], labels: { "com.example.team": "a" } },
    after: { lines: [], labels: { "com.example.role": "web", "com.example.team": "b" } },
    expected: [
      replace(),
      '    + metadata.labels["com.example.role"]: web',
      '    ~ metadata.labels["com.example.team"]: a → b',
    ],
  },
  "a list of words changes as a whole": {
    before: v(['command: ["sleep", "infinity"]']),
    after: v(['command: ["sleep", "60"]']),
    expected: [replace(), '    ~ command: [sleep, infinity] → [sleep, "60"]'],
  },
  "a command first given is added": {
    before: v([]),
    after: v(['entrypoint: ["/bin/sh", "-c"]']),
    expected: [replace(), "    + entrypoint: [/bin/sh, -c]"],
  },
  "a default is compared as itself, not as an addition": {
    before: v([]),
    after: v(["restartPolicy: OnFailure", "stopTimeout: 30s", "init: true"]),
    expected: [
      // A spec that runs to completion replaces its last run StopFirst (docs/runs.md).
      replace("StopFirst"),
      "    ~ init: false → true",
      "    ~ restartPolicy: Always → OnFailure",
      "    ~ stopTimeout: 10s → 30s",
    ],
  },
  "back to a default": {
    before: v(["network: none", "stopTimeout: 1m30s"]),
    after: v([]),
    expected: [replace(), "    ~ network: none → bridge", "    ~ stopTimeout: 1m30s → 10s"],
  },
  "a mount removed is named by its target": {
    before: v(MOUNTS),
    after: v(["mounts:", ...MOUNTS.slice(2)]),
    expected: [replace(), "    - mounts[/data]: {type: volume, source: data, target: /data}"],
  },
  "a field of a list element": {
    before: v(MOUNTS),
    after: v([
      "mounts:",
      "  - { type: volume, source: data, target: /data }",
      "  - { type: volume, source: cache, target: /cache, readOnly: true }",
      "  - { type: tmpfs, target: /tmp, size: 128Mi, mode: 0o1777 }",
    ]),
    expected: [
      replace(),
      "    ~ mounts[/cache].readOnly: false → true",
      "    ~ mounts[/tmp].size: 64Mi → 128Mi",
      "    + mounts[/tmp].mode: 0o1777",
    ],
  },
  "a mount added in the middle": {
    before: v(["mounts:", MOUNTS[1] as string, MOUNTS[3] as string]),
    after: v(MOUNTS),
    expected: [replace(), "    + mounts[/cache]: {type: volume, source: cache, target: /cache}"],
  },
  "the only port removed": {
    before: v(["ports:", "  - { containerPort: 80, hostPort: 18081 }"]),
    after: v([]),
    expected: [replace("StartFirst"), "    - ports[0]: {containerPort: 80, hostPort: 18081}"],
  },
  "a port published elsewhere": {
    before: v(["ports:", "  - { containerPort: 80, hostPort: 18081 }"]),
    after: v(["ports:", "  - { containerPort: 80, hostPort: 18082, hostIP: 127.0.0.2 }"]),
    expected: [
      replace("StopFirst"),
      "    ~ ports[0].hostPort: 18081 → 18082",
      "    ~ ports[0].hostIP: 127.0.0.1 → 127.0.0.2",
    ],
  },
  "removing the first of three ports moves nothing": {
    before: v(["ports: [{ containerPort: 80 }, { containerPort: 81 }, { containerPort: 82, protocol: udp }]"]),
    after: v(["ports: [{ containerPort: 81 }, { containerPort: 82, protocol: udp }]"]),
    expected: [replace(), "    - ports[0]: {containerPort: 80}"],
  },
  "a port changed between two that stay": {
    before: v(["ports: [{ containerPort: 80 }, { containerPort: 81 }, { containerPort: 82 }]"]),
    after: v(["ports: [{ containerPort: 80 }, { containerPort: 81, protocol: udp }, { containerPort: 82 }]"]),
    expected: [replace(), "    ~ ports[1].protocol: tcp → udp"],
  },
  "a healthcheck added is one line": {
    before: v([]),
    after: v(['healthcheck: { command: ["test", "-f", "/tmp/ready"], interval: 5s }']),
    expected: [replace(), "    + healthcheck: {command: [test, -f, /tmp/ready], interval: 5s}"],
  },
  "a healthcheck's field, against its default": {
    before: v(['healthcheck: { command: ["true"], retries: 5 }']),
    after: v(['healthcheck: { command: ["true"], interval: 5s }']),
    expected: [replace(), "    ~ healthcheck.interval: 30s → 5s", "    ~ healthcheck.retries: 5 → 3"],
  },
  "securityContext, by its spec name": {
    before: v([]),
    after: v(["securityContext: { readOnlyRootFilesystem: true, capDrop: [ALL] }"]),
    expected: [
      replace(),
      "    ~ securityContext.readOnlyRootFilesystem: false → true",
      "    + securityContext.capDrop: [ALL]",
    ],
  },
  "several fields, in the spec's order": {
    before: v(["env: { A: '1' }", "resources: { memory: 64Mi }", "user: '1000'"]),
    after: v(["env: { A: '2' }", "resources: { memory: 1Gi }", "user: '1001'"]),
    expected: [
      replace(),
      '    ~ user: "1000" → "1001"',
      '    ~ env.A: "1" → "2"',
      "    ~ resources.memory: 64Mi → 1Gi",
    ],
  },
  "host aliases, resolver, /dev/shm, stop signal and log options": {
    before: v([
      "hostAliases: [{ ip: 10.0.0.5, hostnames: [db] }]",
      "dnsConfig: { nameservers: [10.0.0.2] }",
      "stopSignal: SIGINT",
      "logging: { driver: json-file, options: { max-size: 10m } }",
    ]),
    after: v([
      "hostAliases: [{ ip: 10.0.0.6, hostnames: [db] }]",
      "dnsConfig: { nameservers: [10.0.0.2], searches: [corp.example] }",
      "shmSize: 256Mi",
      "stopSignal: SIGQUIT",
      "logging: { driver: json-file, options: { max-size: 20m } }",
    ]),
    expected: [
      replace(),
      "    ~ hostAliases[0].ip: 10.0.0.5 → 10.0.0.6",
      "    + dnsConfig.searches: [corp.example]",
      "    + shmSize: 256Mi",
      "    ~ stopSignal: SIGINT → SIGQUIT",
      '    ~ logging.options["max-size"]: 10m → 20m',
    ],
  },
  "a rotated secret: the value changed, and nothing of it is shown": {
    before: v(["secretEnv: { TOKEN: { fromHostEnv: API_TOKEN } }"], { TOKEN: "old-secret-value" }),
    after: v(["secretEnv: { TOKEN: { fromHostEnv: API_TOKEN } }"], { TOKEN: "new-secret-value" }),
    expected: [replace(), "    ~ secretEnv.TOKEN: (value changed)"],
  },
  "a secret read from elsewhere, same value": {
    before: v(["secretEnv: { TOKEN: { fromHostEnv: API_TOKEN } }", "env: { A: x }"], { TOKEN: "same" }),
    after: v(["secretEnv: { TOKEN: { fromFile: /run/secrets/token } }", "env: { A: y }"], { TOKEN: "same" }),
    expected: [
      replace(),
      "    ~ env.A: x → y",
      "    ~ secretEnv.TOKEN: {fromHostEnv: API_TOKEN} → {fromFile: /run/secrets/token}",
    ],
  },
  "a secret read from elsewhere, another value": {
    before: v(["secretEnv: { TOKEN: { fromHostEnv: OLD_TOKEN } }"], { TOKEN: "one" }),
    after: v(["secretEnv: { TOKEN: { fromHostEnv: NEW_TOKEN } }"], { TOKEN: "two" }),
    expected: [replace(), "    ~ secretEnv.TOKEN: {fromHostEnv: OLD_TOKEN} → {fromHostEnv: NEW_TOKEN} (value changed)"],
  },
  "a secret added and one removed: references only": {
    before: v(["secretEnv: { OLD: { fromFile: /run/secrets/old } }"], { OLD: "old-value" }),
    after: v(["secretEnv: { NEW: { fromHostEnv: NEW_TOKEN } }"], { NEW: "new-value" }),
    expected: [
      replace(),
      "    + secretEnv.NEW: {fromHostEnv: NEW_TOKEN}",
      "    - secretEnv.OLD: {fromFile: /run/secrets/old}",
    ],
  },
};

/** The spec named web, in this version. */
function spec(version: Version): DesiredSpec {
  const { lines, secrets, ...options } = version;
  return desired("web", { extra: lines, ...options }, secrets);
}

/** The plan for `after` where web's container was made from `before`. */
function planOf(before: DesiredSpec, after: DesiredSpec) {
  return plan(input([after]), observed([container(after, { madeFrom: before })]), NOW, OPTIONS);
}

describe("plan: what a replace changes (golden)", () => {
  beforeEach(resetIds);
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const result = planOf(spec(c.before), spec(c.after));
      expect(renderPlan(result)).toBe(`${c.expected.join("\n")}\n`);
      const text = JSON.stringify(result) + renderPlan(result);
      for (const value of Object.values({ ...c.before.secrets, ...c.after.secrets })) {
        expect(text).not.toContain(value);
        expect(text).not.toContain(SECRET_DIGEST(value));
      }
    });
  }
});

describe("plan: the changes in data (berth plan -o json)", () => {
  beforeEach(resetIds);
  it("each change has its op, path and values as shown", () => {
    const before = spec(v(["resources: { memory: 64Mi }", "env: { GONE: x }"], {}));
    const after = spec(v(["resources: { memory: 128Mi }", "env: { DEBUG: '1' }"]));
    const [action] = planOf(before, after).actions;
    expect(action).toMatchObject({ kind: "replace", reason: "hash changed" });
    expect(JSON.parse(JSON.stringify(action)).changes).toEqual([
      { op: "add", path: "env.DEBUG", to: '"1"' },
      { op: "remove", path: "env.GONE", from: "x" },
      { op: "change", path: "resources.memory", from: "64Mi", to: "128Mi" },
    ]);
  });

  it("a rotated secret is a change with valueChanged and no values", () => {
    const before = spec(v(["secretEnv: { T: { fromHostEnv: T } }"], { T: "a" }));
    const after = spec(v(["secretEnv: { T: { fromHostEnv: T } }"], { T: "b" }));
    const [action] = planOf(before, after).actions;
    expect(action?.kind === "replace" && action.changes).toEqual([
      { op: "change", path: "secretEnv.T", valueChanged: true },
    ]);
  });
});

describe("plan: without a label that can be believed, the bare reason", () => {
  beforeEach(resetIds);
  const before = () => spec(v(["resources: { memory: 64Mi }"]));
  const after = () => spec(v(["resources: { memory: 128Mi }"]));
  const bare = `${replace()}\n`;
  const changesOf = (labels: Record<string, string>, hash?: string) => {
    const a = after();
    const c = container(a, { madeFrom: before(), labels, ...(hash ? { hash } : {}) });
    const result = plan(input([a]), observed([c]), NOW, OPTIONS);
    return { text: renderPlan(result), action: result.actions[0] };
  };
  const label = () => appliedLabel(before().spec, {}) ?? "";

  it("no label (a container made by an older berth)", () => {
    const a = after();
    const result = plan(input([a]), observed([container(a, { hash: before().hash })]), NOW, OPTIONS);
    expect(renderPlan(result)).toBe(bare);
    expect(result.actions[0]).toMatchObject({ changes: null });
  });
  const broken: Record<string, () => string> = {
    "not JSON": () => "{not json",
    "cut short": () => label().slice(0, 40),
    "JSON of another shape": () => JSON.stringify({ spec: [1, 2] }),
    "an empty object": () => "{}",
    "a spec edited by hand (its hash no longer matches)": () => label().replace("67108864", "67108865"),
    "a compressed label that does not inflate": () => "deflate:AAAAAAAA",
    "a compressed label that is not base64": () => "deflate:***",
    "longer than berth ever writes": () => `${label()}${" ".repeat(APPLIED_MAX)}`,
    "nested past the stack": () => `${"[".repeat(200_000)}${"]".repeat(200_000)}`,
    "a secret digest without its reference": () => {
      const hashed = { ...JSON.parse(label()).spec, secretEnv: { T: "a".repeat(64) } };
      return canonicalJson({ spec: hashed });
    },
  };
  for (const [name, make] of Object.entries(broken)) {
    it(name, () => {
      const value = make();
      let hash: string | undefined;
      try {
        hash = sha256Hex(canonicalJson(JSON.parse(value).spec as Json));
      } catch {
        hash = undefined;
      }
      // A label consistent with its hash label where it can be: only its content is at fault.
      const result = changesOf({ [KEYS.applied]: value }, name.startsWith("a secret") ? hash : undefined);
      expect(result.text).toBe(bare);
    });
  }

  it("another hash format: not compared", () => {
    const hashed = { ...JSON.parse(label()).spec, v: 2 };
    const result = changesOf({ [KEYS.applied]: canonicalJson({ spec: hashed }) }, sha256Hex(canonicalJson(hashed)));
    expect(result.text).toBe(bare);
  });

  it("an image updated under the same hash has no field changes", () => {
    const a = after();
    const c = container(a, { madeFrom: a, imageId: "sha256:0000old" });
    expect(renderPlan(plan(input([a]), observed([c]), NOW, OPTIONS))).toBe(
      "replace web [0001aaaabbbb] StartFirst: image updated\n",
    );
  });

  it("a field a later berth added is shown by its own name", () => {
    const hashed = { ...JSON.parse(label()).spec, futureField: "x" };
    const result = changesOf({ [KEYS.applied]: canonicalJson({ spec: hashed }) }, sha256Hex(canonicalJson(hashed)));
    expect(result.text).toBe(`${replace()}\n    ~ resources.memory: 64Mi → 128Mi\n    - futureField: x\n`);
  });
});

describe("the applied label", () => {
  const secretSpec = (value: string) => spec(v(["secretEnv: { TOKEN: { fromHostEnv: API_TOKEN } }"], { TOKEN: value }));

  it("is the hash's input as canonical JSON: it hashes to the hash label", () => {
    const d = spec(v(["env: { A: b }"]));
    const label = appliedLabel(d.spec, d.secretDigests) ?? "";
    expect(label.startsWith("{")).toBe(true);
    expect(sha256Hex(canonicalJson(JSON.parse(label).spec))).toBe(d.hash);
    expect(readApplied(label, d.hash)).toEqual(appliedSpec(d.spec, d.secretDigests));
  });

  it("carries a secret's reference and keyed digest, never its value nor its plain SHA-256", () => {
    const value = "s3cr3t-known-value";
    const d = secretSpec(value);
    const label = appliedLabel(d.spec, d.secretDigests) ?? "";
    expect(label).toContain('"fromHostEnv":"API_TOKEN"');
    expect(label).toContain(SECRET_DIGEST(value));
    expect(label).not.toContain(value);
    expect(label).not.toContain(UNKEYED_DIGEST(value));
  });

  it("is not written for a spec with secrets whose digests are unkeyed", () => {
    expect(appliedLabel(secretSpec("x").spec, null)).toBeNull();
    expect(appliedLabel(spec(v([])).spec, null)).not.toBeNull();
  });

  it("is compressed when large, and reads back the same", () => {
    const env = Array.from({ length: 80 }, (_, i) => `  VAR_${i}: value-number-${i}-of-a-long-environment`);
    const d = spec(v(["env:", ...env]));
    const label = appliedLabel(d.spec, d.secretDigests) ?? "";
    expect(canonicalJson(appliedSpec(d.spec, {}).hashed).length).toBeGreaterThan(APPLIED_PLAIN_MAX);
    expect(label.startsWith("deflate:")).toBe(true);
    expect(label.length).toBeLessThan(APPLIED_PLAIN_MAX);
    expect(readApplied(label, d.hash)).toEqual(appliedSpec(d.spec, d.secretDigests));
  });

  it("a compressed label shows its changes like a plain one", () => {
    resetIds();
    const env = Array.from({ length: 80 }, (_, i) => `  VAR_${i}: value-number-${i}-of-a-long-environment`);
    const before = spec(v(["env:", ...env]));
    const after = spec(v(["env:", ...env.slice(1)]));
    expect(renderPlan(planOf(before, after))).toBe(
      `${replace()}\n    - env.VAR_0: value-number-0-of-a-long-environment\n`,
    );
  });

  it("is left off when even compressed it would pass the limit", () => {
    // Hex digests hardly compress: 400 values of 320 hex digits each.
    const noise = (i: number): string => [0, 1, 2, 3, 4].map((k) => sha256Hex(`${i}.${k}`)).join("");
    const d = spec(v(["env:", ...Array.from({ length: 400 }, (_, i) => `  V${i}: ${noise(i)}`)]));
    expect(appliedLabel(d.spec, d.secretDigests)).toBeNull();
  });

  it("specChanges: no differences, no changes", () => {
    const d = spec(v(["env: { A: b }"]));
    expect(specChanges(appliedSpec(d.spec, {}), appliedSpec(d.spec, {}))).toEqual([]);
  });
});
