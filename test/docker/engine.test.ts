/** Proves the Docker engine under test is real: a container's whole life through dockerode. */
import Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { TEST_IMAGE } from "./global-setup.js";

describe("the Docker engine", () => {
  it("creates, starts, inspects, runs a command in, and removes a container", async () => {
    const docker = new Docker();
    const info = (await docker.info()) as { Driver?: string; ServerVersion?: string };
    expect(info.ServerVersion).toMatch(/^\d+\.\d+/);
    const name = `berth-engine-check-${process.pid}`;
    const container = await docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ["sh", "-c", "echo ready > /tmp/ready; exec sleep 300"],
      Labels: { "berth-test.case": "engine" },
      HostConfig: { Init: true },
    });
    try {
      await container.start();
      const inspected = await container.inspect();
      expect(inspected.Name).toBe(`/${name}`);
      expect(inspected.State.Running).toBe(true);
      expect(inspected.Config.Labels["berth-test.case"]).toBe("engine");
      expect(inspected.State.Pid).toBeGreaterThan(0);

      const exec = await container.exec({ Cmd: ["cat", "/tmp/ready"], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      // The multiplexed stream frames stdout with an 8-byte header per chunk.
      expect(Buffer.concat(chunks).subarray(8).toString()).toBe("ready\n");
      expect((await exec.inspect()).ExitCode).toBe(0);
    } finally {
      await container.remove({ force: true });
    }
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
