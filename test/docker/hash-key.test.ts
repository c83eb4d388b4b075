/**
 * Finding 11 against a real engine: the served hash (the berth.hash label, GET /v1/specs,
 * `berth status`) is no longer a secret-guessing oracle. Secrets enter it as HMAC-SHA256 under a
 * per-controller key kept as a label of the volume `berth-hash-key.<id>`, made by `berth apply` /
 * `run` when a secret first needs it and only read by `plan` and `status`. Checked here: a guess
 * checked offline the old way fails; plan and apply agree; specs without secrets keep their
 * hashes; racing creators agree; without the key (a berth before keyed hashes) only the secret
 * spec would be replaced; and the key appears nowhere but on its volume — not in any output, log,
 * API answer, event, error or container.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { specHash } from "../../src/core/hash.js";
import { labelKeys } from "../../src/core/labels.js";
import { ownership } from "../../src/core/ownership.js";
import type { NormalizedSpec } from "../../src/core/spec.js";
import { connectDocker } from "../../src/docker/connect.js";
import { HashKey } from "../../src/loop/hash-key.js";
import { parseSpecText } from "../../src/manifest/parse.js";
import {
  berth,
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
} from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
let controller: RunningBerth | null = null;
const volumes: string[] = [];
afterEach(async () => {
  await controller?.stop();
  controller = null;
  for (const name of volumes.splice(0))
    await docker
      .getVolume(name)
      .remove({ force: true })
      .catch(() => undefined);
});

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
const hmac = (key: string, text: string): string =>
  createHmac("sha256", Buffer.from(key, "hex")).update(text).digest("hex");

function specOf(text: string): NormalizedSpec {
  const parsed = parseSpecText(text, "s.yaml");
  expect(parsed.issues).toEqual([]);
  return (parsed.documents[0] as { spec: NormalizedSpec }).spec;
}

async function volumeLabels(name: string): Promise<Record<string, string> | null> {
  try {
    return ((await docker.getVolume(name).inspect()) as { Labels: Record<string, string> | null }).Labels ?? {};
  } catch {
    return null;
  }
}

describe("keyed secret digests in the spec hash (finding 11)", () => {
  it("serves a hash a guessed secret cannot be checked against, and never the key", async () => {
    const c = id("hash-key");
    const volume = `berth-hash-key.${c}`;
    volumes.push(volume);
    const SECRET = `berth-secret-${randomBytes(6).toString("hex")}`;
    const secretName = `${c}-secret`;
    const plainName = `${c}-plain`;
    const secretText = e2eSpec(secretName, ["secretEnv: { T: { fromHostEnv: HK_SECRET } }"]);
    const plainText = e2eSpec(plainName);
    const dir = specDir({
      "secret.yaml": secretText,
      "plain.yaml": plainText,
      // A create the engine refuses, carrying the secret: the error path.
      "broken.yaml": e2eSpec(`${c}-broken`, [
        "runtime: berth-no-such-runtime",
        "secretEnv: { T: { fromHostEnv: HK_SECRET } }",
      ]),
    });
    const env = { HK_SECRET: SECRET };
    const common = ["--id", c, "--specs", dir, "--allow-runtime", "runc,berth-no-such-runtime"];
    const seen: string[] = [];
    const record = (label: string, text: string): void => {
      seen.push(`--- ${label}\n${text}`);
    };

    // A one-shot look never makes the key.
    const planned = await berth(["plan", ...common], env);
    record("plan before", planned.stdout + planned.stderr);
    expect(planned.code).toBe(2);
    expect(await volumeLabels(volume)).toBeNull();

    const apply = await berth(["apply", ...common, "--timeout", "60s"], env);
    record("apply", apply.stdout + apply.stderr);
    expect(apply.code).toBe(1); // the broken spec
    const labels = await volumeLabels(volume);
    expect(labels?.["berth.controller"]).toBe(c);
    const KEY = labels?.["berth.hash-key"] ?? "";
    expect(KEY).toMatch(/^[0-9a-f]{64}$/);

    const byName = new Map((await containersOf(c)).map((x) => [x.name, x]));
    const served = byName.get(secretName)?.labels["berth.hash"];
    const spec = specOf(secretText);
    // The attacker's offline check: SHA-256 of each guess, the right one among them. None matches.
    for (const guess of ["password", "hunter2", SECRET]) expect(specHash(spec, { T: sha256(guess) })).not.toBe(served);
    // What berth computed: HMAC-SHA256 under the key held by the engine.
    expect(served).toBe(specHash(spec, { T: hmac(KEY, SECRET) }));
    // A spec without secrets hashes as it always did.
    expect(byName.get(plainName)?.labels["berth.hash"]).toBe(specHash(specOf(plainText)));

    // plan reads the same key: nothing to change for the two.
    const again = await berth(["plan", ...common, "--format", "json"], env);
    record("plan after", again.stdout + again.stderr);
    const actions = (JSON.parse(again.stdout) as { actions: { spec: string }[] }).actions.map((a) => a.spec);
    expect(actions).not.toContain(secretName);
    expect(actions).not.toContain(plainName);
    for (const args of [["status"], ["status", "-o", "json"], ["plan"]]) {
      const result = await berth([...args, ...common, "--server", "off"], env);
      record(args.join(" "), result.stdout + result.stderr);
    }

    // The controller at debug level, with its API.
    const token = randomBytes(16).toString("hex");
    const tokenFile = path.join(tempDir(), "token");
    writeFileSync(tokenFile, token);
    controller = await startBerth([...common, "--api-token-file", tokenFile, "--runtime-specs", tempDir()], env);
    const url = controller.url;
    for (const route of ["/v1/specs", `/v1/specs/${secretName}`, "/v1/events", "/metrics", "/readyz"]) {
      const response = await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } });
      record(route, await response.text());
    }
    const specs = (await (await fetch(`${url}/v1/specs/${secretName}`)).json()) as { hash?: string };
    expect(specs.hash).toBe(served);
    expect(await controller.stop()).toBe(0);
    record("run logs", controller.logs.map((l) => JSON.stringify(l)).join("\n"));
    controller = null;
    for (const x of await containersOf(c))
      record(`inspect ${x.name}`, JSON.stringify(await docker.getContainer(x.id).inspect()));

    const everything = seen.join("\n");
    expect(everything.length).toBeGreaterThan(5_000);
    const forms = [
      KEY,
      KEY.toUpperCase(),
      Buffer.from(KEY, "hex").toString("base64"),
      Buffer.from(KEY, "hex").toString("base64url"),
    ];
    for (const form of forms) expect(everything.includes(form), "the hash key leaked").toBe(false);

    // Without the key — as for a berth before keyed hashes, whose containers carry the unkeyed
    // digest — only the spec with secrets would be replaced, once.
    await docker.getVolume(volume).remove();
    const unkeyed = await berth(["plan", ...common, "--format", "json"], env);
    const replaced = (JSON.parse(unkeyed.stdout) as { actions: { spec: string; reason: string }[] }).actions;
    expect(replaced.filter((a) => a.spec !== `${c}-broken`)).toEqual([
      expect.objectContaining({ spec: secretName, reason: "hash changed" }),
    ]);
  }, 240_000);

  it("gives racing creators one key, the one the engine holds", async () => {
    const c = id("hash-key-race");
    volumes.push(`berth-hash-key.${c}`);
    const owner = ownership(labelKeys("berth"), c);
    const engine = connectDocker(30_000);
    const creators = Array.from({ length: 6 }, () => new HashKey(engine.port, owner, "berth", "create"));
    const digests = await Promise.all(creators.map((k) => k.digest()));
    const KEY = (await volumeLabels(`berth-hash-key.${c}`))?.["berth.hash-key"] ?? "";
    for (const digest of digests) expect(digest("value")).toBe(hmac(KEY, "value"));
    const reader = await new HashKey(engine.port, owner, "berth", "read").digest();
    expect(reader("value")).toBe(hmac(KEY, "value"));
  });
});
