/**
 * Commands in and logs of berth's own containers (behind the token): POST
 * /v1/containers/{name}/exec and GET /v1/containers/{name}/logs as Server-Sent Events. NAME is a
 * container name, an ID, or a spec name (its lowest running replica); a container berth does not
 * manage is never reachable here (404).
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { isParseError, parseDurationMs, sinceSeconds } from "../../core/units.js";
import type { ExecResult } from "../../docker/port.js";
import { requireToken } from "../auth.js";
import { JSON_BODY_LIMIT, parseJsonBody } from "../common.js";
import type { ServerDeps } from "../server.js";

/** Output kept per stream of an exec. */
export const EXEC_OUTPUT_LIMIT = 1024 * 1024;
export const EXEC_DEFAULT_TIMEOUT_MS = 60_000;
export const EXEC_MAX_TIMEOUT_MS = 60 * 60_000;

export interface ExecBody {
  readonly cmd: string[];
  readonly workdir?: string;
  readonly env?: Record<string, string> | string[];
  readonly user?: string;
  readonly timeout?: string;
}

/** The JSON Schema of an exec body; `env` as a map or as KEY=VALUE entries. */
export const EXEC_BODY_SCHEMA = {
  type: "object",
  required: ["cmd"],
  additionalProperties: false,
  properties: {
    cmd: { type: "array", minItems: 1, maxItems: 1000, items: { type: "string", maxLength: 32_768 } },
    workdir: { type: "string", minLength: 1, maxLength: 4096 },
    env: {
      oneOf: [
        { type: "object", additionalProperties: { type: "string" }, propertyNames: { pattern: "^[^=]+$" } },
        { type: "array", items: { type: "string", pattern: "^[^=]+=" } },
      ],
    },
    user: { type: "string", minLength: 1, maxLength: 256 },
    timeout: { type: "string", pattern: "^[0-9]", maxLength: 32 },
  },
} as const;

export function envEntries(env: ExecBody["env"]): string[] | undefined {
  if (env === undefined) return undefined;
  return Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** Runs an exec body in a container (its ID); the timeout as a duration, or a fixed one. */
export async function runExec(
  deps: Pick<ServerDeps, "io" | "log">,
  id: string,
  body: ExecBody,
  timeoutMs: number,
): Promise<ExecResult> {
  const env = envEntries(body.env);
  const result = await deps.io.exec(id, {
    cmd: body.cmd,
    ...(body.workdir !== undefined ? { workdir: body.workdir } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(body.user !== undefined ? { user: body.user } : {}),
    timeoutMs,
    maxOutputBytes: EXEC_OUTPUT_LIMIT,
  });
  // The command, not its arguments or environment, which may hold secrets.
  deps.log.info(
    { container: id.slice(0, 12), command: body.cmd[0], exitCode: result.exitCode, timedOut: result.timedOut },
    "exec done",
  );
  return result;
}

export function registerContainerRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const token = requireToken(deps.apiToken);
  const notFound = (reply: FastifyReply, name: string): FastifyReply =>
    reply.code(404).send({ error: `no container ${name} managed by this berth` });

  app.post<{ Params: { name: string }; Body: ExecBody }>(
    "/v1/containers/:name/exec",
    { preHandler: token, preValidation: parseJsonBody, bodyLimit: JSON_BODY_LIMIT, schema: { body: EXEC_BODY_SCHEMA } },
    async (req, reply) => {
      const timeout = req.body.timeout === undefined ? EXEC_DEFAULT_TIMEOUT_MS : parseDurationMs(req.body.timeout);
      if (isParseError(timeout) || timeout <= 0 || timeout > EXEC_MAX_TIMEOUT_MS) {
        return reply.code(400).send({
          error: "the request body is not valid",
          errors: [{ field: "timeout", message: "must be a duration from 1ms to 1h, e.g. 30s" }],
        });
      }
      const container = await deps.findContainer(req.params.name);
      if (!container) return notFound(reply, req.params.name);
      if (container.state !== "running")
        return reply.code(409).send({ error: `container ${container.name} is ${container.state}, not running` });
      const result = await runExec(deps, container.id, req.body, timeout);
      return reply.send({ container: container.name, ...result });
    },
  );

  app.get<{ Params: { name: string }; Querystring: { follow?: string; tail?: string; since?: string } }>(
    "/v1/containers/:name/logs",
    {
      preHandler: token,
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
      const container = await deps.findContainer(req.params.name);
      if (!container) return notFound(reply, req.params.name);
      reply.hijack();
      const raw = reply.raw;
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
        raw.write(`event: end\ndata: ${JSON.stringify({ error: err?.message ?? null })}\n\n`);
        raw.end();
      };
      try {
        const handle = await deps.io.logs(
          container.id,
          {
            follow: req.query.follow === "true" || req.query.follow === "1",
            tail: req.query.tail === undefined ? null : Number(req.query.tail),
            since,
          },
          {
            onLine: (line) => {
              if (!ended) raw.write(`event: log\ndata: ${JSON.stringify(line)}\n\n`);
            },
            onEnd: end,
          },
        );
        req.raw.once("close", () => {
          handle.close();
        });
      } catch (err) {
        end(err as Error);
      }
      return reply;
    },
  );
}
