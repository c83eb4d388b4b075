/**
 * `--target swarm` on a two-node swarm, through the built CLI: two private dockerds, each in a
 * network namespace of this file's own (test/support/netns.ts: its own hostname, loopback up),
 * linked by a veth pair on 10.213.1.0/24; node-a inits the swarm on 10.213.1.1, node-b joins it as
 * a worker through the Engine API (POST /swarm/join with the worker token); the nodes carry the
 * labels zone=a and zone=b. A registry with htpasswd auth runs in node-a's namespace on 10.213.1.1:5000 (both
 * engines are told it is insecure). Never the shared engine, never the host's interfaces.
 * - registry credentials: a service of an image only the registry has converges on node-b with the
 *   credentials of Docker's config.json (sent as X-Registry-Auth, shown nowhere), and fails with
 *   the actionable message without them;
 * - `kind: Network` documents are overlay networks, labelled, attachable; services join them by
 *   name and a task on node-b reaches one on node-a through it; a deleted document's network goes;
 * - a placement constraint puts the tasks on the labelled node; when node-b's engine stops, the
 *   tasks Swarm may move run on node-a, and status says why the constrained ones cannot run.
 */
import { randomUUID } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, specDir, TEST_IMAGE, testId } from "../support/e2e.js";
import { pollValue } from "../support/poll.js";
import type { PrivateDockerd } from "../support/private-dockerd.js";
import { SwarmCluster } from "../support/swarm-cluster.js";
import {
  labelledImage,
  type LocalRegistry,
  pushAs,
  registryBinary,
  type RegistryUser,
  startRegistry,
} from "../support/registry.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const SUBNET = "10.213.1";
const REGISTRY = `${SUBNET}.1:5000`;
const user: RegistryUser = { username: "berth", password: `pw-${randomUUID()}` };

let cluster: SwarmCluster | undefined;
let registry: LocalRegistry | undefined;
let nodeA: PrivateDockerd;
let nodeB: PrivateDockerd;
/** An image only the registry has (pushed with the user's credentials, then untagged on node-a). */
let privateRef = "";

beforeAll(async () => {
  const binary = registryBinary();
  if (binary === null)
    throw new Error("docker-registry is not installed: run `bash scripts/ensure-docker.sh` (it apt-get installs it)");
  cluster = await SwarmCluster.start([TEST_IMAGE], { subnet: SUBNET, args: ["--insecure-registry", REGISTRY] });
  ({ manager: nodeA, worker: nodeB } = cluster);
  registry = await startRegistry(binary, user, { namespace: cluster.namespaces[0], address: cluster.addresses[0] });
  const imageId = await labelledImage(nodeA.docker, TEST_IMAGE, `swarm-cluster-${process.pid}`);
  privateRef = `${REGISTRY}/berth-test/private:cluster-${process.pid}`;
  await pushAs(nodeA.docker, imageId, privateRef, user);
  await nodeA.docker.getImage(privateRef).remove();
}, 180_000);

afterAll(async () => {
  // destroy removes each private daemon with its swarm: every service in it is this file's.
  await cluster?.destroy();
  await registry?.stop();
}, 60_000);

interface StatusRow {
  readonly name: string;
  readonly phase: string;
  readonly message: string;
  readonly running: number;
  readonly desired: number;
  readonly nodes: readonly string[];
  readonly lastError: string | null;
}

const state = (id: string) => path.join(tempDir(`berth-swarm-${id}-`), "state");

function swarm(args: readonly string[], env: Record<string, string> = {}) {
  return berth([...args, "--target", "swarm"], { DOCKER_HOST: nodeA.dockerHost, ...env });
}

async function status(id: string, dir: string, env: Record<string, string> = {}): Promise<StatusRow[]> {
  const out = await swarm(["status", "--id", id, "-f", dir, "-o", "json"], env);
  return (JSON.parse(out.stdout) as { specs: StatusRow[] }).specs;
}

const sleeper = (name: string, image: string, extra: readonly string[] = []): string =>
  specText(name, { image, extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s", ...extra] });

const b64 = (text: string): string => Buffer.from(text).toString("base64");

describe("berth --target swarm on a two-node swarm", () => {
  it("sends the registry credentials with the service, so node-b pulls a private image; without them the message says what to do", async () => {
    const id = testId("swarm-auth");
    const env = { BERTH_STATE_DIR: state(id) };
    const name = `${id}-app`;
    const dir = specDir({
      "app.yaml": sleeper(name, privateRef, ["replicas: 2", 'placement: { constraints: ["node.labels.zone==b"] }']),
    });

    const without = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "3s"], {
      ...env,
      DOCKER_CONFIG: tempDir("berth-docker-config-"),
    });
    expect(without.code).toBe(1);
    expect(without.stdout).toContain(`failed create  service ${name}: not found`);
    expect(without.stdout).toContain(`the registry ${REGISTRY} refused the pull of ${privateRef} (`);
    expect(without.stdout).toContain(`berth found no credentials for ${REGISTRY}`);
    expect(without.stdout).toContain(`run docker login ${REGISTRY}`);
    expect(await nodeA.docker.listServices({ filters: { label: [`berth.controller=${id}`] } })).toEqual([]);

    const config = tempDir("berth-docker-config-");
    writeFileSync(
      path.join(config, "config.json"),
      JSON.stringify({ auths: { [REGISTRY]: { auth: b64(`${user.username}:${user.password}`) } } }),
    );
    const withAuth = { ...env, DOCKER_CONFIG: config, BERTH_LOG_LEVEL: "debug" };
    const applied = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "90s"], withAuth);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const rows = await status(id, dir, withAuth);
    expect(rows).toMatchObject([{ name, phase: "Running", running: 2, desired: 2, nodes: ["node-b"] }]);
    // Only node-b ran the tasks: it pulled the image itself, with the credentials Swarm handed on.
    const pulled = (await nodeB.docker.listImages()).flatMap((i) => i.RepoDigests ?? []);
    expect(pulled).toContainEqual(expect.stringMatching(`^${REGISTRY}/berth-test/private@sha256:`));
    const inspected = JSON.stringify(
      await Promise.all(
        (await nodeA.docker.listServices({ filters: { label: [`berth.controller=${id}`] } })).map((s) =>
          nodeA.docker.getService(s.ID).inspect(),
        ),
      ),
    );
    // Pinned to the digest the registry serves, as docker service create does.
    expect(inspected).toMatch(new RegExp(`"Image":"${privateRef.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64}"`));
    for (const text of [applied.stdout, applied.stderr, inspected, JSON.stringify(rows)]) {
      expect(text).not.toContain(user.password);
      expect(text).not.toContain(b64(`${user.username}:${user.password}`));
    }
  }, 150_000);

  it("makes kind: Network documents overlay networks that services on both nodes join by name, and prunes a deleted one", async () => {
    const id = testId("swarm-net");
    const env = { BERTH_STATE_DIR: state(id) };
    const [front, back, server, client] = [`${id}-front`, `${id}-back`, `${id}-srv`, `${id}-cli`];
    const network = (name: string): string =>
      ["apiVersion: berth/v1", "kind: Network", "metadata:", `  name: ${name}`, ""].join("\n");
    const dir = specDir({
      "front.yaml": network(front),
      "back.yaml": network(back),
      "srv.yaml": sleeper(server, TEST_IMAGE, [
        `network: ${back}`,
        'placement: { constraints: ["node.role==manager"] }',
      ]),
      "cli.yaml": sleeper(client, TEST_IMAGE, [
        `network: ${back}`,
        'placement: { constraints: ["node.labels.zone==b"] }',
      ]),
    });
    const applied = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "90s"], env);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`ok create  network ${back}: not found`);
    const made = (await nodeA.docker.listNetworks({ filters: { label: [`berth.controller=${id}`] } })).sort((x, y) =>
      x.Name < y.Name ? -1 : 1,
    );
    expect(made.map((n) => [n.Name, n.Driver, n.Scope, n.Attachable, n.Labels?.["berth.object"]])).toEqual([
      [back, "overlay", "swarm", true, "Network"],
      [front, "overlay", "swarm", true, "Network"],
    ]);
    const joined = (await nodeA.docker.getService(client).inspect()) as {
      Spec: { TaskTemplate: { Networks?: { Target: string }[] } };
    };
    expect(joined.Spec.TaskTemplate.Networks?.map((n) => n.Target)).toEqual([made[0]?.Id]);
    expect(await status(id, dir, env)).toMatchObject([
      { name: client, phase: "Running", nodes: ["node-b"] },
      { name: server, phase: "Running", nodes: ["node-a"] },
    ]);
    expect((await swarm(["plan", "--id", id, "-f", dir], env)).stdout).toBe("nothing to do\n");

    // The overlay carries traffic between the nodes: the client's task on node-b pings the
    // server's task on node-a by its service's DNS name (tasks.NAME: the tasks' own addresses).
    const task = (
      await nodeB.docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${client}`] } })
    )[0];
    expect(task).toBeDefined();
    const reached = await pollValue(
      async () => {
        const exec = await nodeB.docker
          .getContainer(task?.Id ?? "")
          .exec({ Cmd: ["ping", "-c", "1", "-W", "1", `tasks.${server}`] });
        const stream = await exec.start({});
        stream.resume();
        await new Promise((resolve) => stream.on("end", resolve));
        return (await exec.inspect()).ExitCode;
      },
      (code) => code === 0,
      30_000,
      500,
    );
    expect(reached).toBe(0);

    // The unused network's document is deleted: its network goes; the one in use stays.
    rmSync(path.join(dir, "front.yaml"));
    const pruned = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "60s"], env);
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain(`ok remove  network ${front}: orphaned`);
    const left = await nodeA.docker.listNetworks({ filters: { label: [`berth.controller=${id}`] } });
    expect(left.map((n) => n.Name)).toEqual([back]);
  }, 150_000);

  // Last: it stops node-b's engine.
  it("places constrained tasks on the labelled node; when that node's engine stops, the others move and status says why the constrained cannot", async () => {
    const id = testId("swarm-nodes");
    const env = { BERTH_STATE_DIR: state(id) };
    const [pinned, free] = [`${id}-zone-b`, `${id}-free`];
    const dir = specDir({
      "pinned.yaml": sleeper(pinned, TEST_IMAGE, [
        "replicas: 2",
        'placement: { constraints: ["node.labels.zone==b"] }',
      ]),
      "free.yaml": sleeper(free, TEST_IMAGE, [
        "replicas: 2",
        'placement: { preferences: [{ spread: "node.labels.zone" }] }',
      ]),
    });
    const applied = await swarm(["apply", "--id", id, "-f", dir, "--timeout", "90s"], env);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(await status(id, dir, env)).toMatchObject([
      { name: free, phase: "Running", running: 2, nodes: ["node-a", "node-b"] },
      { name: pinned, phase: "Running", running: 2, nodes: ["node-b"] },
    ]);

    await nodeB.stop();
    const after = await pollValue(
      () => status(id, dir, env),
      (rows) =>
        rows.find((r) => r.name === free)?.nodes.join() === "node-a" &&
        rows.find((r) => r.name === free)?.running === 2 &&
        (rows.find((r) => r.name === pinned)?.lastError ?? "").includes("no suitable node"),
      90_000,
      500,
    );
    expect(after).toMatchObject([
      { name: free, phase: "Running", running: 2, nodes: ["node-a"] },
      { name: pinned, phase: "Pending", running: 0, desired: 2, nodes: [] },
    ]);
    const table = await swarm(["status", "--id", id, "-f", dir], env);
    expect(table.stdout).toMatch(
      new RegExp(
        `${pinned}\\s+Pending\\s+0/2\\s+-\\s+never\\s+0/2 tasks running; last task error: no suitable node \\(`,
      ),
    );
  }, 180_000);
});
