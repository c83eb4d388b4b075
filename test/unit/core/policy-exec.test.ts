/**
 * Finding 14a: under the restricted profile, an exec may not run as root. The pure rule
 * (core/policy/exec.ts), and ManagedContainers (ops/containers.ts), which every exec surface goes
 * through (HTTP /v1/containers/{name}/exec, docker-spawner's /exec, `berth exec`): a refused exec
 * never reaches the engine. The same attack against a real engine: test/docker/exec-root.test.ts.
 */
import { describe, expect, it } from "vitest";
import { labelKeys } from "../../../src/core/labels.js";
import type { ObservedContainer } from "../../../src/core/observed.js";
import { ownership } from "../../../src/core/ownership.js";
import { execUserRefusal } from "../../../src/core/policy/exec.js";
import type { ContainerIO, ExecRequest } from "../../../src/docker/port.js";
import { ExecRefused, ManagedContainers } from "../../../src/ops/containers.js";
import { silentLogger } from "../../../src/util/log.js";

describe("execUserRefusal", () => {
  it.each([
    ["0", "1000:1000"],
    ["root", "1000:1000"],
    ["0:0", "1000:1000"],
    ["0:1000", "1000:1000"],
    ["00", "1000:1000"],
    ["1000:0", "1000:1000"],
    ["toor", "1000:1000"], // a name: it may map to uid 0 in the image
    [" 1000", "1000:1000"],
    [undefined, ""], // no user, and the container runs as the image's default: root
    ["", ""],
    [undefined, "0"],
    [undefined, "root"],
    [undefined, "0:1000"],
    [undefined, "app"], // a name berth cannot map to a uid
    [undefined, null], // the container's user is not known
  ])("restricted refuses exec user %j in a container running as %j", (execUser, containerUser) => {
    expect(execUserRefusal("restricted", execUser, containerUser)).toMatch(
      /refused.*\[policy restricted: exec-as-non-root\]$/,
    );
  });

  it.each([
    ["1000", "0"],
    ["1000:1000", ""],
    ["65534:65534", null],
    [undefined, "1000:1000"],
    [undefined, "1000"],
  ])("restricted allows exec user %j in a container running as %j", (execUser, containerUser) => {
    expect(execUserRefusal("restricted", execUser, containerUser)).toBeNull();
  });

  it("leaves the user to the caller under baseline and privileged", () => {
    expect(execUserRefusal("baseline", "0", "")).toBeNull();
    expect(execUserRefusal("privileged", "root", null)).toBeNull();
  });

  it("quotes at most 40 characters of the user it refuses", () => {
    expect(execUserRefusal("restricted", `root${"x".repeat(200)}`, null)).toContain(`"root${"x".repeat(36)}…"`);
  });
});

describe("ManagedContainers.exec under restricted", () => {
  const owner = ownership(labelKeys("berth"), "default");
  const container: ObservedContainer = {
    id: "c".repeat(64),
    name: "agent",
    labels: { "berth.controller": "default", "berth.spec": "agent" },
    state: "running",
    exitCode: null,
    health: null,
    imageId: "sha256:1",
    image: "busybox",
    createdAt: 0,
    mounts: [],
  };
  const request = (user?: string): ExecRequest => ({
    cmd: ["id", "-u"],
    ...(user !== undefined ? { user } : {}),
    timeoutMs: 1000,
    maxOutputBytes: 1024,
  });
  function containers(ownUser: string | undefined, profile: "baseline" | "restricted" = "restricted") {
    const ran: ExecRequest[] = [];
    const io: ContainerIO = {
      exec: (_id, r) => {
        ran.push(r);
        return Promise.resolve({
          exitCode: 0,
          stdout: "",
          stderr: "",
          truncated: false,
          timedOut: false,
          killed: false,
          durationMs: 1,
        });
      },
      logs: () => Promise.reject(new Error("no logs")),
      ...(ownUser !== undefined ? { user: () => Promise.resolve(ownUser) } : {}),
    };
    return {
      ran,
      managed: new ManagedContainers({ listContainers: () => Promise.resolve([]) }, io, owner, silentLogger(), profile),
    };
  }

  it("refuses root before anything reaches the engine, with a 403 for HTTP", async () => {
    for (const user of ["0", "root", "0:0"]) {
      const { ran, managed } = containers("1000:1000");
      const refused = await managed.exec(container, request(user)).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(ExecRefused);
      expect(refused).toMatchObject({ code: "BERTH_POLICY", statusCode: 403 });
      expect(ran).toEqual([]);
    }
  });

  it("refuses an exec without a user in a root container, or when the engine cannot say", async () => {
    for (const own of ["", undefined]) {
      const { ran, managed } = containers(own);
      await expect(managed.exec(container, request())).rejects.toBeInstanceOf(ExecRefused);
      expect(ran).toEqual([]);
    }
  });

  it("runs a non-root exec, and anything under baseline", async () => {
    const { ran, managed } = containers("1000:1000");
    await managed.exec(container, request());
    await managed.exec(container, request("1000:1000"));
    const baseline = containers("", "baseline");
    await baseline.managed.exec(container, request("0"));
    expect(ran).toHaveLength(2);
    expect(baseline.ran).toHaveLength(1);
  });
});
