/**
 * Secrets never leak: the whole flow against the real engine (apply, plan, status, logs at debug
 * level, the HTTP API, a create that fails, a missing secret, a rotated secret) with recognisable
 * secret values, which must appear in the container's environment and nowhere else.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  berth,
  cleanup,
  containersOf,
  docker,
  e2eSpec,
  specDir,
  startBerth,
  testId,
  waitContainers,
} from "../support/e2e.js";
import { removeHashKey } from "../support/hash-key.js";
import { tempDir } from "../support/tmp.js";

const ID = testId("secrets");
const marker = (): string => `berth-secret-${randomBytes(8).toString("hex")}`;
const FROM_ENV = marker();
const FROM_FILE = marker();
const ROTATED = marker();
const API_TOKEN = randomBytes(16).toString("hex");

afterAll(async () => {
  await cleanup(ID);
  await removeHashKey(ID);
});

describe("secret values", () => {
  it("reach the container's environment and nothing else", async () => {
    const secretDir = tempDir("berth-secrets-");
    const secretFile = path.join(secretDir, "token");
    writeFileSync(secretFile, `${FROM_FILE}\n`);
    const secretEnv = `secretEnv: { TOKEN: { fromHostEnv: SECRET_SRC }, FILE_TOKEN: { fromFile: ${secretFile} } }`;
    const app = `${ID}-app`;
    const dir = specDir({
      "app.yaml": e2eSpec(app, [secretEnv]),
      // A create request carrying the secret values, refused by the engine (no such runtime).
      "broken.yaml": e2eSpec(`${ID}-broken`, ["runtime: berth-no-such-runtime", secretEnv]),
      "missing.yaml": e2eSpec(`${ID}-missing`, ["secretEnv: { TOKEN: { fromHostEnv: SECRET_NOT_SET } }"]),
    });
    const env = { SECRET_SRC: FROM_ENV, BERTH_LOG_LEVEL: "debug" };
    const common = [
      "--id",
      ID,
      "--specs",
      dir,
      "--allow-secret-dir",
      secretDir,
      "--allow-runtime",
      "runc,berth-no-such-runtime",
    ];
    const seen: string[] = [];
    const record = (label: string, text: string): void => {
      seen.push(`--- ${label}\n${text}`);
    };

    const apply = await berth(["apply", ...common, "--timeout", "60s"], env);
    record("apply", apply.stdout + apply.stderr);
    expect(apply.code).toBe(1); // two specs fail
    expect(apply.stdout).toMatch(/missing.*SECRET_NOT_SET/);
    expect(apply.stdout).toMatch(/broken.*runtime/);

    for (const args of [["plan"], ["plan", "--format", "json"], ["status"], ["status", "-o", "json"]]) {
      const result = await berth([...args, ...common], env);
      record(args.join(" "), result.stdout + result.stderr);
    }
    const status = await berth(["status", "-o", "json", ...common], env);
    const phases = Object.fromEntries(
      (JSON.parse(status.stdout) as { specs: { name: string; phase: string; message?: string }[] }).specs.map((s) => [
        s.name,
        s.phase,
      ]),
    );
    // A one-shot status cannot know of the engine's refusal (the controller's status can); a missing secret it can.
    expect(phases).toMatchObject({ [app]: "Running", [`${ID}-missing`]: "Failed" });
    expect(status.stdout).toContain("the controller's environment has no variable SECRET_NOT_SET");

    // The controller at debug level, with the HTTP API; then the file secret is rotated.
    const runtime = tempDir("berth-runtime-");
    const tokenFile = path.join(tempDir(), "api-token");
    writeFileSync(tokenFile, API_TOKEN);
    const controller = await startBerth(
      [...common, "--runtime-specs", runtime, "--api-token-file", tokenFile, "--resync", "5s"],
      { SECRET_SRC: FROM_ENV },
    );
    const [before] = (await containersOf(ID)).filter((c) => c.name === app);
    for (const route of ["/healthz", "/readyz"]) {
      const response = await fetch(`${controller.url}${route}`);
      record(route, await response.text());
    }
    const put = await fetch(`${controller.url}/v1/specs/${ID}-api`, {
      method: "PUT",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/yaml" },
      body: e2eSpec(`${ID}-api`, [secretEnv]),
    });
    record("PUT", await put.text());
    expect(put.status).toBe(201);
    const refused = await fetch(`${controller.url}/v1/specs/${ID}-bad`, {
      method: "PUT",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/yaml" },
      body: e2eSpec(`${ID}-bad`, ["secretEnv: { TOKEN: { fromHostEnv: BERTH_API_TOKEN } }"]),
    });
    record("PUT refused", await refused.text());
    expect(refused.status).toBe(400);

    writeFileSync(secretFile, `${ROTATED}\n`);
    // Rotation reaches the container at the next resync: the value's digest is in the hash.
    await waitContainers(
      ID,
      (cs) => cs.some((c) => c.name === app && c.state === "running" && c.id !== before?.id),
      90_000,
    );
    await waitContainers(ID, (cs) => cs.some((c) => c.name === `${ID}-api` && c.state === "running"));
    expect(await controller.stop()).toBe(0);
    record("run logs", controller.logs.map((l) => JSON.stringify(l)).join("\n"));

    const inspect = await docker.getContainer(app).inspect();
    expect(inspect.Config.Env).toEqual(expect.arrayContaining([`TOKEN=${FROM_ENV}`, `FILE_TOKEN=${ROTATED}`]));
    for (const c of await containersOf(ID)) {
      const full = await docker.getContainer(c.id).inspect();
      record(`inspect ${c.name} without Config.Env`, JSON.stringify({ ...full, Config: { ...full.Config, Env: [] } }));
    }

    const everything = seen.join("\n");
    expect(everything.length).toBeGreaterThan(10_000); // the logs really were captured
    for (const secret of [FROM_ENV, FROM_FILE, ROTATED]) {
      expect(everything.includes(secret), `${secret} leaked`).toBe(false);
    }
  }, 240_000);
});
