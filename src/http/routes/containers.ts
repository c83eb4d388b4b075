/**
 * Commands in and logs of berth's own containers (behind the token): POST
 * /v1/containers/{name}/exec and GET /v1/containers/{name}/logs as Server-Sent Events. NAME is a
 * container name, an ID, or a spec name (its lowest running replica); a container berth does not
 * manage is never reachable here (404).
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { isParseError, parseDurationMs, sinceSeconds } from "../../core/units.js";
import { requireToken } from "../auth.js";
import { JSON_BODY_LIMIT, JSON_TYPES, parseJsonBody, requireContentType } from "../common.js";
import type { ServerDeps } from "../deps.js";
import {
  EXEC_BODY_SCHEMA,
  EXEC_DEFAULT_TIMEOUT_MS,
  EXEC_MAX_TIMEOUT_MS,
  type ExecBody,
  execRequest,
} from "../exec-body.js";

export function registerContainerRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const token = requireToken(deps.apiToken);
  // Log streams being served: ended when the server closes, which would otherwise wait for them.
  const streaming = new Set<() => void>();
  app.addHook("preClose", (done) => {
    for (const stop of streaming) stop();
    done();
  });
  const notFound = (reply: FastifyReply, name: string): FastifyReply =>
    reply.code(404).send({ error: `no container ${name} managed by this berth` });

  app.post<{ Params: { name: string }; Body: ExecBody }>(
    "/v1/containers/:name/exec",
    {
      onRequest: [token, requireContentType(JSON_TYPES)],
      preValidation: parseJsonBody,
      bodyLimit: JSON_BODY_LIMIT,
      schema: { body: EXEC_BODY_SCHEMA },
      config: { waits: true },
    },
    async (req, reply) => {
      const timeout = req.body.timeout === undefined ? EXEC_DEFAULT_TIMEOUT_MS : parseDurationMs(req.body.timeout);
      if (isParseError(timeout) || timeout <= 0 || timeout > EXEC_MAX_TIMEOUT_MS) {
        return reply.code(400).send({
          error: "the request body is not valid",
          errors: [{ field: "timeout", message: "must be a duration from 1ms to 1h, e.g. 30s" }],
        });
      }
      const container = await deps.containers.find(req.params.name);
      if (!container) return notFound(reply, req.params.name);
      if (container.state !== "running")
        return reply.code(409).send({ error: `container ${container.name} is ${container.state}, not running` });
      const result = await deps.containers.exec(container, execRequest(req.body, timeout));
      return reply.send({ container: container.name, ...result });
    },
  );

  app.get<{ Params: { name: string }; Querystring: { follow?: string; tail?: string; since?: string } }>(
    "/v1/containers/:name/logs",
    {
      onRequest: token,
      config: { waits: true },
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            follow: { type: "string", enum: ["true", "false", "1", "0"] },
            tail: { type: "string", pattern: "^[0-9]{1,7}$" },
            since: { type: "string", maxLength: 64 },
          },
        },
      },
    },
    async (req, reply) => {
      // The client may go away at any await below. Listen from the start, so that a log stream
      // opened meanwhile is closed as soon as it is open: a follow stream nobody reads would
      // otherwise hold a connection to the engine for good.
      const raw = reply.raw;
      let clientGone = raw.destroyed;
      let stream: { close(): void } | null = null;
      raw.once("close", () => {
        clientGone = true;
        stream?.close();
      });
      let since: number | null = null;
      if (req.query.since !== undefined) {
        since = sinceSeconds(req.query.since, deps.now());
        if (since === null) {
          return reply.code(400).send({
            error: "the query is not valid",
            errors: [{ field: "since", message: "must be a duration ago (10m) or an RFC 3339 time" }],
          });
        }
      }
      const container = await deps.containers.find(req.params.name);
      if (!container) return notFound(reply, req.params.name);
      reply.hijack();
      if (clientGone) return reply;
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      raw.write(`event: open\ndata: ${JSON.stringify({ container: container.name, id: container.id })}\n\n`);
      let ended = false;
      const end = (err?: Error): void => {
        if (ended) return;
        ended = true;
        if (raw.destroyed) return;
        raw.write(`event: end\ndata: ${JSON.stringify({ error: err?.message ?? null })}\n\n`);
        raw.end();
      };
      const stop = (): void => {
        stream?.close();
        end();
      };
      streaming.add(stop);
      raw.once("close", () => streaming.delete(stop));
      try {
        const opened = await deps.containers.logs(
          container,
          {
            follow: req.query.follow === "true" || req.query.follow === "1",
            tail: req.query.tail === undefined ? null : Number(req.query.tail),
            since,
          },
          {
            onLine: (line) => {
              if (!ended && !raw.destroyed) raw.write(`event: log\ndata: ${JSON.stringify(line)}\n\n`);
            },
            onEnd: end,
          },
        );
        if (clientGone) opened.close();
        else stream = opened;
      } catch (err) {
        end(err as Error);
      }
      return reply;
    },
  );
}
