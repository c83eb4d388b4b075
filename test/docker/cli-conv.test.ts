/**
 * The CLI's conventions (issue 15, items 4–6) as a user meets them, through the built
 * bin/berth.js: specs from the standard input and from -f, -o json and yaml, `--resync 45s`, and
 * the bash completion script.
 */
import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BIN, berth, e2eSpec, type RunningBerth, specDir, startBerth, testIds } from "../support/e2e.js";

const id = testIds();
let controller: RunningBerth | null = null;
afterEach(async () => {
  await controller?.stop();
  controller = null;
});

function bin(args: readonly string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    ...(input !== undefined ? { input } : {}),
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("one convention for every command", () => {
  it("berth validate -f - reads a spec from the standard input, and names it <stdin> in errors", () => {
    expect(bin(["validate", "-f", "-"], e2eSpec("piped"))).toEqual({
      status: 0,
      stdout: "ok: 1 file, 1 spec, all valid\n",
      stderr: "",
    });
    const bad = bin(["validate", "-f", "-"], e2eSpec("piped").replace("image:", "imag:"));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^<stdin>:\d+:\d+: spec\.imag: unknown field "imag"; did you mean "image"\?/m);
  });

  it("berth plan -f DIR -o json prints the plan as JSON (exit 2: changes pending)", async () => {
    const c = id("cliconv-plan");
    const dir = specDir({ "web.yaml": e2eSpec("web") });
    const run = await berth(["plan", "-f", dir, "--id", c, "-o", "json"]);
    expect(run.code, run.stderr).toBe(2);
    const plan = JSON.parse(run.stdout) as { actions: { kind: string; spec: string }[]; errors: unknown[] };
    expect(plan.actions.map((a) => [a.kind, a.spec])).toEqual([["create", "web"]]);
    expect(plan.errors).toEqual([]);
  });

  it("berth status -o yaml prints the status report as YAML", async () => {
    const c = id("cliconv-status");
    const dir = specDir({ "web.yaml": e2eSpec("web") });
    const run = await berth(["status", dir, "--id", c, "--server", "off", "-o", "yaml"]);
    expect(run.code, run.stderr).toBe(0);
    const report = parse(run.stdout) as { specs: { name: string; phase: string; containers: unknown[] }[] };
    expect(report.specs.map((s) => [s.name, s.containers])).toEqual([["web", []]]);
  });

  it("berth run --resync 45s is accepted: a timer, not a cron expression", async () => {
    const c = id("cliconv-run");
    controller = await startBerth(["--id", c, "-f", specDir({}), "--resync", "45s"]);
    expect(controller.logs.find((l) => l.msg === "berth run")).toMatchObject({ id: c, resync: "45s" });
    expect(await controller.stop()).toBe(0);
    controller = null;
  });

  it("berth completion bash | bash -n", () => {
    const script = bin(["completion", "bash"]);
    expect(script.status).toBe(0);
    const check = spawnSync("bash", ["-n"], { input: script.stdout, encoding: "utf8" });
    expect([check.status, check.stderr]).toEqual([0, ""]);
    expect(script.stdout).toContain("complete -o default -F _berth berth");
  });
});
