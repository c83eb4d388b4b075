/**
 * A redis-server for tests: Debian's, on a free port of 127.0.0.1, with no persistence (a restart
 * loses everything, as a Redis without AOF or RDB does), as a child process of the test. It can
 * be killed and started again on the same port. .ci/run installs the package (scripts/ensure-redis.sh).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { freePort } from "./free-port.js";
import { pollUntil } from "./poll.js";

export class TestRedis {
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly password: string | null,
  ) {}

  /** Starts a redis-server (with `requirepass` when a password is given). */
  static async start(password: string | null = null): Promise<TestRedis> {
    const redis = new TestRedis(await freePort(), password);
    await redis.restart();
    return redis;
  }

  /** redis://[:password@]127.0.0.1:PORT/0 */
  url(withPassword = true): string {
    const auth = withPassword && this.password !== null ? `:${encodeURIComponent(this.password)}@` : "";
    return `redis://${auth}127.0.0.1:${this.port}/0`;
  }

  /** Starts it again (empty: nothing was persisted). */
  async restart(): Promise<void> {
    if (this.child) throw new Error("redis-server is running");
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    if (this.password !== null) args.push("--requirepass", this.password);
    const child = spawn("redis-server", args, { stdio: "ignore" });
    this.child = child;
    child.on("exit", () => {
      if (this.child === child) this.child = null;
    });
    // NOAUTH: one with a password answers too.
    const answers = () =>
      this.command(["PING"]).then(
        (l) => /PONG|NOAUTH/.test(l),
        () => false,
      );
    if (!(await pollUntil(answers, 10_000))) throw new Error(`redis-server did not answer on 127.0.0.1:${this.port}`);
  }

  /** Sends one command (no password) and returns the first line of the answer. */
  command(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: "127.0.0.1", port: this.port });
      let text = "";
      socket.setTimeout(2_000);
      socket.on("connect", () => {
        socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
      });
      socket.on("data", (d) => {
        text += d.toString();
        if (text.includes("\r\n")) {
          socket.destroy();
          resolve(text.split("\r\n")[0] ?? "");
        }
      });
      socket.on("timeout", () => {
        socket.destroy();
        reject(new Error(`redis-server did not answer ${args[0] ?? ""}`));
      });
      socket.on("error", reject);
    });
  }

  /** SIGKILL: gone at once, with whatever it held. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    this.child = null;
  }
}
