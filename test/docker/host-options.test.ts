/**
 * hostAliases, dnsConfig, shmSize, stopSignal and logging through the built CLI against the real
 * engine: the container's /etc/hosts (host-gateway resolved by the engine), /etc/resolv.conf and
 * /dev/shm say what the spec asked; its output goes through the named log driver and `berth logs`
 * reads it; suspending it stops it with its stop signal (the process's trap answers, exit 0,
 * where the default SIGTERM would have killed it); and `berth plan` names a changed field.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { berth, containersOf, docker, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";
import { pollValue } from "../support/poll.js";
import { specText } from "../support/specs.js";

const id = testIds();

const SCRIPT = 'echo hello-from-the-log; trap "echo stopping-on-usr1; exit 0" USR1; while :; do sleep 0.2; done';

const spec = (name: string, shm: string, suspended = false): string =>
  specText(name, {
    image: TEST_IMAGE,
    extra: [
      `command: ["sh", "-c", ${JSON.stringify(SCRIPT)}]`,
      "init: true",
      "stopTimeout: 5s",
      "hostAliases:",
      "  - ip: 10.0.0.5",
      "    hostnames: [db.internal, store.internal]",
      "  - ip: host-gateway",
      "    hostnames: [gw.internal]",
      "dnsConfig:",
      "  nameservers: [10.0.0.2]",
      "  searches: [corp.example]",
      "  options: [{ name: ndots, value: '2' }, { name: edns0 }]",
      `shmSize: ${shm}`,
      "stopSignal: SIGUSR1",
      "logging:",
      "  driver: local",
      "  options: { max-size: 1m, max-file: '2' }",
      ...(suspended ? ["suspended: true"] : []),
    ],
  });

describe("what the container sees of its host, how it is logged and stopped", () => {
  it("hosts, resolver, /dev/shm, log driver and stop signal reach the container; plan names a change", async () => {
    const ID = id("host-options");
    const name = `${ID}-web`;
    const dir = specDir({ "web.yaml": spec(name, "96Mi") });
    const common = ["--id", ID, "--specs", dir];

    const apply = await berth(["apply", ...common, "--timeout", "60s"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const [made] = await containersOf(ID);
    if (!made) throw new Error("apply made no container");

    const exec = (command: readonly string[]) => berth(["exec", "--id", ID, name, "--", ...command]);
    const hosts = await exec(["cat", "/etc/hosts"]);
    expect(hosts.code, hosts.stderr).toBe(0);
    expect(hosts.stdout).toMatch(/^10\.0\.0\.5\s+db\.internal$/m);
    expect(hosts.stdout).toMatch(/^10\.0\.0\.5\s+store\.internal$/m);
    // The engine put the host's own address for host-gateway.
    expect(hosts.stdout).toMatch(/^\d+\.\d+\.\d+\.\d+\s+gw\.internal$/m);
    expect(hosts.stdout).not.toContain("host-gateway");

    const resolv = await exec(["cat", "/etc/resolv.conf"]);
    expect(resolv.stdout).toMatch(/^nameserver 10\.0\.0\.2$/m);
    expect(resolv.stdout).toMatch(/^search corp\.example$/m);
    expect(resolv.stdout).toMatch(/^options ndots:2 edns0$/m);

    const shm = await exec(["df", "-k", "/dev/shm"]);
    expect(shm.stdout).toMatch(/^shm\s+98304\s/m);

    const inspect = await docker.getContainer(made.id).inspect();
    expect(inspect.HostConfig.LogConfig).toEqual({ Type: "local", Config: { "max-size": "1m", "max-file": "2" } });
    const logs = await pollValue(
      () => berth(["logs", "--id", ID, name]),
      (r) => r.stdout.includes("hello-from-the-log"),
      15_000,
    );
    expect(logs.stdout).toContain("hello-from-the-log");

    // A changed field is named.
    writeFileSync(path.join(dir, "web.yaml"), spec(name, "128Mi"));
    const plan = await berth(["plan", ...common]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain("    ~ shmSize: 96Mi → 128Mi\n");

    // Suspended (same hash), berth stops it with SIGUSR1: the trap answers, exit 0, before the
    // 5 s stop timeout's SIGKILL (137), and far from SIGTERM's 143.
    writeFileSync(path.join(dir, "web.yaml"), spec(name, "96Mi", true));
    const stop = await berth(["apply", ...common, "--timeout", "60s"]);
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    const stopped = await docker.getContainer(made.id).inspect();
    expect([stopped.State.Running, stopped.State.ExitCode]).toEqual([false, 0]);
    const after = await berth(["logs", "--id", ID, name]);
    expect(after.stdout).toContain("stopping-on-usr1");
  });

  it("berth logs says so when a container's log driver keeps nothing to read back", async () => {
    const ID = id("log-none");
    const name = `${ID}-quiet`;
    const dir = specDir({
      "quiet.yaml": specText(name, {
        image: TEST_IMAGE,
        extra: ['command: ["sleep", "infinity"]', "init: true", "stopTimeout: 1s", "logging: { driver: none }"],
      }),
    });
    const apply = await berth(["apply", "--id", ID, "--specs", dir, "--timeout", "60s"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const logs = await berth(["logs", "--id", ID, name]);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toContain(
      `${name}'s log driver keeps no logs the engine can read back (spec.logging.driver): berth logs reads json-file, local and journald`,
    );
  });
});
