/** How berth apply handles each kind of change, against the real engine. */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../support/poll.js";
import { berth, cleanup, containersOf, docker, e2eSpec, specDir, TEST_IMAGE, testId } from "../support/e2e.js";

const used: string[] = [];
afterEach(async () => {
  for (const id of used.splice(0)) await cleanup(id);
});

function id(name: string): string {
  const value = testId(name);
  used.push(value);
  return value;
}

async function apply(controller: string, dir: string): Promise<void> {
  const result = await berth(["apply", "--id", controller, "--specs", dir]);
  expect(result.stderr).toBe("");
  expect(result.code, result.stdout).toBe(0);
}

/** Docker events for a controller's containers, recorded while `run` runs and until `complete` holds. */
async function recordEvents(
  controller: string,
  run: () => Promise<void>,
  complete: (events: { action: string; id: string }[]) => boolean,
): Promise<{ action: string; id: string }[]> {
  const events: { action: string; id: string }[] = [];
  const stream = (await docker.getEvents({
    filters: { type: ["container"], label: [`berth.controller=${controller}`] },
  })) as unknown as Readable;
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { Action: string; Actor: { ID: string } };
      events.push({ action: e.Action, id: e.Actor.ID });
    }
  });
  try {
    await run();
    // The engine delivers events asynchronously: wait until the ones asked for are in.
    if (!(await pollUntil(() => complete(events), 30_000)))
      throw new Error(`the engine's events did not complete within 30 s: ${JSON.stringify(events)}`);
  } finally {
    stream.destroy();
  }
  return events;
}

describe("berth apply, change by change", () => {
  it("replaces the container when env changes, starting the new one before the old one goes (StartFirst)", async () => {
    const c = id("env");
    const name = `${c}-svc`;
    const dir = specDir({ "svc.yaml": e2eSpec(name, ["env: { VERSION: '1' }"]) });
    await apply(c, dir);
    const [before] = await containersOf(c);
    writeFileSync(path.join(dir, "svc.yaml"), e2eSpec(name, ["env: { VERSION: '2' }"]));
    const events = await recordEvents(
      c,
      () => apply(c, dir),
      (es) => es.some((e) => e.id === before?.id && e.action === "destroy") && es.some((e) => e.action === "rename"),
    );
    const [after] = await containersOf(c);
    expect(after?.name).toBe(name);
    expect(after?.id).not.toBe(before?.id);
    expect((await docker.getContainer(name).inspect()).Config.Env).toContain("VERSION=2");
    const newStart = events.findIndex((e) => e.id === after?.id && e.action === "start");
    const oldDestroy = events.findIndex((e) => e.id === before?.id && e.action === "destroy");
    const oldStop = events.findIndex((e) => e.id === before?.id && (e.action === "kill" || e.action === "die"));
    expect(newStart).toBeGreaterThanOrEqual(0);
    expect(oldDestroy).toBeGreaterThan(newStart);
    expect(oldStop).toBeGreaterThan(newStart);
    expect(events.filter((e) => e.action === "rename").map((e) => e.id)).toEqual([after?.id]);
  });

  it("replaces the container when the image changes", async () => {
    const c = id("image");
    const name = `${c}-svc`;
    const alt = `berth-test/alt-${process.pid}:v2`;
    await docker.getImage(TEST_IMAGE).tag({ repo: `berth-test/alt-${process.pid}`, tag: "v2" });
    try {
      const dir = specDir({ "svc.yaml": e2eSpec(name) });
      await apply(c, dir);
      const [before] = await containersOf(c);
      writeFileSync(path.join(dir, "svc.yaml"), e2eSpec(name).replace(TEST_IMAGE, alt));
      await apply(c, dir);
      const [after] = await containersOf(c);
      expect(after?.id).not.toBe(before?.id);
      expect((await docker.getContainer(name).inspect()).Config.Image).toBe(alt);
    } finally {
      await docker
        .getImage(alt)
        .remove()
        .catch(() => undefined);
    }
  });

  it("replaces a container whose :latest image was rebuilt locally (same tag, new image ID)", async () => {
    const c = id("rebuilt");
    const name = `${c}-svc`;
    const repo = `berth-test/rebuilt-${process.pid}`;
    const build = async (marker: string): Promise<string> => {
      const builder = await docker.createContainer({
        Image: TEST_IMAGE,
        Cmd: ["sh", "-c", `echo ${marker} > /marker`],
      });
      await builder.start();
      await builder.wait();
      const image = (await builder.commit({ repo, tag: "latest" })) as { Id: string };
      await builder.remove();
      return image.Id;
    };
    try {
      const first = await build("one");
      const dir = specDir({ "svc.yaml": e2eSpec(name).replace(TEST_IMAGE, `${repo}:latest`) });
      await apply(c, dir);
      expect((await docker.getContainer(name).inspect()).Image).toBe(first);
      const second = await build("two");
      expect(second).not.toBe(first);
      const plan = await berth(["plan", "--id", c, "--specs", dir]);
      expect(plan.code).toBe(2);
      expect(plan.stdout).toMatch(new RegExp(`^replace ${name} \\[[0-9a-f]{12}\\] StartFirst: image updated$`, "m"));
      await apply(c, dir);
      expect((await docker.getContainer(name).inspect()).Image).toBe(second);
    } finally {
      await cleanup(c);
      await docker
        .getImage(`${repo}:latest`)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });

  it("does not restart the container when only expiresAt changes", async () => {
    const c = id("extend");
    const name = `${c}-agent`;
    const dir = specDir({ "a.yaml": e2eSpec(name, ['expiresAt: "2099-01-01T00:00:00Z"']) });
    await apply(c, dir);
    const before = await docker.getContainer(name).inspect();
    writeFileSync(path.join(dir, "a.yaml"), e2eSpec(name, ['expiresAt: "2099-06-01T00:00:00Z"']));
    const plan = await berth(["plan", "--id", c, "--specs", dir]);
    expect(plan).toMatchObject({ code: 0, stdout: "nothing to do\n" });
    await apply(c, dir);
    const after = await docker.getContainer(name).inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
  });

  it("stops the container when suspended, and starts the same container when resumed", async () => {
    const c = id("suspend");
    const name = `${c}-svc`;
    const dir = specDir({ "s.yaml": e2eSpec(name) });
    await apply(c, dir);
    const running = await docker.getContainer(name).inspect();
    writeFileSync(path.join(dir, "s.yaml"), e2eSpec(name, ["suspended: true"]));
    await apply(c, dir);
    const stopped = await docker.getContainer(name).inspect();
    expect([stopped.Id, stopped.State.Status]).toEqual([running.Id, "exited"]);
    const status = await berth(["status", "--id", c, "--specs", dir]);
    expect(status.stdout).toMatch(new RegExp(`${name}\\s+Suspended`));
    writeFileSync(path.join(dir, "s.yaml"), e2eSpec(name, ["suspended: false"]));
    await apply(c, dir);
    const resumed = await docker.getContainer(name).inspect();
    expect([resumed.Id, resumed.State.Status]).toEqual([running.Id, "running"]);
  });

  it("scales replicas up and down without touching the others", async () => {
    const c = id("replicas");
    const name = `${c}-pool`;
    const dir = specDir({ "p.yaml": e2eSpec(name) });
    await apply(c, dir);
    const single = await containersOf(c);
    writeFileSync(path.join(dir, "p.yaml"), e2eSpec(name, ["replicas: 3"]));
    await apply(c, dir);
    const three = await containersOf(c);
    expect(three.map((x) => x.name)).toEqual([`${name}-0`, `${name}-1`, `${name}-2`]);
    expect(three[0]?.id).toBe(single[0]?.id); // renamed, not recreated
    writeFileSync(path.join(dir, "p.yaml"), e2eSpec(name, ["replicas: 2"]));
    await apply(c, dir);
    const two = await containersOf(c);
    expect(two.map((x) => x.id)).toEqual(three.slice(0, 2).map((x) => x.id));
  });

  it("removes the container of a deleted spec file; emptying the directory removes nothing and says why", async () => {
    const c = id("delete");
    const files: Record<string, string> = {};
    for (const n of ["a", "b", "c"]) files[`${n}.yaml`] = e2eSpec(`${c}-${n}`);
    const dir = specDir(files);
    await apply(c, dir);
    rmSync(path.join(dir, "a.yaml"));
    await apply(c, dir);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-b`, `${c}-c`]);
    rmSync(path.join(dir, "b.yaml"));
    rmSync(path.join(dir, "c.yaml"));
    const emptied = await berth(["apply", "--id", c, "--specs", dir]);
    expect(emptied.stdout).toContain(`prune paused: no spec files in ${dir}`);
    expect((await containersOf(c)).map((x) => [x.name, x.state])).toEqual([
      [`${c}-b`, "running"],
      [`${c}-c`, "running"],
    ]);
    const status = await berth(["status", "--id", c, "--specs", dir]);
    expect(status.stdout).toContain(`! prune paused: no spec files in ${dir}; 2 container(s) without a spec are kept`);
  });

  it("exits 1 and says why when a spec cannot converge or a file is invalid, while the rest converge", async () => {
    const c = id("fails");
    const dir = specDir({
      "ok.yaml": e2eSpec(`${c}-ok`),
      "local.yaml": e2eSpec(`${c}-local`, ["imagePullPolicy: Never"]).replace(TEST_IMAGE, "berth-test/never-built:1"),
      "broken.yaml": e2eSpec(`${c}-broken`, ["replicas: many"]),
    });
    const result = await berth(["apply", "--id", c, "--specs", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${dir}/broken.yaml:10:13: spec.replicas: expected a whole number, got the string "many"`,
    );
    expect(result.stdout).toMatch(
      new RegExp(
        `${c}-local\\s+Failed\\s+0/1.*image berth-test/never-built:1 is not present on this host and imagePullPolicy is Never`,
      ),
    );
    expect(result.stdout).toMatch(new RegExp(`${c}-broken\\s+Invalid`));
    expect(result.stdout).toMatch(new RegExp(`${c}-ok\\s+Running\\s+1/1`));
    expect(result.stdout).toContain("not converged: 2 spec(s) failed");
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-ok`]);
  });

  it("refuses to prune most of the containers at once, and --force-prune overrides", async () => {
    const c = id("share");
    const files: Record<string, string> = {};
    for (const n of ["a", "b", "c", "d"]) files[`${n}.yaml`] = e2eSpec(`${c}-${n}`);
    const dir = specDir(files);
    await apply(c, dir);
    for (const n of ["a", "b", "c"]) rmSync(path.join(dir, `${n}.yaml`));
    const guarded = await berth(["apply", "--id", c, "--specs", dir]);
    expect(guarded.stdout).toContain("prune paused: 3 of 4 managed containers have no spec, more than 50%");
    expect(await containersOf(c)).toHaveLength(4);
    await berth(["apply", "--id", c, "--specs", dir, "--force-prune"]);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-d`]);
  });
});
