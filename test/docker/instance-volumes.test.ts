/**
 * Per-instance volumes end to end, against the real engine, through the built CLI: each instance
 * gets its own labelled volume; its data survives a replacement (an image change); the volume is
 * removed when the instance goes (spec deleted, replicas scaled down) unless reclaimPolicy is
 * Retain. Every test has its own controller id; cleanup removes its containers and then every
 * volume carrying that id.
 */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isDockerError } from "../../src/docker/errors.js";
import { DockerAdapter } from "../../src/docker/adapter.js";
import { berth, cleanup, containersOf, docker, e2eSpec, specDir, TEST_IMAGE, testId } from "../support/e2e.js";

const used: string[] = [];
afterEach(async () => {
  for (const id of used.splice(0)) await cleanup(id);
});

function id(name: string): string {
  const value = testId(`iv-${name}`);
  used.push(value);
  return value;
}

async function apply(controller: string, dir: string): Promise<string> {
  const result = await berth(["apply", "--id", controller, "--specs", dir]);
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The volumes carrying this controller's id: name → labels. */
async function volumesOf(controller: string): Promise<Map<string, Record<string, string>>> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`berth.controller=${controller}`] } });
  return new Map((Volumes ?? []).map((v) => [v.Name, v.Labels]));
}

function dbSpec(name: string, options: { image?: string; replicas?: number; retain?: boolean } = {}): string {
  const mount = `{ type: volume, source: data, target: /data, perInstance: true${options.retain ? ", reclaimPolicy: Retain" : ""} }`;
  const text = e2eSpec(name, [
    ...(options.replicas !== undefined ? [`replicas: ${options.replicas}`] : []),
    "mounts:",
    `  - ${mount}`,
  ]);
  return options.image ? text.replace(`image: ${TEST_IMAGE}`, `image: ${options.image}`) : text;
}

async function exec(controller: string, container: string, script: string): Promise<string> {
  const result = await berth(["exec", "--id", controller, container, "--", "sh", "-c", script]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

describe("per-instance volumes", () => {
  it("keeps the data across an image change, and removes the volume when the spec is deleted", async () => {
    const c = id("life");
    const db = `${c}-db`;
    const dir = specDir({ "keep.yaml": e2eSpec(`${c}-keep`), "db.yaml": dbSpec(db) });
    await apply(c, dir);

    const made = await volumesOf(c);
    expect(made.get(`${db}-data`)).toMatchObject({
      "berth.controller": c,
      "berth.spec": db,
      "berth.replica": "0",
      "berth.instance_volume": "data",
      "berth.reclaim_policy": "Delete",
    });
    const mounts = (await docker.getContainer(db).inspect()).Mounts;
    expect(mounts.map((m) => [m.Name, m.Destination])).toEqual([[`${db}-data`, "/data"]]);
    await exec(c, db, "echo kept > /data/marker");

    // Another image reference (busybox:latest is the same image under another name): a new hash.
    const before = (await containersOf(c)).find((x) => x.name === db);
    writeFileSync(path.join(dir, "db.yaml"), dbSpec(db, { image: "busybox:latest" }));
    await apply(c, dir);
    const after = (await containersOf(c)).find((x) => x.name === db);
    expect(after?.id).toBeDefined();
    expect(after?.id).not.toBe(before?.id);
    expect((await exec(c, db, "cat /data/marker")).trim()).toBe("kept");

    rmSync(path.join(dir, "db.yaml"));
    const out = await apply(c, dir);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-keep`]);
    expect([...(await volumesOf(c)).keys()]).not.toContain(`${db}-data`);
    expect(out).toContain(`remove  volume ${db}-data: orphaned`);
  });

  it("reclaimPolicy: Retain keeps the volume, and its data, after the spec is deleted", async () => {
    const c = id("retain");
    const db = `${c}-db`;
    const dir = specDir({ "keep.yaml": e2eSpec(`${c}-keep`), "db.yaml": dbSpec(db, { retain: true }) });
    await apply(c, dir);
    await exec(c, db, "echo kept > /data/marker");
    rmSync(path.join(dir, "db.yaml"));
    await apply(c, dir);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-keep`]);
    expect((await volumesOf(c)).get(`${db}-data`)).toMatchObject({ "berth.reclaim_policy": "Retain" });

    // The spec back: its instance mounts the same volume again.
    writeFileSync(path.join(dir, "db.yaml"), dbSpec(db, { retain: true }));
    await apply(c, dir);
    expect((await exec(c, db, "cat /data/marker")).trim()).toBe("kept");
  });

  it("replicas 2 → 1 removes the second instance's volume and keeps the first's", async () => {
    const c = id("scale");
    const pool = `${c}-pool`;
    const dir = specDir({ "pool.yaml": dbSpec(pool, { replicas: 2 }) });
    await apply(c, dir);
    expect([...(await volumesOf(c)).keys()].sort()).toEqual([`${pool}-0-data`, `${pool}-1-data`]);

    writeFileSync(path.join(dir, "pool.yaml"), dbSpec(pool, { replicas: 1 }));
    await apply(c, dir);
    // Replica 0 keeps its container (renamed) and, mounted by it, its volume.
    expect((await containersOf(c)).map((x) => x.name)).toEqual([pool]);
    expect([...(await volumesOf(c)).keys()]).toEqual([`${pool}-0-data`]);
  });

  it("the adapter lists volumes by label, refuses to remove one in use (conflict), and takes a missing one as gone", async () => {
    const c = id("adapter");
    const adapter = new DockerAdapter();
    const name = `${c}-data`;
    await adapter.createVolume(name, { "berth.controller": c, "berth.instance_volume": "data" });
    // Another controller's, removed here (cleanup removes only this id's).
    await adapter.createVolume(`${c}-other`, { "berth.controller": `${c}-x` });
    try {
      expect((await adapter.listVolumes({ labels: [`berth.controller=${c}`] })).map((v) => v.name)).toEqual([name]);
    } finally {
      await adapter.removeVolume(`${c}-other`);
    }

    const user = await adapter.createContainer(`${c}-user`, {
      Image: TEST_IMAGE,
      Cmd: ["true"],
      Env: [],
      StopTimeout: 1,
      Labels: { "berth.controller": c },
      HostConfig: {
        NetworkMode: "none",
        RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
        Mounts: [{ Type: "volume", Source: name, Target: "/data" }],
      },
    });
    const refused = await adapter.removeVolume(name).then(
      () => null,
      (err: unknown) => err,
    );
    expect(isDockerError(refused, "conflict")).toBe(true);
    await adapter.removeContainer(user, { force: true });
    await adapter.removeVolume(name);
    expect(await adapter.inspectVolume(name)).toBeNull();
    await adapter.removeVolume(name);
  });
});
