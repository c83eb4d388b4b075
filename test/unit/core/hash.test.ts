/**
 * The spec hash: golden values for the bundled specs (a change here recreates every user's
 * containers, so it must be deliberate), and properties: invariant under key order and
 * equivalent units, sensitive to every hashed field, blind to replicas/suspended/expiresAt.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, hashInput, specHash } from "../../../src/core/hash.js";
import { keyedDigest, UNKEYED_DIGEST } from "../../../src/core/secrets.js";
import { sha256Hex } from "../../../src/core/sha256.js";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { type Doc, mebibytes, shuffleKeys, specArb, toYaml } from "../../support/arbitraries.js";
import { loadChecked } from "../../support/load.js";

function only(text: string): NormalizedSpec {
  const result = parseSpecText(text, "prop.yaml");
  expect(result.issues).toEqual([]);
  expect(result.documents).toHaveLength(1);
  return (result.documents[0] as { spec: NormalizedSpec }).spec;
}

const hashOf = (doc: unknown, secrets: Record<string, string> = {}): string => specHash(only(toYaml(doc)), secrets);

const clone = (doc: Doc): Doc => structuredClone(doc);

describe("spec hash: golden values of the bundled specs", () => {
  // Secrets enter the hash keyed (HMAC-SHA256 under the controller's hash key, finding 11): the
  // agent spec, the one with secretEnv, is pinned under a fixed test key. Its value changed
  // deliberately when keyed hashes came (it was 68356b47…, the unkeyed value below: what the
  // containers of earlier versions carry, which are therefore replaced once); the specs without
  // secrets keep their hashes.
  const GOLDEN_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);

  it("pins every bundled spec's hash", async () => {
    const loaded = await loadChecked(new SpecLoader(["specs"]));
    expect(loaded.issues).toEqual([]);
    const digest = keyedDigest(GOLDEN_KEY)("demo-token");
    const hashes = Object.fromEntries(
      loaded.specs.map((s) => [
        s.spec.name,
        specHash(s.spec, Object.fromEntries(Object.keys(s.spec.secretEnv).map((k) => [k, digest]))),
      ]),
    );
    expect(hashes).toEqual({
      "tidepool-agent-abc": "3ba648beeb4a7d32f192dd5b6afb9ac685205b7073ef24618bdd41094a08db99",
      "warm-pool": "ae0d57161f4e606867c455f0123fe0a535223b57adb52bb8f5974798f0589925",
      web: "5885f161dbe9316f25326edf9245bd87479e3af36a5559669b44dccfeb9268d7",
      ticker: "cc3b1657025ea6a63bdf4cb98921636bd2d31dcab0280c4b53cd594e0c5dc064",
      "batch-worker": "cdec51e8a0f29cbc043548f0d97623c875cf16bd6b228c07fd420273057a042a",
    });
  });

  it("pins the unkeyed hash of the secret spec: what containers made before keyed hashes carry", async () => {
    const loaded = await loadChecked(new SpecLoader(["specs/agent.yaml"]));
    const spec = (loaded.specs[0] as { spec: NormalizedSpec }).spec;
    const unkeyed = specHash(spec, { AGENT_TOKEN: UNKEYED_DIGEST("demo-token") });
    expect(unkeyed).toBe("68356b479ce7edfac42faa504b026d87d48e29197eee605365670bf2d6651062");
    expect(specHash(spec, { AGENT_TOKEN: keyedDigest(GOLDEN_KEY)("demo-token") })).not.toBe(unkeyed);
  });

  it("hashes a canonical JSON: sorted keys, canonical units, defaults omitted, format version", async () => {
    const loaded = await loadChecked(new SpecLoader(["specs/pool.yaml"]));
    const spec = (loaded.specs[0] as { spec: NormalizedSpec }).spec;
    expect(canonicalJson(hashInput(spec, {}))).toBe(
      '{"command":["sleep","infinity"],"image":"busybox:latest","init":true,"labels":{"com.example.pool":"agents"},' +
        '"resources":{"memoryBytes":33554432,"nanoCpus":250000000,"pids":32},"security":{"capDrop":["ALL"]},' +
        '"stopTimeoutMs":2000,"v":1}',
    );
  });

  it("puts only the SHA-256 of a secret value in the hashed text, never the value", () => {
    const spec = only(
      toYaml({
        apiVersion: "berth/v1",
        kind: "Container",
        metadata: { name: "s" },
        spec: { image: "busybox", secretEnv: { TOKEN: { fromHostEnv: "TOKEN" } } },
      }),
    );
    const text = canonicalJson(hashInput(spec, { TOKEN: sha256Hex("hunter2") }));
    expect(text).not.toContain("hunter2");
    expect(text).toContain(sha256Hex("hunter2"));
    expect(specHash(spec, { TOKEN: sha256Hex("hunter2") })).not.toBe(specHash(spec, { TOKEN: sha256Hex("hunter3") }));
  });

  it("omits fields equal to their default: writing a default explicitly changes nothing", () => {
    const base = {
      apiVersion: "berth/v1",
      kind: "Container",
      metadata: { name: "d" },
      spec: { image: "busybox" },
    };
    const explicit = {
      ...base,
      spec: {
        image: "busybox",
        imagePullPolicy: "IfNotPresent",
        restartPolicy: "Always",
        network: "bridge",
        stopTimeout: "10s",
        init: false,
        env: {},
        mounts: [],
        ports: [],
        securityContext: { privileged: false, readOnlyRootFilesystem: false, capAdd: [] },
        replicas: 1,
        suspended: false,
        expiresAt: "never",
        updateStrategy: "StartFirst",
      },
    };
    expect(hashOf(explicit)).toBe(hashOf(base));
  });
});

describe("spec hash: properties", () => {
  it("is the same under any reordering of mapping keys", () => {
    fc.assert(
      fc.property(specArb, fc.integer(), (doc, seed) => {
        expect(hashOf(shuffleKeys(doc, seed))).toBe(hashOf(doc));
      }),
      { numRuns: 200 },
    );
  });

  it("is the same for equivalent units: memory in Mi, Ki, Gi or bytes; CPUs as 1, 1000m or 1.0", () => {
    fc.assert(
      fc.property(specArb, mebibytes, fc.integer({ min: 1, max: 64 }), (doc, mi, cpus) => {
        const variants = [
          { memory: `${mi}Mi`, cpus: String(cpus) },
          { memory: `${mi * 1024}Ki`, cpus: `${cpus * 1000}m` },
          { memory: mi * 1024 * 1024, cpus: cpus },
          { memory: `${mi * 1024 * 1024}`, cpus: `${cpus}.0` },
          ...(mi % 1024 === 0 ? [{ memory: `${mi / 1024}Gi`, cpus: `${cpus}` }] : []),
        ];
        const hashes = new Set(
          variants.map((resources) => {
            const d = clone(doc);
            d.spec.resources = resources;
            return hashOf(d);
          }),
        );
        expect(hashes.size).toBe(1);
      }),
      { numRuns: 100 },
    );
  });

  /** Every hashed field, with a change that must give a new hash. */
  const mutations: Record<string, (d: Doc) => void> = {
    image: (d) => (d.spec.image = `${String(d.spec.image)}-x`),
    command: (d) => (d.spec.command = [...((d.spec.command as string[] | undefined) ?? []), "extra"]),
    entrypoint: (d) => (d.spec.entrypoint = ["/bin/sh"]),
    init: (d) => (d.spec.init = true),
    env: (d) => (d.spec.env = { ...(d.spec.env as object), ZZ_NEW: "1" }),
    "env value": (d) => (d.spec.env = { ...(d.spec.env as object), ZZ_NEW: "2" }),
    labels: (d) => (d.metadata.labels = { ...d.metadata.labels, "com.example.zz": "new" }),
    workingDir: (d) => (d.spec.workingDir = "/other-dir-zz"),
    user: (d) => (d.spec.user = "4242:4242"),
    hostname: (d) => (d.spec.hostname = "host-zz"),
    memory: (d) => (d.spec.resources = { ...(d.spec.resources as object), memory: "7777Mi" }),
    cpus: (d) => (d.spec.resources = { ...(d.spec.resources as object), cpus: "77777m" }),
    pids: (d) => (d.spec.resources = { ...(d.spec.resources as object), pids: 123457 }),
    restartPolicy: (d) => (d.spec.restartPolicy = d.spec.restartPolicy === "Never" ? "Always" : "Never"),
    mounts: (d) =>
      (d.spec.mounts = [...((d.spec.mounts as unknown[] | undefined) ?? []), { type: "tmpfs", target: "/zz" }]),
    network: (d) => (d.spec.network = "other-net"),
    ports: (d) => (d.spec.ports = [{ containerPort: 9999 }]),
    healthcheck: (d) => (d.spec.healthcheck = { command: ["true"] }),
    securityContext: (d) => (d.spec.securityContext = { readOnlyRootFilesystem: true }),
    stopTimeout: (d) => (d.spec.stopTimeout = "0s"), // the generator gives 1s–600s
    secretEnv: (d) => (d.spec.secretEnv = { ZZ_SECRET: { fromHostEnv: "ZZ_SECRET" } }),
    ulimits: (d) => (d.spec.ulimits = { nofile: { soft: 1024, hard: 2048 } }),
  };

  for (const [field, mutate] of Object.entries(mutations)) {
    it(`changes when ${field} changes`, () => {
      fc.assert(
        fc.property(specArb, (doc) => {
          const changed = clone(doc);
          mutate(changed);
          const secrets = { ZZ_SECRET: sha256Hex("s") };
          expect(hashOf(changed, secrets)).not.toBe(hashOf(doc, secrets));
        }),
        { numRuns: 50 },
      );
    });
  }

  it("is unchanged by replicas, suspended, expiresAt (and updateStrategy, imagePullPolicy)", () => {
    fc.assert(
      fc.property(
        specArb,
        fc.integer({ min: 0, max: 9 }),
        fc.boolean(),
        fc.constantFrom("never", "2027-01-01T00:00:00Z", "2031-12-31T23:59:59.5-05:00"),
        fc.constantFrom("StartFirst", "StopFirst"),
        fc.constantFrom("IfNotPresent", "Always", "Never"),
        (doc, replicas, suspended, expiresAt, updateStrategy, imagePullPolicy) => {
          const changed = clone(doc);
          Object.assign(changed.spec, { replicas, suspended, expiresAt, updateStrategy, imagePullPolicy });
          expect(hashOf(changed)).toBe(hashOf(doc));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("does not depend on the spec's name", () => {
    fc.assert(
      fc.property(specArb, (doc) => {
        const renamed = clone(doc);
        renamed.metadata.name = `${doc.metadata.name}-renamed`;
        expect(hashOf(renamed)).toBe(hashOf(doc));
      }),
      { numRuns: 50 },
    );
  });
});
