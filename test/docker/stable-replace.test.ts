/**
 * spec.stableFor (docs/design.md, "Safe replacements"), end to end against the real engine through
 * the built CLI: a new version that crashes a second after it starts never replaces a working
 * container under StartFirst (apply fails naming the exit, the old containers run on); a good
 * version rolls out one replica at a time, the next made only after the one before stayed up;
 * under StopFirst the crashing replacement stays and the other replica keeps its old version.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { berth, containersOf, docker, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";
import { specText } from "../support/specs.js";

const id = testIds();

const spec = (name: string, version: string, script: string, extra: readonly string[] = []): string =>
  specText(name, {
    image: TEST_IMAGE,
    replicas: 2,
    extra: [
      `command: ["sh", "-c", ${JSON.stringify(script)}]`,
      `env: { VERSION: "${version}" }`,
      "stableFor: 4s",
      "stopTimeout: 1s",
      ...extra,
    ],
  });

/** Container name → [its ID, its VERSION, its state], as the engine has them. */
async function versions(c: string): Promise<Record<string, [string, string, string]>> {
  const out: Record<string, [string, string, string]> = {};
  for (const v of await containersOf(c)) {
    const env = (await docker.getContainer(v.id).inspect()).Config.Env ?? [];
    const version = env.find((e) => e.startsWith("VERSION="))?.slice("VERSION=".length) ?? "";
    out[v.name] = [v.id, version, v.state];
  }
  return out;
}

describe("spec.stableFor", () => {
  it("StartFirst: a crashing version never replaces the running one; a good one rolls out one replica at a time", async () => {
    const c = id("stable-start");
    const name = `${c}-web`;
    const dir = specDir({ "web.yaml": spec(name, "1", "sleep 3600") });
    const apply = () => berth(["apply", "--id", c, "--specs", dir, "--timeout", "2m"]);
    const first = await apply();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const before = await versions(c);
    expect(Object.keys(before)).toEqual([`${name}-0`, `${name}-1`]);

    // Version 2 exits with code 3 a second after it starts: up when a plain replacement would look.
    writeFileSync(path.join(dir, "web.yaml"), spec(name, "2", "sleep 1; exit 3"));
    const bad = await apply();
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(
      new RegExp(
        `the new container for ${name}-0 exited( with code 3)? \\d+\\.\\ds after it started( and was restarted by the engine \\(\\d+ restarts?\\))?, within stableFor 4s; it was removed and the old one keeps running`,
      ),
    );
    // The same containers, running version 1; no replacement left behind.
    expect(await versions(c)).toEqual(before);

    writeFileSync(path.join(dir, "web.yaml"), spec(name, "3", "sleep 3600"));
    const good = await apply();
    expect(good.code, good.stdout + good.stderr).toBe(0);
    const after = await versions(c);
    expect(Object.values(after).map(([, v, state]) => [v, state])).toEqual([
      ["3", "running"],
      ["3", "running"],
    ]);
    // One at a time: web-1's replacement was made only after web-0's had stayed up 4 s.
    const [zero, one] = await Promise.all([`${name}-0`, `${name}-1`].map((n) => docker.getContainer(n).inspect()));
    const web0Started = Date.parse(zero?.State.StartedAt ?? "");
    const web1Created = Date.parse(one?.Created ?? "");
    expect(web1Created - web0Started).toBeGreaterThanOrEqual(4_000);
  });

  it("StopFirst: the crashing replacement stays, the other replica keeps its version, apply says so", async () => {
    const c = id("stable-stop");
    const name = `${c}-web`;
    const dir = specDir({ "web.yaml": spec(name, "1", "sleep 3600", ["updateStrategy: StopFirst"]) });
    const apply = () => berth(["apply", "--id", c, "--specs", dir, "--timeout", "2m"]);
    const first = await apply();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const before = await versions(c);

    writeFileSync(path.join(dir, "web.yaml"), spec(name, "2", "sleep 1; exit 3", ["updateStrategy: StopFirst"]));
    const bad = await apply();
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(
      new RegExp(
        `the new container for ${name}-0 exited( with code 3)? \\d+\\.\\ds after it started.*, within stableFor 4s; it stays \\(the old one is gone\\) and the rest of the rollout holds until the spec changes`,
      ),
    );
    const after = await versions(c);
    expect(after[`${name}-0`]?.[1]).toBe("2");
    // web-1 was never touched: the same container, version 1, running.
    expect(after[`${name}-1`]).toEqual(before[`${name}-1`]);

    // The hold is read from the engine: a new apply (a CI job run again) and plan keep it.
    const held = new RegExp(
      `rollout held: ${name}-0 of this version exited( with code 3)? and was restarted by the engine \\(\\d+ restarts?\\); the others keep their version until the spec changes \\(stableFor\\)`,
    );
    const again = await apply();
    expect(again.code, again.stdout + again.stderr).toBe(1);
    expect(again.stdout).toMatch(held);
    const plan = await berth(["plan", "--id", c, "--specs", dir]);
    expect(plan.stdout).toMatch(held);
    expect(plan.stdout).not.toMatch(/^replace /m);
    expect((await versions(c))[`${name}-1`]).toEqual(before[`${name}-1`]);

    // A fixed version rolls out over both.
    writeFileSync(path.join(dir, "web.yaml"), spec(name, "3", "sleep 3600", ["updateStrategy: StopFirst"]));
    const fixed = await apply();
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(Object.values(await versions(c)).map(([, v, state]) => [v, state])).toEqual([
      ["3", "running"],
      ["3", "running"],
    ]);
  });
});
