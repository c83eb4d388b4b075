/**
 * Network namespaces of a test's own, for private Docker daemons that must reach one another (a
 * two-node swarm): each is held by a `sleep` process made with `unshare --net --uts` (loopback up,
 * a hostname of its own, so that Swarm names the nodes apart), and outlives the daemons started in
 * it, so that a node's engine can be stopped and started again on the same address. Two are
 * linked by a veth pair with addresses the test chooses (10.213.x.0/24); nothing touches the
 * host's own interfaces, addresses or routes.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { pollUntil } from "./poll.js";

export class NetNamespace {
  private constructor(private readonly holder: ChildProcess & { pid: number }) {}

  /** A namespace whose hostname is `hostname`, with loopback up. */
  static async create(hostname: string): Promise<NetNamespace> {
    // hostname and the address are arguments ("$@"), never parsed by the shell.
    const holder = spawn(
      "unshare",
      ["--net", "--uts", "sh", "-c", 'hostname "$1" && ip link set lo up && exec sleep infinity', "sh", hostname],
      { stdio: "ignore" },
    );
    if (holder.pid === undefined) throw new Error("unshare did not start");
    const ns = new NetNamespace(holder as ChildProcess & { pid: number });
    const ready = await pollUntil(() => ns.hostname() === hostname, 10_000, 50);
    if (!ready) throw new Error(`network namespace ${hostname} did not come up`);
    return ns;
  }

  /** The namespace's file, as `ip link set … netns` takes it. */
  get netPath(): string {
    return `/proc/${this.holder.pid}/ns/net`;
  }

  /** nsenter's options that enter this namespace (network and hostname). */
  get enter(): readonly string[] {
    return [`--net=${this.netPath}`, `--uts=/proc/${this.holder.pid}/ns/uts`];
  }

  /** Runs a program inside the namespace and returns its standard output. */
  run(argv: readonly string[]): string {
    return execFileSync("nsenter", [...this.enter, ...argv], { encoding: "utf8" });
  }

  private hostname(): string {
    try {
      return this.run(["hostname"]).trim();
    } catch {
      return "";
    }
  }

  destroy(): void {
    this.holder.kill("SIGKILL");
  }
}

/**
 * A veth pair between two namespaces, `a` and `b` given their CIDR addresses (e.g. 10.213.7.1/24
 * and 10.213.7.2/24). The pair is made in the host's namespace under a random name and moved at
 * once; it goes away with the namespaces.
 */
export function link(a: NetNamespace, aAddress: string, b: NetNamespace, bAddress: string): void {
  const tag = randomBytes(4).toString("hex");
  const [left, right] = [`bva${tag}`, `bvb${tag}`];
  execFileSync("ip", ["link", "add", left, "type", "veth", "peer", "name", right]);
  for (const [ns, dev, address] of [
    [a, left, aAddress],
    [b, right, bAddress],
  ] as const) {
    execFileSync("ip", ["link", "set", dev, "netns", ns.netPath]);
    ns.run(["ip", "addr", "add", address, "dev", dev]);
    ns.run(["ip", "link", "set", dev, "up"]);
  }
}
