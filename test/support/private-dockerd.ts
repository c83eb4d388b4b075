/**
 * A second, private Docker daemon for the faults that stop or restart the engine: its own socket,
 * data root, exec root and pidfile under a temporary folder, and its own network namespace
 * (unshare --net), so that it can never touch the main daemon's bridge or iptables rules — a
 * daemon sharing the host's namespace deletes or rewires docker0. The test image is copied in
 * from the main daemon.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { pollUntil } from "./poll.js";

export interface PrivateDockerdOptions {
  /**
   * A namespace the test made (test/support/netns.ts) to start the daemon in, instead of a new one
   * of its own: it keeps its addresses and links across a stop and a start.
   */
  readonly namespace?: { readonly enter: readonly string[] };
  /** More dockerd options (e.g. --insecure-registry). */
  readonly args?: readonly string[];
}

export class PrivateDockerd {
  readonly socketPath: string;
  readonly docker: Docker;
  private child: ChildProcess | null = null;

  private constructor(
    readonly dir: string,
    private readonly loopback = false,
    private readonly where: PrivateDockerdOptions = {},
  ) {
    this.socketPath = path.join(dir, "docker.sock");
    this.docker = new Docker({ socketPath: this.socketPath });
  }

  /**
   * Starts a private daemon and copies `images` into it from the main daemon. With `loopback`, the
   * namespace's `lo` is up (a new namespace has it down), so that the daemon can listen on
   * 127.0.0.1: what `swarm init --advertise-addr 127.0.0.1` needs.
   */
  static async create(
    images: readonly string[],
    { loopback = false, ...where }: { loopback?: boolean } & PrivateDockerdOptions = {},
  ): Promise<PrivateDockerd> {
    // Short path: Unix socket paths are limited to about 108 bytes.
    const d = new PrivateDockerd(mkdtempSync("/tmp/bpd-"), loopback, where);
    await d.start();
    const main = new Docker();
    for (const image of images) {
      const stream = await main.getImage(image).get();
      await d.docker.loadImage(stream);
    }
    return d;
  }

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    const log = openSync(path.join(this.dir, "dockerd.log"), "a");
    const dockerd = [
      "dockerd",
      "-H",
      `unix://${this.socketPath}`,
      "--data-root",
      path.join(this.dir, "root"),
      "--exec-root",
      path.join(this.dir, "exec"),
      "--pidfile",
      path.join(this.dir, "docker.pid"),
      "--iptables=false",
      "--ip-masq=false",
      ...(this.where.args ?? []),
    ];
    // `exec` keeps dockerd the child this class signals; the arguments go as "$@", never parsed.
    const command = this.loopback ? ["sh", "-c", 'ip link set lo up && exec "$@"', "sh", ...dockerd] : dockerd;
    const [program, ...args] = this.where.namespace
      ? ["nsenter", ...this.where.namespace.enter, ...dockerd]
      : ["unshare", "--net", ...command];
    const child = spawn(program, args, { stdio: ["ignore", log, log], detached: true });
    this.child = child;
    child.on("exit", () => {
      if (this.child === child) this.child = null;
    });
    const up = await pollUntil(
      () =>
        this.docker.ping().then(
          () => true,
          () => false,
        ),
      60_000,
      200,
    );
    if (!up) throw new Error(`private dockerd did not answer; see ${path.join(this.dir, "dockerd.log")}`);
  }

  /** Stops the daemon (its containers stop with it) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }

  /**
   * A daemon killed or restarted with live containers leaves their containerd shims (and the
   * containers' processes) behind: find them by their socket under this daemon's folder.
   */
  private killOrphans(): void {
    const procs = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
    const read = (pid: string, file: string): string => {
      try {
        return readFileSync(`/proc/${pid}/${file}`, "utf8");
      } catch {
        return "";
      }
    };
    const shims = new Set(procs.filter((pid) => read(pid, "cmdline").includes(`${this.dir}/`)));
    const children = procs.filter((pid) => shims.has(read(pid, "stat").split(") ")[1]?.split(" ")[1] ?? ""));
    for (const pid of [...children, ...shims]) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  async destroy(): Promise<void> {
    if (this.child) {
      const containers = await this.docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(
        containers.map((c) =>
          this.docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
      );
      await this.stop();
    }
    this.killOrphans();
    // A daemon that did not shut down cleanly leaves mounts (its data root, network namespaces).
    const mounts = readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[1] ?? "")
      .filter((m) => m.startsWith(`${this.dir}/`))
      .sort()
      .reverse();
    for (const m of mounts) spawnSync("umount", ["-l", m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
