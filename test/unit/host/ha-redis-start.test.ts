/**
 * What `--ha redis://…` refuses at start: a database Redis refuses to SELECT (ioredis would go on
 * in database 0) and a password it refuses. On a small in-process server speaking Redis's protocol
 * for the few commands a connection sends (AUTH, SELECT, INFO, CLIENT): the unit tests start no
 * redis-server (test/docker/ha.test.ts runs the real one).
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RedisLeaseStore } from "../../../src/host/lease-redis.js";
import { freePort } from "../../support/free-port.js";

/** Answers a connection's set-up commands as a Redis with 16 databases (and a password, if given). */
async function fakeRedis(password: string | null): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let authed = password === null;
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      for (;;) {
        const parsed = parseCommand(buffer);
        if (!parsed) return;
        buffer = buffer.slice(parsed.length);
        const [name = "", ...args] = parsed.args;
        const command = name.toUpperCase();
        if (command === "AUTH") {
          authed = args.at(-1) === password;
          socket.write(authed ? "+OK\r\n" : "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
        } else if (!authed) socket.write("-NOAUTH Authentication required.\r\n");
        else if (command === "SELECT")
          socket.write(Number(args[0]) < 16 ? "+OK\r\n" : "-ERR DB index is out of range\r\n");
        else if (command === "INFO") {
          const info = "# Server\r\nredis_version:7.0.0\r\nloading:0\r\n";
          socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
        } else if (command === "CLIENT") socket.write("+OK\r\n");
        else socket.write(`-ERR unknown command '${name}'\r\n`);
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** One command (an array of bulk strings) at the start of `text`, or null while it is incomplete. */
function parseCommand(text: string): { args: string[]; length: number } | null {
  const head = /^\*(\d+)\r\n/.exec(text);
  if (!head) return null;
  let at = head[0].length;
  const args: string[] = [];
  for (let i = 0; i < Number(head[1]); i++) {
    const bulk = /^\$(\d+)\r\n/.exec(text.slice(at));
    if (!bulk) return null;
    at += bulk[0].length;
    const size = Number(bulk[1]);
    if (text.length < at + size + 2) return null;
    args.push(text.slice(at, at + size));
    at += size + 2;
  }
  return { args, length: at };
}

const TIMING = { ttlMs: 2_000, renewMs: 500 };
const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function start(url: string) {
  const store = await RedisLeaseStore.create({ url, controllerId: "web", timing: TIMING, passwordFile: null });
  closing.push(() => store.close());
  return store;
}

describe("RedisLeaseStore.create: a store that can never work fails at start", () => {
  it("refuses a database Redis refuses, naming it and Redis's answer", async () => {
    const redis = await fakeRedis(null);
    closing.push(() => redis.close());
    await expect(start(`redis://127.0.0.1:${redis.port}/99`)).rejects.toMatchObject({
      code: "BERTH_USAGE",
      message: `--ha redis://127.0.0.1:${redis.port}/99: Redis refused database 99 (ERR DB index is out of range); name one it has (redis://host:port/0)`,
    });
    await expect(start(`redis://127.0.0.1:${redis.port}/15`)).resolves.toBeInstanceOf(RedisLeaseStore);
  });

  it("refuses a password Redis refuses (or none where it wants one), without repeating it", async () => {
    const redis = await fakeRedis("right");
    closing.push(() => redis.close());
    const wrong = start(`redis://:s3cret@127.0.0.1:${redis.port}/0`);
    await expect(wrong).rejects.toMatchObject({
      code: "BERTH_USAGE",
      message: expect.stringMatching(/Redis refused the password \(WRONGPASS/) as unknown,
    });
    await expect(wrong).rejects.not.toThrow(/s3cret/);
    await expect(start(`redis://127.0.0.1:${redis.port}/0`)).rejects.toThrow(/Redis refused the password \(NOAUTH/);
    await expect(start(`redis://:right@127.0.0.1:${redis.port}/0`)).resolves.toBeInstanceOf(RedisLeaseStore);
  });

  it("takes a Redis that does not answer yet: it may be starting too, and the standbys keep trying", async () => {
    const store = await start(`redis://127.0.0.1:${await freePort()}/0`);
    await expect(store.acquire("a", 2_000, 0)).rejects.toMatchObject({ code: "BERTH_HA" });
  });
});
