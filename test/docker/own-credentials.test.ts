/**
 * Finding 6 against a running controller: `berth run --api-token-file` with the token file under
 * the allowed secret folder. A spec naming the token file is refused at load (Invalid, with the
 * check's id), also when written through the HTTP API; a spec whose secret is a link, swapped to
 * the token file after the spec was loaded, fails when the secret is read and never gets the
 * token into a container. The token appears in no container's environment.
 */
import { randomBytes } from "node:crypto";
import { renameSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
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
import { removeHashKey } from "../support/hash-key.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
let controller: RunningBerth | null = null;
const made: string[] = [];
afterEach(async () => {
  await controller?.stop();
  controller = null;
  for (const c of made.splice(0)) await removeHashKey(c);
});

interface SpecStatus {
  readonly name: string;
  readonly phase: string;
  readonly message?: string;
}

describe("the API token file under the secret folder (finding 6)", () => {
  it("is never handed to a container: refused at load, and at read time after a link swap", async () => {
    const c = id("own-creds");
    made.push(c);
    const TOKEN = randomBytes(16).toString("hex");
    const secrets = tempDir("berth-secrets-");
    const tokenFile = path.join(secrets, "api-token");
    writeFileSync(tokenFile, TOKEN);
    writeFileSync(path.join(secrets, "harmless"), "harmless");
    const current = path.join(secrets, "current");
    symlinkSync(path.join(secrets, "harmless"), current);

    const direct = `${c}-direct`;
    const swapped = `${c}-swapped`;
    const dir = specDir({
      "direct.yaml": e2eSpec(direct, [`secretEnv: { T: { fromFile: ${tokenFile} } }`]),
      "swapped.yaml": e2eSpec(swapped, [`secretEnv: { T: { fromFile: ${current} } }`]),
    });
    controller = await startBerth([
      "--id",
      c,
      "--specs",
      dir,
      "--allow-secret-dir",
      secrets,
      "--api-token-file",
      tokenFile,
      "--runtime-specs",
      tempDir("berth-runtime-"),
      "--resync",
      "1s",
    ]);
    const url = controller.url;
    const specs = async (): Promise<Map<string, SpecStatus>> => {
      const response = await fetch(`${url}/v1/specs`);
      if (response.status !== 200) return new Map();
      const body = (await response.json()) as { specs: SpecStatus[] };
      return new Map(body.specs.map((s) => [s.name, s]));
    };

    const [before] = await waitContainers(c, "its container running", (cs) =>
      cs.some((x) => x.name === swapped && x.state === "running"),
    );
    const loaded = await pollValue(specs, (m) => m.get(direct)?.phase === "Invalid", 20_000);
    expect(loaded.get(direct)?.message).toMatch(
      /spec\.secretEnv\.T\.fromFile: .* own credentials .*no-own-credentials/,
    );
    expect((await containersOf(c)).map((x) => x.name)).toEqual([swapped]);

    // The same spec through the HTTP API: refused with the field.
    const put = await fetch(`${url}/v1/specs/${c}-api`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/yaml" },
      body: e2eSpec(`${c}-api`, [`secretEnv: { T: { fromFile: ${current}/../api-token } }`]),
    });
    expect(put.status).toBe(400);
    expect(await put.text()).toContain("no-own-credentials");

    // The link is swapped to the token file: the next read of the secret refuses it.
    symlinkSync(tokenFile, `${current}.new`);
    renameSync(`${current}.new`, current);
    const failed = await pollValue(specs, (m) => m.get(swapped)?.phase === "Failed", 20_000);
    expect(failed.get(swapped)?.message).toMatch(/cannot read the file .*current: .*own credentials/);

    const after = await containersOf(c);
    expect(after.map((x) => [x.name, x.id])).toEqual([[swapped, before?.id]]);
    for (const x of after) {
      const env = (await docker.getContainer(x.id).inspect()).Config.Env ?? [];
      expect(env).toContain("T=harmless");
      expect(env.join("\n")).not.toContain(TOKEN);
    }
    expect(JSON.stringify(controller.logs)).not.toContain(TOKEN);
  });
});
