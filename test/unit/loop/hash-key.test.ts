/**
 * Finding 11: the spec hash was a secret-guessing oracle — unsalted SHA-256 over the spec and each
 * secret's SHA-256, so a guess could be checked offline against the berth.hash label. Secrets now
 * enter the hash as HMAC-SHA256 under a per-controller key kept in the engine (a labelled
 * volume). Here, against the in-memory engine: who makes the key, who only reads it, that racing
 * creators agree, and that a guess checked the old way no longer matches. Against a real engine:
 * test/docker/hash-key.test.ts.
 */
import { describe, expect, it } from "vitest";
import { specHash } from "../../../src/core/hash.js";
import { labelKeys } from "../../../src/core/labels.js";
import { ownership } from "../../../src/core/ownership.js";
import { resolveSecrets, secretsForCreate, UNKEYED_DIGEST } from "../../../src/core/secrets.js";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { HashKey, hashKeyLabel, hashKeyVolume } from "../../../src/loop/hash-key.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { specText } from "../../support/specs.js";

const owner = ownership(labelKeys("berth"), "hk");
const VOLUME = hashKeyVolume("berth", "hk");
const SECRET = "hunter2";

function secretSpec(): NormalizedSpec {
  const result = parseSpecText(specText("s", { extra: ["secretEnv: { T: { fromHostEnv: T } }"] }), "s.yaml");
  expect(result.issues).toEqual([]);
  return (result.documents[0] as { spec: NormalizedSpec }).spec;
}

describe("the hash key (finding 11)", () => {
  it("is made by the controller at the first secret, with the controller label, and read back", async () => {
    const docker = new FakeDocker();
    const key = new HashKey(docker, owner, "berth", "create");
    expect(docker.volumes.size).toBe(0); // nothing until a secret needs it
    const digest = await key.digest();
    const volume = docker.volumes.get(VOLUME);
    expect(volume?.labels["berth.controller"]).toBe("hk");
    expect(volume?.labels[hashKeyLabel("berth")]).toMatch(/^[0-9a-f]{64}$/);
    expect(digest(SECRET)).not.toBe(UNKEYED_DIGEST(SECRET));
    expect(digest(SECRET)).toMatch(/^[0-9a-f]{64}$/);
    // Read again by a one-shot look: the same digest.
    expect((await new HashKey(docker, owner, "berth", "read").digest())(SECRET)).toBe(digest(SECRET));
    // Asked again: no further engine call.
    const calls = docker.calls.length;
    await key.digest();
    expect(docker.calls.length).toBe(calls);
  });

  it("is only read by plan, status and reap: without one, the unkeyed digest, and nothing made", async () => {
    const docker = new FakeDocker();
    const digest = await new HashKey(docker, owner, "berth", "read").digest();
    expect(digest).toBe(UNKEYED_DIGEST);
    expect(docker.volumes.size).toBe(0);
  });

  it("comes out the same for creators that race", async () => {
    const docker = new FakeDocker();
    const creators = Array.from({ length: 5 }, () => new HashKey(docker, owner, "berth", "create"));
    const digests = await Promise.all(creators.map((c) => c.digest()));
    expect(new Set(digests.map((d) => d(SECRET))).size).toBe(1);
    expect(docker.volumes.size).toBe(1);
  });

  it("is per controller id and label prefix", async () => {
    const docker = new FakeDocker();
    const a = await new HashKey(docker, owner, "berth", "create").digest();
    const b = await new HashKey(docker, ownership(labelKeys("berth"), "other"), "berth", "create").digest();
    expect(a(SECRET)).not.toBe(b(SECRET));
    expect([...docker.volumes.keys()].sort()).toEqual(["berth-hash-key.hk", "berth-hash-key.other"]);
  });

  it("refuses a volume berth did not make, without showing its labels", async () => {
    const docker = new FakeDocker();
    docker.volumes.set(VOLUME, {
      name: VOLUME,
      driver: "local",
      labels: { [hashKeyLabel("berth")]: "planted-key-value" },
      options: {},
    });
    const refused = (await new HashKey(docker, owner, "berth", "create")
      .digest()
      .catch((err: unknown) => err)) as Error;
    expect(refused).toMatchObject({ code: "BERTH_HASH_KEY" });
    expect(refused.message).toContain(`docker volume rm ${VOLUME}`);
    expect(refused.message).not.toContain("planted-key-value");
    // A spec with secrets then fails with the reason; its value is not read into any hash.
    const spec = secretSpec();
    const sources = {
      env: { T: SECRET },
      readFile: () => Promise.reject(new Error("none")),
      digest: () => Promise.reject(refused),
    };
    const resolved = await resolveSecrets(spec, sources);
    expect(resolved).toMatchObject({ ok: false, error: expect.stringContaining("is not one berth made") as string });
    expect(JSON.stringify(resolved)).not.toContain(SECRET);
  });

  it("keys the hash: a guess checked the old way (SHA-256 of the guess) no longer matches", async () => {
    const docker = new FakeDocker();
    const digest = new HashKey(docker, owner, "berth", "create").digest;
    const spec = secretSpec();
    const sources = { env: { T: SECRET }, readFile: () => Promise.reject(new Error("none")), digest };
    const resolved = await resolveSecrets(spec, sources);
    if (!resolved.ok) throw new Error(resolved.error);
    const served = specHash(spec, resolved.digests);
    // The attacker's offline check, with the right guess among wrong ones:
    for (const guess of ["password", "letmein", SECRET]) {
      expect(specHash(spec, { T: UNKEYED_DIGEST(guess) })).not.toBe(served);
    }
    // The create-time read labels the container with the same hash the desired state has.
    expect((await secretsForCreate(spec, "planned", sources)).labelHash).toBe(served);
    // A spec without secrets hashes as before, and never asks for the key.
    const plain = parseSpecText(specText("p"), "p.yaml").documents[0]?.spec as NormalizedSpec;
    const unused = {
      env: {},
      readFile: () => Promise.reject(new Error("none")),
      digest: () => Promise.reject(new Error("asked")),
    };
    expect(await resolveSecrets(plain, unused)).toEqual({ ok: true, values: {}, digests: {}, keyed: false });
  });
});
