/**
 * spec.stableFor (docs/design.md, "Safe replacements"), end to end against the real engine through
 * the built CLI: a new version that crashes a second after it starts never replaces a working
 * container under StartFirst (apply fails naming the exit, the old containers run on); a good
 * version rolls out one replica at a time, the next made only after the one before stayed up;
 * under StopFirst the crashing replacement stays and the other replica keeps its old version. A
 * failed version is kept stopped as its record (name.rejected) and not tried again: a followed tag
 * (imagePullPolicy Always, a registry on loopback) whose pushed build crashes is tried once, held on
 * every later apply, and the next push rolls out.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { berth, containersOf, docker, removeImage, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";
import { labelledImage, type LocalRegistry, pushAs, registryBinary, startRegistry } from "../support/registry.js";
import { specText, versionedSpec } from "../support/specs.js";

const id = testIds();
let registry: LocalRegistry | undefined;
/** The images and the tag this file made, removed after it. */
const made: string[] = [];

afterAll(async () => {
  for (const image of made.reverse()) await removeImage(image);
  await registry?.stop();
});

const spec = (name: string, version: string, script: string, extra: readonly string[] = []): string =>
  versionedSpec(name, version, script, "4s", extra);

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
    writeFileSync(path.join(dir, "web.yaml"), spec(name, "2", "echo version 2 gives up; sleep 1; exit 3"));
    const bad = await apply();
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(
      new RegExp(
        `the new container for ${name}-0 exited( with code 3)? \\d+\\.\\ds after it started( and was restarted by the engine \\(\\d+ restarts?\\))?, within stableFor 4s; it is kept stopped as ${name}-0\\.rejected for its logs, the old one keeps running, and this version is not tried again until the spec or its image changes`,
      ),
    );
    // The same containers, running version 1; the replacement kept stopped, for its logs.
    const rejected = await versions(c);
    const record = rejected[`${name}-0.rejected`];
    expect(record?.slice(1)).toEqual(["2", "exited"]);
    expect(rejected).toEqual({ ...before, [`${name}-0.rejected`]: record });
    const kept = docker.getContainer(`${name}-0.rejected`);
    expect((await kept.inspect()).HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
    expect(String(await kept.logs({ stdout: true, stderr: true }))).toContain("version 2 gives up");

    // Applied again (a CI job run again): the version is not tried again, and apply says why.
    const again = await apply();
    expect(again.code, again.stdout + again.stderr).toBe(1);
    expect(again.stdout).toContain(
      `rollout held: ${name}-0.rejected, this version's replacement, did not stay up for 4s and is kept stopped for its logs`,
    );
    expect(await versions(c)).toEqual(rejected);
    // status: none of this version ready, the two old containers available.
    const status = await berth(["status", "--id", c, "--specs", dir, "--server", "off"]);
    expect(status.stdout).toMatch(new RegExp(`^${name} +Failed +0/2 \\(2 available\\) `, "m"));

    writeFileSync(path.join(dir, "web.yaml"), spec(name, "3", "sleep 3600"));
    const good = await apply();
    expect(good.code, good.stdout + good.stderr).toBe(0);
    // The record of version 2 went with it.
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

  it("updateParallelism 2: two replicas are replaced side by side, the next two after those stayed up", async () => {
    const c = id("stable-wide");
    const name = `${c}-web`;
    const wide = (version: string) =>
      specText(name, {
        image: TEST_IMAGE,
        replicas: 4,
        extra: [
          'command: ["sleep", "3600"]',
          `env: { VERSION: "${version}" }`,
          "stableFor: 5s",
          "updateParallelism: 2",
          "stopTimeout: 1s",
        ],
      });
    const dir = specDir({ "web.yaml": wide("1") });
    const apply = () => berth(["apply", "--id", c, "--specs", dir, "--timeout", "2m"]);
    const first = await apply();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    writeFileSync(path.join(dir, "web.yaml"), wide("2"));
    const rolled = await apply();
    expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0);
    expect(Object.values(await versions(c)).map(([, v, state]) => [v, state])).toEqual(
      Array.from({ length: 4 }, () => ["2", "running"]),
    );
    const info = await Promise.all([0, 1, 2, 3].map((i) => docker.getContainer(`${name}-${i}`).inspect()));
    const created = info.map((x) => Date.parse(x.Created));
    const started = info.map((x) => Date.parse(x.State.StartedAt));
    // web-1's replacement was made while web-0's was still within its 5 s: side by side.
    expect(created[1] ?? 0).toBeLessThan((started[0] ?? 0) + 5_000);
    // web-2's and web-3's only once both of the first batch had stayed up 5 s.
    for (const i of [2, 3])
      expect(created[i] ?? 0).toBeGreaterThanOrEqual(Math.max(started[0] ?? 0, started[1] ?? 0) + 5_000);
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
      `rollout held: ${name}-0 of this version exited( with code 3)? and was restarted by the engine \\(\\d+ restarts?\\); the others keep their version until the spec changes; berth rollout retry ${name} makes it again \\(stableFor\\)`,
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

  it("Always: a pushed image that does not stay up is tried once per digest, and the next push rolls out", async () => {
    const binary = registryBinary();
    if (binary === null) throw new Error("docker-registry is not installed: run `bash scripts/ensure-docker.sh`");
    registry = await startRegistry(binary);
    const ref = `${registry.host}/berth-test/stable:e2e-${process.pid}`;
    made.push(ref);
    /** A build of the test image whose containers run (MODE=good) or exit with code 3 after a second. */
    const push = async (mode: "good" | "bad", n: number): Promise<string> => {
      const image = await labelledImage(docker, TEST_IMAGE, `stable-${mode}-${n}-${process.pid}`, { MODE: mode });
      made.push(image);
      await pushAs(docker, image, ref);
      return image;
    };
    const c = id("stable-digest");
    const name = `${c}-web`;
    const text = specText(name, {
      image: ref,
      extra: [
        "imagePullPolicy: Always",
        `command: ["sh", "-c", ${JSON.stringify('sleep 1; [ "$MODE" = good ] && exec sleep 3600; exit 3')}]`,
        "stableFor: 3s",
        "stopTimeout: 1s",
      ],
    });
    const dir = specDir({ "web.yaml": text });
    const apply = () => berth(["apply", "--id", c, "--specs", dir, "--timeout", "2m"]);
    const imageOf = async (n: string) => (await docker.getContainer(n).inspect()).Image;

    const good = await push("good", 1);
    const first = await apply();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const running = (await containersOf(c)).find((x) => x.name === name);
    expect(await imageOf(name)).toBe(good);

    // A bad build pushed under the tag: tried once, kept stopped, the good container runs on.
    const bad = await push("bad", 2);
    const tried = await apply();
    expect(tried.code, tried.stdout + tried.stderr).toBe(1);
    expect(tried.stdout).toMatch(new RegExp(`replace ${name} \\[[0-9a-f]{12}\\] StartFirst: image updated`));
    expect(tried.stdout + tried.stderr).toContain(`it is kept stopped as ${name}.rejected for its logs`);
    const record = (await containersOf(c)).find((x) => x.name === `${name}.rejected`);
    expect(record?.state).toBe("exited");
    expect(await imageOf(`${name}.rejected`)).toBe(bad);
    expect((await containersOf(c)).find((x) => x.name === name)?.id).toBe(running?.id);

    // The tag still names the bad build: every later apply holds, and makes no container.
    for (let i = 0; i < 2; i++) {
      const held = await apply();
      expect(held.code, held.stdout + held.stderr).toBe(1);
      expect(held.stdout).toMatch(
        new RegExp(
          `rollout held: ${name}\\.rejected, this version's replacement \\(image sha256:[0-9a-f]{64}\\), did not stay up for 3s`,
        ),
      );
      expect(held.stdout).not.toMatch(/^(ok|fail) replace /m);
      expect((await containersOf(c)).map((x) => [x.name, x.id]).sort()).toEqual(
        [
          [name, running?.id],
          [`${name}.rejected`, record?.id],
        ].sort(),
      );
    }

    // A fixed build pushed: it rolls out, and the record of the bad one goes.
    const fixed = await push("good", 3);
    const rolled = await apply();
    expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([name]);
    expect(await imageOf(name)).toBe(fixed);
  });
});
