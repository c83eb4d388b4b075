/**
 * The routes of `berth run --target swarm` (docs/swarm.md, "HTTP API"): GET /v1/specs and
 * /v1/specs/{name} answer the services' status and berth's networks on the swarm, GET
 * /v1/specs/{name}/rollout a rollout's verdict from Swarm's update state and task history; PUT and DELETE
 * /v1/specs/{name} write the runtime spec folder as under the engine target. The routes that
 * reach this host's containers, its warm pools and capacity, or another tool's API have nothing
 * to serve under swarm: each answers 501 naming the target, after
 * the token check it has under the engine target, before any body is read. The Git sources' routes
 * are the engine target's (routes/git.ts).
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { formatTime } from "../../core/units.js";
import { type Guard, refuse, requireToken } from "../auth.js";
import type { SwarmServerDeps } from "../deps.js";
import { sourcesOf } from "./git.js";
import { registerRolloutRoute, registerSpecWrites } from "./specs.js";

/** Why a route of the engine target is not served under swarm. */
const WHY = {
  containers:
    "containers are not reachable under --target swarm: a service's tasks run on the swarm's nodes (docker service logs, or docker exec on the node)",
  pools: "warm pools are this host's: not under --target swarm",
  node: "host capacity is for --target engine: under --target swarm, Swarm places the tasks",
  compat: "--compat is for --target engine: not under --target swarm",
} as const;

interface EngineOnly {
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  readonly url: string;
  /** Asks for the token first, as under the engine target. */
  readonly token: boolean;
  readonly why: keyof typeof WHY;
}

const route = (method: EngineOnly["method"], url: string, why: keyof typeof WHY, token = false): EngineOnly => ({
  method,
  url,
  token,
  why,
});

/** Every route of the engine target's server that has nothing to serve under swarm. */
export const ENGINE_ONLY_ROUTES: readonly EngineOnly[] = [
  route("POST", "/v1/containers/:name/exec", "containers", true),
  route("GET", "/v1/containers/:name/logs", "containers", true),
  route("GET", "/v1/containers/:name/terminal", "containers", true),
  route("POST", "/v1/pools/:name/claims", "pools", true),
  route("GET", "/v1/pools/:name/claims", "pools", true),
  route("GET", "/v1/pools/:name/claims/:claim", "pools", true),
  route("DELETE", "/v1/pools/:name/claims/:claim", "pools", true),
  route("GET", "/v1/node", "node"),
  route("GET", "/health", "compat"),
  route("POST", "/spawn", "compat"),
  route("GET", "/status/:id", "compat"),
  route("POST", "/stop/:id", "compat"),
  route("POST", "/exec/:id", "compat"),
  route("GET", "/api/containers", "compat"),
  route("POST", "/api/containers", "compat"),
  route("GET", "/api/containers/:id", "compat"),
  route("DELETE", "/api/containers/:id", "compat"),
  route("POST", "/api/containers/:id/exec", "compat"),
  route("GET", "/api/containers/:id/logs", "compat"),
  route("GET", "/api/containers/:id/terminal", "compat"),
  route("POST", "/api/containers/:id/setup", "compat"),
];

/** An onRequest hook: 501, naming the target and why. */
function notServed(why: keyof typeof WHY): Guard {
  return async (_req, reply) => refuse(reply, 501, { error: WHY[why], code: "BERTH_TARGET", target: "swarm" });
}

export function registerSwarmRoutes(app: FastifyInstance, deps: SwarmServerDeps): void {
  const noPassYet = (reply: FastifyReply): FastifyReply =>
    reply.code(503).send({ error: "no reconcile pass has completed yet", reason: deps.readiness().reason });

  app.get("/v1/specs", async (_req, reply) => {
    const status = deps.swarmStatus();
    if (status === null) return noPassYet(reply);
    return reply.send({
      controller: deps.controllerId,
      target: "swarm",
      observedAt: formatTime(status.at),
      specs: status.specs,
      networks: status.networks,
      notes: status.notes,
      ...sourcesOf(deps),
    });
  });

  app.get<{ Params: { name: string } }>("/v1/specs/:name", async (req, reply) => {
    const status = deps.swarmStatus();
    if (status === null) return noPassYet(reply);
    const spec = status.specs.find((s) => s.name === req.params.name);
    if (!spec) return reply.code(404).send({ error: `no spec ${req.params.name}` });
    return reply.send({ observedAt: formatTime(status.at), ...spec });
  });

  registerRolloutRoute(app, {
    look: (name) => {
      const status = deps.swarmStatus();
      return status && { at: status.at, spec: status.specs.find((s) => s.name === name) };
    },
    noPassYet,
    judge: deps.rollout,
    counts: (spec) => ({ tasks: { running: spec.running, desired: spec.desired, updated: spec.updated } }),
  });

  registerSpecWrites(app, deps);

  const token = requireToken(deps.apiToken);
  for (const r of ENGINE_ONLY_ROUTES) {
    app.route({
      method: r.method,
      url: r.url,
      onRequest: r.token ? [token, notServed(r.why)] : [notServed(r.why)],
      // Never reached: every request is answered in onRequest, before its body is read.
      handler: async (_req, reply) => reply,
    });
  }
}
