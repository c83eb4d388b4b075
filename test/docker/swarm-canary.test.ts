/**
 * Canaries under `--target swarm` (docs/swarm.md, "Canaries"), end to end through the built CLI on
 * a one-node swarm in a private dockerd:
 * - `updatePartition: 2` of 3 replicas, with a new version: the spec's service keeps 2 tasks of
 *   its version (the same service, not updated), `NAME_canary` runs 1 task of the new one,
 *   labelled as the spec's canaries, on the same overlay network under the alias NAME: `NAME`
 *   resolves to both services' addresses;
 * - plan, status, get, rollout status and logs say so, each in its own words;
 * - lowered to 0: the spec's service is updated to the new version at 3 tasks, and the canaries'
 *   service goes once it has; a later plan has nothing to do.
 */
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { berth, specDir, TEST_IMAGE, testId } from "../support/e2e.js";
import { pollValue } from "../support/poll.js";
import { privateSwarmPerFile, runningTaskEnvs, servicesOf } from "../support/private-swarm.js";
import { specText } from "../support/specs.js";

const daemon = privateSwarmPerFile([TEST_IMAGE]);

const swarm = (args: readonly string[]) =>
  berth([...args, "--target", "swarm"], {
    DOCKER_HOST: daemon().dockerHost,
    BERTH_STATE_DIR: path.join(daemon().dir, "state"),
  });

/** The addresses a service's virtual IP has on a network, without the prefix length. */
async function vipsOn(serviceName: string, networkName: string): Promise<string[]> {
  const docker = daemon().docker;
  const network = (await docker.getNetwork(networkName).inspect()) as { Id: string };
  const service = (await docker.getService(serviceName).inspect()) as {
    Endpoint?: { VirtualIPs?: { NetworkID: string; Addr: string }[] };
  };
  return (service.Endpoint?.VirtualIPs ?? [])
    .filter((v) => v.NetworkID === network.Id)
    .map((v) => v.Addr.replace(/\/\d+$/, ""));
}

/** A running task's container of a service. */
async function aTaskContainer(serviceName: string): Promise<string> {
  const tasks = (await daemon().docker.listTasks({ filters: { service: [serviceName] } })) as {
    DesiredState: string;
    Status: { State: string; ContainerStatus?: { ContainerID?: string } };
  }[];
  const task = tasks.find((t) => t.DesiredState === "running" && t.Status.State === "running");
  return task?.Status.ContainerStatus?.ContainerID ?? "";
}

describe("canaries under --target swarm", () => {
  it("updatePartition runs the new version as NAME_canary beside the held tasks, and promotes it when lowered", async () => {
    const id = testId("swcanary");
    const [name, net] = [`${id}-web`, `${id}-net`];
    const canary = `${name}_canary`;
    const spec = (version: string, extra: readonly string[] = []) =>
      specText(name, {
        image: TEST_IMAGE,
        replicas: 3,
        extra: [
          `command: ["sh", "-c", "echo started $V; exec sleep 3600"]`,
          "stopTimeout: 1s",
          `network: ${net}`,
          `env: { V: ${version} }`,
          ...extra,
        ],
      });
    const dir = specDir({
      "web.yaml": spec("one"),
      "net.yaml": ["apiVersion: berth/v1", "kind: Network", "metadata:", `  name: ${net}`, ""].join("\n"),
    });
    const file = path.join(dir, "web.yaml");
    const apply = () => swarm(["apply", "--id", id, "-f", dir, "--timeout", "90s"]);
    expect((await apply()).code).toBe(0);
    const [before] = await servicesOf(daemon().docker, id);
    expect(await runningTaskEnvs(daemon().docker, name)).toEqual([["V=one"], ["V=one"], ["V=one"]]);

    // A new version with a partition of 2: one canary of it.
    writeFileSync(file, spec("two", ["updatePartition: 2"]));
    const planned = await swarm(["plan", "--id", id, "-f", dir]);
    expect([planned.code, planned.stdout]).toEqual([
      2,
      `create  service ${canary}: not found\n! ${name}: updatePartition 2 keeps 2 tasks of service ${name} on their version, 1 task of ${canary} on the spec's; lower it to roll them\n1 change pending\n`,
    ]);
    const split = await apply();
    expect(split.code, split.stdout + split.stderr).toBe(0);
    expect(split.stdout).toContain(`create  service ${canary}: not found`);
    // StartFirst: the third held task goes once the canary runs.
    expect(split.stdout).toContain(`scale   service ${name} [${before?.ID.slice(0, 12) ?? ""}] 3 -> 2: partition`);
    const services = await servicesOf(daemon().docker, id);
    expect(services.map((s) => s.Spec.Name)).toEqual([name, canary]);
    const [own, canaries] = services;
    // The spec's own service was not updated: the same service at its version, scaled.
    expect(own?.ID).toBe(before?.ID);
    expect(own?.Spec.Labels["berth.hash"]).toBe(before?.Spec.Labels["berth.hash"]);
    expect(own?.Spec.Mode.Replicated?.Replicas).toBe(2);
    expect(canaries?.Spec.Labels).toMatchObject({ "berth.controller": id, "berth.spec": name, "berth.canary": "true" });
    expect(canaries?.Spec.Mode.Replicated?.Replicas).toBe(1);
    expect(await runningTaskEnvs(daemon().docker, name)).toEqual([["V=one"], ["V=one"]]);
    expect(await runningTaskEnvs(daemon().docker, canary)).toEqual([["V=two"]]);

    // NAME resolves, on the network, to both services' virtual IPs: the canary takes its share.
    const vips = [...(await vipsOn(name, net)), ...(await vipsOn(canary, net))].sort();
    expect(vips).toHaveLength(2);
    const container = await aTaskContainer(name);
    const resolved = await pollValue(
      () => {
        const out = execFileSync("docker", ["-H", daemon().dockerHost, "exec", container, "nslookup", name], {
          encoding: "utf8",
        });
        return Promise.resolve([...out.matchAll(/^Address: (\S+)$/gm)].map((m) => m[1] ?? "").sort());
      },
      (addresses) => addresses.length === 2,
      20_000,
      500,
    );
    expect(resolved).toEqual(vips);

    // What berth says of it.
    expect(await swarm(["plan", "--id", id, "-f", dir])).toMatchObject({
      code: 0,
      stdout: `! ${name}: updatePartition 2 keeps 2 tasks of service ${name} on their version, 1 task of ${canary} on the spec's; lower it to roll them\nnothing to do\n`,
    });
    const rollout = await swarm(["rollout", "status", "--id", id, "-f", dir, "--no-watch", name]);
    expect([rollout.code, rollout.stdout]).toEqual([
      0,
      `${name}: rolled out: 1 of 3 tasks updated, 3 running: updatePartition 2 keeps 2 tasks of service ${name} on their version, 1 task of ${canary} on the spec's; lower it to roll them\n`,
    ]);
    const got = (await swarm(["get", "--id", id, "-f", dir, name])).stdout;
    expect(got).toContain(`Canaries:`);
    expect(got).toMatch(new RegExp(`^  ${name}\\.1\\s+\\S+\\s+\\S+\\s+running\\s+running\\s+no\\s`, "m"));
    expect(got).toMatch(new RegExp(`^  ${canary}\\.1\\s+\\S+\\s+\\S+\\s+running\\s+running\\s+yes\\s`, "m"));
    const logs = await pollValue(
      () => swarm(["logs", "--id", id, name]),
      (r) => r.stdout.includes(`${canary}.1@`),
      20_000,
      300,
    );
    expect(logs.stdout).toMatch(new RegExp(`^${canary}\\.1@\\S+ \\| started two$`, "m"));
    expect(logs.stdout).toMatch(new RegExp(`^${name}\\.1@\\S+ \\| started one$`, "m"));

    // Lowered to 0: the spec's own service rolls to the new version, then the canaries go.
    writeFileSync(file, spec("two", ["updatePartition: 0"]));
    const promoted = await apply();
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    expect(promoted.stdout).toContain(
      `update  service ${name} [${before?.ID.slice(0, 12) ?? ""}] StartFirst: hash changed`,
    );
    expect(promoted.stdout).toContain(`remove  service ${canary} [${canaries?.ID.slice(0, 12) ?? ""}]: rolled out`);
    // The canaries went after the update: the update is reported first.
    expect(promoted.stdout.indexOf(`update  service ${name}`)).toBeLessThan(
      promoted.stdout.indexOf(`remove  service ${canary}`),
    );
    const after = await servicesOf(daemon().docker, id);
    expect(after.map((s) => [s.ID, s.Spec.Mode.Replicated?.Replicas])).toEqual([[before?.ID, 3]]);
    expect(await runningTaskEnvs(daemon().docker, name)).toEqual([["V=two"], ["V=two"], ["V=two"]]);
    expect(await swarm(["plan", "--id", id, "-f", dir])).toMatchObject({ code: 0, stdout: "nothing to do\n" });

    // The spec's file gone (the network's kept, so the folder is not empty: an empty one prunes nothing).
    rmSync(file);
    expect((await swarm(["apply", "--id", id, "-f", dir, "--force-prune", "--timeout", "60s"])).code).toBe(0);
    expect(await servicesOf(daemon().docker, id)).toEqual([]);
  }, 240_000);
});
