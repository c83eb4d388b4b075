/**
 * The admission policy end to end, against the real engine: `berth validate` gives the verdict
 * the controller gives; an allowed bind mount works; a symbolic link swapped to /etc after the
 * spec was admitted is caught by the check just before create; the privileged profile is loud.
 */
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
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
import { pollUntil } from "../support/poll.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
let controller: RunningBerth | undefined;

afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

const HARDENED = ['user: "1000:1000"', "securityContext: { noNewPrivileges: true, capDrop: [ALL] }"];

describe("the admission policy on the real engine", () => {
  it("validate --policy restricted gives the verdict the controller gives", async () => {
    const c = id("restricted");
    const dir = specDir({
      "hardened.yaml": e2eSpec(`${c}-hardened`, HARDENED),
      "root.yaml": e2eSpec(`${c}-root`),
    });
    const validate = await berth(["validate", "--policy", "restricted", dir]);
    expect(validate.code).toBe(1);
    const errors = validate.stdout.split("\n").filter((l) => l.includes(": spec"));
    expect(errors).toEqual([
      `${dir}/root.yaml:6:3: spec: spec.user is required: set a numeric non-root UID:GID (e.g. user: "1000:1000") [policy restricted: run-as-non-root]`,
      `${dir}/root.yaml:6:3: spec: set securityContext.noNewPrivileges: true [policy restricted: no-new-privileges]`,
      `${dir}/root.yaml:6:3: spec: set securityContext.capDrop: [ALL] [policy restricted: drop-all-capabilities]`,
    ]);
    expect((await berth(["validate", dir])).code).toBe(0); // baseline admits both

    const apply = await berth(["apply", "--id", c, "--specs", dir, "--policy", "restricted"]);
    expect(apply.code).toBe(1);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-hardened`]);
    const status = await berth(["status", "--id", c, "--specs", dir, "--policy", "restricted", "-o", "json"]);
    const root = (
      JSON.parse(status.stdout) as { specs: { name: string; phase: string; message: string }[] }
    ).specs.find((s) => s.name === `${c}-root`);
    expect(root?.phase).toBe("Invalid");
    expect(root?.message).toContain("[policy restricted: run-as-non-root]");
  });

  it("mounts an allowed folder, and refuses a link swapped to /etc just before create", async () => {
    const c = id("bind");
    const name = `${c}-svc`;
    const host = tempDir("berth-bind-");
    const allowed = path.join(host, "allowed");
    mkdirSync(path.join(allowed, "real"), { recursive: true });
    const link = path.join(allowed, "link");
    symlinkSync(path.join(allowed, "real"), link);
    const dir = specDir({ "svc.yaml": e2eSpec(name, [`mounts: [{ type: bind, source: ${link}, target: /data }]`]) });

    const refused = await berth(["validate", dir]);
    expect(refused.stdout).toContain("[policy baseline: bind-allowed-prefix]");

    controller = await startBerth(["--id", c, "--specs", dir, "--allow-bind", allowed]);
    const [first] = await waitContainers(c, `${name} running`, (cs) => cs.length === 1 && cs[0]?.state === "running");
    const mounts = (await docker.getContainer(name).inspect()).Mounts;
    expect(mounts.map((m) => [m.Type, m.Destination])).toEqual([["bind", "/data"]]);

    // The spec file does not change: only the host does. The create request is checked again.
    rmSync(link);
    symlinkSync("/etc", link);
    await docker.getContainer(first?.id ?? "").remove({ force: true });
    expect(
      await pollUntil(
        () =>
          controller?.logs.some(
            (l) =>
              String(l.msg).startsWith("action failed") && String(l.err).includes("refused by the admission policy"),
          ) ?? false,
        30_000,
      ),
    ).toBe(true);
    const failure = controller.logs.find((l) => String(l.msg).startsWith("action failed"));
    expect(String(failure?.err)).toMatch(/bind-forbidden: bind mount of .*\/link/);
    expect(await containersOf(c)).toEqual([]);
  });

  it("says loudly that the privileged profile checks nothing", async () => {
    const c = id("privileged");
    const dir = specDir({ "svc.yaml": e2eSpec(`${c}-svc`) });
    controller = await startBerth(["--id", c, "--specs", dir, "--policy", "privileged"]);
    const warning = controller.logs.find((l) => String(l.msg).startsWith("ADMISSION POLICY OFF"));
    expect(warning?.level).toBe(40);
    expect(controller.logs.find((l) => l.msg === "admission policy")?.profile).toBe("privileged");
  });
});
