/**
 * Issue 14, finding 5, end to end on the real engine: a named volume is no way around the bind
 * policy. The attack: someone with access to the engine makes a local volume whose options bind
 * a host folder (`docker volume create --driver local -o type=none -o o=bind -o device=/secret`)
 * and a spec mounts it by name. Baseline judges it as a bind of that folder (refused outside
 * --allow-bind, said by `berth status` before any create, refused by the audit just before the
 * create); restricted admits only volumes berth made, labelled, for the spec, or names an
 * --allow-volume pattern matches, and never one that binds a host path.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  berth,
  cleanup,
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
const used: string[] = [];
const volumes: string[] = [];
let controller: RunningBerth | undefined;

// Registered after testIds(): runs first, so the containers go before their volumes.
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  for (const c of used.splice(0)) {
    await cleanup(c);
    const labelled = await docker.listVolumes({ filters: { label: [`berth.controller=${c}`] } });
    volumes.push(...(labelled.Volumes ?? []).map((v) => v.Name));
  }
  for (const name of new Set(volumes.splice(0))) {
    await docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
  }
});

function controllerId(name: string): string {
  const c = id(name);
  used.push(c);
  return c;
}

/** A folder holding a secret, and a volume someone else made that binds it. */
async function secretVolume(name: string): Promise<string> {
  const secret = path.join(tempDir("berth-secret-"), "secret");
  mkdirSync(secret);
  writeFileSync(path.join(secret, "token"), "hunter2\n");
  volumes.push(name);
  await docker.createVolume({ Name: name, Driver: "local", DriverOpts: { type: "none", o: "bind", device: secret } });
  return secret;
}

const RESTRICTED = ['user: "1000:1000"', "securityContext: { noNewPrivileges: true, capDrop: [ALL] }"];

const failures = (b: RunningBerth, spec: string): string[] =>
  b.logs.filter((l) => l.spec === spec && String(l.msg).startsWith("action failed")).map((l) => String(l.err));

async function waitFailure(b: RunningBerth, spec: string): Promise<string | undefined> {
  await pollUntil(() => failures(b, spec).length > 0, 30_000);
  return failures(b, spec)[0];
}

describe("named volumes that bind a host path, on the real engine", () => {
  it("baseline: status says so before any create, and the audit refuses the create; no container", async () => {
    const c = controllerId("vol-base");
    const volume = `${c}-hostdir`;
    const secret = await secretVolume(volume);
    const name = `${c}-svc`;
    const dir = specDir({
      "svc.yaml": e2eSpec(name, [`mounts: [{ type: volume, source: ${volume}, target: /v }]`]),
    });
    const why = `volume-host-path: volume "${volume}" mounts host path ${secret}, outside the allowed host folders (--allow-bind)`;

    // The file itself is fine: only the engine knows what the volume is.
    expect((await berth(["validate", dir])).code).toBe(0);
    const status = await berth(["status", "--id", c, "--specs", dir, "-o", "json"]);
    const view = (
      JSON.parse(status.stdout) as { specs: { name: string; phase: string; message: string }[] }
    ).specs.find((s) => s.name === name);
    expect(view).toMatchObject({ phase: "Failed", message: `the admission policy would refuse its create: ${why}` });

    controller = await startBerth(["--id", c, "--specs", dir]);
    expect(await waitFailure(controller, name)).toBe(
      `refused by the admission policy just before creating ${name}: ${why}`,
    );
    expect(await containersOf(c)).toEqual([]);
  });

  it("baseline: admits it when --allow-bind covers the folder (it is then an allowed bind)", async () => {
    const c = controllerId("vol-allowed");
    const volume = `${c}-hostdir`;
    const secret = await secretVolume(volume);
    const name = `${c}-svc`;
    const dir = specDir({
      "svc.yaml": e2eSpec(name, [`mounts: [{ type: volume, source: ${volume}, target: /v, readOnly: true }]`]),
    });
    controller = await startBerth(["--id", c, "--specs", dir, "--allow-bind", path.dirname(secret)]);
    await waitContainers(c, "one container running", (cs) => cs.length === 1 && cs[0]?.state === "running");
  });

  it("restricted: makes a missing volume itself, labelled, and mounts it", async () => {
    const c = controllerId("vol-made");
    const volume = `${c}-data`;
    volumes.push(volume);
    const name = `${c}-svc`;
    const dir = specDir({
      "svc.yaml": e2eSpec(name, [...RESTRICTED, `mounts: [{ type: volume, source: ${volume}, target: /data }]`]),
    });
    controller = await startBerth(["--id", c, "--specs", dir, "--policy", "restricted"]);
    await waitContainers(c, "one container running", (cs) => cs.length === 1 && cs[0]?.state === "running");
    const made = await docker.getVolume(volume).inspect();
    expect(made.Labels).toEqual({ "berth.controller": c, "berth.spec": name });
    expect(made.Options ?? {}).toEqual({});
  });

  it("restricted: refuses a volume someone else made, unless --allow-volume names it", async () => {
    const c = controllerId("vol-foreign");
    const volume = `${c}-shared`;
    volumes.push(volume);
    await docker.createVolume({ Name: volume, Driver: "local" });
    const name = `${c}-svc`;
    const dir = specDir({
      "svc.yaml": e2eSpec(name, [...RESTRICTED, `mounts: [{ type: volume, source: ${volume}, target: /data }]`]),
    });
    controller = await startBerth(["--id", c, "--specs", dir, "--policy", "restricted"]);
    expect(await waitFailure(controller, name)).toBe(
      `refused by the admission policy just before creating ${name}: volume-origin: volume "${volume}" exists and ` +
        `was not made by berth for this spec; allow it with --allow-volume ${volume}, or run berth with --policy privileged`,
    );
    expect(await containersOf(c)).toEqual([]);
    await controller.stop();

    controller = await startBerth(["--id", c, "--specs", dir, "--policy", "restricted", "--allow-volume", `${c}-sh*`]);
    await waitContainers(c, "one container running", (cs) => cs.length === 1 && cs[0]?.state === "running");
  });

  it("restricted: refuses a volume that binds a host path even when --allow-volume names it", async () => {
    const c = controllerId("vol-rbind");
    const volume = `${c}-hostdir`;
    const secret = await secretVolume(volume);
    const name = `${c}-svc`;
    const dir = specDir({
      "svc.yaml": e2eSpec(name, [...RESTRICTED, `mounts: [{ type: volume, source: ${volume}, target: /v }]`]),
    });
    controller = await startBerth([
      "--id",
      c,
      "--specs",
      dir,
      "--policy",
      "restricted",
      "--allow-volume",
      volume,
      "--allow-bind",
      path.dirname(secret),
    ]);
    expect(await waitFailure(controller, name)).toBe(
      `refused by the admission policy just before creating ${name}: volume-mounts-only: volume "${volume}" mounts host path ${secret}`,
    );
    expect(await containersOf(c)).toEqual([]);
  });
});
