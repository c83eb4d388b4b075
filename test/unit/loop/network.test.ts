/** `network: auto`: the flag, else berth's own container's first network, else bridge. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { selfContainerId } from "../../../src/host/self-container.js";
import { resolveAutoNetwork } from "../../../src/loop/network.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { tempDir } from "../../support/tmp.js";

const ID = "3f4e1a2b".repeat(8);

describe("network: auto", () => {
  it("finds the container ID in /proc/self/mountinfo inside a container", async () => {
    const file = path.join(tempDir(), "mountinfo");
    writeFileSync(
      file,
      [
        "736 728 0:150 / / rw,relatime master:283 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X",
        `743 736 254:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw`,
        `744 736 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw`,
      ].join("\n"),
    );
    expect(await selfContainerId(file)).toBe(ID);
  });

  it("finds none outside a container", async () => {
    const file = path.join(tempDir(), "mountinfo");
    writeFileSync(file, "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n");
    expect(await selfContainerId(file)).toBeNull();
    expect(await selfContainerId("/nonexistent/mountinfo")).toBeNull();
  });

  it("resolves to the flag, else the controller's own network, else bridge", async () => {
    const docker = new FakeDocker();
    const self = docker.add({ name: "berth" });
    const c = docker.containers.get(self);
    if (c) c.body = { ...c.body, HostConfig: { ...c.body.HostConfig, NetworkMode: "tidepool" } };
    expect(await resolveAutoNetwork(docker, "from-flag", self)).toBe("from-flag");
    expect(await resolveAutoNetwork(docker, null, self)).toBe("tidepool");
    expect(await resolveAutoNetwork(docker, null, null)).toBe("bridge");
  });
});
