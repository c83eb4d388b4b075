/**
 * `berth rollout status` and `berth rollout retry` (docs/cli.md), end to end against the real
 * engine through the built CLI. Beside a running controller: status follows its rollout replica by
 * replica (the live status is refreshed between replicas) and exits 0 once the files' version runs;
 * a version that does not stay up fails it at once (exit 1, the hold named); retry asks the
 * controller's API, which removes the record so the version is tried again (a new record, the
 * other replica untouched); a fix rolls out and status exits 0. Without a controller: --no-watch
 * says 2 while a change waits, --timeout ends the wait with exit 1, and retry removes the record
 * itself under the id's lock. updatePartition: a canary of the new version (plan, apply, status),
 * the rest rolled once it is lowered, the canary not made again. --stable-for: a canary that
 * stays up passes once it has run so long (not before); one the engine restarted fails it at once,
 * and the controller's API tells the canary's restarts and last start, and the same verdict
 * (GET /v1/specs/{name}/rollout?stableFor).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pollValue } from "../support/poll.js";
import {
  berth,
  cleanup,
  containersOf,
  controllerPerTest,
  docker,
  specDir,
  TEST_IMAGE,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { specText, versionedSpec } from "../support/specs.js";

const id = testIds();
const controllers = controllerPerTest();
const TOKEN = "rollout-test-token-0123456789abcdef";

const GOOD = "sleep 3600";
const CRASH = "echo this version gives up; sleep 1; exit 3";

const spec = (name: string, version: string, script: string): string => versionedSpec(name, version, script, "5s");

/** Container name → ID. */
async function ids(c: string): Promise<Record<string, string>> {
  return Object.fromEntries((await containersOf(c)).map((v) => [v.name, v.id]));
}

describe("berth rollout", () => {
  it("beside a running controller: status follows the rollout; a held version fails it; retry tries it again", async () => {
    const c = id("rollout-live");
    const name = `${c}-web`;
    const dir = specDir({ "web.yaml": spec(name, "1", GOOD) });
    const file = path.join(dir, "web.yaml");
    const running = await controllers.start(["--id", c, "--specs", dir], { BERTH_API_TOKEN: TOKEN });
    const env = { BERTH_API_TOKEN: TOKEN, BERTH_SERVER: running.url };
    const status = () => berth(["rollout", "status", name, "--id", c, "--specs", dir, "--timeout", "2m"], env);

    const first = await status();
    expect(first.code, first.stdout + first.stderr + running.recentLogs()).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^${name}: rolled out: 2 of 2 updated, 2 ready, 2 available$`, "m"));

    // Version 2: the wait sees web-0 done while web-1's replacement stays up its 5 s (some 4 s
    // between the pass after web-0 and the last one), then the end.
    writeFileSync(file, spec(name, "2", GOOD));
    const rolled = await status();
    expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0);
    expect(rolled.stdout).toContain(`${name}: waiting for the rollout: 1 of 2 updated, 1 ready, 2 available\n`);
    expect(rolled.stdout.trimEnd().split("\n").at(-1)).toBe(
      `${name}: rolled out: 2 of 2 updated, 2 ready, 2 available`,
    );

    // Version 3 exits a second after it starts: held, and status says so rather than waiting on.
    writeFileSync(file, spec(name, "3", CRASH));
    const held = await status();
    expect(held.code, held.stdout + held.stderr).toBe(1);
    expect(held.stdout).toMatch(
      new RegExp(
        `^${name}: rollout failed: 0 of 2 updated, 0 ready, 2 available: rollout held: ${name}-0\\.rejected, this version's replacement, did not stay up for 5s .*; berth rollout retry ${name} tries this version again \\(stableFor\\)$`,
        "m",
      ),
    );
    const before = await ids(c);
    expect(Object.keys(before).sort()).toEqual([`${name}-0`, `${name}-0.rejected`, `${name}-1`]);

    // Retry through the controller (it holds the id's lock): the record goes, the version is tried
    // again (and fails again: a new record), and web-1 is never touched.
    const retried = await berth(["rollout", "retry", name, "--id", c, "--specs", dir], env);
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(retried.stdout).toBe(`removed ${name}-0.rejected: its version is tried again at the next pass\n`);
    await waitContainers(
      c,
      "a new record of version 3",
      (cs) => cs.some((x) => x.name === `${name}-0.rejected` && x.id !== before[`${name}-0.rejected`]),
      { explain: () => running.recentLogs() },
    );
    // The removal is one of the controller's events, as its own actions are.
    const events = (await (await fetch(`${running.url}/v1/events?spec=${name}`)).json()) as {
      events: { kind: string; reason: string; ok: boolean }[];
    };
    expect(events.events).toContainEqual(expect.objectContaining({ kind: "remove", reason: "retried", ok: true }));
    const after = await ids(c);
    expect(after[`${name}-0`]).toBe(before[`${name}-0`]);
    expect(after[`${name}-1`]).toBe(before[`${name}-1`]);

    const refused = await berth(["rollout", "retry", "nope", "--id", c, "--specs", dir], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`retry of nope refused by ${running.url} (404): cannot retry: no spec named nope`);

    // A fix rolls out; the record goes with it.
    writeFileSync(file, spec(name, "4", GOOD));
    const fixed = await status();
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(Object.keys(await ids(c)).sort()).toEqual([`${name}-0`, `${name}-1`]);
  });

  it("without a controller: --no-watch says 2 while a change waits, --timeout ends the wait, retry removes the record itself", async () => {
    const c = id("rollout-cli");
    const name = `${c}-web`;
    const dir = specDir({ "web.yaml": spec(name, "1", GOOD) });
    const file = path.join(dir, "web.yaml");
    const args = ["--id", c, "--specs", dir, "--server", "off"];
    const apply = () => berth(["apply", "--id", c, "--specs", dir, "--timeout", "1m"]);
    const applied = await apply();
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    // No name: every spec in the files.
    const once = await berth(["rollout", "status", ...args, "--no-watch"]);
    expect(once.code, once.stdout + once.stderr).toBe(0);
    expect(once.stdout).toBe(`${name}: rolled out: 2 of 2 updated, 2 ready, 2 available\n`);

    // kubectl's spelling of berth restart: the same command (here refusing a name it does not know).
    const restart = await berth(["rollout", "restart", "nope", ...args]);
    expect(restart.code).toBe(1);
    expect(restart.stderr).toContain("cannot restart: no spec named nope");

    // A change nothing applies: under way (2) at one look, a timeout (1) when waited for.
    writeFileSync(file, spec(name, "2", CRASH));
    const look = await berth(["rollout", "status", name, ...args, "--no-watch"]);
    expect(look.code, look.stdout + look.stderr).toBe(2);
    expect(look.stdout).toBe(`${name}: waiting for the rollout: 0 of 2 updated, 0 ready, 2 available\n`);
    const waited = await berth(["rollout", "status", name, ...args, "--timeout", "2s", "-o", "json"]);
    expect(waited.code, waited.stdout + waited.stderr).toBe(1);
    expect(JSON.parse(waited.stdout)).toMatchObject({
      timedOut: true,
      specs: [{ name, state: "waiting", phase: "Updating" }],
    });

    // Applied, the version is rejected; retry removes its record under the id's lock, and the
    // next apply tries it again (a new record).
    expect((await apply()).code).toBe(1);
    const before = await ids(c);
    const retried = await berth(["rollout", "retry", name, ...args]);
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(retried.stdout).toBe(`removed ${name}-0.rejected: its version is tried again at the next pass\n`);
    expect(Object.keys(await ids(c)).sort()).toEqual([`${name}-0`, `${name}-1`]);
    const again = await apply();
    expect(again.code, again.stdout + again.stderr).toBe(1);
    const after = await ids(c);
    expect(after[`${name}-0.rejected`]).toBeDefined();
    expect(after[`${name}-0.rejected`]).not.toBe(before[`${name}-0.rejected`]);
    expect(after[`${name}-1`]).toBe(before[`${name}-1`]);
    // Held again: status gives up at once rather than waiting out its timeout.
    const status = await berth(["rollout", "status", name, ...args]);
    expect(status.code, status.stdout + status.stderr).toBe(1);
    expect(status.stdout).toContain(`${name}: rollout failed: 0 of 2 updated, 0 ready, 2 available: rollout held:`);
  });

  it("updatePartition: a canary of the new version, the rest on the old until it is lowered", async () => {
    const c = id("rollout-canary");
    const name = `${c}-web`;
    const text = (version: string, partition: number) =>
      specText(name, {
        replicas: 3,
        extra: [
          `command: ["sh", "-c", "${GOOD}"]`,
          `env: { VERSION: "${version}" }`,
          "stableFor: 1s",
          "stopTimeout: 1s",
          `updatePartition: ${partition}`,
        ],
      });
    const dir = specDir({ "web.yaml": text("1", 2) });
    const file = path.join(dir, "web.yaml");
    const args = ["--id", c, "--specs", dir];
    const apply = () => berth(["apply", ...args, "--timeout", "1m"]);
    const kept = `${name}: updatePartition 2 keeps ${name}-0 and ${name}-1 on their version; lower it to roll them`;
    expect((await apply()).code).toBe(0);
    const v1 = await ids(c);

    // Version 2 under partition 2: the plan replaces only web-2, and says what it keeps.
    writeFileSync(file, text("2", 2));
    const planned = await berth(["plan", ...args]);
    expect(planned.code, planned.stdout + planned.stderr).toBe(2);
    expect(planned.stdout).toMatch(new RegExp(`^replace ${name}-2 \\[[0-9a-f]{12}\\] StartFirst: hash changed$`, "m"));
    expect(planned.stdout).not.toContain(`replace ${name}-0`);
    expect(planned.stdout).toContain(`! ${kept}\n1 change pending\n`);
    const canary = await apply();
    expect(canary.code, canary.stdout + canary.stderr).toBe(0);
    const v2 = await ids(c);
    expect(v2[`${name}-0`]).toBe(v1[`${name}-0`]);
    expect(v2[`${name}-1`]).toBe(v1[`${name}-1`]);
    expect(v2[`${name}-2`]).not.toBe(v1[`${name}-2`]);
    const env = async (n: string) => (await docker.getContainer(n).inspect()).Config.Env;
    expect(await env(`${name}-2`)).toContain("VERSION=2");
    expect(await env(`${name}-0`)).toContain("VERSION=1");

    // Converged as declared: nothing to do, and the rollout is done as far as the partition lets it.
    const after = await berth(["plan", ...args]);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(after.stdout).toBe(`! ${kept}\nnothing to do\n`);
    const status = await berth(["rollout", "status", name, ...args, "--no-watch"]);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toBe(
      `${name}: rolled out: 1 of 3 updated, 1 ready, 3 available: ${kept.slice(name.length + 2)}\n`,
    );

    // Lowered: the others roll; the canary is not made again (the partition is not in the hash).
    writeFileSync(file, text("2", 0));
    const rest = await apply();
    expect(rest.code, rest.stdout + rest.stderr).toBe(0);
    const v3 = await ids(c);
    expect(v3[`${name}-2`]).toBe(v2[`${name}-2`]);
    expect(v3[`${name}-0`]).not.toBe(v1[`${name}-0`]);
    expect(await env(`${name}-0`)).toContain("VERSION=2");
    const done = await berth(["rollout", "status", name, ...args, "--no-watch"]);
    expect(done.stdout).toBe(`${name}: rolled out: 3 of 3 updated, 3 ready, 3 available\n`);
  });

  it("--stable-for: a canary passes once it has run so long; one the engine restarted fails it at once", async () => {
    const c = id("rollout-stable");
    const name = `${c}-web`;
    // Version 3 exits once, 4 s after its first start (the file stays in the container), and the
    // engine starts it again: up, but not up for long.
    const ONCE = "[ -f /tmp/once ] || { touch /tmp/once; sleep 4; exit 3; }; sleep 3600";
    const text = (version: string, script: string) =>
      specText(name, {
        replicas: 3,
        extra: [
          `command: ["sh", "-c", ${JSON.stringify(script)}]`,
          `env: { VERSION: "${version}" }`,
          "stopTimeout: 1s",
          "updatePartition: 2",
        ],
      });
    const dir = specDir({ "web.yaml": text("1", GOOD) });
    const file = path.join(dir, "web.yaml");
    const running = await controllers.start(["--id", c, "--specs", dir], { BERTH_API_TOKEN: TOKEN });
    const env = { BERTH_API_TOKEN: TOKEN, BERTH_SERVER: running.url };
    const status = (stableFor: string) =>
      berth(["rollout", "status", name, "--id", c, "--specs", dir, "--stable-for", stableFor, "--timeout", "2m"], env);
    expect((await status("1s")).code).toBe(0);

    // Version 2: the canary rolls out, then the wait lasts until it has run 8 s since its start.
    writeFileSync(file, text("2", GOOD));
    const stable = await status("8s");
    const ended = Date.now();
    expect(stable.code, stable.stdout + stable.stderr + running.recentLogs()).toBe(0);
    expect(stable.stdout).toContain(`${name}: rolled out; waiting until ${name}-2 has stayed up 8s (`);
    expect(stable.stdout.trimEnd().split("\n").at(-1)).toBe(
      `${name}: stable: ${name}-2 has run 8s or longer without a restart`,
    );
    const started = Date.parse((await docker.getContainer(`${name}-2`).inspect()).State.StartedAt);
    expect(ended - started).toBeGreaterThanOrEqual(8_000);

    // Version 3 exits once, 4 s after its first start. A wait begun with the change sees it roll out
    // and run, then fails as soon as the engine restarts it (each look inspects afresh).
    writeFileSync(file, text("3", ONCE));
    const through = await status("1m");
    expect(through.code, through.stdout + through.stderr + running.recentLogs()).toBe(1);
    expect(through.stdout.trimEnd().split("\n").at(-1)).toMatch(
      new RegExp(
        `^${name}: not stable for 1m: ${name}-2 (was restarted by the engine \\d+s ago|is being restarted by the engine) \\(\\d+ restarts?(, its last exit (code 3 )?at \\S+)?\\)$`,
      ),
    );

    // Once it runs again, a new wait fails at once too, where a plain status says it is rolled out.
    const again = await pollValue(
      () =>
        docker
          .getContainer(`${name}-2`)
          .inspect()
          .then((i) => ({ v3: i.Config.Env.includes("VERSION=3"), restarts: i.RestartCount, running: i.State.Running }))
          .catch(() => null),
      (s) => s !== null && s.v3 && s.restarts === 1 && s.running,
      60_000,
      200,
    );
    expect(again, running.recentLogs()).toEqual({ v3: true, restarts: 1, running: true });
    const failed = await status("1m");
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout.trimEnd().split("\n").at(-1)).toMatch(
      new RegExp(
        `^${name}: not stable for 1m: ${name}-2 was restarted by the engine \\d+s ago \\(1 restart, its last exit (code 3 )?at \\S+\\)$`,
      ),
    );
    const plain = await berth(["rollout", "status", name, "--id", c, "--specs", dir, "--no-watch"], env);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);

    // The controller inspects a partitioned spec's containers: its API tells the canary's restart.
    const canary = await pollValue(
      async () => {
        const res = await fetch(`${running.url}/v1/specs/${name}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const spec = (await res.json()) as {
          containers: { name: string; restarts: number | null; startedAt: string | null }[];
        };
        return spec.containers.find((x) => x.name === `${name}-2`);
      },
      (x) => x?.restarts === 1,
      30_000,
      200,
    );
    expect(canary).toMatchObject({ restarts: 1, startedAt: expect.stringMatching(/^\d{4}-/) });

    // The same verdict over HTTP, for clients without the CLI: rolled out, but not stable for 1m.
    const verdict = async (query: string) =>
      (await (await fetch(`${running.url}/v1/specs/${name}/rollout${query}`)).json()) as Record<string, unknown>;
    expect(await verdict("")).toMatchObject({ name, state: "complete", phase: "Running" });
    expect(await verdict("?stableFor=1m")).toMatchObject({
      state: "failed",
      line: expect.stringMatching(
        new RegExp(
          `^${name}: not stable for 1m: ${name}-2 was restarted by the engine \\d+s ago \\(1 restart, its last exit `,
        ),
      ),
    });
  });

  it("StopFirst: retry makes the failed replica again; still broken it fails and holds, fixed outside the spec the rest rolls", async () => {
    const c = id("rollout-stop");
    const name = `${c}-web`;
    const volume = `${c}-fix`;
    // Version 2 needs a file that is not there yet: the fix outside the spec.
    const broken = "[ -f /fix/ok ] || { echo not fixed; sleep 1; exit 3; }; sleep 3600";
    const text = (version: string, script: string) =>
      versionedSpec(name, version, script, "5s", [
        "updateStrategy: StopFirst",
        `mounts: [{ type: volume, source: ${volume}, target: /fix }]`,
      ]);
    const dir = specDir({ "web.yaml": text("1", GOOD) });
    const args = ["--id", c, "--specs", dir, "--server", "off"];
    const apply = () => berth(["apply", "--id", c, "--specs", dir, "--timeout", "1m"]);
    try {
      const first = await apply();
      expect(first.code, first.stdout + first.stderr).toBe(0);
      writeFileSync(path.join(dir, "web.yaml"), text("2", broken));
      const held = await apply();
      expect(held.code, held.stdout + held.stderr).toBe(1);
      expect(held.stdout).toContain(`berth rollout retry ${name} makes it again (stableFor)`);
      const before = await ids(c);

      // Still broken: made again (a new container), it fails within its stableFor and stays; web-1 untouched.
      const again = await berth(["rollout", "retry", name, ...args]);
      expect(again.code, again.stdout + again.stderr).toBe(1);
      expect(again.stdout).toMatch(new RegExp(`^failed ${name}-0: the new container for ${name}-0 exited`, "m"));
      const after = await ids(c);
      expect(after[`${name}-0`]).not.toBe(before[`${name}-0`]);
      expect(after[`${name}-1`]).toBe(before[`${name}-1`]);

      // Fixed outside the spec: made again, it stays up 5 s; the next apply rolls web-1.
      const fixer = await docker.createContainer({
        Image: TEST_IMAGE,
        Cmd: ["touch", "/fix/ok"],
        HostConfig: { Binds: [`${volume}:/fix`] },
      });
      await fixer.start();
      await fixer.wait();
      await fixer.remove();
      const fixed = await berth(["rollout", "retry", name, ...args]);
      expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
      expect(fixed.stdout).toBe(`replaced ${name}-0: made again, it stayed up: the next pass rolls the others\n`);
      expect((await ids(c))[`${name}-1`]).toBe(before[`${name}-1`]);
      const rolled = await apply();
      expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0);
      const status = await berth(["rollout", "status", name, ...args, "--no-watch"]);
      expect(status.stdout).toBe(`${name}: rolled out: 2 of 2 updated, 2 ready, 2 available\n`);
    } finally {
      // Its containers first (testIds would after this test), then the volume they held.
      await cleanup(c);
      await docker
        .getVolume(volume)
        .remove()
        .catch(() => undefined);
    }
  });
});
