/**
 * Faults between berth and the engine, each against the real engine: through a fault-injecting
 * proxy (a, c, d, e, i, j) or a private daemon the test stops and restarts (b).
 * Letters refer to the fault list in docs/reliability.md.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FaultProxy } from "../support/fault-proxy.js";
import { pollUntil } from "../support/poll.js";
import { PrivateDockerd } from "../support/private-dockerd.js";
import {
  berth,
  cleanup,
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  TEST_IMAGE,
  testId,
  waitContainers,
} from "../support/e2e.js";

let proxy: FaultProxy;
let controller: RunningBerth | undefined;
const used: string[] = [];
const extraNames: string[] = [];

beforeAll(async () => {
  proxy = await FaultProxy.start();
});
afterAll(async () => {
  await proxy.close();
});
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  proxy.rules.splice(0);
  proxy.eventsMode = "forward";
  for (const id of used.splice(0)) await cleanup(id, extraNames.splice(0));
});

function id(name: string): string {
  const value = testId(name);
  used.push(value);
  return value;
}

const allRunning = (names: readonly string[]) => (cs: { name: string; state: string }[]) =>
  cs.length === names.length && cs.every((c, i) => c.name === names[i] && c.state === "running");

function specs(c: string, n: number, extra: readonly string[] = []): { dir: string; names: string[] } {
  const names = Array.from({ length: n }, (_, i) => `${c}-${i}`);
  return { dir: specDir(Object.fromEntries(names.map((name) => [`${name}.yaml`, e2eSpec(name, extra)]))), names };
}

describe("fault a: the Docker events stream is cut", () => {
  it("converges at the next resync when the stream stays open but goes silent", async () => {
    const c = id("mute");
    const { dir, names } = specs(c, 2);
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "2s"], { DOCKER_HOST: proxy.dockerHost });
    const before = await waitContainers(c, `${names.join(", ")} running`, allRunning(names));
    proxy.eventsMode = "mute";
    await docker.getContainer(names[0] as string).remove({ force: true });
    // No event reports the removal: only the 2 s resync can notice it. The deadline is generous;
    // how soon it converges is the benchmark's business (bench/, "latency").
    const after = await waitContainers(
      c,
      `${names[0] ?? ""} recreated by the resync, with the events stream silent`,
      (cs) => allRunning(names)(cs) && cs[0]?.id !== before[0]?.id,
      { timeoutMs: 20_000, explain: () => controller?.recentLogs() ?? "" },
    );
    expect(after.map((x) => x.id === before[1]?.id)).toEqual([false, true]);
  });

  it("reconnects and re-lists when the proxy drops the stream, even with refused reconnects for a while", async () => {
    const c = id("cut");
    const { dir, names } = specs(c, 2);
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1h"], { DOCKER_HOST: proxy.dockerHost });
    await waitContainers(c, `${names.join(", ")} running`, allRunning(names));
    proxy.eventsMode = "refuse";
    proxy.cutEvents();
    await docker.getContainer(names[1] as string).remove({ force: true });
    expect(await controller.waitForLog("Docker events disconnected", 5000)).toBe(true);
    proxy.eventsMode = "forward";
    // No event will ever report the removal and the resync is an hour away: the re-list on reconnect converges.
    expect(await pollUntil(async () => allRunning(names)(await containersOf(c)), 20_000)).toBe(true);
    // The pass berth makes when the stream drops may converge first; the stream still comes back.
    expect(await controller.waitForLog("Docker events reconnected", 20_000)).toBe(true);
  });
});

describe("fault i: more than 256 Docker events while berth is disconnected", () => {
  it("converges after reconnecting", async () => {
    const c = id("flood");
    const { dir, names } = specs(c, 4);
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1h"], { DOCKER_HOST: proxy.dockerHost });
    await waitContainers(c, `${names.join(", ")} running`, allRunning(names));
    proxy.eventsMode = "refuse";
    proxy.cutEvents();
    let events = 0;
    for (let round = 0; round < 75; round++) {
      for (const name of names.slice(0, 2)) {
        await docker.getContainer(name).pause();
        await docker.getContainer(name).unpause();
        events += 2;
      }
    }
    await docker.getContainer(names[2] as string).remove({ force: true });
    await docker.getContainer(names[3] as string).stop({ t: 0 });
    expect(events).toBeGreaterThan(256);
    proxy.eventsMode = "forward";
    const final = await waitContainers(c, `${names.join(", ")} running again`, allRunning(names), {
      timeoutMs: 60_000,
      explain: () => controller?.recentLogs() ?? "",
    });
    expect(final.map((x) => [x.name, x.state])).toEqual(names.map((n) => [n, "running"]));
  });
});

describe("fault j: a Docker API call that never answers", () => {
  it("is aborted at its deadline and retried, and the rest of the loop goes on meanwhile", async () => {
    const c = id("stall");
    const { dir, names } = specs(c, 4);
    const stalled = names[0] as string;
    proxy.add({
      method: "POST",
      path: new RegExp(`^/containers/create\\?name=${stalled}$`),
      decision: "stall",
      times: 1,
    });
    // A deadline well past the others' convergence (a second or two), so the order asserted
    // below is not a race even on a busy engine.
    controller = await startBerth(["--id", c, "--specs", dir, "--docker-timeout", "20s"], {
      DOCKER_HOST: proxy.dockerHost,
    });
    const explain = (): string => controller?.recentLogs() ?? "";
    const stalledFailure = () =>
      controller?.logs.find((l) => l.msg === "action failed; retrying with backoff" && l.spec === stalled);
    // The others converge while the stalled create is still hanging: a loop that waited for the
    // stalled call would reach them only after its deadline, when the call is no longer pending.
    const others = names.slice(1);
    const meanwhile = await waitContainers(
      c,
      `${others.join(", ")} running while the create of ${stalled} hangs`,
      (cs) => others.every((n) => cs.some((x) => x.name === n && x.state === "running")),
      { explain },
    );
    expect(proxy.stalledCount, "the stalled create is still pending").toBe(1);
    expect(stalledFailure(), "the stalled create has not reached its deadline yet").toBeUndefined();
    expect(meanwhile.map((x) => x.name)).toEqual(others);
    // Then the stalled create is aborted at its deadline and retried.
    await waitContainers(c, `${names.join(", ")} running`, allRunning(names), { timeoutMs: 90_000, explain });
    expect(proxy.stalledCount).toBe(0);
    expect(stalledFailure()?.err).toBe(`Docker create ${stalled}: no answer within 20s`);
    expect(proxy.count("POST", new RegExp(`^/containers/create\\?name=${stalled}$`))).toBe(2);
  });
});

describe("fault c: 409 name conflict on create", () => {
  it("replaces a stale container of its own that holds the name", async () => {
    const c = id("stale409");
    const name = `${c}-svc`;
    const stale = await docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Labels: { "berth.controller": c, "berth.spec": `${c}-old`, "berth.replica": "0", "berth.hash": "x" },
      HostConfig: { Init: true },
    });
    await stale.start();
    const dir = specDir({ "svc.yaml": e2eSpec(name) });
    const result = await berth(["apply", "--id", c, "--specs", dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`ok remove  ${name} [${stale.id.slice(0, 12)}]: name needed`);
    const [now] = await containersOf(c);
    expect([now?.name, now?.labels["berth.spec"], now?.id === stale.id]).toEqual([name, name, false]);
  });

  it("retries when the engine answers 409 for a name that turns out free (a lost race)", async () => {
    const c = id("race409");
    const name = `${c}-svc`;
    proxy.add({
      method: "POST",
      path: new RegExp(`^/containers/create\\?name=${name}$`),
      decision: {
        status: 409,
        body: { message: `Conflict. The container name "/${name}" is already in use by container "0123".` },
      },
      times: 1,
    });
    const dir = specDir({ "svc.yaml": e2eSpec(name) });
    const result = await berth(["apply", "--id", c, "--specs", dir], { DOCKER_HOST: proxy.dockerHost });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`failed create  ${name}: not found`);
    expect(result.stdout).toContain(`the name ${name} was taken while berth worked; planning again`);
    expect(result.stdout).toContain(`ok create  ${name}: not found`);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([name]);
  });

  it("leaves a container it does not own alone and reports the spec as Conflict", async () => {
    const c = id("foreign409");
    const name = `${c}-svc`;
    extraNames.push(name);
    const foreign = await docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      HostConfig: { Init: true },
    });
    await foreign.start();
    const before = await foreign.inspect();
    const dir = specDir({ "svc.yaml": e2eSpec(name) });
    const result = await berth(["apply", "--id", c, "--specs", dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`${name}\\s+Conflict`));
    const after = await foreign.inspect();
    expect([after.Id, after.State.StartedAt, after.State.Running]).toEqual([before.Id, before.State.StartedAt, true]);
  });
});

describe('fault d: 409 "removal already in progress"', () => {
  it("is treated as gone: no failure, no backoff", async () => {
    const c = id("removing");
    const dir = specDir({ "a.yaml": e2eSpec(`${c}-a`), "b.yaml": e2eSpec(`${c}-b`) });
    await berth(["apply", "--id", c, "--specs", dir]);
    const [, b] = await containersOf(c);
    proxy.add({
      method: "DELETE",
      path: new RegExp(`^/containers/${b?.id ?? "none"}`),
      decision: { status: 409, body: { message: `removal of container ${b?.id ?? ""} is already in progress` } },
      times: 1,
    });
    const { rmSync } = await import("node:fs");
    rmSync(`${dir}/b.yaml`);
    const result = await berth(["apply", "--id", c, "--specs", dir], { DOCKER_HOST: proxy.dockerHost });
    expect(result.stdout).toContain(`ok remove  ${c}-b [${b?.id.slice(0, 12) ?? ""}]: orphaned`);
    expect(result.stdout).not.toContain("failed");
    expect(result.code).toBe(0);
  });
});

describe("fault e: a container created but never started (berth killed between the two calls)", () => {
  it("is started on the next pass, not duplicated", async () => {
    const c = id("unstarted");
    const name = `${c}-svc`;
    const dir = specDir({ "svc.yaml": e2eSpec(name) });
    // Every start fails through the proxy: apply creates the container and gives up on starting it.
    proxy.add({
      method: "POST",
      path: /^\/containers\/[0-9a-f]+\/start/,
      decision: { status: 500, body: { message: "injected" } },
    });
    const failed = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "20s"], {
      DOCKER_HOST: proxy.dockerHost,
    });
    expect(failed.code).toBe(1);
    const created = await containersOf(c);
    expect(created.map((x) => [x.name, x.state])).toEqual([[name, "created"]]);
    const ok = await berth(["apply", "--id", c, "--specs", dir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`ok start   ${name} [${created[0]?.id.slice(0, 12) ?? ""}]: never started`);
    const after = await containersOf(c);
    expect(after.map((x) => [x.id, x.state])).toEqual([[created[0]?.id, "running"]]);
  });
});

describe("fault b: the Docker daemon restarts, down for 30 s", () => {
  let daemon: PrivateDockerd;
  beforeAll(async () => {
    daemon = await PrivateDockerd.create([TEST_IMAGE]);
  }, 120_000);
  afterAll(async () => {
    await daemon.destroy();
  });

  it("stays up, is not ready while the daemon is down, reconnects, re-lists, converges, duplicates nothing", async () => {
    const c = id("restart");
    const names = [`${c}-0`, `${c}-1`, `${c}-2`];
    const dir = specDir(Object.fromEntries(names.map((n) => [`${n}.yaml`, e2eSpec(n, ["network: none"])])));
    const env = { DOCKER_HOST: daemon.dockerHost };
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "5s"], env);
    const list = async () =>
      (await daemon.docker.listContainers({ all: true, filters: { label: [`berth.controller=${c}`] } }))
        .map((x) => ({ id: x.Id, name: x.Names[0]?.slice(1) ?? "", state: x.State }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(await pollUntil(async () => allRunning(names)(await list()), 30_000)).toBe(true);
    const before = await list();
    const ready = async () => (await fetch(`${controller?.url ?? ""}/readyz`)).status;
    expect(await pollUntil(async () => (await ready()) === 200, 10_000)).toBe(true);

    await daemon.stop();
    const downAt = Date.now();
    expect(await pollUntil(async () => (await ready()) === 503, 10_000)).toBe(true);
    const body = (await (await fetch(`${controller.url}/readyz`)).json()) as { reason: string };
    expect(body.reason).toBe("Docker is not answering");
    // The fault lasts 30 s: the daemon stays down that long, whatever berth does.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - downAt))));
    expect(controller.child.exitCode).toBeNull(); // berth is still up
    expect(await ready()).toBe(503);

    await daemon.start();
    expect(await pollUntil(async () => (await ready()) === 200, 60_000)).toBe(true);
    expect(await pollUntil(async () => allRunning(names)(await list()), 30_000)).toBe(true);
    const after = await list();
    expect(after.map((x) => x.name)).toEqual(names); // no duplicates
    expect(after.map((x) => x.id)).toEqual(before.map((x) => x.id)); // the daemon restarted them; berth had nothing to recreate
    // The warning says what happened and what fixes it, as one-shot commands do.
    const away = controller.logs.find((l) => l.msg === "Docker not answering");
    expect(String(away?.advice)).toMatch(/^no Docker engine (at|listens on) .*\[BERTH_DOCKER_UNREACHABLE\]$/);
    expect(controller.logs.some((l) => l.msg === "Docker answering again")).toBe(true);
    await controller.stop();
    controller = undefined;
    await Promise.all(before.map((x) => daemon.docker.getContainer(x.id).remove({ force: true })));
  }, 180_000);
});
