/**
 * `berth plan` says what a replace changes, from the applied label of a container made by the
 * built CLI: a spec applied, then edited (memory, one env variable), shows exactly those fields, in
 * text and in JSON; a rotated secret shows as "(value changed)"; and the container's labels carry
 * no secret value (nor its plain SHA-256), though its environment does.
 */
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { berth, containersOf, docker, e2eSpec, specDir, testIds } from "../support/e2e.js";

const id = testIds();

describe("berth plan: what changed", () => {
  it("shows the fields edited since apply, in text and JSON, and never a secret", async () => {
    const ID = id("plan-diff");
    const name = `${ID}-web`;
    const secret = `berth-secret-${randomBytes(8).toString("hex")}`;
    const rotated = `berth-secret-${randomBytes(8).toString("hex")}`;
    const spec = (lines: readonly string[]): string =>
      e2eSpec(name, [...lines, "secretEnv: { TOKEN: { fromHostEnv: PLAN_DIFF_TOKEN } }"]);
    const dir = specDir({ "web.yaml": spec(["resources: { memory: 64Mi }", "env: { MODE: one }"]) });
    const common = ["--id", ID, "--specs", dir];
    const env = { PLAN_DIFF_TOKEN: secret };

    const apply = await berth(["apply", ...common, "--timeout", "60s"], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const [made, ...others] = await containersOf(ID);
    expect(others).toEqual([]);
    if (!made) throw new Error("apply made no container");

    // The label is there, and nothing of the secret is anywhere in what the engine shows but Env.
    const inspect = await docker.getContainer(made.id).inspect();
    expect(inspect.Config.Labels["berth.applied"]).toMatch(
      /^\{"secretEnv":\{"TOKEN":\{"fromHostEnv":"PLAN_DIFF_TOKEN"\}\}/,
    );
    expect(inspect.Config.Env).toContain(`TOKEN=${secret}`);
    const shown = JSON.stringify({ ...inspect, Config: { ...inspect.Config, Env: [] } });
    expect(shown).not.toContain(secret);
    expect(shown).not.toContain(createHash("sha256").update(secret).digest("hex"));

    writeFileSync(path.join(dir, "web.yaml"), spec(["resources: { memory: 128Mi }", 'env: { MODE: one, DEBUG: "1" }']));
    const short = made.id.slice(0, 12);

    const text = await berth(["plan", ...common], env);
    expect(text.stderr).toBe("");
    expect(text.stdout).toBe(
      [
        `replace ${name} [${short}] StartFirst: hash changed`,
        '    + env.DEBUG: "1"',
        "    ~ resources.memory: 64Mi → 128Mi",
        "1 change pending",
        "",
      ].join("\n"),
    );
    expect(text.code).toBe(2);

    const json = await berth(["plan", ...common, "--format", "json"], env);
    expect(json.code).toBe(2);
    const actions = (JSON.parse(json.stdout) as { actions: unknown[] }).actions;
    expect(actions).toEqual([
      expect.objectContaining({
        kind: "replace",
        name,
        reason: "hash changed",
        changes: [
          { op: "add", path: "env.DEBUG", to: '"1"' },
          { op: "change", path: "resources.memory", from: "64Mi", to: "128Mi" },
        ],
      }),
    ]);

    // The same spec with the secret's value rotated where berth reads it.
    const rotatedPlan = await berth(["plan", ...common], { PLAN_DIFF_TOKEN: rotated });
    expect(rotatedPlan.stdout).toContain("    ~ secretEnv.TOKEN: (value changed)\n");

    for (const out of [text, json, rotatedPlan]) {
      expect(out.stdout + out.stderr).not.toContain(secret);
      expect(out.stdout + out.stderr).not.toContain(rotated);
    }
  });
});
