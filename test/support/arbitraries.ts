/** fast-check generators of valid spec documents, and helpers to re-render them. */
import fc from "fast-check";
import { stringify } from "yaml";

export type Doc = {
  apiVersion: "berth/v1";
  kind: "Container";
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
};

const dnsLabel = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}$/);
const safeText = fc.string({ maxLength: 20 });
const absPath = fc
  .array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 4 })
  .map((p) => `/${p.join("/")}`);

/** A memory size in MiB, at least Docker's 6 MiB minimum. */
export const mebibytes = fc.integer({ min: 6, max: 1 << 16 });

export const specArb: fc.Arbitrary<Doc> = fc
  .record(
    {
      name: dnsLabel,
      labels: fc.dictionary(fc.stringMatching(/^com\.example\.[a-z]{1,8}$/), safeText, { maxKeys: 3 }),
      image: fc.constantFrom("busybox:latest", "alpine:3.20", "registry.example.com:5000/team/agent:1.4"),
      command: fc.array(safeText, { minLength: 1, maxLength: 4 }),
      env: fc.dictionary(envName, safeText, { maxKeys: 4 }),
      workingDir: absPath,
      user: fc.constantFrom("1000:1000", "nobody", "0"),
      memoryMi: mebibytes,
      millicpus: fc.integer({ min: 1, max: 64_000 }),
      pids: fc.integer({ min: 1, max: 100_000 }),
      restartPolicy: fc.constantFrom("Always", "OnFailure", "Never"),
      mounts: fc.uniqueArray(
        fc.record({ type: fc.constant("volume"), source: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), target: absPath }),
        { maxLength: 3, selector: (m) => m.target },
      ),
      replicas: fc.integer({ min: 0, max: 5 }),
      suspended: fc.boolean(),
      expiresAt: fc.constantFrom("never", "2026-01-26T00:00:00Z", "2030-06-01T12:30:00+02:00"),
      stopTimeoutS: fc.integer({ min: 1, max: 600 }),
    },
    { requiredKeys: ["name", "image"] },
  )
  .map((r) => {
    const spec: Record<string, unknown> = { image: r.image };
    if (r.command) spec.command = r.command;
    if (r.env) spec.env = r.env;
    if (r.workingDir) spec.workingDir = r.workingDir;
    if (r.user) spec.user = r.user;
    const resources: Record<string, unknown> = {};
    if (r.memoryMi !== undefined) resources.memory = `${r.memoryMi}Mi`;
    if (r.millicpus !== undefined) resources.cpus = `${r.millicpus}m`;
    if (r.pids !== undefined) resources.pids = r.pids;
    if (Object.keys(resources).length > 0) spec.resources = resources;
    if (r.restartPolicy) spec.restartPolicy = r.restartPolicy;
    if (r.mounts) spec.mounts = r.mounts;
    if (r.replicas !== undefined) spec.replicas = r.replicas;
    if (r.suspended !== undefined) spec.suspended = r.suspended;
    if (r.expiresAt) spec.expiresAt = r.expiresAt;
    if (r.stopTimeoutS !== undefined) spec.stopTimeout = `${r.stopTimeoutS}s`;
    const metadata: Doc["metadata"] = { name: r.name };
    if (r.labels) metadata.labels = r.labels;
    return { apiVersion: "berth/v1" as const, kind: "Container" as const, metadata, spec };
  });

/** A deterministic shuffle of every mapping's keys (arrays keep their order). */
export function shuffleKeys(value: unknown, seed: number): unknown {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = walk((v as Record<string, unknown>)[k]);
    return out;
  };
  return walk(value);
}

export function toYaml(doc: unknown): string {
  return stringify(doc, { lineWidth: 0 });
}
