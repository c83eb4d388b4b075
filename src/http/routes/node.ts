/**
 * GET /v1/node: the host's capacity as of the last pass (docs/capacity.md) — what berth may fill,
 * what its containers hold, what is free, each container's share and the specs waiting for room.
 * A read, under the same rules as GET /v1/specs.
 */
import type { FastifyInstance } from "fastify";
import { formatTime } from "../../core/units.js";
import type { EngineServerDeps } from "../deps.js";

export function registerNodeRoutes(app: FastifyInstance, deps: EngineServerDeps): void {
  app.get("/v1/node", async (_req, reply) => {
    const status = deps.status();
    if (status === null)
      return reply.code(503).send({ error: "no reconcile pass has completed yet", reason: deps.readiness().reason });
    const node = status.report.node;
    if (!node)
      return reply.code(404).send({
        error:
          "no host capacity is configured: start berth with --capacity (e.g. --capacity auto, or cpus=8,memory=14Gi,containers=100)",
      });
    return reply.send({ controller: deps.controllerId, observedAt: formatTime(status.at), ...node });
  });
}
