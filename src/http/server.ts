/**
 * The HTTP edge (fastify), built apart from `listen` so that tests use `inject()`.
 *
 * Reads (open): /healthz, /readyz, /metrics, GET /v1/specs[/{name}], GET /v1/events.
 * Writes (bearer token; off without one): PUT/DELETE /v1/specs/{name} in the runtime spec
 * directory, POST /v1/containers/{name}/exec, GET /v1/containers/{name}/logs (SSE).
 * GET /v1/containers/{name}/terminal (WebSocket, token): an interactive shell.
 * With --compat docker-spawner: /health, /spawn, /status/{id}, /stop/{id}, /exec/{id}.
 * With --compat artie: /health and /api/containers[/:id[/exec|/logs|/terminal|/setup]].
 * Under --target swarm (routes/swarm.ts): the same probes, metrics, events and rules; the
 * services' status at GET /v1/specs; every route that reaches this host's containers answers 501.
 * Every route lives in its own module; this one builds the server and the shared parts: the
 * Host and Origin rules (access.ts), the accepted body types, the timeouts and the connection cap.
 */
import { Socket } from "node:net";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyError, LogController } from "fastify";
import { normalizeAllowedHost, normalizeOrigin } from "../config.js";
import { CONTROLLER_HEADER, hostAllowed, LEADER_HEADER, originAllowed, PROBES, ROLE_HEADER } from "./access.js";
import { pathOf, refuse } from "./auth.js";
import { JSON_BODY_LIMIT, JSON_TYPES, SPEC_TYPES } from "./common.js";
import type { LeadershipStatus } from "../loop/leadership.js";
import type { HttpLimits, ServerDeps } from "./deps.js";
import { LogStreams } from "./log-stream.js";
import { registerArtieCompat } from "./routes/artie-compat.js";
import { registerContainerRoutes, registerTerminalRoute } from "./routes/containers.js";
import { registerEventRoutes } from "./routes/events.js";
import { registerGitRoutes } from "./routes/git.js";
import { registerNodeRoutes } from "./routes/node.js";
import { registerPoolRoutes } from "./routes/pools.js";
import { registerSpawnerCompat } from "./routes/spawner-compat.js";
import { registerSpecRoutes } from "./routes/specs.js";
import { registerSwarmRoutes } from "./routes/swarm.js";
import { formatDurationMs } from "../core/units.js";

export type { HttpLimits, ServerDeps, StatusSnapshot, SwarmServerDeps, SwarmStatusSnapshot } from "./deps.js";
export { tokenMatches } from "./auth.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route waits for the engine while the connection is quiet (exec, logs, spawn, stop): no idle timeout. */
    waits?: boolean;
  }
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
};

/** How often node looks for requests past their headers or request timeout. */
const TIMEOUT_CHECK_MS = 1_000;
/** The largest WebSocket message a client may send (terminal input, resize). */
const WS_MAX_MESSAGE = 64 * 1024;
/** pino's number for warn. */
const WARN_LEVEL = 40;

/**
 * What a standby does not serve: anything but a read, and the terminal (it runs a command). The
 * Git webhook only fetches: a standby keeps its checkout as current as the leader's.
 */
function writes(method: string, route: string): boolean {
  if (method !== "GET" && method !== "HEAD") return !PROBES.has(route) && route !== "/v1/hooks/git";
  return route.endsWith("/terminal");
}

function standbyAnswer(ha: LeadershipStatus): Record<string, unknown> {
  const leader = ha.leader ? ` (${ha.leader})` : "";
  const error =
    ha.firstWriteInMs !== null
      ? `this berth holds the lease in a store without earlier terms and makes its first write in ${formatDurationMs(ha.firstWriteInMs)}: send writes again then`
      : ha.storeError !== null
        ? `this berth is a standby, and no berth can lead while the lease store does not answer (${ha.storeError}): try again once it answers`
        : ha.blockedBy !== null
          ? `this berth is a standby: it does not lead while a berth without --ha holds this id's host lock (${ha.blockedBy})`
          : ha.leaderUrl !== null
            ? `this berth is a standby; the leader${leader} serves writes at ${ha.leaderUrl}: send them there`
            : ha.leader !== null
              ? `this berth is a standby; the leader${leader} serves writes but says no API address (an older berth, or --listen off): send them to the one whose /readyz?role=leader answers 200`
              : "this berth is a standby and no berth leads at the moment (an election takes up to the lease's TTL): try again shortly";
  return { error, code: "BERTH_NOT_LEADER", leader: ha.leader, leaderUrl: ha.leaderUrl };
}

/** A full server says so in the log at most this often. */
const DROP_LOG_EVERY_MS = 60_000;

export type HttpServer = ReturnType<typeof buildServer>;

/** fastify's validation contexts, as a request's parts are said in an answer. */
const VALIDATED_PART: Readonly<Record<string, string>> = {
  body: "body",
  querystring: "query",
  params: "path",
  headers: "headers",
};
export function buildServer(deps: ServerDeps) {
  // Typed as fastify's own logger, so that the route modules take a plain FastifyInstance. At
  // warn at most: fastify's own info line ("Server listening at …") would repeat the one berth
  // logs with its fields ("http listening"); berth's HTTP code logs only warnings and errors here.
  const logger: FastifyBaseLogger = deps.log.child(
    { component: "http" },
    { level: deps.log.levelVal >= WARN_LEVEL ? deps.log.level : "warn" },
  );
  const limits = { ...DEFAULT_HTTP_LIMITS, ...deps.limits };
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // Routes that take more say so (a spec: 1 MiB); a body no route asks for is refused early.
    bodyLimit: JSON_BODY_LIMIT,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false } },
  });
  app.server.maxConnections = limits.maxConnections;
  let lastDropLog = -Infinity;
  app.server.on("drop", () => {
    if (deps.now() - lastDropLog < DROP_LOG_EVERY_MS) return;
    lastDropLog = deps.now();
    logger.warn({ maxConnections: limits.maxConnections }, "http connection refused: too many connections");
  });

  const allowHosts = (deps.allowHosts ?? []).flatMap((h) => normalizeAllowedHost(h) ?? []);
  const allowOrigins = (deps.allowOrigins ?? []).flatMap((o) => normalizeOrigin(o) ?? []);
  // Before routing's hooks and before any body is read: the Host and Origin rules, and 404.
  app.addHook("onRequest", async (req, reply) => {
    reply.header(CONTROLLER_HEADER, deps.controllerId).header("x-content-type-options", "nosniff");
    if (!PROBES.has(req.routeOptions.url ?? "") && !hostAllowed(req.headers.host, allowHosts)) {
      return refuse(reply, 403, {
        error: `Host ${JSON.stringify(req.headers.host ?? "")} is not served: berth answers for localhost, 127.0.0.0/8, [::1] and the names given with --allow-host`,
      });
    }
    const fetchSite = req.headers["sec-fetch-site"];
    if (!originAllowed(req.headers.origin, typeof fetchSite === "string" ? fetchSite : undefined, allowOrigins)) {
      return refuse(reply, 403, {
        error: `requests from browser pages are refused unless their origin is given with --allow-origin (Origin: ${req.headers.origin ?? "none"})`,
      });
    }
    if (req.is404) return refuse(reply, 404, { error: `no endpoint ${req.method} ${pathOf(req.url)}` });
    const ha = deps.leadership?.();
    if (ha) {
      reply.header(ROLE_HEADER, ha.role);
      if (ha.role === "standby" && ha.leaderUrl !== null) reply.header(LEADER_HEADER, ha.leaderUrl);
      if (ha.role === "standby" && writes(req.method, req.routeOptions.url ?? ""))
        return refuse(reply, 503, standbyAnswer(ha));
    }
    return undefined;
  });
  // A route that waits for the engine (a long exec, a log stream) keeps its connection while quiet.
  // (inject()'s stand-in socket has no timeout to lift.)
  app.addHook("preHandler", (req, _reply, done) => {
    const socket: unknown = req.raw.socket;
    if (req.routeOptions.config.waits && socket instanceof Socket) socket.setTimeout(0);
    done();
  });

  // Bodies arrive as text: a spec keeps its lines and columns for error messages; JSON routes
  // parse it in their preValidation hook (parseJsonBody). Any other type is a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...new Set([...SPEC_TYPES, ...JSON_TYPES])], { parseAs: "string" }, (_req, body, done) => {
    done(null, body);
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (err.validation) {
      // What fastify checked: the body, the query string, the path's parameters or the headers.
      const part = VALIDATED_PART[err.validationContext ?? "body"] ?? "body";
      const errors = err.validation.map((v) => {
        const field = `${v.instancePath.replace(/^\//, "").replace(/\//g, ".")}${
          v.keyword === "required" ? `${v.instancePath ? "." : ""}${String(v.params.missingProperty)}` : ""
        }`;
        const extra = v.keyword === "additionalProperties" ? ` (${String(v.params.additionalProperty)})` : "";
        return { field: field || `(${part})`, message: `${v.message ?? "is not valid"}${extra}` };
      });
      return reply.code(400).send({ error: `the request ${part} is not valid`, errors });
    }
    if (err.statusCode === 413) {
      return refuse(reply, 413, { error: `the request body is too large: ${err.message}` });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.message });
    }
    // The path only: the query of an SSE or WebSocket route may carry the token.
    req.log.error({ err: err.message, url: pathOf(req.url) }, "http request failed");
    return reply.code(500).send({ error: err.message });
  });

  app.get("/healthz", () => ({ status: "ok" }));
  app.get("/readyz", async (req, reply) => {
    const r = deps.readiness();
    const ha = deps.leadership?.();
    const role = ha?.role ?? "leader";
    // `?role=leader`: ready and leading (a load balancer's check for the one that writes).
    const wantsLeader = (req.query as Record<string, unknown>).role === "leader";
    const ready = r.ready && (!wantsLeader || role === "leader");
    const reason =
      r.ready && !ready
        ? ha?.storeError
          ? `standby: no one can lead while the lease store does not answer (${ha.storeError})`
          : ha?.blockedBy
            ? `standby: not leading while a berth without --ha holds this id's host lock (${ha.blockedBy})`
            : "standby: another berth leads"
        : r.reason;
    return reply.code(ready ? 200 : 503).send({
      ready,
      reason,
      role,
      ...(ha
        ? {
            leader: ha.leader,
            leaderUrl: ha.leaderUrl,
            leaderTerm: ha.leaderTerm,
            term: ha.term,
            store: ha.store,
            storeError: ha.storeError,
            blockedBy: ha.blockedBy,
          }
        : {}),
    });
  });
  const metrics = deps.metrics;
  if (metrics) {
    app.get("/metrics", async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  }

  // Log streams being served: ended when the server closes, which would otherwise wait for them.
  const streams = new LogStreams();
  app.addHook("preClose", (done) => {
    streams.closeAll();
    done();
  });

  registerEventRoutes(app, deps);
  registerGitRoutes(app, deps);
  if (deps.target === "swarm") {
    registerSwarmRoutes(app, deps);
    return app;
  }
  const engine = deps;
  registerSpecRoutes(app, engine);
  registerPoolRoutes(app, engine, engine.pools ?? null);
  registerContainerRoutes(app, engine, streams);
  registerNodeRoutes(app, engine);
  if (engine.compat) registerSpawnerCompat(app, engine, engine.compat);

  // WebSocket routes (terminals) go in a plugin registered after @fastify/websocket, which must
  // see them being added. The upgrade request passes the same hooks as any other (Host, Origin,
  // token) before anything is upgraded; a failed socket is logged by its message only.
  void app.register(websocket, {
    options: { maxPayload: WS_MAX_MESSAGE },
    errorHandler: (err, socket, req) => {
      req.log.warn({ err: err.message }, "websocket failed");
      socket.terminate();
    },
  });
  void app.register((scope, _options, done) => {
    registerTerminalRoute(scope, engine);
    const artie = engine.artie;
    if (artie) registerArtieCompat(scope, engine, artie, streams);
    done();
  });
  return app;
}

export type App = HttpServer;
