/**
 * Secrets never leak: the whole flow against the real engine (apply, plan, status, logs at debug
 * level, the HTTP API's writes and every read — status, events, metrics — a create that fails, a
 * missing secret, a rotated secret) with recognisable secret values, which must appear in the
 * container's environment and nowhere else.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  berth,
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { pollValue } from "../support/poll.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
let controller: RunningBerth | undefined;

// Registered after testIds(): hooks run last-registered first, so a controller left running by a
// failed test stops before its containers are removed (it would recreate them otherwise).
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

const marker = (): string => `berth-secret-${randomBytes(8).toString("hex")}`;
const FROM_ENV = marker();
const FROM_FILE = marker();
const ROTATED = marker();
const API_TOKEN = randomBytes(16).toString("hex");

describe("secret values", () => {
  it("reach the container's environment and nothing else", async () => {
    const ID = id("secrets");
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
    controller = await startBerth(
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
    const explain = (): string => controller?.recentLogs() ?? "";
    await waitContainers(
      ID,
      `${app} replaced by a running container with the rotated secret`,
      (cs) => cs.some((c) => c.name === app && c.state === "running" && c.id !== before?.id),
      { timeoutMs: 90_000, explain },
    );
    await waitContainers(
      ID,
      `${ID}-api running`,
      (cs) => cs.some((c) => c.name === `${ID}-api` && c.state === "running"),
      { explain },
    );

    // Every read surface of the running controller, after all of the above has happened.
    const get = async (route: string): Promise<string> => {
      const response = await fetch(`${controller?.url ?? ""}${route}`);
      const body = await response.text();
      record(`GET ${route}`, body);
      expect(response.status, `GET ${route}: ${body}`).toBe(200);
      return body;
    };
    const names = [app, `${ID}-api`, `${ID}-broken`, `${ID}-missing`];
    type SpecStatus = { name: string; phase: string; message?: string };
    // The engine's refusal of the broken create reaches the controller's status at its next pass.
    const broken = await pollValue(
      async () => JSON.parse(await get(`/v1/specs/${ID}-broken`)) as SpecStatus,
      (s) => s.phase === "Failed",
      30_000,
    );
    expect([broken.phase, broken.message]).toEqual(["Failed", expect.stringMatching(/runtime/)]);
    const specs = (JSON.parse(await get("/v1/specs")) as { specs: SpecStatus[] }).specs;
    expect(specs.map((s) => s.name).sort()).toEqual([...names].sort());
    for (const name of names) expect((JSON.parse(await get(`/v1/specs/${name}`)) as SpecStatus).name).toBe(name);
    const events = (JSON.parse(await get("/v1/events?limit=1000")) as { events: { spec: string; ok: boolean }[] })
      .events;
    expect(events.some((e) => e.spec === `${ID}-broken` && !e.ok)).toBe(true);
    expect(events.some((e) => e.spec === app && e.ok)).toBe(true);
    for (const name of names) await get(`/v1/events?spec=${name}`);
    expect(await get("/metrics")).toContain("berth_actions_total");

    expect(await controller.stop()).toBe(0);
    record("run logs", controller.logs.map((l) => JSON.stringify(l)).join("\n"));
    record("run stderr", controller.stderr);
    controller = undefined;

    const inspect = await docker.getContainer(app).inspect();
    expect(inspect.Config.Env).toEqual(expect.arrayContaining([`TOKEN=${FROM_ENV}`, `FILE_TOKEN=${ROTATED}`]));
    for (const c of await containersOf(ID)) {
      const full = await docker.getContainer(c.id).inspect();
      record(`inspect ${c.name} without Config.Env`, JSON.stringify({ ...full, Config: { ...full.Config, Env: [] } }));
    }

    const everything = seen.join("\n");
    expect(everything.length).toBeGreaterThan(10_000); // the logs really were captured
    // The API token is a secret too: it reaches berth through a file and must not come back out.
    for (const secret of [FROM_ENV, FROM_FILE, ROTATED, API_TOKEN]) {
      const where = seen.filter((text) => text.includes(secret)).map((text) => text.split("\n", 1)[0]);
      expect(where, `${secret} leaked`).toEqual([]);
    }
  }, 240_000);
});
