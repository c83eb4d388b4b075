/**
 * The HTTP edge (fastify), built apart from `listen` so that tests use `inject()`.
 *
 * Reads (open): /healthz, /readyz, /metrics, GET /v1/specs[/{name}], GET /v1/events.
 * Writes (bearer token; off without one): PUT/DELETE /v1/specs/{name} in the runtime spec
 * directory, POST /v1/containers/{name}/exec, GET /v1/containers/{name}/logs (SSE).
 * With --compat docker-spawner: /health, /spawn, /status/{id}, /stop/{id}, /exec/{id}.
 * Every route lives in its own module; this one builds the server and the shared parts.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, LogController } from "fastify";
import { DEFAULT_LIMITS } from "../manifest/parse.js";
import type { ServerDeps } from "./deps.js";
import { registerContainerRoutes } from "./routes/containers.js";
import { registerSpawnerCompat } from "./routes/spawner-compat.js";
import { registerSpecRoutes } from "./routes/specs.js";

export type { ServerDeps, StatusSnapshot } from "./deps.js";
export { tokenMatches } from "./auth.js";

export type HttpServer = ReturnType<typeof buildServer>;

export function buildServer(deps: ServerDeps) {
  // Typed as fastify's own logger, so that the route modules take a plain FastifyInstance.
  const logger: FastifyBaseLogger = deps.log.child({ component: "http" });
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_LIMITS.maxFileBytes,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false } },
  });
  // Bodies arrive as text: a spec keeps its lines and columns for error messages; JSON routes
  // parse it in their preValidation hook (parseJsonBody).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    done(null, body);
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (err.validation) {
      const errors = err.validation.map((v) => {
        const field = `${v.instancePath.replace(/^\//, "").replace(/\//g, ".")}${
          v.keyword === "required" ? `${v.instancePath ? "." : ""}${String(v.params.missingProperty)}` : ""
        }`;
        const extra = v.keyword === "additionalProperties" ? ` (${String(v.params.additionalProperty)})` : "";
        return { field: field || "(body)", message: `${v.message ?? "is not valid"}${extra}` };
      });
      return reply.code(400).send({ error: "the request body is not valid", errors });
    }
    if (err.statusCode === 413) {
      return reply.code(413).send({ error: `the request body is too large: ${err.message}` });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.message });
    }
    req.log.error({ err: err.message, url: req.url }, "http request failed");
    return reply.code(500).send({ error: err.message });
  });

  app.get("/healthz", () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const r = deps.readiness();
    return reply.code(r.ready ? 200 : 503).send({ ready: r.ready, reason: r.reason });
  });
  const metrics = deps.metrics;
  if (metrics) {
    app.get("/metrics", async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  }

  registerSpecRoutes(app, deps);
  registerContainerRoutes(app, deps);
  if (deps.compat) registerSpawnerCompat(app, deps, deps.compat);
  return app;
}

export type App = HttpServer;
