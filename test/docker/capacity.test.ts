/**
 * Capacity admission end to end (docs/capacity.md), the built CLI against the real engine: what
 * does not fit waits Pending with the reason (status, GET /v1/specs, GET /v1/node), the pass after
 * a container goes admits it, `--capacity auto` reads the engine, and memory limits count.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../support/poll.js";
import {
  berth,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";

const id = testIds();
let controller: RunningBerth | undefined;
afterEach(async () => {
  if (controller) expect(await controller.stop()).toBe(0);
  controller = undefined;
});

interface SpecView {
  readonly name: string;
  readonly phase: string;
  readonly message: string | null;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls GET `url` until `ok` holds of its answer; the last answer. */
async function getUntil(
  url: string,
  ok: (res: { status: number; body: Record<string, unknown> }) => boolean,
): Promise<Record<string, unknown>> {
  let last = { status: 0, body: {} as Record<string, unknown> };
  await pollUntil(async () => ok((last = await getJson(url))), 10_000);
  return last.body;
}

const Mi = 2 ** 20;

describe("capacity admission", () => {
  it("--capacity containers=2: the third spec waits Pending with the reason; deleting one admits it", async () => {
    const c = id("cap-count");
    const names = [`${c}-a`, `${c}-b`, `${c}-c`];
    const dir = specDir(Object.fromEntries(names.map((n) => [`${n}.yaml`, e2eSpec(n)])));
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1h", "--capacity", "containers=2"]);
    const explain = (): string => controller?.recentLogs() ?? "";
    const two = await waitContainers(
      c,
      "a and b running",
      (cs) => cs.filter((x) => x.state === "running").length === 2,
      {
        explain,
      },
    );
    expect(two.map((x) => x.name)).toEqual(names.slice(0, 2));
    const reason = "Unschedulable: needs containers 1, 0 free";
    const third = names[2] ?? "";

    // The controller's own status, through the CLI and through the API.
    const pending = await getUntil(`${controller?.url ?? ""}/v1/specs/${third}`, (r) => r.body.phase === "Pending");
    expect(pending, explain()).toMatchObject({ phase: "Pending", message: reason });
    const status = await berth(["status", "-o", "json", "--id", c, "--server", controller.url, "--specs", dir]);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { specs: SpecView[]; node: Record<string, unknown> };
    expect(report.specs.find((s) => s.name === third)).toMatchObject({ phase: "Pending", message: reason });
    expect(report.node).toMatchObject({
      capacity: { containers: 2 },
      requested: { containers: 2 },
      free: { containers: 0 },
    });
    const table = await berth(["status", "--id", c, "--server", controller.url, "--specs", dir]);
    expect(table.stdout).toContain(
      "capacity: cpus 0.5/unlimited, memory 512Mi/unlimited, containers 2/2; 1 spec waiting for room",
    );
    const node = await getJson(`${controller.url}/v1/node`);
    expect(node.body).toMatchObject({ pending: [{ spec: third, reason }] });
    const metrics = await (await fetch(`${controller.url}/metrics`)).text();
    expect(metrics).toContain('berth_capacity_total{resource="containers"} 2');
    expect(metrics).toContain('berth_capacity_requested{resource="containers"} 2');
    expect(metrics).toContain("berth_capacity_waiting_specs 1");
    // `berth events` says once why the third is not created (as Kubernetes' FailedScheduling).
    const events = await berth(["events", "-o", "json", "--id", c, "--server", controller.url]);
    const waiting = (
      JSON.parse(events.stdout) as { events: { kind: string; spec: string; text: string }[] }
    ).events.filter((e) => e.kind === "unschedulable");
    expect(waiting, events.stderr).toEqual([
      expect.objectContaining({ spec: third, text: `waiting ${third}: ${reason}` }),
    ]);

    // A spec deleted: its container goes, and the pass after admits the third (no resync).
    rmSync(path.join(dir, `${names[0] ?? ""}.yaml`));
    const after = await waitContainers(
      c,
      "b and c running, a gone",
      (cs) => cs.map((x) => `${x.name}:${x.state}`).join(",") === `${names[1] ?? ""}:running,${third}:running`,
      { timeoutMs: 30_000, explain },
    );
    expect(after).toHaveLength(2);
  });

  it("--capacity auto reads the engine: GET /v1/node shows NCPU and MemTotal less the reserve", async () => {
    const c = id("cap-auto");
    const dir = specDir({ "a.yaml": e2eSpec(`${c}-a`) });
    controller = await startBerth([
      "--id",
      c,
      "--specs",
      dir,
      "--resync",
      "1h",
      "--capacity",
      "auto,containers=50",
      "--reserve",
      "memory=64Mi,cpus=0.5",
    ]);
    const info = (await docker.info()) as { NCPU: number; MemTotal: number };
    const node = await getUntil(`${controller?.url ?? ""}/v1/node`, (r) => r.status === 200);
    expect(node).toMatchObject({
      capacity: { cpus: info.NCPU - 0.5, memory: info.MemTotal - 64 * Mi, containers: 50 },
    });
  });

  it("memory: of two specs with memory limits only one fits; the other says what it needs and what is free", async () => {
    const c = id("cap-mem");
    const [a, b] = [`${c}-a`, `${c}-b`];
    const dir = specDir({
      "a.yaml": e2eSpec(a, ["resources: { memory: 64Mi }"]),
      "b.yaml": e2eSpec(b, ["resources: { memory: 64Mi }"]),
    });
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1h", "--capacity", "memory=96Mi"]);
    const explain = (): string => controller?.recentLogs() ?? "";
    await waitContainers(c, "a running", (cs) => cs.length === 1 && cs[0]?.name === a && cs[0].state === "running", {
      explain,
    });
    const spec = await getUntil(`${controller?.url ?? ""}/v1/specs/${b}`, (r) => r.body.phase === "Pending");
    expect(spec, explain()).toMatchObject({ message: "Unschedulable: needs memory 64Mi, 32Mi free" });
  });
});
