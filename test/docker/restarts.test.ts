/**
 * Restarts and crash loops (docs/design.md, "Restarts and crash loops"), end to end against the real engine through the built
 * CLI: a container whose process keeps exiting under restartPolicy Always is restarted by the
 * engine; the running controller learns its restarts and last exit from its `die` events (the API
 * and `berth status` show them, the spec Pending with a crash-loop message while it waits out its
 * back-off), a steady container's stay unknown (never inspected), and a one-shot `berth get`
 * inspects the spec's containers itself. The engine resets a container's exit code when it starts it
 * again: the code comes from the `die` event.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pollUntil, pollValue } from "../support/poll.js";
import { berth, BIN, docker, type RunningBerth, specDir, startBerth, TEST_IMAGE, testIds } from "../support/e2e.js";
import { specText } from "../support/specs.js";

const TOKEN = "restarts-test-token-0123456789abcdef";

const id = testIds();

const always = (name: string, script: string): string =>
  specText(name, {
    image: TEST_IMAGE,
    extra: [`command: ["sh", "-c", ${JSON.stringify(script)}]`, "restartPolicy: Always", "stopTimeout: 1s"],
  });

interface ContainerView {
  readonly id: string;
  readonly state: string;
  readonly restarts: number | null;
  readonly lastExit: { readonly exitCode: number; readonly at: string } | null;
}

interface SpecView {
  readonly phase: string;
  readonly message: string | null;
  readonly containers: readonly ContainerView[];
}

async function spec(controller: RunningBerth, name: string): Promise<SpecView | null> {
  const res = await fetch(`${controller.url}/v1/specs/${name}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return res.status === 200 ? ((await res.json()) as SpecView) : null;
}

/** What the running controller shows of the two specs; the crash-looping container's status. */
async function live(
  controller: RunningBerth,
  { c, dir, crashy, steady }: { c: string; dir: string; crashy: string; steady: string },
): Promise<ContainerView | undefined> {
  // The engine restarts it after 0.1 s, 0.2 s, 0.4 s…: at a third exit it waits almost a second.
  const looping = await pollValue(
    () => spec(controller, crashy),
    (s) => s?.phase === "Pending" && (s.containers[0]?.restarts ?? 0) >= 3,
    60_000,
  );
  expect(looping?.phase, JSON.stringify(looping)).toBe("Pending");
  expect(looping?.message).toMatch(
    new RegExp(`^crash loop: ${crashy} is restarting after exit code 3 at \\d{4}-.* \\(\\d+ restarts\\)`),
  );
  const seen = looping?.containers[0];
  expect(seen?.lastExit?.exitCode).toBe(3);
  // What the engine counts, read after berth's view of it: never fewer.
  const engine = await docker.getContainer(seen?.id ?? "").inspect();
  expect(engine.RestartCount).toBeGreaterThanOrEqual(seen?.restarts ?? Infinity);
  expect(Date.parse(engine.State.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(seen?.lastExit?.at ?? ""));

  // The steady one never died: not inspected, so not known.
  const still = await spec(controller, steady);
  expect(still?.phase).toBe("Running");
  expect(still?.containers.map((x) => [x.state, x.restarts, x.lastExit])).toEqual([["running", null, null]]);

  const events = (await (
    await fetch(`${controller.url}/v1/events?spec=${crashy}`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).json()) as { events: { kind: string; text: string }[] };
  const told = events.events.filter((e) => e.kind === "restarted").map((e) => e.text);
  expect(told.length, JSON.stringify(events)).toBeGreaterThanOrEqual(1);
  for (const text of told)
    expect(text).toMatch(new RegExp(`^restarted ${crashy} \\(\\d+ restarts?\\): exited with code 3 at `));
  expect(controller.logs.some((l) => l.msg === "container restarted by the engine" && l.spec === crashy)).toBe(true);

  const metrics = await (await fetch(`${controller.url}/metrics`)).text();
  const restarts = new RegExp(`^berth_container_restarts\\{spec="${crashy}"\\} (\\d+)$`, "m").exec(metrics);
  expect(Number(restarts?.[1])).toBeGreaterThanOrEqual(seen?.restarts ?? Infinity);
  expect(metrics).not.toContain(`berth_container_restarts{spec="${steady}"}`);
  // Its replicas are counted all the same (berth_spec_replicas): one, running.
  expect(metrics).toContain(`berth_spec_replicas{spec="${steady}",state="desired"} 1\n`);
  expect(metrics).toContain(`berth_spec_replicas{spec="${steady}",state="ready"} 1\n`);

  // `berth events` shows the same, and with --watch each new event as it comes: a spec written now.
  const listed = await berth(["events", "--id", c, "--server", controller.url, "--spec", crashy]);
  expect(listed.code, listed.stderr).toBe(0);
  expect(listed.stdout).toMatch(new RegExp(`^\\d+s +${crashy} +restarted +failed +restarted ${crashy} \\(`, "m"));
  const watch = spawn(process.execPath, [BIN, "events", "-w", "-o", "json", "--id", c, "--server", controller.url]);
  let lines = "";
  watch.stdout.setEncoding("utf8").on("data", (chunk: string) => (lines += chunk));
  try {
    expect(await pollUntil(() => lines.includes(`"kind":"restarted"`), 15_000), lines).toBe(true);
    writeFileSync(path.join(dir, "late.yaml"), always(`${c}-late`, "sleep 3600"));
    expect(await pollUntil(() => lines.includes(`"text":"create  ${c}-late: not found"`), 30_000), lines).toBe(true);
  } finally {
    watch.kill();
  }
  for (const line of lines.trim().split("\n")) expect(JSON.parse(line)).toHaveProperty("seq");

  const status = await berth(["status", "--id", c, "--specs", dir, "--server", controller.url]);
  expect(status.code, status.stderr).toBe(0);
  expect(status.stdout).toMatch(new RegExp(`${crashy}\\((restarting|running),\\d+ restarts,last exit 3 \\d+s ago\\)`));
  expect(status.stdout).toMatch(new RegExp(`${steady}\\(running\\) `));

  return seen;
}

describe("a container the engine keeps restarting", () => {
  it("shows its restarts and last exit, and a crash loop while it waits to start again", async () => {
    const c = id("restarts");
    const crashy = `${c}-crashy`;
    const steady = `${c}-steady`;
    const dir = specDir({
      "crashy.yaml": always(crashy, "sleep 0.2; exit 3"),
      "steady.yaml": always(steady, "sleep 3600"),
    });
    const controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1h"], { BERTH_API_TOKEN: TOKEN });
    let stopped: number | null = null;
    const seen = await live(controller, { c, dir, crashy, steady }).finally(async () => {
      stopped = await controller.stop();
    });
    expect(stopped).toBe(0);

    // Without the controller, `berth get` inspects the spec's containers itself. Caught started
    // again, the engine no longer tells the last exit's code (it reads 0), and no event did: "?".
    const got = await berth(["get", crashy, "--id", c, "--specs", dir, "--server", "off"]);
    expect(got.code, got.stderr).toBe(0);
    const row = new RegExp(
      `^  ${crashy}\\s+[0-9a-f]{12}\\s+(restarting|running)\\s+(\\d+)\\s+(3|\\?) at \\d{4}-`,
      "m",
    ).exec(got.stdout);
    expect(row, got.stdout).not.toBeNull();
    expect(Number(row?.[2])).toBeGreaterThanOrEqual(seen?.restarts ?? Infinity);
    const calm = await berth(["get", steady, "--id", c, "--specs", dir, "--server", "off"]);
    // UPTIME: since its last start, as the inspect tells it.
    expect(calm.stdout).toMatch(new RegExp(`^  ${steady}\\s+[0-9a-f]{12}\\s+running\\s+0\\s+-\\s+\\d+[smhd]\\s`, "m"));
  });
});
