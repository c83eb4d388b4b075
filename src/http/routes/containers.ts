/**
 * Commands in and logs of berth's own containers (behind the token): POST
 * /v1/containers/{name}/exec, GET /v1/containers/{name}/logs as Server-Sent Events, and
 * /v1/containers/{name}/terminal, an interactive shell over a WebSocket. NAME is a container name,
 * an ID, or a spec name (its lowest running replica that no claim holds: a claimed pool member is
 * its consumer's, reached by its own name or ID; 409 when every one is claimed); a container
 * berth does not manage is never reachable here (404). The two streams take the token as
 * `?token=` too (browsers cannot set headers there).
 */
import type {} from "@fastify/websocket";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ObservedContainer } from "../../core/observed.js";
import { isParseError, parseDurationMs, sinceSeconds } from "../../core/units.js";
import { requireStreamToken, requireToken } from "../auth.js";
import { JSON_BODY_LIMIT, JSON_TYPES, notRunning, parseJsonBody, requireContentType, streamQuery } from "../common.js";
import type { EngineServerDeps } from "../deps.js";
import {
  EXEC_BODY_SCHEMA,
  EXEC_DEFAULT_TIMEOUT_MS,
  EXEC_MAX_TIMEOUT_MS,
  type ExecBody,
  execRequest,
} from "../exec-body.js";
import { type LogStreams, type SseFormat, sseEvent } from "../log-stream.js";
import { bridgeTerminal, DEFAULT_SIZE, type OutputFrames, type TerminalSocket } from "../terminal-socket.js";

/** The container a WebSocket terminal is for, found before the upgrade (so that 404 is an HTTP answer). */
const terminalTargets = new WeakMap<FastifyRequest, ObservedContainer>();

/**
 * A preHandler: the running container of berth's that `find` names, or 404/409 before any upgrade
 * (or the answer `find` gave itself).
 */
export function terminalTarget(find: (req: FastifyRequest, reply: FastifyReply) => Promise<ObservedContainer | null>) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const container = await find(req, reply);
    if (reply.sent) return reply;
    if (!container) return reply.code(404).send({ error: "no such container managed by this berth" });
    if (container.state !== "running") return notRunning(reply, container);
    terminalTargets.set(req, container);
    return undefined;
  };
}

/** Connects an upgraded request to a shell in the container its preHandler found. */
export function serveTerminal(
  deps: Pick<EngineServerDeps, "containers">,
  socket: TerminalSocket,
  req: FastifyRequest,
  request: { readonly cmd: readonly string[]; readonly cols?: number; readonly rows?: number },
  output: OutputFrames,
): void {
  const container = terminalTargets.get(req);
  if (!container) {
    socket.close();
    return;
  }
  const size = { cols: request.cols ?? DEFAULT_SIZE.cols, rows: request.rows ?? DEFAULT_SIZE.rows };
  bridgeTerminal(
    socket,
    (handlers) => deps.containers.terminal(container, { cmd: request.cmd, tty: true, stdin: true, size }, handlers),
    output,
    req.log,
  );
}

/** The shell of a terminal that names no command: bash where the image has it, else sh. */
export const DEFAULT_SHELL: readonly string[] = [
  "/bin/sh",
  "-c",
  "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi",
];

interface TerminalQuery {
  readonly token?: string;
  readonly command?: string | string[];
  readonly cols?: string;
  readonly rows?: string;
}

/**
 * The container NAME means on the native routes (ManagedContainers.lookup, claimed pool members
 * passed over by a spec name), or null with the answer sent: 404, or 409 naming the claims when
 * every container of that spec is claimed.
 */
async function nativeTarget(
  deps: Pick<EngineServerDeps, "containers" | "pools">,
  name: string,
  reply: FastifyReply,
): Promise<ObservedContainer | null> {
  const claims = (await deps.pools?.all()) ?? [];
  const found = await deps.containers.lookup(name, new Map(claims.map((c) => [c.container, `${c.pool}/${c.claim}`])));
  if (found.kind === "found") return found.container;
  if (found.kind === "none") {
    await reply.code(404).send({ error: `no container ${name} managed by this berth` });
    return null;
  }
  const held = found.members.map((m) => `${m.container} by claim ${m.claim}`).join(", ");
  await reply.code(409).send({
    error:
      `every container of spec ${name} is claimed (${held}): a claimed pool member is its consumer's ` +
      `(docs/pools.md); name the container itself to reach it`,
  });
  return null;
}

/** The WebSocket terminal of the native API (registered once @fastify/websocket is: server.ts). */
export function registerTerminalRoute(app: FastifyInstance, deps: EngineServerDeps): void {
  app.get<{ Params: { name: string }; Querystring: TerminalQuery }>(
    "/v1/containers/:name/terminal",
    {
      websocket: true,
      onRequest: requireStreamToken(deps.apiToken),
      preHandler: terminalTarget((req, reply) => nativeTarget(deps, (req.params as { name: string }).name, reply)),
      config: { waits: true },
      schema: {
        querystring: streamQuery({
          command: {
            anyOf: [
              { type: "string", maxLength: 4096 },
              { type: "array", minItems: 1, maxItems: 100, items: { type: "string", maxLength: 4096 } },
            ],
          },
          cols: { type: "string", pattern: "^[1-9][0-9]{0,3}$" },
          rows: { type: "string", pattern: "^[1-9][0-9]{0,3}$" },
        }),
      },
    },
    (socket, req) => {
      const { command, cols, rows } = req.query;
      const cmd = command === undefined ? DEFAULT_SHELL : typeof command === "string" ? [command] : command;
      serveTerminal(
        deps,
        socket,
        req,
        {
          cmd,
          ...(cols !== undefined ? { cols: Number(cols) } : {}),
          ...(rows !== undefined ? { rows: Number(rows) } : {}),
        },
        "binary",
      );
    },
  );
}

/** The native log stream: `open` (container, id), a `log` per line, `end` (error or null). */
const NATIVE_LOG_EVENTS: SseFormat = {
  open: (c) => sseEvent({ container: c.name, id: c.id }, "open"),
  line: (line) => sseEvent(line, "log"),
  end: (err) => sseEvent({ error: err?.message ?? null }, "end"),
};

export function registerContainerRoutes(app: FastifyInstance, deps: EngineServerDeps, streams: LogStreams): void {
  const token = requireToken(deps.apiToken);

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
      const container = await nativeTarget(deps, req.params.name, reply);
      if (!container) return reply;
      if (container.state !== "running") return notRunning(reply, container);
      const result = await deps.containers.exec(container, execRequest(req.body, timeout));
      return reply.send({ container: container.name, ...result });
    },
  );

  app.get<{ Params: { name: string }; Querystring: { follow?: string; tail?: string; since?: string } }>(
    "/v1/containers/:name/logs",
    {
      onRequest: requireStreamToken(deps.apiToken),
      config: { waits: true },
      schema: {
        querystring: streamQuery({
          follow: { type: "string", enum: ["true", "false", "1", "0"] },
          tail: { type: "string", pattern: "^[0-9]{1,7}$" },
          since: { type: "string", maxLength: 64 },
        }),
      },
    },
    async (req, reply) => {
      const stream = streams.watch(reply);
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
      const container = await nativeTarget(deps, req.params.name, reply);
      if (!container) return reply;
      const options = {
        follow: req.query.follow === "true" || req.query.follow === "1",
        tail: req.query.tail === undefined ? null : Number(req.query.tail),
        since,
      };
      return stream.serve(reply, deps.containers, container, options, NATIVE_LOG_EVENTS);
    },
  );
}
