/**
 * One writer per controller id across lease stores: an --ha berth whose store is not the one the
 * group of its id on this host uses is refused at start (cli/ha.ts participate), naming both. On
 * real sockets in a temporary state folder, file stores, and a Redis URL nobody listens on (the
 * store answers nothing, which at start is not fatal: the refusal comes from the presence sockets).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { participate, type Participation } from "../../../src/cli/ha.js";
import type { Config, HaConfig } from "../../../src/config.js";
import { differentStores, parseHaTarget } from "../../../src/core/lease.js";
import { blockingParticipants } from "../../../src/host/ha-presence.js";
import { freePort } from "../../support/free-port.js";
import { tempDir } from "../../support/tmp.js";

const log = pino({ level: "silent" });
const joined: Participation[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const group of joined.splice(0)) await group.stop();
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function ha(target: string): HaConfig {
  const parsed = parseHaTarget(target);
  if (typeof parsed === "string") throw new Error(parsed);
  return { target: parsed, timing: { ttlMs: 2_000, renewMs: 500 }, passwordFile: null, waitMs: 0, advertise: null };
}

async function join(stateDir: string, target: string, command = "run"): Promise<Participation> {
  const config = { stateDir, controllerId: "web" } as unknown as Config;
  const group = await participate(config, ha(target), log, command, () => undefined);
  joined.push(group);
  return group;
}

describe("an --ha berth beside a group of its id on another store", () => {
  it("is refused at start, naming both stores; one on the group's store joins", async () => {
    const stateDir = tempDir();
    const locks = tempDir();
    const lock = path.join(locks, "x.lock");
    await join(stateDir, `file:${lock}`);
    const other = path.join(locks, "other.lock");
    await expect(join(stateDir, `file:${other}`, "apply")).rejects.toMatchObject({
      code: "BERTH_LEASE_HELD",
      message: expect.stringMatching(
        new RegExp(
          `this apply --ha file:${other} is not the store of the --ha group of this id on this host: ` +
            `berth .*\\(run --ha, pid ${process.pid} .*has its lease in file:${lock}\\. .*pass the group's --ha file:${lock}`,
        ),
      ) as unknown,
    });
    const redis = `redis://127.0.0.1:${await freePort()}/0`;
    await expect(join(stateDir, redis)).rejects.toThrow(
      new RegExp(`--ha ${redis} is not the store .* has its lease in file:${lock}`),
    );
    // The same store, however the path is spelt.
    await join(stateDir, `file:${locks}//x.lock`);
  });

  it("a refused berth leaves nothing behind: the group's store is the only one its members report", async () => {
    const stateDir = tempDir();
    const locks = tempDir();
    const first = await join(stateDir, `file:${path.join(locks, "a.lock")}`);
    await expect(join(stateDir, `file:${path.join(locks, "b.lock")}`)).rejects.toThrow(/is not the store/);
    await first.stop();
    joined.splice(0);
    // The group gone, a berth on another store starts a group of its own.
    await join(stateDir, `file:${path.join(locks, "b.lock")}`);
  });
});

describe("the presence sockets of members killed with kill -9", () => {
  it("are removed when met (nothing listens on them), and do not refuse a command without --ha", async () => {
    const stateDir = tempDir();
    const dir = path.join(stateDir, "web.ha");
    mkdirSync(dir, { mode: 0o700 });
    const socket = path.join(dir, "4242.abcdef.sock");
    const child = spawn(
      process.execPath,
      ["-e", `require("net").createServer().listen(${JSON.stringify(socket)}, () => console.log("up"))`],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    await new Promise((resolve) => child.stdout?.once("data", resolve));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(existsSync(socket)).toBe(true);
    expect(await blockingParticipants(stateDir, "web")).toEqual([]);
    expect(existsSync(socket)).toBe(false);
  });
});

describe("--ha redis:// parsing", () => {
  it("says a port out of range is out of range (the URL parser only says invalid)", () => {
    expect(parseHaTarget("redis://127.0.0.1:99999/0")).toBe(
      "--ha: the redis URL's port 99999 is out of range (1 to 65535)",
    );
    expect(parseHaTarget("redis://:pw@[::1]:70000/0")).toBe(
      "--ha: the redis URL's port 70000 is out of range (1 to 65535)",
    );
    expect(parseHaTarget("redis://127.0.0.1:0/0")).toBe("--ha: the redis URL's port 0 is out of range (1 to 65535)");
    expect(parseHaTarget("redis://:s3cret@ho st:1/0")).toBe(
      "--ha: the value given is neither file:/PATH nor redis://host:port/db",
    );
    expect(parseHaTarget("redis://127.0.0.1:65535/0")).toMatchObject({ kind: "redis" });
  });
});

describe("differentStores", () => {
  it.each([
    ["file:/run/a.lock", "file:/run//a.lock", false],
    ["file:/run/a.lock", "file:/run/b.lock", true],
    ["file:/run/a.lock", "redis://127.0.0.1:6379/0", true],
    ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379", false],
    ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1", true],
    // A name and its address, or a proxy: may be one server.
    ["redis://127.0.0.1:6379/0", "redis://localhost:6379/0", false],
    ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:16379/0", false],
  ])("%s and %s: %s", (a, b, different) => {
    expect(differentStores(a, b)).toBe(different);
  });
});
