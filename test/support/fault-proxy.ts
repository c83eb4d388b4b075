/**
 * A fault-injecting proxy in front of a Docker socket. It speaks HTTP on a Unix socket (berth's
 * DOCKER_HOST points at it) and forwards each request to the engine, unless a rule says to stall
 * it (never answer), drop the connection, or answer something else. The events stream can be
 * cut, refused, or muted (kept open, silent: the hardest case, a stream that looks alive).
 */
import { mkdtempSync, rmSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

export type Decision = "forward" | "stall" | "drop" | { readonly status: number; readonly body: unknown };

export interface Rule {
  readonly method?: string;
  /** Matched against the path without the /v1.NN prefix, query included. */
  readonly path: RegExp;
  readonly decision: Decision;
  /** Apply this many times (default: always). */
  times?: number;
}

export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly decision: string;
  readonly at: number;
}

export type EventsMode = "forward" | "refuse" | "mute";

export class FaultProxy {
  readonly rules: Rule[] = [];
  readonly seen: Seen[] = [];
  eventsMode: EventsMode = "forward";
  private readonly events = new Set<ServerResponse>();
  private readonly stalled = new Set<ServerResponse>();

  private constructor(
    private readonly server: http.Server,
    readonly socketPath: string,
    private readonly target: string,
  ) {}

  /** Starts a proxy to `target` (a socket path; default the engine's default socket). */
  static async start(target = "/var/run/docker.sock"): Promise<FaultProxy> {
    const socketPath = path.join(mkdtempSync(path.join(tmpdir(), "berth-proxy-")), "docker.sock");
    const server = http.createServer((req, res) => {
      proxy.handle(req, res);
    });
    const proxy = new FaultProxy(server, socketPath, target);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return proxy;
  }

  /** DOCKER_HOST for processes that should go through the proxy. */
  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  add(rule: Rule): void {
    this.rules.push(rule);
  }

  /** Destroys every open events stream (as a proxy dropping the connection would). */
  cutEvents(): void {
    for (const res of this.events) res.destroy();
    this.events.clear();
  }

  /** Requests stalled by a rule whose connection is still open (the client has not given up). */
  get stalledCount(): number {
    return this.stalled.size;
  }

  count(method: string, pathRe: RegExp): number {
    return this.seen.filter((s) => s.method === method && pathRe.test(s.path)).length;
  }

  private decide(method: string, p: string): Decision {
    const rule = this.rules.find((r) => (r.method === undefined || r.method === method) && r.path.test(p));
    if (!rule) return "forward";
    if (rule.times !== undefined && --rule.times <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
    return rule.decision;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? "GET";
    const p = (req.url ?? "/").replace(/^\/v1\.\d+/, "");
    const isEvents = p.startsWith("/events");
    let decision: Decision = isEvents && this.eventsMode === "refuse" ? "drop" : this.decide(method, p);
    if (isEvents && decision === "forward" && this.eventsMode === "mute") decision = "forward";
    this.seen.push({
      method,
      path: p,
      decision: typeof decision === "string" ? decision : String(decision.status),
      at: Date.now(),
    });
    if (decision === "drop") {
      req.socket.destroy();
      return;
    }
    if (decision === "stall") {
      this.stalled.add(res);
      res.on("close", () => this.stalled.delete(res));
      return;
    }
    if (typeof decision === "object") {
      req.resume();
      res.writeHead(decision.status, { "content-type": "application/json" });
      res.end(JSON.stringify(decision.body));
      return;
    }
    const upstream = http.request({ socketPath: this.target, method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (isEvents) {
        // A quiet stream sends no body for a while: send the headers now, as the engine does.
        res.flushHeaders();
        this.events.add(res);
        res.on("close", () => {
          this.events.delete(res);
          up.destroy();
        });
        up.on("data", (chunk: Buffer) => {
          if (this.eventsMode !== "mute") res.write(chunk);
        });
        up.on("end", () => res.end());
      } else {
        up.pipe(res);
      }
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
    res.on("close", () => upstream.destroy());
  }

  async close(): Promise<void> {
    this.cutEvents();
    for (const res of this.stalled) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(path.dirname(this.socketPath), { recursive: true, force: true });
  }
}
