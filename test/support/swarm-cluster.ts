/**
 * A two-node swarm for the `--target swarm` tests and the swarm soak: two private dockerds
 * (test/support/private-dockerd.ts), each in a network namespace of its own (test/support/netns.ts,
 * hostnames node-a and node-b), linked by a veth pair on `${subnet}.0/24`. node-a inits the swarm
 * on `${subnet}.1` with a one-second heartbeat (a stopped node is seen down in seconds, not the
 * default's ~15); node-b joins it as a worker through the Engine API. The nodes carry the labels
 * zone=a and zone=b. Never the shared engine, never the host's interfaces.
 */
import { link, NetNamespace } from "./netns.js";
import { pollValue } from "./poll.js";
import { PrivateDockerd } from "./private-dockerd.js";

export interface NodeView {
  readonly ID: string;
  readonly Version: { Index: number };
  readonly Spec: { Labels?: Record<string, string>; Role: string; Availability: string };
  readonly Description: { Hostname: string };
  readonly Status: { State: string };
}

export class SwarmCluster {
  private constructor(
    readonly manager: PrivateDockerd,
    readonly worker: PrivateDockerd,
    readonly namespaces: readonly [NetNamespace, NetNamespace],
    /** The manager's and the worker's addresses. */
    readonly addresses: readonly [string, string],
  ) {}

  /**
   * Starts both daemons with `images` copied in, makes the swarm and joins the worker.
   * `subnet`: the first three octets of the link's /24 (e.g. "10.213.1"), distinct per user.
   * `args`: more dockerd options for both (e.g. --insecure-registry).
   */
  static async start(
    images: readonly string[],
    { subnet, args = [] }: { readonly subnet: string; readonly args?: readonly string[] },
  ): Promise<SwarmCluster> {
    const [a, b] = await Promise.all([NetNamespace.create("node-a"), NetNamespace.create("node-b")]);
    const addresses = [`${subnet}.1`, `${subnet}.2`] as const;
    link(a, `${addresses[0]}/24`, b, `${addresses[1]}/24`);
    const [manager, worker] = await Promise.all([
      PrivateDockerd.create(images, { namespace: a, args }),
      PrivateDockerd.create(images, { namespace: b, args }),
    ]);
    const cluster = new SwarmCluster(manager, worker, [a, b], addresses);
    await manager.docker.swarmInit({
      ListenAddr: `${addresses[0]}:2377`,
      AdvertiseAddr: addresses[0],
      Spec: { Dispatcher: { HeartbeatPeriod: 1_000_000_000 } },
    });
    const swarm = (await manager.docker.swarmInspect()) as { JoinTokens: { Worker: string } };
    await worker.docker.swarmJoin({
      ListenAddr: `${addresses[1]}:2377`,
      AdvertiseAddr: addresses[1],
      RemoteAddrs: [`${addresses[0]}:2377`],
      JoinToken: swarm.JoinTokens.Worker,
    });
    if ((await cluster.waitWorker("ready")) === undefined) throw new Error("node-b did not join the swarm");
    for (const node of await cluster.nodes()) {
      const zone = node.Description.Hostname === "node-b" ? "b" : "a";
      await manager.docker
        .getNode(node.ID)
        .update({ version: node.Version.Index, ...node.Spec, Labels: { ...node.Spec.Labels, zone } });
    }
    return cluster;
  }

  async nodes(): Promise<NodeView[]> {
    return (await this.manager.docker.listNodes()) as NodeView[];
  }

  /** The worker's node as the manager lists it, if it does. */
  private async workerNode(): Promise<NodeView | undefined> {
    return (await this.nodes()).find((n) => n.Description.Hostname === "node-b");
  }

  /** The worker's node once the manager sees it in `state` (ready, down), or undefined after 30 s. */
  async waitWorker(state: string): Promise<NodeView | undefined> {
    const found = await pollValue(
      () => this.workerNode(),
      (n) => n?.Status.State === state,
      30_000,
      200,
    );
    return found?.Status.State === state ? found : undefined;
  }

  /** Sets the worker's availability (active, pause, drain), as `docker node update --availability`. */
  async setWorkerAvailability(availability: "active" | "pause" | "drain"): Promise<void> {
    const node = await this.workerNode();
    if (!node) throw new Error("node-b is not in the swarm");
    await this.manager.docker
      .getNode(node.ID)
      .update({ version: node.Version.Index, ...node.Spec, Availability: availability });
  }

  /** Removes both daemons (with the swarm and everything in it), then the namespaces. */
  async destroy(): Promise<void> {
    await this.manager.destroy();
    await this.worker.destroy();
    for (const ns of this.namespaces) ns.destroy();
  }
}
