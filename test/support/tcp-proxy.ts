/**
 * A TCP proxy on loopback that can be cut off without closing anything: while `stalled`, bytes
 * are held both ways (a network partition as the client sees one: its requests go unanswered).
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class TcpProxy {
  private stalledNow = false;
  private readonly held: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy?.sockets.add(from);
        from.on("error", () => to.destroy());
        from.on("close", () => to.destroy());
        from.on("data", (chunk: Buffer) => {
          if (proxy?.stalledNow) proxy.held.push(() => to.write(chunk));
          else to.write(chunk);
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    proxy = new TcpProxy(server, typeof address === "object" && address ? address.port : 0);
    return proxy;
  }

  /** Holds every byte from now on, both ways. */
  stall(): void {
    this.stalledNow = true;
  }

  /** Lets the held bytes through, in order, and what comes after. */
  resume(): void {
    this.stalledNow = false;
    for (const send of this.held.splice(0)) send();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
