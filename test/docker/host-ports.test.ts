/**
 * `hostPort: auto` end to end, against the real engine, through the built CLI (docs/ports.md):
 * two specs get distinct lowest ports that answer (busybox httpd), a port a foreign container
 * publishes is skipped, a removed container's port is reused, an image change (StopFirst) keeps the
 * port, a new berth process reads the same ports back, and a port a program outside Docker holds
 * is skipped after the failed start. Each test has its own controller id and its own slice of
 * ports (--host-port-range), so that other tests on the shared engine do not disturb it.
 */
import { rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { berth, cleanup, docker, specDir, TEST_IMAGE, testId } from "../support/e2e.js";
import { servedPage } from "../support/poll.js";
import { specText } from "../support/specs.js";

const used: string[] = [];
const foreign: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  for (const id of used.splice(0)) await cleanup(id, foreign.splice(0));
});

function id(name: string): string {
  const value = testId(`hp-${name}`);
  used.push(value);
  return value;
}

/**
 * A slice of 20 ports of its own for each test, away from the default range and below the
 * kernel's ephemeral ports (32768–60999 here), which any connection on the machine may hold.
 */
let slices = 0;
function range(): { from: number; flag: string } {
  const from = 20000 + ((process.pid % 100) * 5 + slices++) * 20;
  return { from, flag: `${from}-${from + 19}` };
}

/** busybox's httpd answering with the spec's name on port 80, published on an auto port. */
function web(name: string, image = TEST_IMAGE): string {
  return specText(name, {
    image,
    extra: [
      `command: ["sh", "-c", "mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p 80 -h /www"]`,
      "stopTimeout: 1s",
      "ports:",
      "  - { containerPort: 80, hostPort: auto }",
    ],
  });
}

async function apply(controller: string, dir: string, ports: string): Promise<string> {
  const result = await berth(["apply", "--id", controller, "--specs", dir, "--host-port-range", ports]);
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

interface Seen {
  readonly id: string;
  readonly hostPorts: Record<string, number>;
}

/** Each spec's container and its host ports, as `berth status -o json` reports them. */
async function status(controller: string, dir: string, ports: string): Promise<Map<string, Seen>> {
  const result = await berth(["status", "--id", controller, "--specs", dir, "--host-port-range", ports, "-o", "json"]);
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { specs: { name: string; containers: Seen[] }[] };
  return new Map(report.specs.flatMap((s) => (s.containers[0] ? [[s.name, s.containers[0]] as const] : [])));
}

/** What http://127.0.0.1:PORT/ serves (test/support/poll.ts: polled until something answers). */
const answer = (port: number | undefined): Promise<string> => servedPage(`http://127.0.0.1:${port ?? 0}/`);

describe("hostPort: auto against the engine", () => {
  it("gives distinct lowest free ports that answer, skips a foreign container's, reuses a removed one's", async () => {
    const c = id("alloc");
    const { from, flag } = range();
    // A container berth does not own, publishing the lowest port of the range.
    const holder = `${c}-foreign`;
    foreign.push(holder);
    const made = await docker.createContainer({
      name: holder,
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      ExposedPorts: { "80/tcp": {} },
      HostConfig: { PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(from) }] } },
    });
    await made.start();

    const dir = specDir({ "a.yaml": web(`${c}-a`), "b.yaml": web(`${c}-b`) });
    const out = await apply(c, dir, flag);
    expect(out).toContain(`host port ${from + 1}->80/tcp`);
    let seen = await status(c, dir, flag);
    expect(seen.get(`${c}-a`)?.hostPorts).toEqual({ "80/tcp": from + 1 });
    expect(seen.get(`${c}-b`)?.hostPorts).toEqual({ "80/tcp": from + 2 });
    expect(await answer(from + 1)).toBe(`200 ${c}-a`);
    expect(await answer(from + 2)).toBe(`200 ${c}-b`);

    // a goes; then c comes and takes the port a left (free once a's container is gone: the plan
    // that removes a container does not give its port away, the removal may still be running).
    rmSync(path.join(dir, "a.yaml"));
    await apply(c, dir, flag);
    writeFileSync(path.join(dir, "c.yaml"), web(`${c}-c`));
    await apply(c, dir, flag);
    seen = await status(c, dir, flag);
    expect(seen.has(`${c}-a`)).toBe(false);
    expect(seen.get(`${c}-c`)?.hostPorts).toEqual({ "80/tcp": from + 1 });
    expect(await answer(from + 1)).toBe(`200 ${c}-c`);
  });

  it("keeps the port across an image change (StopFirst) and across berth processes", async () => {
    const c = id("keep");
    const { from, flag } = range();
    const name = `${c}-web`;
    // A second spec first, so that the kept port is not simply the lowest again.
    const dir = specDir({ "a.yaml": web(`${c}-a`), "web.yaml": web(name) });
    await apply(c, dir, flag);
    const before = (await status(c, dir, flag)).get(name);
    expect(before?.hostPorts).toEqual({ "80/tcp": from + 1 });

    // The first goes, leaving the lowest port free; the image reference changes (a new hash).
    rmSync(path.join(dir, "a.yaml"));
    writeFileSync(path.join(dir, "web.yaml"), web(name, "busybox:latest"));
    const out = await apply(c, dir, flag);
    expect(out).toMatch(/replace .* StopFirst: hash changed \(host port \d+->80\/tcp\)/);
    const after = (await status(c, dir, flag)).get(name);
    expect(after?.id).not.toBe(before?.id);
    expect(after?.hostPorts).toEqual({ "80/tcp": from + 1 });
    expect(await answer(from + 1)).toBe(`200 ${name}`);

    // Another berth process: nothing to do, the same container and port.
    const again = await berth(["plan", "--id", c, "--specs", dir, "--host-port-range", flag]);
    expect(again.stdout).toBe("nothing to do\n");
    expect((await status(c, dir, flag)).get(name)).toEqual(after);
  });

  it("skips a port a program outside Docker holds, after the failed start", async () => {
    const c = id("listener");
    const { from, flag } = range();
    const server = createServer();
    servers.push(server);
    // A port already held fails here, at once, rather than leaving the test waiting.
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(from, "127.0.0.1", resolve);
    });

    const name = `${c}-web`;
    const dir = specDir({ "web.yaml": web(name) });
    await apply(c, dir, flag);
    const seen = (await status(c, dir, flag)).get(name);
    expect(seen?.hostPorts).toEqual({ "80/tcp": from + 1 });
    expect(await answer(from + 1)).toBe(`200 ${name}`);
    // The container made for the held port was removed, not left behind.
    const all = await docker.listContainers({ all: true, filters: { label: [`berth.controller=${c}`] } });
    expect(all.map((x) => x.Names[0])).toEqual([`/${name}`]);
  });
});
