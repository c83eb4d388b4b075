/**
 * `berth apply --stable-for` (docs/cli.md; docs/design.md, "Restarts and crash loops"), end to end
 * against the real engine through the built CLI: a container that crashes a second after it
 * starts passes a plain apply (it was running when apply looked) and fails one with
 * --stable-for, which names it, its exit code and its restarts; steady containers and a run that
 * finishes pass it, after the wait; a crash of a container that was already up when apply began
 * is caught too.
 */
import { describe, expect, it } from "vitest";
import { berth, docker, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";
import { specText } from "../support/specs.js";

const id = testIds();

const spec = (name: string, script: string, policy = "Always"): string =>
  specText(name, {
    image: TEST_IMAGE,
    extra: [`command: ["sh", "-c", ${JSON.stringify(script)}]`, `restartPolicy: ${policy}`, "stopTimeout: 1s"],
  });

describe("berth apply --stable-for", () => {
  it("fails on a container that crashes after it started, which a plain apply calls converged", async () => {
    const c = id("stable-crash");
    const crashy = `${c}-crashy`;
    const dir = specDir({
      "crashy.yaml": spec(crashy, "sleep 1; exit 3"),
      "steady.yaml": spec(`${c}-steady`, "sleep 3600"),
    });
    // Without it: running when apply looked, so converged.
    const plain = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "1m"]);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^converged$/m);

    // A wait far longer than the next crash can be away: the engine's restart delay doubles with
    // each crash (0.1 s, 0.2 s, … 12.8 s), so how far depends on how long the first apply took.
    const started = Date.now();
    const stable = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "2m", "--stable-for", "45s"]);
    expect(stable.code, stable.stdout + stable.stderr).toBe(1);
    // It exits since this apply began (the first apply's container, up before it): named, with
    // its code where berth learnt it (an inspect that finds it started again reads none), and
    // said at once rather than at the end of the wait.
    expect(stable.stdout).toMatch(
      new RegExp(
        `^failed ${crashy} exited( with code 3)? at \\d{4}-\\S+, (running again|restarting now) \\(\\d+ restarts?\\)$`,
        "m",
      ),
    );
    expect(stable.stdout).toMatch(/^not stable for 45s: 1 container\(s\) exited since apply began$/m);
    expect(stable.stdout).not.toContain(`${c}-steady exited`);
    expect(Date.now() - started).toBeLessThan(45_000);
  });

  it("passes steady containers and a finished run only after the wait, and fails when one crashes within it", async () => {
    const c = id("stable-ok");
    const late = `${c}-late`;
    const dir = specDir({
      "steady.yaml": spec(`${c}-steady`, "sleep 3600"),
      "once.yaml": spec(`${c}-once`, "exit 0", "Never"),
      // Crashes 15 s after each start: long after a 2 s wait, within any 25 s one.
      "late.yaml": spec(late, "sleep 15; exit 7"),
    });
    const started = Date.now();
    const ok = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "1m", "--stable-for", "2s"]);
    // Converged, and up for 2 s: the late one's crash comes after.
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^converged; waiting 2s for every container to stay up \(--stable-for\)$/m);
    expect(ok.stdout).toMatch(/^converged$/m);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);

    // Asked to stay up 25 s, the late one fails it: the engine's own record agrees.
    const failed = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "1m", "--stable-for", "25s"]);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout).toMatch(new RegExp(`^failed ${late} exited( with code 7)? at `, "m"));
    expect(failed.stdout).not.toMatch(new RegExp(`^failed ${c}-(steady|once) `, "m"));
    const engine = await docker.getContainer(late).inspect();
    expect(engine.RestartCount).toBeGreaterThanOrEqual(1);
  });

  it("refuses a wait that --timeout would cut short", async () => {
    const c = id("stable-usage");
    const dir = specDir({ "steady.yaml": spec(`${c}-steady`, "sleep 3600") });
    const res = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "10s", "--stable-for", "10s"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/--stable-for 10s is not shorter than --timeout 10s/);
    expect(await docker.listContainers({ all: true, filters: { name: [`${c}-steady`] } })).toEqual([]);
  });
});
