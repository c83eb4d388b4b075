/**
 * `berth run` shutting down with an operation in flight (docs/design.md, "The loop"; docs/cli.md,
 * `--drain-timeout`): SIGTERM stops taking work, lets the operation finish within the drain
 * timeout, exits 0 and leaves the containers running. The operation in flight is a StartFirst
 * replacement waiting for its new container's healthcheck, which passes only some seconds after
 * the container starts.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../support/poll.js";
import {
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  TEST_IMAGE,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { specText } from "../support/specs.js";

const id = testIds();
const controllers: RunningBerth[] = [];

afterEach(async () => {
  // A test that failed half-way leaves its controller running: end it before its containers go.
  for (const c of controllers.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) await c.kill9();
});

async function start(args: readonly string[], env: Record<string, string> = {}): Promise<RunningBerth> {
  const controller = await startBerth(args, env);
  controllers.push(controller);
  return controller;
}

/**
 * A container that becomes healthy `readyAfterS` seconds after it starts (its healthcheck fails
 * until then, within the start period, so it is never unhealthy). `version` changes the hash.
 */
function slowReadySpec(name: string, readyAfterS: number, version: number): string {
  return specText(name, {
    image: TEST_IMAGE,
    extra: [
      `command: ["sh", "-c", "sleep ${readyAfterS}; touch /tmp/ready; exec sleep infinity"]`,
      "init: true",
      "stopTimeout: 2s",
      `env: { VERSION: "${version}" }`,
      "healthcheck:",
      '  command: ["test", "-f", "/tmp/ready"]',
      "  interval: 250ms",
      "  timeout: 1s",
      "  retries: 3",
      "  startPeriod: 60s",
    ],
  });
}

/** The index of the first log line with `msg` (and `fields`), after `from`; -1 when there is none. */
function logIndex(
  logs: readonly Record<string, unknown>[],
  msg: string,
  fields: Record<string, unknown> = {},
  from = 0,
) {
  return logs.findIndex((l, i) => i >= from && l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
}

/**
 * One SIGTERM (a second one means "exit without waiting"): resolves with the exit code and how
 * long the exit took from the signal. `whileDraining` runs once berth has logged the signal: by
 * then it has stopped taking work (the same turn of its event loop stops the controller).
 */
async function terminate(
  controller: RunningBerth,
  whileDraining: () => void | Promise<void> = () => undefined,
): Promise<{ code: number | null; ms: number }> {
  const { child } = controller;
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const started = Date.now();
  child.kill("SIGTERM");
  const [code] = await Promise.all([
    exited.then((c) => ({ code: c, ms: Date.now() - started })),
    (async () => {
      if (await controller.waitForLog("signal received; draining", 10_000)) await whileDraining();
    })(),
  ]);
  return code;
}

/** Converges `name` at version 1, then writes version 2 and waits for the replacement's new container. */
async function replacementInFlight(
  c: string,
  dir: string,
  name: string,
  readyAfterS: number,
): Promise<{ oldId: string; nextId: string }> {
  const v1 = await waitContainers(c, "its container running", (cs) =>
    cs.some((x) => x.name === name && x.state === "running"),
  );
  const oldId = v1.find((x) => x.name === name)?.id ?? "";
  writeFileSync(path.join(dir, "slow.yaml"), slowReadySpec(name, readyAfterS, 2));
  const during = await waitContainers(c, "its container running", (cs) =>
    cs.some((x) => x.name === `${name}.next` && x.state === "running"),
  );
  const nextId = during.find((x) => x.name === `${name}.next`)?.id ?? "";
  return { oldId, nextId };
}

describe("berth run on SIGTERM with an operation in flight", () => {
  it("lets the replacement finish within a generous --drain-timeout, starts nothing new, exits 0 with drained: true", async () => {
    const c = id("drain-ok");
    const name = `${c}-slow`;
    const other = `${c}-other`;
    const late = `${c}-late`;
    // Ready 6 s after it starts: time enough to signal while it waits, on a busy engine too.
    const readyAfterS = 6;
    const dir = specDir({ "slow.yaml": slowReadySpec(name, readyAfterS, 1), "other.yaml": e2eSpec(other) });
    const controller = await start(["--id", c, "--specs", dir, "--drain-timeout", "60s"]);
    await waitContainers(c, "two containers running", (cs) => cs.filter((x) => x.state === "running").length === 2);
    const { oldId, nextId } = await replacementInFlight(c, dir, name, readyAfterS);

    // While it drains, the world changes in ways a working controller would act on at once: a new
    // spec file, and one of its containers removed. Neither may start an operation now.
    let changedWhileDraining = false;
    const { code } = await terminate(controller, async () => {
      writeFileSync(path.join(dir, "late.yaml"), e2eSpec(late));
      await docker.getContainer(other).remove({ force: true });
      changedWhileDraining = controller.child.exitCode === null;
    });
    expect(code).toBe(0);
    expect(changedWhileDraining, "the controller exited before the changes were made").toBe(true);

    const logs = controller.logs;
    const signal = logIndex(logs, "signal received; draining");
    const replaced = logIndex(logs, "action completed", { spec: name, action: "replace" });
    const stopped = logIndex(logs, "controller stopped");
    expect(signal).toBeGreaterThanOrEqual(0);
    // The replacement was in flight at the signal, and finished before the controller stopped.
    expect(replaced).toBeGreaterThan(signal);
    expect(stopped).toBeGreaterThan(replaced);
    expect(logs[stopped]).toMatchObject({ drained: true });
    // Nothing else was started or completed after the signal.
    const after = logs.slice(signal + 1);
    expect(after.filter((l) => l.msg === "action completed").map((l) => [l.spec, l.action])).toEqual([
      [name, "replace"],
    ]);
    expect(after.filter((l) => l.msg === "reconcile pass done" && l.started !== 0)).toEqual([]);

    // The replacement is complete: the new container runs under the final name, the old is gone;
    // the late spec was never created and the removed container never recreated.
    const final = await containersOf(c);
    expect(final.map((x) => [x.name, x.id, x.state])).toEqual([[name, nextId, "running"]]);
    expect(final.some((x) => x.id === oldId)).toBe(false);
    const inspect = await docker.getContainer(nextId).inspect();
    expect(inspect.Config.Env).toContain("VERSION=2");
    expect(inspect.State.Health?.Status).toBe("healthy");
  });

  it("with a short --drain-timeout, exits 0 within it while the replacement cannot finish, drained: false; the containers keep running and a restart finishes the replacement", async () => {
    const c = id("drain-short");
    const name = `${c}-slow`;
    const readyAfterS = 15;
    const dir = specDir({ "slow.yaml": slowReadySpec(name, readyAfterS, 1) });
    const controller = await start(["--id", c, "--specs", dir, "--drain-timeout", "1s"]);
    const { oldId, nextId } = await replacementInFlight(c, dir, name, readyAfterS);

    const { code, ms } = await terminate(controller);
    expect(code).toBe(0);
    // 1 s of drain and a margin for closing the watch, the events stream and the HTTP server (on a
    // loaded machine, seconds): far from the 15 s the replacement would take.
    expect(ms).toBeLessThan(1000 + 6000);
    const logs = controller.logs;
    expect(logs[logIndex(logs, "controller stopped")]).toMatchObject({ drained: false });
    // Nothing of the replacement completed after the signal, in or out of the drain.
    expect(logIndex(logs, "action completed", { spec: name }, logIndex(logs, "signal received; draining"))).toBe(-1);

    // The controller is not the containers' parent: both keep running, exactly as they were.
    const left = await containersOf(c);
    expect(left.map((x) => [x.name, x.id, x.state])).toEqual([
      [name, oldId, "running"],
      [`${name}.next`, nextId, "running"],
    ]);

    // What was left half-way is a state the planner finishes: a new controller completes it.
    const again = await start(["--id", c, "--specs", dir]);
    const done = await pollUntil(async () => {
      const cs = await containersOf(c);
      return cs.length === 1 && cs[0]?.id === nextId && cs[0].name === name && cs[0].state === "running";
    }, 60_000);
    expect(done, JSON.stringify(await containersOf(c))).toBe(true);
    expect((await terminate(again)).code).toBe(0);
  });

  it("does not wait for an open HTTP request (a log stream that follows): stops and exits within the drain timeout", async () => {
    const c = id("drain-http");
    const box = `${c}-box`;
    const token = "drain-test-token-0123456789abcdef";
    const dir = specDir({ "box.yaml": e2eSpec(box) });
    const controller = await start(["--id", c, "--specs", dir, "--drain-timeout", "2s"], { BERTH_API_TOKEN: token });
    await waitContainers(c, "one container running", (cs) => cs.length === 1 && cs[0]?.state === "running");

    const abort = new AbortController();
    const res = await fetch(`${controller.url}/v1/containers/${box}/logs?follow=1`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("event: open");
    // The stream stays open until the server ends it (or this test does, on failure).
    const streamEnded = (async () => {
      try {
        while (!(await reader.read()).done);
      } catch {
        // cut: as good as ended
      }
    })();

    try {
      const within = await Promise.race([
        terminate(controller),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000)),
      ]);
      expect(within, "berth run did not exit while a log stream was open").not.toBeNull();
      expect(within?.code).toBe(0);
      expect(within?.ms).toBeLessThan(2000 + 6000);
      await streamEnded;
    } finally {
      abort.abort();
    }
    const logs = controller.logs;
    expect(logs[logIndex(logs, "controller stopped")]).toMatchObject({ drained: true });
    expect(logs.slice(logIndex(logs, "signal received; draining")).filter((l) => l.msg === "action completed")).toEqual(
      [],
    );
    expect((await containersOf(c)).map((x) => [x.name, x.state])).toEqual([[box, "running"]]);
  });
});
