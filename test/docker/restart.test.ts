/**
 * `berth restart` (docs/design.md, "Rolling restarts"), end to end against the real engine through
 * the built CLI: a spec's containers are restarted in place (the same IDs, started again), one at
 * a time; a container that does not stay up for the spec's stableFor ends it, the ones after it
 * untouched; beside a running `berth run` of the id it asks the controller's API, which does the
 * same, and refuses by name what it cannot restart.
 */
import { describe, expect, it } from "vitest";
import {
  berth,
  containersOf,
  controllerPerTest,
  docker,
  specDir,
  TEST_IMAGE,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { specText } from "../support/specs.js";

const id = testIds();
const TOKEN = "restart-test-token-0123456789abcdef";

const controllers = controllerPerTest();

const spec = (name: string, script: string, extra: readonly string[] = []): string =>
  specText(name, {
    image: TEST_IMAGE,
    replicas: 2,
    extra: [`command: ["sh", "-c", ${JSON.stringify(script)}]`, "init: true", "stopTimeout: 1s", ...extra],
  });

/** Each container's ID, last start and last stop, by name. */
async function starts(c: string): Promise<Record<string, { id: string; startedAt: number; finishedAt: number }>> {
  const out: Record<string, { id: string; startedAt: number; finishedAt: number }> = {};
  for (const v of await containersOf(c)) {
    const s = (await docker.getContainer(v.id).inspect()).State;
    out[v.name] = { id: v.id, startedAt: Date.parse(s.StartedAt), finishedAt: Date.parse(s.FinishedAt) };
  }
  return out;
}

describe("berth restart", () => {
  it("restarts a spec's containers in place, one at a time, each once the one before is healthy", async () => {
    const c = id("restart");
    const name = `${c}-web`;
    const dir = specDir({
      "web.yaml": spec(name, "sleep 3600", ['healthcheck: { command: ["true"], interval: 1s }']),
    });
    const applied = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "1m"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const before = await starts(c);

    const res = await berth(["restart", name, "--id", c, "--specs", dir]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      new RegExp(
        `^restarted ${name}-0: healthy \\(.+\\)\\nrestarted ${name}-1: healthy \\(.+\\)\\n2 containers restarted$`,
        "m",
      ),
    );
    const after = await starts(c);
    for (const n of [`${name}-0`, `${name}-1`]) {
      // The same container, started again.
      expect(after[n]?.id).toBe(before[n]?.id);
      expect(after[n]?.startedAt).toBeGreaterThan(before[n]?.startedAt ?? Infinity);
    }
    // One at a time: web-1 was stopped only after web-0 had started again.
    expect(after[`${name}-1`]?.finishedAt).toBeGreaterThanOrEqual(after[`${name}-0`]?.startedAt ?? Infinity);
    expect((await docker.getContainer(`${name}-0`).inspect()).State.Health?.Status).toBe("healthy");
  });

  it("stops at a container that does not stay up for its stableFor; the next is not touched", async () => {
    const c = id("restart-fail");
    const name = `${c}-web`;
    // Runs until restarted; once restarted (its file system kept) it exits with code 3 a second in.
    const script = "if [ -f /tmp/ran ]; then sleep 1; exit 3; fi; touch /tmp/ran; sleep 3600";
    const dir = specDir({ "web.yaml": spec(name, script, ["stableFor: 5s"]) });
    const applied = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "1m"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const before = await starts(c);

    const res = await berth(["restart", name, "--id", c, "--specs", dir]);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toMatch(
      new RegExp(
        `^failed ${name}-0: exited( with code 3)? \\d+\\.\\ds after it started( and was restarted by the engine \\(\\d+ restarts?\\))? \\(.+\\); the containers after it were not restarted$`,
        "m",
      ),
    );
    expect(res.stdout).toMatch(/^0 containers restarted; stopped at the failure$/m);
    expect((await starts(c))[`${name}-1`]).toEqual(before[`${name}-1`]);
  });

  it("beside a running controller, asks its API; refuses by name what it cannot restart", async () => {
    const c = id("restart-api");
    const name = `${c}-web`;
    const dir = specDir({
      "web.yaml": spec(name, "sleep 3600"),
      "once.yaml": specText(`${c}-once`, { image: TEST_IMAGE, extra: ["command: [true]", "restartPolicy: Never"] }),
    });
    const running = await controllers.start(["--id", c, "--specs", dir], { BERTH_API_TOKEN: TOKEN });
    await waitContainers(
      c,
      "web's two replicas running",
      (cs) => cs.filter((x) => x.state === "running").length === 2,
      {
        explain: () => running.recentLogs(),
      },
    );
    const before = await starts(c);
    const env = { BERTH_API_TOKEN: TOKEN, BERTH_SERVER: running.url };

    const res = await berth(["restart", name, "--id", c, "--specs", dir], env);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^restarted ${name}-0: running .*\\nrestarted ${name}-1: running `, "m"));
    const after = await starts(c);
    for (const n of [`${name}-0`, `${name}-1`]) {
      expect(after[n]?.id).toBe(before[n]?.id);
      expect(after[n]?.startedAt).toBeGreaterThan(before[n]?.startedAt ?? Infinity);
    }

    // The API's route needs the token, as every write does.
    const anonymous = await fetch(`${running.url}/v1/specs/${name}/restart`, { method: "POST" });
    expect(anonymous.status).toBe(401);

    const refused = await berth(["restart", "nope", `${c}-once`, "--id", c, "--specs", dir], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `restart of nope refused by ${running.url} (404): cannot restart: no spec named nope`,
    );
  });
});
