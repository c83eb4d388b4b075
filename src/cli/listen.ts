/**
 * `berth run`'s HTTP API coming up, under either target: it listens, the host lock says where
 * (host/lock.ts), and under --ha the address the other members and CLIs are sent to while it leads
 * is written with its name in the lease store (docs/reliability.md, "Which berth answers").
 */
import os from "node:os";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { defaultAdvertise } from "../core/lease.js";
import type { HostLock } from "../host/lock.js";
import type { HttpServer } from "../http/server.js";
import type { Leadership } from "../loop/leadership.js";

/** Listens at --listen, before the first try at the lease; says so in one line. */
export async function listenApi(
  server: HttpServer,
  config: Config,
  listen: NonNullable<Config["listen"]>,
  /** The id's host lock, which tells who asks it where this berth listens (host/lock.ts). */
  lock: Pick<HostLock, "setListen"> | null,
  leadership: Leadership | undefined,
  log: Logger,
): Promise<void> {
  const address = await server.listen({ host: listen.host, port: listen.port });
  lock?.setListen(address);
  // --ha-advertise, else the address it listens on (the host's name on every interface).
  const advertised =
    leadership && config.ha
      ? (config.ha.advertise ?? defaultAdvertise(listen.host, Number(new URL(address).port), os.hostname()))
      : null;
  if (advertised !== null) leadership?.advertise(advertised);
  log.info(
    {
      address,
      // What it is bound to: fastify's address is the first one, 127.0.0.1 even on 0.0.0.0.
      host: listen.host,
      ...(advertised !== null ? { advertise: advertised } : {}),
      writes: config.apiToken !== null && config.runtimeSpecs !== null,
      allowHosts: config.allowHosts,
      allowOrigins: config.allowOrigins,
    },
    "http listening",
  );
}
