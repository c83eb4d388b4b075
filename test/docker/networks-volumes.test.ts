/**
 * Declared networks and volumes (`kind: Network`, `kind: Volume`) against the real engine, through
 * the built CLI: created with berth's labels, used by a container that converges, kept while a
 * container uses them after their document is gone (and status and plan say why), removed once
 * unused.
 */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { declared } from "../golden/invalid-cases.js";
import { berth, cleanup, containersOf, docker, e2eSpec, specDir, testId } from "../support/e2e.js";

const used: { id: string; names: string[] }[] = [];
afterEach(async () => {
  for (const { id, names } of used.splice(0)) {
    await cleanup(id);
    // Only the networks this test declared, and only while they carry its controller id.
    for (const name of names) {
      const net = await docker
        .getNetwork(name)
        .inspect()
        .catch(() => null);
      if ((net as { Labels?: Record<string, string> } | null)?.Labels?.["berth.controller"] === id) {
        await docker
          .getNetwork(name)
          .remove()
          .catch(() => undefined);
      }
    }
  }
});

async function apply(controller: string, dir: string): Promise<string> {
  const result = await berth(["apply", "--id", controller, "--specs", dir]);
  expect(result.stderr).toBe("");
  expect(result.code, result.stdout).toBe(0);
  return result.stdout;
}

async function networkNamed(name: string): Promise<{ Labels: Record<string, string>; Internal: boolean } | null> {
  return (await docker
    .getNetwork(name)
    .inspect()
    .catch(() => null)) as { Labels: Record<string, string>; Internal: boolean } | null;
}

describe("kind: Network and kind: Volume, end to end", () => {
  it("creates the declared network and volume, converges a container using both, and removes the network only once unused", async () => {
    const c = testId("netvol");
    const net = `${c}-net`;
    const vol = `${c}-vol`;
    used.push({ id: c, names: [net] });
    const app = `${c}-app`;
    const anchor = `${c}-anchor`;
    const dir = specDir({
      "objects.yaml": `${declared("Network", net, "internal: true")}---\n${declared("Volume", vol)}`,
      "app.yaml": e2eSpec(app, [`network: ${net}`, "mounts:", `  - { type: volume, source: ${vol}, target: /data }`]),
      // A second spec, so that removing one spec's container stays within the prune share.
      "anchor.yaml": e2eSpec(anchor),
    });

    const first = await apply(c, dir);
    expect(first).toMatch(/create {2}network .*-net: not found/);
    const network = await networkNamed(net);
    expect(network?.Internal).toBe(true);
    expect(network?.Labels["berth.controller"]).toBe(c);
    expect(network?.Labels["berth.object"]).toBe("Network");
    const volume = (await docker.getVolume(vol).inspect()) as { Labels: Record<string, string> };
    expect(volume.Labels["berth.controller"]).toBe(c);
    const inspected = await docker.getContainer(app).inspect();
    expect(inspected.State.Running).toBe(true);
    expect(Object.keys(inspected.NetworkSettings.Networks)).toEqual([net]);
    expect(inspected.Mounts.find((m) => m.Destination === "/data")?.Name).toBe(vol);

    // The network's document goes while the container still uses it: nothing is removed, and why is said.
    writeFileSync(path.join(dir, "objects.yaml"), declared("Volume", vol));
    const plan = await berth(["plan", "--id", c, "--specs", dir]);
    expect(plan.stdout).toContain(
      `! network ${net}: its document is gone, but it is kept while containers use it (${app})`,
    );
    await apply(c, dir);
    expect(await networkNamed(net)).not.toBeNull();
    const status = await berth(["status", "--id", c, "--specs", dir, "--server", "off", "-o", "json"]);
    const report = JSON.parse(status.stdout) as { objects: { name: string; state: string; message: string }[] };
    expect(report.objects.find((o) => o.name === net)).toMatchObject({
      state: "Orphaned",
      message: expect.stringContaining("kept while containers use it") as string,
    });

    // The container's spec goes too: the container is removed, then the network.
    rmSync(path.join(dir, "app.yaml"));
    await apply(c, dir);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([anchor]);
    expect(await networkNamed(net)).toBeNull();
    // The declared volume stays: its document is still there.
    expect(((await docker.getVolume(vol).inspect()) as { Name: string }).Name).toBe(vol);
  });

  it("a container naming a network that is neither declared nor present fails with a clear message, creating nothing", async () => {
    const c = testId("nonet");
    used.push({ id: c, names: [] });
    const dir = specDir({ "app.yaml": e2eSpec(`${c}-app`, [`network: ${c}-nowhere`]) });
    const result = await berth(["apply", "--id", c, "--specs", dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `network ${c}-nowhere does not exist and no kind: Network document declares it; declare it (kind: Network, metadata.name: ${c}-nowhere) or create it`,
    );
    expect(await containersOf(c)).toEqual([]);
  });
});
