/** `berth run` reacting to the world, against the real engine. */
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatTime } from "../../src/core/units.js";
import { pollUntil } from "../support/poll.js";
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
import { tempDir } from "../support/tmp.js";

const used: string[] = [];
const extraNames: string[] = [];
let controller: RunningBerth | undefined;

afterEach(async () => {
  if (controller) {
    expect(await controller.stop()).toBe(0); // SIGTERM: drains and exits 0
    controller = undefined;
  }
  for (const id of used.splice(0)) await cleanup(id, extraNames.splice(0));
});

function id(name: string): string {
  const value = testId(name);
  used.push(value);
  return value;
}

const running = (names: string[]) => (cs: { name: string; state: string }[]) =>
  cs.length === names.length && cs.every((c, i) => c.name === names[i] && c.state === "running");

describe("berth run", () => {
  it("recreates a container removed with docker rm -f, and starts one stopped with docker stop, on the engine's events", async () => {
    const c = id("heal");
    const names = [`${c}-a`, `${c}-b`];
    const dir = specDir({ "a.yaml": e2eSpec(names[0] as string), "b.yaml": e2eSpec(names[1] as string) });
    // The resync is an hour away: only the engine's events can tell berth what happened. How soon
    // it reacts is measured by the benchmark (bench/, "latency"), not asserted here.
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1h"]);
    const explain = (): string => controller?.recentLogs() ?? "";
    const before = await waitContainers(c, `${names.join(", ")} running`, running(names));
    expect(before.map((x) => x.state)).toEqual(["running", "running"]);

    await docker.getContainer(names[0] as string).remove({ force: true });
    const recreated = await waitContainers(
      c,
      `${names[0] ?? ""} recreated after docker rm -f`,
      (cs) => running(names)(cs) && cs[0]?.id !== before[0]?.id,
      { timeoutMs: 30_000, explain },
    );
    expect(recreated[1]?.id).toBe(before[1]?.id);

    await docker.getContainer(names[1] as string).stop({ t: 0 });
    const restarted = await pollUntil(
      async () => (await docker.getContainer(names[1] as string).inspect()).State.Running,
      30_000,
    );
    expect(restarted, `${names[1] ?? ""} not started again after docker stop\n${explain()}`).toBe(true);
    // Started again, not replaced.
    expect((await containersOf(c)).map((x) => x.id)).toEqual(recreated.map((x) => x.id));

    // SIGTERM: berth exits 0 and its containers keep running (it is not their parent).
    expect(await controller.stop()).toBe(0);
    controller = undefined;
    expect((await containersOf(c)).map((x) => x.state)).toEqual(["running", "running"]);
  });

  it("removes a container at its expiry, not before, and does not recreate it", async () => {
    const c = id("expiry");
    const name = `${c}-agent`;
    // Far enough ahead that the container is created and seen running first, even on a busy engine.
    const expiresAt = Math.ceil((Date.now() + 10_000) / 1000) * 1000;
    const dir = specDir({ "agent.yaml": e2eSpec(name, [`expiresAt: "${formatTime(expiresAt)}"`]) });
    controller = await startBerth(["--id", c, "--specs", dir, "--resync", "1s"]);
    const explain = (): string => controller?.recentLogs() ?? "";
    await waitContainers(c, `${name} running`, running([name]), { explain });
    // How soon after expiresAt it goes is the benchmark's business (bench/, "latency"); that it goes
    // is this test's. The deadline is generous.
    await waitContainers(c, `${name} removed at its expiry`, (cs) => cs.length === 0, {
      timeoutMs: expiresAt - Date.now() + 30_000,
      explain,
    });
    // Not before its time: it was still there at every look before expiresAt (one clock: this host's).
    expect(Date.now(), "removed before its expiresAt").toBeGreaterThanOrEqual(expiresAt);
    // berth logs the removal after the engine has done it: the line may come a moment after the look.
    const removals = () =>
      controller?.logs.filter((l) => l.msg === "action completed" && l.action === "remove").map((l) => l.reason) ?? [];
    expect(await pollUntil(() => removals().length > 0, 10_000), explain()).toBe(true);
    expect(removals()).toEqual(["expired"]);
    // Several resyncs later it is still gone.
    const passes = () => controller?.logs.filter((l) => l.msg === "reconcile pass done").length ?? 0;
    const seen = passes();
    expect(await pollUntil(() => passes() >= seen + 3, 10_000)).toBe(true);
    expect(await containersOf(c)).toEqual([]);
    // Created once, never again (a create retried under load also logs its failure: not counted).
    expect(controller.logs.filter((l) => l.msg === "action completed" && l.action === "create")).toHaveLength(1);
  });

  it("converges to each commit when a git checkout changes 20 files at once", async () => {
    const c = id("git");
    const dir = tempDir("berth-git-");
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "pipe" });
    git("init", "-q", "-b", "main");
    git("config", "user.email", "t@example.invalid");
    git("config", "user.name", "t");
    const names = Array.from({ length: 20 }, (_, i) => `${c}-s${String(i).padStart(2, "0")}`);
    const write = (version: string) => {
      for (const name of names)
        writeFileSync(path.join(dir, `${name}.yaml`), e2eSpec(name, [`env: { V: "${version}" }`]));
    };
    write("a");
    git("add", "-A");
    git("commit", "-qm", "a");
    write("b");
    git("commit", "-qam", "b");
    controller = await startBerth(["--id", c, "--specs", dir, "--concurrency", "8"]);
    // A name is briefly absent while its container is replaced: that reads as "not yet".
    const envOf = async (name: string) =>
      docker
        .getContainer(name)
        .inspect()
        .then(
          (x) => x.Config.Env,
          () => [] as string[],
        );
    const converged = async (version: string) =>
      waitContainers(
        c,
        `the 20 containers running (commit ${version})`,
        (cs) => cs.length === 20 && cs.every((x) => x.state === "running" && !x.name.endsWith(".next")),
        { timeoutMs: 60_000 },
      ).then(async () =>
        pollUntil(async () => (await Promise.all(names.map(envOf))).every((e) => e.includes(`V=${version}`)), 60_000),
      );
    expect(await converged("b")).toBe(true);
    git("checkout", "-q", "HEAD~1");
    expect(await converged("a")).toBe(true);
    git("checkout", "-q", "main");
    expect(await converged("b")).toBe(true);
    expect((await containersOf(c)).map((x) => x.name)).toEqual(names);
  });

  it("follows a spec directory that is a symlink swapped atomically to a new target", async () => {
    const c = id("swap");
    const root = tempDir("berth-swap-");
    for (const [version, specs] of [
      ["v1", ["one", "two"]],
      ["v2", ["two", "three"]],
    ] as const) {
      mkdirSync(path.join(root, version));
      for (const s of specs)
        writeFileSync(path.join(root, version, `${s}.yaml`), e2eSpec(`${c}-${s}`, [`env: { FROM: ${version} }`]));
    }
    symlinkSync("v1", path.join(root, "current"));
    controller = await startBerth(["--id", c, "--specs", path.join(root, "current")]);
    await waitContainers(c, `the specs of v1 running`, running([`${c}-one`, `${c}-two`]));
    // The git-sync / ConfigMap way: a new link, renamed over the old one.
    symlinkSync("v2", path.join(root, "current.tmp"));
    renameSync(path.join(root, "current.tmp"), path.join(root, "current"));
    const after = await waitContainers(c, `the specs of v2 running`, running([`${c}-three`, `${c}-two`]), {
      timeoutMs: 30_000,
      explain: () => controller?.recentLogs() ?? "",
    });
    expect(after.map((x) => x.name)).toEqual([`${c}-three`, `${c}-two`]);
    expect(
      await pollUntil(
        async () => (await docker.getContainer(`${c}-two`).inspect()).Config.Env.includes("FROM=v2"),
        20_000,
      ),
    ).toBe(true);
  });

  it("reports a name held by a container it does not own as Conflict and leaves it and other controllers' containers alone", async () => {
    const c = id("conflict");
    const other = id("conflict-other");
    const taken = `${c}-taken`;
    extraNames.push(taken);
    const foreign = await docker.createContainer({
      name: taken,
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      HostConfig: { Init: true },
    });
    await foreign.start();
    const neighbour = await docker.createContainer({
      name: `${other}-n`,
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Labels: { "berth.controller": other, "berth.spec": `${c}-gone`, "berth.replica": "0", "berth.hash": "x" },
      HostConfig: { Init: true },
    });
    await neighbour.start();
    const before = await Promise.all([foreign.inspect(), neighbour.inspect()]);
    const dir = specDir({ "taken.yaml": e2eSpec(taken), "fine.yaml": e2eSpec(`${c}-fine`) });
    controller = await startBerth(["--id", c, "--specs", dir]);
    await waitContainers(c, `${c}-fine running`, running([`${c}-fine`]));
    // Seen before any create is tried: no 409 round trip.
    expect(
      await pollUntil(
        () => controller?.logs.some((l) => l.msg === "reconcile note" && l.note === "conflict") ?? false,
        10_000,
      ),
    ).toBe(true);
    // (A create retried under load logs twice: what matters is that none was tried for the taken name.)
    const creates = new Set(controller.logs.filter((l) => l.action === "create").map((l) => l.spec));
    expect([...creates]).toEqual([`${c}-fine`]);
    const status = await berth(["status", "--id", c, "--specs", dir]);
    expect(status.stdout).toMatch(new RegExp(`${taken}\\s+Conflict`));
    expect(status.stdout).toContain("which berth does not own");
    const after = await Promise.all([foreign.inspect(), neighbour.inspect()]);
    expect(after.map((x) => [x.Id, x.State.StartedAt, x.State.Running])).toEqual(
      before.map((x) => [x.Id, x.State.StartedAt, true]),
    );
    await neighbour.remove({ force: true });
  });

  it("converges with no duplicate and no leftover after kill -9 in the middle of replacing 20 containers", async () => {
    const c = id("kill9");
    const names = Array.from({ length: 20 }, (_, i) => `${c}-r${String(i).padStart(2, "0")}`);
    const dir = specDir(Object.fromEntries(names.map((n) => [`${n}.yaml`, e2eSpec(n, ['env: { V: "1" }'])])));
    controller = await startBerth(["--id", c, "--specs", dir]);
    await waitContainers(c, "the 20 containers running", running(names));
    for (const n of names) writeFileSync(path.join(dir, `${n}.yaml`), e2eSpec(n, ['env: { V: "2" }']));
    // Kill it while replacements are under way: some done, some not started.
    expect(
      await pollUntil(() => (controller?.logs.filter((l) => l.action === "replace").length ?? 0) >= 3, 30_000),
    ).toBe(true);
    await controller.kill9();
    controller = undefined;
    const midway = await containersOf(c);
    const v2 = async (name: string) =>
      docker
        .getContainer(name)
        .inspect()
        .then(
          (x) => x.Config.Env.includes("V=2"),
          () => false,
        );
    expect((await Promise.all(names.map(v2))).filter(Boolean).length).toBeLessThan(20);
    expect(midway.length).toBeGreaterThanOrEqual(20);

    controller = await startBerth(["--id", c, "--specs", dir]);
    const final = await waitContainers(
      c,
      "the 20 containers running, no temporary one left",
      (cs) => cs.length === 20 && cs.every((x) => x.state === "running" && !x.name.endsWith(".next")),
      { timeoutMs: 90_000, explain: () => controller?.recentLogs() ?? "" },
    );
    expect(final.map((x) => x.name)).toEqual(names);
    expect(await pollUntil(async () => (await Promise.all(names.map(v2))).every(Boolean), 30_000)).toBe(true);
    expect(new Set(final.map((x) => x.labels["berth.hash"])).size).toBe(1);
  });

  it("reaps other tools' containers past their --reap-label expiry, and leaves never and garbage alone", async () => {
    const c = id("reap");
    const label = `com.berth-test-${process.pid}.expires_at`;
    const make = async (suffix: string, value: string) => {
      const name = `${c}-${suffix}`;
      extraNames.push(name);
      const container = await docker.createContainer({
        name,
        Image: TEST_IMAGE,
        Cmd: ["sleep", "300"],
        Labels: { [label]: value },
        HostConfig: { Init: true },
      });
      await container.start();
      return container;
    };
    const past = await make("past", formatTime(Date.now() - 60_000));
    const soon = await make("soon", formatTime(Math.ceil((Date.now() + 2500) / 1000) * 1000));
    const never = await make("never", "never");
    const garbage = await make("garbage", "next tuesday");
    const dir = specDir({ "x.yaml": e2eSpec(`${c}-x`) });
    // The resync (which also sweeps) is an hour away: "soon" goes only if berth wakes at its expiry.
    controller = await startBerth(["--id", c, "--specs", dir, "--reap-label", label, "--resync", "1h"]);
    const gone = async (x: { inspect(): Promise<unknown> }) =>
      x.inspect().then(
        () => false,
        () => true,
      );
    expect(await pollUntil(() => gone(past), 30_000), "past reaped").toBe(true);
    expect(await pollUntil(() => gone(soon), 30_000), "soon reaped").toBe(true);
    expect(await gone(never)).toBe(false);
    expect(await gone(garbage)).toBe(false);
    expect(
      controller.logs.some(
        (l) => l.msg === "expiry label not an RFC 3339 time; left alone" && l.value === "next tuesday",
      ),
    ).toBe(true);
  });
});
