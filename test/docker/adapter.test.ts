/** The Docker adapter against the real engine: our types out, our error kinds, events. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, describe, expect, it } from "vitest";
import { buildCreateBody } from "../../src/core/create-request.js";
import { specHash } from "../../src/core/hash.js";
import { labelKeys } from "../../src/core/labels.js";
import { ownership } from "../../src/core/ownership.js";
import { DockerAdapter } from "../../src/docker/adapter.js";
import { DockerError } from "../../src/docker/errors.js";
import type { DockerEvent } from "../../src/docker/port.js";
import { buildPolicy } from "../../src/config.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../src/manifest/parse.js";
import { TEST_IMAGE } from "./global-setup.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { pollUntil } from "../support/poll.js";

const ID = `adapter-${process.pid}`;
const KEYS = labelKeys("berth");
const docker = new Docker();
const adapter = new DockerAdapter();
const created: string[] = [];

afterAll(async () => {
  for (const id of created)
    await docker
      .getContainer(id)
      .remove({ force: true })
      .catch(() => undefined);
});

function richSpec(name: string) {
  const text = [
    "apiVersion: berth/v1",
    "kind: Container",
    "metadata:",
    `  name: ${name}`,
    "  labels: { com.example.team: infra }",
    "spec:",
    `  image: ${TEST_IMAGE}`,
    '  command: ["sh", "-c", "touch /tmp/ready; exec sleep 300"]',
    "  init: true",
    "  workingDir: /workspace",
    '  user: "1000:1000"',
    "  hostname: rich-host",
    "  env: { MODE: test }",
    "  secretEnv: { TOKEN: { fromHostEnv: TOKEN } }",
    "  mounts:",
    `    - { type: bind, source: ${mkdtempSync(path.join(tmpdir(), "berth-bind-"))}, target: /workspace, readOnly: true }`,
    `    - { type: volume, source: berth-test-vol-${process.pid}, target: /data }`,
    "    - { type: tmpfs, target: /tmp, size: 8Mi }",
    "  resources: { cpus: 250m, memory: 64Mi, memoryReservation: 32Mi, pids: 50 }",
    "  restartPolicy: OnFailure",
    "  healthcheck: { command: [test, -f, /tmp/ready], interval: 1s, timeout: 1s, retries: 2, startPeriod: 1s }",
    "  securityContext: { readOnlyRootFilesystem: true, capDrop: [ALL], capAdd: [CHOWN], noNewPrivileges: true }",
    "  ports: [{ containerPort: 8080 }]",
    "  stopTimeout: 3s",
    "",
  ].join("\n");
  // Admitted by the default policy once the bind mount's folder is allowed, as an operator would.
  const parsed = parseSpecText(text, "rich.yaml", {
    ...DEFAULT_PARSE_OPTIONS,
    policy: buildPolicy({ allowBind: [tmpdir()] }),
  });
  expect(parsed.issues).toEqual([]);
  return (parsed.documents[0] as { spec: Parameters<typeof specHash>[0] }).spec;
}

describe("DockerAdapter (real engine)", () => {
  it("says which engine it talks to", async () => {
    const v = await docker.version();
    expect(await adapter.engine()).toEqual({ version: v.Version, apiVersion: v.ApiVersion });
  });

  it("creates a container with every spec field applied, and lists it with our types", async () => {
    const name = `${ID}-rich`;
    const spec = richSpec(name);
    const hash = specHash(spec, { TOKEN: "digest" });
    const body = buildCreateBody(spec, {
      owner: ownership(KEYS, ID),
      replica: 0,
      hash,
      source: "rich.yaml",
      secretValues: { TOKEN: "s3cret" },
      network: "bridge",
    });
    const id = await adapter.createContainer(name, body);
    created.push(id);
    await adapter.startContainer(id);

    const info = await docker.getContainer(id).inspect();
    expect(info.Name).toBe(`/${name}`);
    expect(info.Config.Labels).toMatchObject({
      "com.example.team": "infra",
      [KEYS.controller]: ID,
      [KEYS.spec]: name,
      [KEYS.replica]: "0",
      [KEYS.hash]: hash,
      [KEYS.expiresAt]: "never",
      [KEYS.source]: "rich.yaml",
    });
    expect(info.Config.Env).toEqual(expect.arrayContaining(["MODE=test", "TOKEN=s3cret"]));
    expect(info.Config.User).toBe("1000:1000");
    expect(info.Config.WorkingDir).toBe("/workspace");
    expect(info.Config.Hostname).toBe("rich-host");
    expect(info.Config.Healthcheck).toEqual({
      Test: ["CMD", "test", "-f", "/tmp/ready"],
      Interval: 1e9,
      Timeout: 1e9,
      Retries: 2,
      StartPeriod: 1e9,
    });
    expect((info.Config as { StopTimeout?: number }).StopTimeout).toBe(3);
    expect(info.HostConfig.Memory).toBe(64 * 2 ** 20);
    expect(info.HostConfig.MemoryReservation).toBe(32 * 2 ** 20);
    expect(info.HostConfig.NanoCpus).toBe(250_000_000);
    expect(info.HostConfig.PidsLimit).toBe(50);
    expect(info.HostConfig.RestartPolicy).toEqual({ Name: "on-failure", MaximumRetryCount: 0 });
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(info.HostConfig.CapAdd).toEqual(["CHOWN"]);
    expect(info.HostConfig.SecurityOpt).toEqual(["no-new-privileges"]);
    expect(info.HostConfig.NetworkMode).toBe("bridge");
    const mounts = info.Mounts.map((m) => [m.Type, m.Destination, m.RW]).sort();
    expect(mounts).toEqual([
      ["bind", "/workspace", false],
      ["tmpfs", "/tmp", true],
      ["volume", "/data", true],
    ]);
    expect((info.HostConfig as { Mounts?: unknown[] }).Mounts).toEqual(
      expect.arrayContaining([{ Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 8 * 2 ** 20 } }]),
    );

    const listed = await adapter.listContainers({ labels: [`${KEYS.controller}=${ID}`] });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id, name, state: "running", exitCode: null, image: TEST_IMAGE });
    expect(listed[0]?.imageId).toMatch(/^sha256:/);
    expect(listed[0]?.imageId).toBe(await adapter.inspectImage(TEST_IMAGE));

    const healthy = await pollUntil(async () => (await adapter.inspectContainer(id))?.health === "healthy", 20_000);
    expect(healthy).toBe(true);
    expect((await adapter.listContainers({ labels: [`${KEYS.controller}=${ID}`] }))[0]?.health).toBe("healthy");
    await adapter.removeContainer(id, { force: true });
    await docker
      .getVolume(`berth-test-vol-${process.pid}`)
      .remove()
      .catch(() => undefined);
  });

  it("starts, stops (twice), renames, inspects and removes; 404 is not-found", async () => {
    const name = `${ID}-life`;
    const id = await adapter.createContainer(name, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Env: [],
      Labels: { [KEYS.controller]: `${ID}-life` },
      StopTimeout: 1,
      HostConfig: { NetworkMode: "none", RestartPolicy: { Name: "no", MaximumRetryCount: 0 }, Init: true },
    });
    created.push(id);
    expect((await adapter.inspectContainer(id))?.state).toBe("created");
    await adapter.startContainer(id);
    expect((await adapter.inspectContainer(name))?.state).toBe("running");
    await adapter.stopContainer(id, 1);
    await adapter.stopContainer(id, 1); // already stopped: not an error
    const stopped = await adapter.inspectContainer(id);
    expect(stopped?.state).toBe("exited");
    expect(stopped?.exitCode).toBe(143);
    await adapter.renameContainer(id, `${name}-renamed`);
    expect((await adapter.inspectContainer(id))?.name).toBe(`${name}-renamed`);
    const listed = await adapter.listContainers({ labels: [`${KEYS.controller}=${ID}-life`] });
    expect(listed.map((c) => [c.name, c.state, c.exitCode])).toEqual([[`${name}-renamed`, "exited", 143]]);
    await adapter.removeContainer(id, { force: false });
    expect(await adapter.inspectContainer(id)).toBeNull();
    await expect(adapter.startContainer(id)).rejects.toMatchObject({ kind: "not-found", operation: "start" });
    await expect(adapter.removeContainer(id, { force: true })).rejects.toMatchObject({ kind: "not-found" });
  });

  it("starts a container already started: running, or restarting under its restart policy (the engine's 304)", async () => {
    const name = `${ID}-crashloop`;
    const id = await adapter.createContainer(name, {
      Image: TEST_IMAGE,
      Cmd: ["sh", "-c", "exit 3"],
      Env: [],
      Labels: { [KEYS.controller]: `${ID}-crashloop` },
      StopTimeout: 1,
      HostConfig: { NetworkMode: "none", RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 }, Init: true },
    });
    created.push(id);
    await adapter.startContainer(id);
    // Crash-looping: the engine restarts it after a growing delay, and says "restarting" meanwhile.
    expect(await pollUntil(async () => (await adapter.inspectContainer(id))?.state === "restarting", 20_000)).toBe(
      true,
    );
    expect((await adapter.inspectContainer(id))?.exitCode).toBe(3);
    await adapter.startContainer(id);
    const raw = await docker.getContainer(id).inspect();
    expect(raw.State.Restarting || raw.State.Running).toBe(true);
  });

  it("creates a labelled volume and reads it back (the existing one when the name is taken); a missing one is null", async () => {
    const name = `${ID}-vol`;
    try {
      expect(await adapter.inspectVolume(name)).toBeNull();
      const made = await adapter.createVolume(name, { [KEYS.controller]: ID });
      expect(made).toEqual({ name, driver: "local", labels: { [KEYS.controller]: ID }, options: {} });
      // Creating it again answers with the volume the engine already holds, labels unchanged.
      expect(await adapter.createVolume(name, { other: "x" })).toEqual(made);
      expect(await adapter.inspectVolume(name)).toEqual(made);
      // A container using it lists the volume among its observed mounts.
      const id = await adapter.createContainer(`${ID}-vol-user`, {
        Image: TEST_IMAGE,
        Cmd: ["true"],
        Env: [],
        StopTimeout: 1,
        Labels: { [KEYS.controller]: `${ID}-vol` },
        HostConfig: {
          NetworkMode: "none",
          RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
          Mounts: [{ Type: "volume", Source: name, Target: "/data" }],
        },
      });
      created.push(id);
      const [listed] = await adapter.listContainers({ labels: [`${KEYS.controller}=${ID}-vol`] });
      expect(listed?.mounts).toEqual([{ type: "volume", source: name, target: "/data", rw: true }]);
      await adapter.removeContainer(id, { force: true });
    } finally {
      await docker
        .getVolume(name)
        .remove()
        .catch(() => undefined);
    }
  });

  it("maps a taken name to conflict, and a missing image to image-missing", async () => {
    const name = `${ID}-dup`;
    const body = {
      Image: TEST_IMAGE,
      Cmd: ["true"],
      Env: [],
      Labels: {},
      StopTimeout: 1,
      HostConfig: { NetworkMode: "none", RestartPolicy: { Name: "no" as const, MaximumRetryCount: 0 as const } },
    };
    created.push(await adapter.createContainer(name, body));
    const conflict = await adapter.createContainer(name, body).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(DockerError);
    expect(conflict).toMatchObject({ kind: "conflict", statusCode: 409 });
    expect((conflict as Error).message).toContain("is already in use");
    const missing = await adapter
      .createContainer(`${ID}-noimg`, { ...body, Image: "berth-test/absent:nope" })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ kind: "image-missing", statusCode: 404 });
    expect(await adapter.inspectImage("berth-test/absent:nope")).toBeNull();
  });

  it("lists local images by normalized reference", async () => {
    const { ids: images } = await adapter.listImages();
    expect(images.get(TEST_IMAGE)).toMatch(/^sha256:/);
    expect(images.get("busybox:latest")).toBe(images.get(TEST_IMAGE));
  });

  it("lists berth.local tags with their labels, and removes a tag without touching the image's other tags", async () => {
    const repo = `berth.local/${ID}`;
    const busybox = await adapter.inspectImage(TEST_IMAGE);
    // A build of this id, made here by committing a container (labels as berth gives its builds).
    const source = await docker.createContainer({ Image: TEST_IMAGE, name: `${ID}-commit`, Cmd: ["true"] });
    try {
      await source.commit({ repo, tag: "a", changes: ['LABEL berth.built_by="x" berth.built_for="y"'] });
      await docker.getImage(`${repo}:a`).tag({ repo, tag: "b" });
      const { ids, built } = await adapter.listImages();
      const mine = built.filter((b) => b.tag.startsWith(`${repo}:`)).sort((x, y) => (x.tag < y.tag ? -1 : 1));
      expect(mine.map((b) => b.tag)).toEqual([`${repo}:a`, `${repo}:b`]);
      expect(mine[0]?.labels).toMatchObject({ "berth.built_by": "x", "berth.built_for": "y" });
      expect(mine[0]?.createdAt).toBeGreaterThan(Date.now() - 3_600_000);
      expect(ids.get(`${repo}:a`)).toBe(mine[0]?.id);
      // Not in built: images without a berth.local tag.
      expect(built.some((b) => b.tag === TEST_IMAGE)).toBe(false);

      await adapter.removeImage(`${repo}:a`);
      expect(await adapter.inspectImage(`${repo}:a`)).toBeNull();
      expect(await adapter.inspectImage(`${repo}:b`)).toBe(mine[0]?.id);
      // A tag already gone is no error.
      await adapter.removeImage(`${repo}:a`);
      // The last tag of an image a container uses: the engine refuses, a conflict.
      const user = await docker.createContainer({ Image: `${repo}:b`, name: `${ID}-user`, Cmd: ["true"] });
      try {
        await expect(adapter.removeImage(`${repo}:b`)).rejects.toMatchObject({ kind: "conflict", statusCode: 409 });
      } finally {
        await user.remove({ force: true });
      }
      await adapter.removeImage(`${repo}:b`);
      expect(await adapter.inspectImage(`${repo}:b`)).toBeNull();
      expect(await adapter.inspectImage(TEST_IMAGE)).toBe(busybox);
    } finally {
      await source.remove({ force: true });
      for (const tag of ["a", "b"])
        await docker
          .getImage(`${repo}:${tag}`)
          .remove({ force: true })
          .catch(() => undefined);
    }
  });

  it("sends the create body only in the request body: the URL carries the name alone (no secret in a request line)", async () => {
    const proxy = await FaultProxy.start();
    try {
      const viaProxy = new DockerAdapter({ connection: { socketPath: proxy.socketPath } });
      const name = `${ID}-url`;
      const id = await viaProxy.createContainer(name, {
        Image: TEST_IMAGE,
        Cmd: ["true"],
        Env: ["TOKEN=very-secret-value"],
        Labels: {},
        StopTimeout: 1,
        HostConfig: { NetworkMode: "none", RestartPolicy: { Name: "no", MaximumRetryCount: 0 } },
      });
      created.push(id);
      expect(proxy.seen.filter((r) => r.method === "POST").map((r) => r.path)).toEqual([
        `/containers/create?name=${name}`,
      ]);
      expect((await docker.getContainer(id).inspect()).Config.Env).toContain("TOKEN=very-secret-value");
    } finally {
      await proxy.close();
    }
  });

  it("reports a failed pull as an error naming the image", async () => {
    const err = await adapter.pullImage("127.0.0.1:9/berth-nothing:latest").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerError);
    expect((err as Error).message).toMatch(/^Docker pull 127\.0\.0\.1:9\/berth-nothing:latest: .*connection refused/);
  });

  it("streams container events filtered by label", async () => {
    const events: DockerEvent[] = [];
    let closed = false;
    let opened = false;
    const sub = adapter.subscribeEvents(
      { labels: [`${KEYS.controller}=${ID}-events`] },
      { onOpen: () => (opened = true), onEvent: (e) => events.push(e), onClose: () => (closed = true) },
    );
    try {
      // The stream says when it is open; only events after that are guaranteed to arrive.
      expect(await pollUntil(() => opened, 5000)).toBe(true);
      // Another controller's container: its events must not arrive.
      const other = await docker.createContainer({
        Image: TEST_IMAGE,
        Cmd: ["true"],
        Labels: { [KEYS.controller]: `${ID}-other` },
      });
      created.push(other.id);
      const ours = await docker.createContainer({
        Image: TEST_IMAGE,
        Cmd: ["true"],
        Labels: { [KEYS.controller]: `${ID}-events` },
      });
      created.push(ours.id);
      await ours.start();
      expect(await pollUntil(() => events.some((e) => e.action === "die"), 10_000)).toBe(true);
      expect(new Set(events.map((e) => e.id))).toEqual(new Set([ours.id]));
      expect(events.map((e) => e.action).slice(0, 2)).toEqual(["create", "start"]);
      expect(events[0]?.labels[KEYS.controller]).toBe(`${ID}-events`);
    } finally {
      sub.close();
    }
    expect(closed).toBe(false); // closing it ourselves is not a failure to report
  });
});
