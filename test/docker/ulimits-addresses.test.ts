/**
 * ulimits and addresses through the built CLI against the real engine. A spec's ulimits reach
 * the engine (HostConfig.Ulimits in `docker inspect`) and the container's processes
 * (/proc/self/limits through `berth exec`), and `berth plan` names a changed limit. Each
 * container's IP per network, as `docker inspect` reports it, is what `berth status -o json`,
 * `berth get` (as text and JSON, from the engine and live from `berth run`) and the HTTP API say,
 * on the default bridge and on a user-defined network.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SpecStatus, StatusReport } from "../../src/core/status.js";
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
} from "../support/e2e.js";
import { pollUntil } from "../support/poll.js";

const id = testIds();
let controller: RunningBerth | undefined;
/** The networks a test made, with the controller id whose containers use them. */
const networks: { readonly name: string; readonly controllerId: string }[] = [];
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  // A network in use cannot be removed: its controller's containers go first (testIds' own
  // hook runs after this one).
  for (const { name, controllerId } of networks.splice(0)) {
    await cleanup(controllerId);
    await docker
      .getNetwork(name)
      .remove()
      .catch(() => undefined);
  }
});

/** The limits of a process as /proc/PID/limits shows them: name → [soft, hard]. */
function limitsOf(text: string, row: string): [string, string] | null {
  const line = text.split("\n").find((l) => l.startsWith(row));
  const fields = line?.slice(row.length).trim().split(/\s+/);
  return fields && fields.length >= 2 ? [fields[0] ?? "", fields[1] ?? ""] : null;
}

describe("ulimits", () => {
  it("reach the engine and the container's processes, and a changed one is named by berth plan", async () => {
    const ID = id("ulimits");
    const name = `${ID}-web`;
    const spec = (nofile: string): string =>
      e2eSpec(name, ["ulimits:", `  nofile: ${nofile}`, "  nproc: 512", "  core: 0"]);
    const dir = specDir({ "web.yaml": spec("{ soft: 1024, hard: 2048 }") });
    const common = ["--id", ID, "--specs", dir];

    const apply = await berth(["apply", ...common, "--timeout", "60s"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const [made] = await containersOf(ID);
    if (!made) throw new Error("apply made no container");

    const inspect = await docker.getContainer(made.id).inspect();
    expect(inspect.HostConfig.Ulimits).toEqual([
      { Name: "core", Soft: 0, Hard: 0 },
      { Name: "nofile", Soft: 1024, Hard: 2048 },
      { Name: "nproc", Soft: 512, Hard: 512 },
    ]);

    const exec = await berth(["exec", "--id", ID, name, "--", "cat", "/proc/self/limits"]);
    expect(exec.code, exec.stderr).toBe(0);
    expect(limitsOf(exec.stdout, "Max open files")).toEqual(["1024", "2048"]);
    expect(limitsOf(exec.stdout, "Max processes")).toEqual(["512", "512"]);
    expect(limitsOf(exec.stdout, "Max core file size")).toEqual(["0", "0"]);

    writeFileSync(path.join(dir, "web.yaml"), spec("{ soft: 4096, hard: 4096 }"));
    const plan = await berth(["plan", ...common]);
    expect(plan.stdout).toBe(
      [
        `replace ${name} [${made.id.slice(0, 12)}] StartFirst: hash changed`,
        "    ~ ulimits.nofile.soft: 1024 → 4096",
        "    ~ ulimits.nofile.hard: 2048 → 4096",
        "1 change pending",
        "",
      ].join("\n"),
    );
    expect(plan.code).toBe(2);
  });
});

describe("addresses", () => {
  it("each container's IP per network, as docker inspect reports it, in status, get and the HTTP API", async () => {
    const ID = id("addresses");
    const network = `${ID}-net`;
    await docker.createNetwork({ Name: network, Labels: { "berth.test": ID } });
    networks.push({ name: network, controllerId: ID });
    const onBridge = `${ID}-a`;
    const onNetwork = `${ID}-b`;
    const dir = specDir({
      "a.yaml": e2eSpec(onBridge),
      "b.yaml": e2eSpec(onNetwork, [`network: ${network}`]),
    });
    controller = await startBerth(["--id", ID, "--specs", dir]);
    const url = controller.url;

    /** The spec's status as the live controller serves it, once its container runs and has an address. */
    const served = async (spec: string): Promise<SpecStatus> => {
      let last: SpecStatus | null = null;
      const ok = await pollUntil(async () => {
        const res = await fetch(`${url}/v1/specs/${spec}`);
        last = res.ok ? ((await res.json()) as SpecStatus) : null;
        return last?.containers[0]?.state === "running" && Object.keys(last.containers[0].addresses).length > 0;
      }, 60_000);
      if (!ok || last === null)
        throw new Error(`no address for ${spec}: ${JSON.stringify(last)}\n${controller?.recentLogs()}`);
      return last;
    };
    const ipOf = async (container: string, net: string): Promise<string> => {
      const inspect = await docker.getContainer(container).inspect();
      return inspect.NetworkSettings.Networks[net]?.IPAddress ?? "";
    };

    const a = await served(onBridge);
    const b = await served(onNetwork);
    const ipA = await ipOf(onBridge, "bridge");
    const ipB = await ipOf(onNetwork, network);
    expect(ipA).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(ipB).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(a.containers[0]?.addresses).toEqual({ bridge: ipA });
    expect(b.containers[0]?.addresses).toEqual({ [network]: ipB });

    const all = (await (await fetch(`${url}/v1/specs`)).json()) as StatusReport;
    expect(all.specs.map((s) => [s.name, s.containers.map((c) => c.addresses)])).toEqual([
      [onBridge, [{ bridge: ipA }]],
      [onNetwork, [{ [network]: ipB }]],
    ]);

    // The CLI, from the engine (--server off) and live from the controller.
    for (const server of ["off", url]) {
      const status = await berth(["status", "--id", ID, "--specs", dir, "--server", server, "-o", "json"]);
      expect(status.code, status.stderr).toBe(0);
      const report = JSON.parse(status.stdout) as StatusReport;
      expect(report.specs.map((s) => s.containers.map((c) => c.addresses))).toEqual([
        [{ bridge: ipA }],
        [{ [network]: ipB }],
      ]);
      const get = await berth(["get", onNetwork, "--id", ID, "--specs", dir, "--server", server, "-o", "json"]);
      expect((JSON.parse(get.stdout) as SpecStatus).containers[0]?.addresses).toEqual({ [network]: ipB });
      const text = await berth(["get", onBridge, "--id", ID, "--specs", dir, "--server", server]);
      expect(text.stdout).toMatch(new RegExp(`ADDRESSES\\n\\s+${onBridge}\\s.*\\s${ipA.replace(/\./g, "\\.")}\\n`));
    }

    const wide = await berth(["status", "--id", ID, "--specs", dir, "--server", "off", "-o", "wide"]);
    expect(wide.stdout).toMatch(/ADDRESSES/);
    expect(wide.stdout).toContain(` ${ipB} `);
  });

  it("a container on a declared network with enableIPv6 has its IPv6 address too, in status, get and the HTTP API", async () => {
    const ID = id("addresses6");
    const network = `${ID}-v6`;
    networks.push({ name: network, controllerId: ID });
    // A unique local subnet of this process's own, so that parallel runs do not overlap.
    const subnet = `fd00:b17e:${(process.pid % 0xffff).toString(16)}::/64`;
    const spec = `${ID}-c`;
    const dir = specDir({
      "net.yaml": [
        "apiVersion: berth/v1",
        "kind: Network",
        "metadata:",
        `  name: ${network}`,
        "spec:",
        "  enableIPv6: true",
        `  ipv6Subnet: "${subnet}"`,
        "",
      ].join("\n"),
      "c.yaml": e2eSpec(spec, [`network: ${network}`]),
    });
    controller = await startBerth(["--id", ID, "--specs", dir]);
    const url = controller.url;
    let last: SpecStatus | null = null;
    const ok = await pollUntil(async () => {
      const res = await fetch(`${url}/v1/specs/${spec}`);
      last = res.ok ? ((await res.json()) as SpecStatus) : null;
      return Object.keys(last?.containers[0]?.ipv6Addresses ?? {}).length > 0;
    }, 60_000);
    expect(ok, `${JSON.stringify(last)}\n${controller.recentLogs()}`).toBe(true);
    const endpoint = (await docker.getContainer(spec).inspect()).NetworkSettings.Networks[network];
    const ip4 = endpoint?.IPAddress ?? "";
    const ip6 = endpoint?.GlobalIPv6Address ?? "";
    expect(ip6.startsWith(subnet.slice(0, -"::/64".length))).toBe(true);
    const served = last as unknown as SpecStatus;
    expect([served.containers[0]?.addresses, served.containers[0]?.ipv6Addresses]).toEqual([
      { [network]: ip4 },
      { [network]: ip6 },
    ]);
    for (const server of ["off", url]) {
      const status = await berth(["status", "--id", ID, "--specs", dir, "--server", server, "-o", "json"]);
      expect(status.code, status.stderr).toBe(0);
      const report = JSON.parse(status.stdout) as StatusReport;
      expect(report.specs.map((s) => s.containers.map((c) => c.ipv6Addresses))).toEqual([[{ [network]: ip6 }]]);
      const text = await berth(["get", spec, "--id", ID, "--specs", dir, "--server", server]);
      expect(text.stdout).toContain(` ${ip4},${ip6}\n`);
    }
  });
});
