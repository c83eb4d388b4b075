/**
 * Faults on the spec side, with `berth run` against the real engine: half-written and invalid
 * files (g), atomic saves and symlink swaps (h), the inotify watch limit (k), and a full or
 * read-only disk under the runtime spec directory (l). Letters: docs/reliability.md.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../support/poll.js";
import {
  berth,
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
let controller: RunningBerth | undefined;
const mounts: string[] = [];

afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  for (const m of mounts.splice(0)) execFileSync("umount", ["-l", m]);
});

/** Exactly these containers (sorted by name, as containersOf lists them), all running. */
const sameRunning = (cs: readonly { name: string; state: string }[], names: readonly string[]): boolean =>
  cs.length === names.length && cs.every((x, i) => x.name === names[i] && x.state === "running");

const envOf = (name: string): Promise<string[]> =>
  docker
    .getContainer(name)
    .inspect()
    .then(
      (x) => x.Config.Env,
      () => [],
    );

describe("fault g: a spec file truncated mid-write, or replaced by invalid YAML", () => {
  it("keeps the last good version running, says Invalid with the error, and converges when fixed", async () => {
    const c = id("truncated");
    const name = `${c}-svc`;
    const dir = specDir({ "svc.yaml": e2eSpec(name, ['env: { V: "1" }']) });
    const file = path.join(dir, "svc.yaml");
    controller = await startBerth(["--id", c, "--specs", dir]);
    const [good] = await waitContainers(c, `${name} running`, (cs) => cs.length === 1 && cs[0]?.state === "running");

    const next = e2eSpec(name, ['env: { V: "2" }', "replicas: 1"]);
    // Cut mid-write before the spec section: the file is no longer a valid document.
    writeFileSync(file, next.slice(0, next.indexOf("spec:")));
    expect(await controller.waitForLog("spec file invalid", 10_000)).toBe(true);
    const truncatedStatus = await berth(["status", "--id", c, "--specs", dir]);
    expect(truncatedStatus.stdout).toMatch(
      new RegExp(`${name}\\s+Invalid\\s+.*${dir}/svc.yaml:1:1: missing required field "spec"`),
    );
    expect((await containersOf(c)).map((x) => [x.id, x.state])).toEqual([[good?.id, "running"]]);

    writeFileSync(file, "apiVersion: berth/v1\nkind: Container\nmetadata: {name: [oops\n");
    expect(
      await pollUntil(() => (controller?.logs.filter((l) => l.msg === "spec file invalid").length ?? 0) >= 2, 10_000),
    ).toBe(true);
    const invalidStatus = await berth(["status", "--id", c, "--specs", dir]);
    expect(invalidStatus.stdout).toMatch(new RegExp(`${name}\\s+Invalid\\s+.*invalid YAML`));
    expect((await containersOf(c)).map((x) => [x.id, x.state])).toEqual([[good?.id, "running"]]);

    // A cut that still parses (the image name cut short) is a valid spec: berth cannot tell it from
    // an edit. StartFirst still protects the running container: the new image cannot be had.
    writeFileSync(file, next.slice(0, next.indexOf("busybox") + 3));
    expect(
      await pollUntil(
        () =>
          controller?.logs.some((l) => l.msg === "action failed; retrying with backoff" && l.spec === name) ?? false,
        20_000,
      ),
    ).toBe(true);
    expect((await containersOf(c)).map((x) => [x.id, x.state])).toEqual([[good?.id, "running"]]);

    writeFileSync(file, next);
    expect(await pollUntil(async () => (await envOf(name)).includes("V=2"), 20_000)).toBe(true);
    expect(await containersOf(c)).toHaveLength(1);
  });
});

describe("fault h: atomic saves and symlink swaps", () => {
  it("converges after an editor-style atomic save (write a temporary file, rename it over the spec)", async () => {
    const c = id("atomic");
    const name = `${c}-svc`;
    const dir = specDir({ "svc.yaml": e2eSpec(name, ['env: { V: "1" }']) });
    controller = await startBerth(["--id", c, "--specs", dir]);
    await waitContainers(c, `${name} running`, (cs) => cs.length === 1 && cs[0]?.state === "running");
    writeFileSync(path.join(dir, ".svc.yaml.swp"), e2eSpec(name, ['env: { V: "2" }']));
    renameSync(path.join(dir, ".svc.yaml.swp"), path.join(dir, "svc.yaml"));
    expect(await pollUntil(async () => (await envOf(name)).includes("V=2"), 20_000)).toBe(true);
  });

  it("converges after a ConfigMap-style swap of the ..data symlink", async () => {
    const c = id("configmap");
    const name = `${c}-svc`;
    const dir = tempDir("berth-cm-");
    const version = (stamp: string, v: string) => {
      mkdirSync(path.join(dir, stamp));
      writeFileSync(path.join(dir, stamp, "svc.yaml"), e2eSpec(name, [`env: { V: "${v}" }`]));
    };
    version("..2026_11_23_12_00_00.1", "1");
    symlinkSync("..2026_11_23_12_00_00.1", path.join(dir, "..data"));
    symlinkSync("..data/svc.yaml", path.join(dir, "svc.yaml"));
    controller = await startBerth(["--id", c, "--specs", dir]);
    await waitContainers(c, `${name} running`, (cs) => cs.length === 1 && cs[0]?.state === "running");
    expect(await envOf(name)).toContain("V=1");
    // What the kubelet does: a new timestamped folder, a new ..data link renamed over the old one.
    version("..2026_11_23_12_05_00.2", "2");
    symlinkSync("..2026_11_23_12_05_00.2", path.join(dir, "..data_tmp"));
    renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
    expect(await pollUntil(async () => (await envOf(name)).includes("V=2"), 20_000)).toBe(true);
    expect(await containersOf(c)).toHaveLength(1);
  });
  // The git-sync-style swap of the spec directory's own symlink: test/docker/e2e-run.test.ts,
  // "follows a spec directory that is a symlink swapped atomically to a new target".
});

describe("fault k: the inotify watch limit is reached (ENOSPC)", () => {
  it("falls back to periodic re-listing, says so once, and still converges on changes", async () => {
    const c = id("enospc");
    const dir = specDir({
      "a/one.yaml": e2eSpec(`${c}-one`),
      "b/two.yaml": e2eSpec(`${c}-two`),
      "c/three.yaml": e2eSpec(`${c}-three`),
    });
    // In a user namespace of its own, berth gets a watch limit of 2; the host's is untouched.
    controller = await startBerth(
      ["--id", c, "--specs", dir, "--resync", "1h"],
      {},
      {
        wrap: [
          "unshare",
          "--user",
          "--map-root-user",
          "sh",
          "-c",
          'echo 2 > /proc/sys/user/max_inotify_watches && exec "$@"',
          "sh",
        ],
      },
    );
    const first = [`${c}-one`, `${c}-three`, `${c}-two`];
    await waitContainers(c, `${first.join(", ")} running`, (cs) => sameRunning(cs, first));
    expect(await controller.waitForLog("file watch limit reached; falling back to periodic re-listing", 10_000)).toBe(
      true,
    );
    writeFileSync(path.join(dir, "b", "four.yaml"), e2eSpec(`${c}-four`));
    // The resync is an hour away: only the polling fallback can notice the new file.
    const all = [`${c}-four`, ...first];
    await waitContainers(c, `${c}-four running beside the others`, (cs) => sameRunning(cs, all), {
      timeoutMs: 30_000,
      explain: () => controller?.recentLogs() ?? "",
    });
    expect(
      controller.logs.filter((l) => l.msg === "file watch limit reached; falling back to periodic re-listing"),
    ).toHaveLength(1);
  });
});

describe("fault l: the disk under the runtime spec directory is full or read-only", () => {
  const token = "fault-l-token-0123456789abcdef";

  async function put(url: string, name: string, body: string): Promise<{ status: number; body: { error?: string } }> {
    const res = await fetch(`${url}/v1/specs/${name}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/yaml" },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  }

  it("answers a clear 5xx and leaves nothing half-written", async () => {
    const c = id("disk");
    const runtime = tempDir("berth-rt-");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", runtime]);
    mounts.push(runtime);
    const dir = specDir({ "base.yaml": e2eSpec(`${c}-base`) });
    controller = await startBerth(["--id", c, "--specs", dir, "--runtime-specs", runtime], { BERTH_API_TOKEN: token });
    await waitContainers(c, `${c}-base running`, (cs) => sameRunning(cs, [`${c}-base`]));

    const ok = await put(controller.url, `${c}-api`, e2eSpec(`${c}-api`));
    expect(ok.status).toBe(201);
    await waitContainers(c, `${c}-api and ${c}-base running`, (cs) => sameRunning(cs, [`${c}-api`, `${c}-base`]));

    // Fill the disk: the write fails at the flush and the temporary file is removed.
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${path.join(runtime, "filler")}`, "bs=4k"], { stdio: "ignore" });
    } catch {
      // dd stops with "No space left on device": the disk is full now.
    }
    const padded = e2eSpec(`${c}-big`, [`env: { PAD: "${"x".repeat(16 * 1024)}" }`]);
    const full = await put(controller.url, `${c}-big`, padded);
    expect(full.status).toBe(507);
    expect(full.body.error).toBe(
      `the disk under the runtime spec directory ${runtime} is full (ENOSPC); nothing was written`,
    );
    expect(readdirSync(runtime).sort()).toEqual([`${c}-api.yaml`, "filler"]);

    execFileSync("mount", ["-o", "remount,ro", runtime]);
    const readOnly = await put(controller.url, `${c}-other`, e2eSpec(`${c}-other`));
    expect(readOnly.status).toBe(503);
    expect(readOnly.body.error).toBe(
      `the runtime spec directory ${runtime} is on a read-only filesystem (EROFS); nothing was written`,
    );
    const del = await fetch(`${controller.url}/v1/specs/${c}-api`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(del.status).toBe(503);
    expect(readdirSync(runtime).sort()).toEqual([`${c}-api.yaml`, "filler"]);
    // And the controller carried on: both containers still run.
    expect((await containersOf(c)).map((x) => x.state)).toEqual(["running", "running"]);
  });
});
