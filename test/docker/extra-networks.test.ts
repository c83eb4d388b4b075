/**
 * `extraNetworks` against the real engine, through the built CLI: a container joins its primary
 * network and every extra one at create, answers to its name on each (another container resolves
 * and reaches it there), and `berth get` shows an address per network. Adding a network later is
 * a new container (the hash changes); the network berth made goes with the test.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { declared } from "../golden/invalid-cases.js";
import { berth, cleanup, docker, e2eSpec, specDir, testId } from "../support/e2e.js";

const made: { id: string; networks: string[] }[] = [];
afterEach(async () => {
  for (const { id, networks } of made.splice(0)) {
    await cleanup(id);
    for (const name of networks) {
      const net = (await docker
        .getNetwork(name)
        .inspect()
        .catch(() => null)) as { Labels?: Record<string, string> } | null;
      // Only the networks this test's controller made.
      if (net?.Labels?.["berth.controller"] === id)
        await docker
          .getNetwork(name)
          .remove()
          .catch(() => undefined);
    }
  }
});

async function apply(id: string, dir: string): Promise<string> {
  const result = await berth(["apply", "--id", id, "--specs", dir, "--timeout", "60s"]);
  expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
  return result.stdout;
}

describe("extraNetworks, end to end", () => {
  it("joins the primary and the extra networks, answers to its name on each, and shows both addresses", async () => {
    const c = testId("xnet");
    const front = `${c}-front`;
    const back = `${c}-back`;
    made.push({ id: c, networks: [front, back] });
    const app = `${c}-app`;
    const probe = `${c}-probe`;
    const dir = specDir({
      "networks.yaml": `${declared("Network", front)}---\n${declared("Network", back)}`,
      "app.yaml": e2eSpec(app, [`network: ${front}`, `extraNetworks: [${back}]`]),
      // Only on the extra network: it can reach app there, by app's name.
      "probe.yaml": e2eSpec(probe, [`network: ${back}`]),
    });
    await apply(c, dir);

    const inspected = await docker.getContainer(app).inspect();
    const networks = inspected.NetworkSettings.Networks as Record<
      string,
      { Aliases: string[] | null; IPAddress: string }
    >;
    expect(Object.keys(networks).sort()).toEqual([back, front].sort());
    expect(networks[back]?.Aliases).toContain(app);
    expect(networks[front]?.Aliases).toContain(app);

    // Name resolution on the extra network: the probe, which is only there, reaches app by name.
    const exec = await docker.getContainer(probe).exec({
      Cmd: ["ping", "-c", "1", "-W", "5", app],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({});
    await new Promise((resolve) => stream.on("end", resolve).resume());
    expect((await exec.inspect()).ExitCode).toBe(0);

    // berth get: an address per network.
    const got = await berth(["get", app, "--id", c, "--specs", dir, "-o", "json"]);
    expect(got.code, got.stderr).toBe(0);
    const text = got.stdout;
    expect(text).toContain(networks[front]?.IPAddress ?? "missing");
    expect(text).toContain(networks[back]?.IPAddress ?? "missing");

    // Dropping the extra network is a change of the container (a new hash): replaced, on front only.
    writeFileSync(path.join(dir, "app.yaml"), e2eSpec(app, [`network: ${front}`]));
    expect(await apply(c, dir)).toMatch(/replace .*app/);
    const after = await docker.getContainer(app).inspect();
    expect(Object.keys(after.NetworkSettings.Networks)).toEqual([front]);
  });
});
