/**
 * GET /v1/events: the recent reconcile events (ops/event-log.ts), oldest first, under either
 * target: what the passes did, and why. A read, open as GET /v1/specs.
 */
import type { FastifyInstance } from "fastify";
import { formatTime } from "../../core/units.js";
import type { ServerDeps } from "../deps.js";

export function registerEventRoutes(app: FastifyInstance, deps: Pick<ServerDeps, "events">): void {
  app.get<{ Querystring: { since?: string; spec?: string; limit?: string } }>(
    "/v1/events",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            since: { type: "string", pattern: "^[0-9]{1,15}$" },
            spec: { type: "string", maxLength: 63 },
            limit: { type: "string", pattern: "^([1-9][0-9]{0,2}|1000)$" },
          },
          additionalProperties: false,
        },
      },
    },
    (req) => {
      const { since, spec, limit } = req.query;
      const events = deps.events.list({
        ...(since !== undefined ? { since: Number(since) } : {}),
        ...(spec !== undefined ? { spec } : {}),
        limit: limit === undefined ? 100 : Number(limit),
      });
      return { events: events.map((e) => ({ ...e, at: formatTime(e.at) })) };
    },
  );
}
