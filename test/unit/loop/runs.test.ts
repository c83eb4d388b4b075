/**
 * Runs that finish (docs/runs.md), the whole controller on the in-memory Docker fake and a fake
 * clock: the phase and outcome of a finished run, never a second run (passes, resyncs, a new
 * controller), activeDeadline's stop, ttlAfterFinished's collection into a record that keeps
 * the outcome, and a spec change that starts a new run.
 */
import { afterEach, describe, expect, it } from "vitest";
import { formatTime } from "../../../src/core/units.js";
import type { FakeDocker } from "../../support/fake-docker.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const job = (...extra: string[]): string => specText("job", { extra: ["restartPolicy: Never", ...extra] });

/** The exit of the run's process, then the pass its engine event asks for. */
async function exit(code: number, options: { readonly oomKilled?: boolean } = {}): Promise<void> {
  h?.docker.exit("job", code, options);
  await h?.clock.advance(100);
}

const starts = (docker: FakeDocker): number => docker.count("start");

describe("a finished run", () => {
  it("exit 0 is Succeeded, with its exit code, reason and times; it is never started again", async () => {
    h = await harness({ "job.yaml": job() });
    await h.start();
    expect(h.status("job")?.phase).toBe("Running");
    await exit(0);
    const s = h.status("job");
    expect(s?.phase).toBe("Succeeded");
    expect(s?.containers).toEqual([
      expect.objectContaining({ state: "exited", exitCode: 0, reason: "Completed", collected: false }),
    ]);
    expect(s?.containers[0]?.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(s?.containers[0]?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The event log tells the run's end once.
    await h.changed();
    const told = h.app.events.list({ spec: "job" }).filter((e) => e.kind === "finished");
    expect(told).toEqual([expect.objectContaining({ reason: "Completed", ok: true })]);
    expect(told[0]?.text).toMatch(/^finished job: Completed, exit code 0, at \d{4}-/);
    // Passes, resyncs and a new controller on the same engine leave it as it is.
    const before = starts(h.docker);
    h.resync();
    await h.changed();
    await h.clock.advance(60_000);
    await h.stop();
    h = await harness({ "job.yaml": job() }, { docker: h.docker, clock: h.clock });
    await h.start();
    expect(starts(h.docker)).toBe(before);
    expect(h.status("job")?.phase).toBe("Succeeded");
    expect(h.docker.byName("job")?.state).toBe("exited");
  });

  it("exit 3 is Failed with exit code 3 and reason Error", async () => {
    h = await harness({ "job.yaml": job() });
    await h.start();
    await exit(3);
    const s = h.status("job");
    expect(s?.phase).toBe("Failed");
    expect(s?.message).toBe("run job failed: Error (exit code 3)");
    expect(s?.containers[0]).toEqual(expect.objectContaining({ exitCode: 3, reason: "Error" }));
  });

  it("an OOM kill is Failed with reason OOMKilled", async () => {
    h = await harness({ "job.yaml": job() });
    await h.start();
    await exit(137, { oomKilled: true });
    expect(h.status("job")?.phase).toBe("Failed");
    expect(h.status("job")?.containers[0]).toEqual(expect.objectContaining({ exitCode: 137, reason: "OOMKilled" }));
  });

  it("a spec change starts a new run in place of the last one", async () => {
    h = await harness({ "job.yaml": job() });
    await h.start();
    await exit(0);
    const first = h.docker.byName("job")?.id;
    h.write("job.yaml", job("env: { RUN: '2' }"));
    await h.changed();
    await h.clock.advance(200);
    expect(h.docker.byName("job")?.id).not.toBe(first);
    expect(h.docker.byName("job")?.state).toBe("running");
    expect(h.status("job")?.phase).toBe("Running");
  });

  it("started again by hand and exited again with the same code: berth reads the new outcome, not the last one", async () => {
    h = await harness({ "job.yaml": job() });
    await h.start();
    await exit(0);
    const first = h.status("job")?.containers[0]?.finishedAt;
    expect(first).toMatch(/^\d{4}-/);
    await h.clock.advance(60_000);
    // `docker start` by someone else; the process exits again, with the same code, before berth looks.
    const id = h.docker.byName("job")?.id ?? "";
    await h.docker.startContainer(id);
    h.docker.exit("job", 0);
    await h.changed();
    const again = h.status("job")?.containers[0];
    expect(again?.finishedAt).not.toBe(first);
    expect(Date.parse(again?.finishedAt ?? "") - Date.parse(first ?? "")).toBeGreaterThanOrEqual(60_000);
    expect(h.docker.byName("job")?.id).toBe(id);
  });
});

describe("OnFailure with a backoffLimit", () => {
  it("tells each restart once and the engine's last exit as the run's end, even when it exits between a pass's list and inspect", async () => {
    h = await harness({
      "job.yaml": specText("job", { extra: ["restartPolicy: OnFailure", "backoffLimit: 2"] }),
    });
    await h.start();
    const id = h.docker.byName("job")?.id ?? "";
    const told = () =>
      h?.app.events
        .list({ spec: "job" })
        .filter((e) => e.kind === "restarted" || e.kind === "finished")
        .map((e) => `${e.kind} ${e.reason} ${e.ok}: ${e.text}`) ?? [];
    const stamp = (): string => formatTime(h?.clock.now() ?? 0);
    // As the engine runs `exit 3` under on-failure:2: die (1 restart), start, die (2 restarts), start, die (exited).
    const first = stamp();
    h.docker.crash("job", 3);
    await h.clock.advance(100);
    await h.docker.startContainer(id);
    await h.clock.advance(100);
    const second = stamp();
    h.docker.crash("job", 3);
    await h.clock.advance(100);
    // The engine starts it a second time; the pass its `start` event asks for lists it running, and
    // the process exits for the last time before that pass's inspect: the engine gave up.
    const docker = h.docker;
    const [list, inspect] = [docker.listContainers.bind(docker), docker.inspectContainer.bind(docker)];
    let listed = "";
    docker.listContainers = async (filter) => {
      const found = await list(filter);
      listed = found.find((c) => c.id === id)?.state ?? "";
      return found;
    };
    let last = "";
    docker.inspectContainer = async (idOrName) => {
      if (last === "" && idOrName === id) {
        expect(listed).toBe("running");
        last = stamp();
        docker.exit("job", 3);
      }
      return inspect(idOrName);
    };
    await docker.startContainer(id);
    await h.clock.advance(100);
    expect(last).not.toBe("");
    h.resync();
    await h.changed();
    expect(h.docker.byName("job")?.restartCount).toBe(2);
    expect(told()).toEqual([
      `restarted restarted false: restarted job (1 restart): exited with code 3 at ${first}`,
      `restarted restarted false: restarted job (2 restarts): exited with code 3 at ${second}`,
      `finished Error false: finished job: Error, exit code 3, at ${last}`,
    ]);
    expect(h.status("job")).toMatchObject({ phase: "Failed", message: "run job failed: Error (exit code 3)" });
  });
});

describe("activeDeadline", () => {
  it("stops a run at its deadline: Failed, DeadlineExceeded, also as a new controller reads it", async () => {
    h = await harness({ "job.yaml": job("activeDeadline: 2s") });
    await h.start();
    expect(h.docker.stops).toEqual([]);
    await h.clock.advance(2000);
    expect(h.docker.stops.length).toBe(1);
    expect(h.docker.byName("job")?.state).toBe("exited");
    await h.clock.advance(100);
    const s = h.status("job");
    expect(s?.phase).toBe("Failed");
    expect(s?.message).toBe("run job ran past its activeDeadline and was stopped (exit code 143)");
    expect(s?.containers[0]).toEqual(expect.objectContaining({ reason: "DeadlineExceeded", exitCode: 143 }));
    await h.stop();
    h = await harness({ "job.yaml": job("activeDeadline: 2s") }, { docker: h.docker, clock: h.clock });
    await h.start();
    expect(h.status("job")?.containers[0]?.reason).toBe("DeadlineExceeded");
  });

  const marks = (docker: FakeDocker): string[] =>
    [...docker.volumes.values()].filter((v) => v.labels["berth.deadline_stop"] !== undefined).map((v) => v.name);

  it("keeps DeadlineExceeded, and the run stopped, when the spec's deadline changes afterwards", async () => {
    const onFailure = (deadline: string): string =>
      specText("job", { extra: ["restartPolicy: OnFailure", `activeDeadline: ${deadline}`] });
    h = await harness({ "job.yaml": onFailure("2s") });
    await h.start();
    await h.clock.advance(2000);
    await h.clock.advance(100);
    const stopped = h.docker.byName("job");
    expect(h.status("job")?.containers[0]?.reason).toBe("DeadlineExceeded");
    // The mark berth made before the stop names the container.
    expect(marks(h.docker)).toHaveLength(1);
    expect(h.docker.volumes.get(marks(h.docker)[0] ?? "")?.labels["berth.deadline_stop"]).toBe(stopped?.id);
    // A longer deadline now does not turn the stop into a failure to retry (exit 143 under OnFailure).
    const before = starts(h.docker);
    h.write("job.yaml", onFailure("1h"));
    await h.changed();
    await h.clock.advance(60_000);
    expect(starts(h.docker)).toBe(before);
    expect(h.status("job")).toMatchObject({ phase: "Failed" });
    expect(h.status("job")?.containers[0]).toEqual(expect.objectContaining({ reason: "DeadlineExceeded" }));
    // Nor does a new controller, which looks the mark up again.
    await h.stop();
    h = await harness({ "job.yaml": onFailure("1h") }, { docker: h.docker, clock: h.clock });
    await h.start();
    expect(h.status("job")?.containers[0]?.reason).toBe("DeadlineExceeded");
    expect(starts(h.docker)).toBe(before);
  });

  it("a run that ends by itself has no mark: its own outcome, whatever deadline the spec had", async () => {
    h = await harness({ "job.yaml": job("activeDeadline: 1h") });
    await h.start();
    await exit(3);
    expect(h.status("job")?.containers[0]).toEqual(expect.objectContaining({ reason: "Error", exitCode: 3 }));
    expect(marks(h.docker)).toEqual([]);
  });

  it("the mark goes with its container: into the record's outcome at ttlAfterFinished", async () => {
    h = await harness({ "job.yaml": job("activeDeadline: 2s", "ttlAfterFinished: 5s") });
    await h.start();
    await h.clock.advance(2000);
    await h.clock.advance(100);
    expect(marks(h.docker)).toHaveLength(1);
    await h.clock.advance(5000);
    await h.clock.advance(100);
    expect(h.docker.byName("job")).toBeUndefined();
    expect(marks(h.docker)).toEqual([]);
    expect(h.status("job")?.containers).toEqual([
      expect.objectContaining({ collected: true, reason: "DeadlineExceeded" }),
    ]);
  });
});

describe("ttlAfterFinished", () => {
  it("collects the finished run's container into its record: the outcome stays, nothing runs again", async () => {
    h = await harness({ "job.yaml": job("ttlAfterFinished: 2s") });
    await h.start();
    await exit(3);
    expect(h.docker.byName("job")?.state).toBe("exited");
    await h.clock.advance(2000);
    await h.clock.advance(100);
    expect(h.docker.byName("job")).toBeUndefined();
    const s = h.status("job");
    expect(s?.phase).toBe("Failed");
    expect(s?.collected).toBe(true);
    expect(s?.containers).toEqual([
      expect.objectContaining({ id: "", name: "job", exitCode: 3, reason: "Error", collected: true }),
    ]);
    const creates = h.docker.count("create");
    // Its free name is not looked for among other containers either (no unfiltered list).
    const unfiltered = (): number =>
      h?.docker.calls.filter((x) => x.operation === "list" && x.subject === "").length ?? 0;
    const lists = unfiltered();
    h.resync();
    await h.changed();
    await h.clock.advance(60_000);
    expect(h.docker.count("create")).toBe(creates);
    expect(unfiltered()).toBe(lists);

    // A new hash is a new run: the record goes, a container comes.
    h.write("job.yaml", job("ttlAfterFinished: 2s", "env: { RUN: '2' }"));
    await h.changed();
    await h.clock.advance(200);
    expect(h.docker.byName("job")?.state).toBe("running");
    expect([...(await h.docker.listVolumes({ labels: ["berth.finished"] }))]).toEqual([]);
  });

  it("the record goes with its spec file", async () => {
    h = await harness({ "job.yaml": job("ttlAfterFinished: 0s"), "other.yaml": specText("other") });
    await h.start();
    await exit(0);
    await h.clock.advance(100);
    expect(await h.docker.listVolumes({ labels: ["berth.finished"] })).toHaveLength(1);
    h.remove("job.yaml");
    await h.changed();
    await h.clock.advance(100);
    expect(await h.docker.listVolumes({ labels: ["berth.finished"] })).toEqual([]);
  });
});
