/**
 * What berth's logs and metrics look like to a person and to a scraper, through the built CLI
 * against the real engine: one-shot commands write human lines on stderr (JSON with
 * --log-format json), NO_COLOR and FORCE_COLOR decide the colours, `berth run` starts with its
 * version and says once where it listens, `berth reap` reads no secret of a spec it does not
 * touch, and /metrics has the standard process metrics, berth_build_info and every phase at 0.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VERSION } from "../../src/cli/version.js";
import { formatTime } from "../../src/core/units.js";
import { PHASES } from "../../src/core/status.js";
import { pollUntil } from "../support/poll.js";
import { BIN, containersOf, e2eSpec, specDir, startBerth, testIds } from "../support/e2e.js";

const id = testIds();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** The environment without the caller's colour and log settings: each test sets its own. */
function cleanEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(NO_COLOR|FORCE_COLOR|BERTH_.*)$/.test(key)) continue;
    out[key] = value;
  }
  return { ...out, ...env };
}

/** Runs `berth ARGS…` to completion with exactly `env` added to a clean environment (stdout and stderr are pipes). */
function run(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: cleanEnv(env) }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: number }).code : 0;
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}

// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[/;
const secretSpec = (name: string, variable: string, extra: readonly string[] = []): string =>
  e2eSpec(name, ["secretEnv:", `  TOKEN: { fromHostEnv: ${variable} }`, ...extra]);

describe("one-shot commands' logs", () => {
  it("berth plan writes a human line on stderr, JSON with --log-format json", async () => {
    const c = id("plan-log");
    const variable = `DEMO_UNSET_${process.pid}`;
    const dir = specDir({ "a.yaml": secretSpec(`${c}-a`, variable) });
    const args = ["plan", "--id", c, "--specs", dir, "--log-level", "warn"];

    const human = await run(args);
    expect(human.code).toBe(1);
    const lines = human.stderr.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("{"))).toEqual([]);
    expect(lines).toContain(
      `WARN: spec cannot be applied spec=${c}-a err="secret TOKEN: the controller's environment has no variable ${variable}; set it where berth runs"`,
    );
    expect(human.stderr).not.toMatch(ESCAPE);

    const json = await run([...args, "--log-format", "json"]);
    const events = json.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toEqual([expect.objectContaining({ level: 40, msg: "spec cannot be applied", spec: `${c}-a` })]);
  });

  it("colours pretty lines with FORCE_COLOR=1, never with NO_COLOR=1", async () => {
    const c = id("plan-colour");
    const dir = specDir({ "a.yaml": secretSpec(`${c}-a`, `DEMO_UNSET_${process.pid}`) });
    const args = ["plan", "--id", c, "--specs", dir, "--log-level", "warn", "--log-format", "pretty"];
    const plain = await run(args, { NO_COLOR: "1" });
    expect(plain.stderr).toContain("WARN: spec cannot be applied");
    expect(plain.stderr).not.toMatch(ESCAPE);
    const coloured = await run(args, { FORCE_COLOR: "1" });
    expect(coloured.stderr).toMatch(ESCAPE);
    expect(coloured.stderr).toContain("spec cannot be applied");
    // JSON is never coloured.
    expect((await run([...args.slice(0, -1), "json"], { FORCE_COLOR: "1" })).stderr).not.toMatch(ESCAPE);
  });

  it("berth reap reads no secret of a spec it does not touch, and reaps an expired one whose secret is gone", async () => {
    const c = id("reap-secrets");
    const [expiring, unrelated] = [`${c}-expiring`, `${c}-unrelated`];
    const variable = `DEMO_REAP_${process.pid}`;
    const expiringSpec = (at: string) => secretSpec(expiring, variable, [`expiresAt: "${at}"`]);
    const dir = specDir({ "expiring.yaml": expiringSpec("2099-01-01T00:00:00Z") });
    const applied = await run(["apply", "--id", c, "--specs", dir], { [variable]: "s3cret" });
    expect([applied.code, applied.stderr]).toEqual([0, ""]);
    const [container] = await containersOf(c);
    expect(container?.name).toBe(expiring);

    // Now its secret is gone, it has expired, and a spec berth has never applied needs a missing variable.
    writeFileSync(path.join(dir, "expiring.yaml"), expiringSpec(formatTime(Date.now() - 60_000)));
    writeFileSync(path.join(dir, "unrelated.yaml"), secretSpec(unrelated, `${variable}_OTHER`));
    const reaped = await run(["reap", "--id", c, "--specs", dir]);
    expect(reaped).toEqual({
      code: 0,
      stdout: `removed ${expiring} [${(container?.id ?? "").slice(0, 12)}]: expired\n1 expired container removed\n`,
      stderr: "",
    });
    expect(await containersOf(c)).toEqual([]);
  });
});

describe("berth run's logs and metrics", () => {
  it("starts with its version, says once where it listens (pretty), and stops on SIGTERM", async () => {
    const c = id("run-pretty");
    const dir = specDir({});
    const child = spawn(
      process.execPath,
      [BIN, "run", "--id", c, "--specs", dir, "--listen", "127.0.0.1:0", "--log-format", "pretty"],
      { env: cleanEnv({ NO_COLOR: "1" }), stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(child);
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(await pollUntil(() => stdout.includes("controller started"), 60_000), stdout).toBe(true);
    const lines = stdout.trimEnd().split("\n");
    const banner = lines.find((l) => / INFO: berth run /.test(l));
    expect(banner, stdout).toContain(`berth run version=${VERSION} id=${c}`);
    expect(
      lines.filter((l) => /listening/i.test(l)),
      stdout,
    ).toEqual([expect.stringMatching(/ INFO: http listening address=http:\/\/127\.0\.0\.1:\d+ /)]);
    // One line per event: every line starts with its time.
    for (const line of lines) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] [A-Z]+: /);
    expect(stdout).not.toMatch(ESCAPE);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("serves the process metrics under their standard names, berth_build_info, and every phase at 0", async () => {
    const c = id("run-metrics");
    const controller = await startBerth(["--id", c, "--specs", specDir({})]);
    try {
      const banner = controller.logs.find((l) => l.msg === "berth run");
      expect(banner).toMatchObject({ version: VERSION, id: c });
      expect(controller.logs.filter((l) => /listening/i.test(String(l.msg)))).toHaveLength(1);
      expect(await pollUntil(() => controller.logs.some((l) => l.msg === "reconcile pass done"), 30_000)).toBe(true);

      const text = await (await fetch(`${controller.url}/metrics`)).text();
      expect(text).toMatch(/^process_cpu_seconds_total \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
      expect(text).not.toContain("berth_process_");
      expect(text).toContain(`berth_build_info{version="${VERSION}"} 1`);
      for (const phase of PHASES) expect(text).toContain(`berth_specs{phase="${phase}"} 0`);
      expect(text).toContain('berth_reconciles_total{result="error"} 0');
    } finally {
      expect(await controller.stop()).toBe(0);
    }
  });
});
