/**
 * docker-spawner compatibility (--compat docker-spawner): the endpoints agent orchestrators call
 * today, mapped onto spec files so that the declarative model stays the source of truth.
 *
 *   GET  /health       → "OK"
 *   POST /spawn        {bead_id, worktree_path, backend, uid?, gid?, expires_at?}
 *                      → {container_id, hostname}, once the container runs
 *   GET  /status/{id}  → {status: "running" | "exited" | … | "not_found"}
 *   POST /stop/{id}    → 200, once the container is gone (its spec removed)
 *   POST /exec/{id}    {cmd, workdir?, env?, user?} → {exit_code, stdout, stderr}
 *
 * A spawn writes spec `tidepool-agent-{bead_id}` into the runtime spec directory (validated and
 * admitted like any other), with the labels com.tidepool.bead_id, com.tidepool.role=agent and
 * com.tidepool.expires_at, and berth's expiresAt, so the agent is reaped when it expires.
 *
 * These routes reach agents only: containers of this controller whose spec is named
 * tidepool-agent-… and that carry com.tidepool.role=agent. Any other container, berth's or not,
 * is answered for as an unknown one. A spawn may not ask for uid or gid 0 unless the admission
 * policy is `privileged`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { stringify } from "yaml";
import type { SpawnerCompatConfig } from "../../config.js";
import { DNS_LABEL_PATTERN } from "../../core/names.js";
import type { ObservedContainer } from "../../core/observed.js";
import type { NormalizedSpec } from "../../core/spec.js";
import { parseExpiresAt } from "../../core/units.js";
import { bearerMatches, refuse, unauthorized } from "../auth.js";
import { checkName, JSON_BODY_LIMIT, JSON_TYPES, parseJsonBody, requireContentType } from "../common.js";
import type { ServerDeps } from "../deps.js";
import { EXEC_BODY_SCHEMA, type ExecBody, EXEC_MAX_TIMEOUT_MS, execRequest } from "../exec-body.js";
import { removeAnswer, requireRuntimeDir, runtimeSpecs, writeAnswer } from "./specs.js";

export type SpawnerCompatOptions = SpawnerCompatConfig;

export const SPAWN_PREFIX = "tidepool-agent-";
/** The label, and its value, every agent carries. */
export const ROLE_LABEL = "com.tidepool.role";
export const AGENT_ROLE = "agent";
const POLL_MS = 100;
/** A full or short container ID (an agent's name is a DNS label; a full ID is one character too long for one). */
const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

interface SpawnBody {
  bead_id: string;
  worktree_path: string;
  backend?: string;
  uid?: number;
  gid?: number;
  expires_at?: string | null;
}

const SPAWN_BODY_SCHEMA = {
  type: "object",
  required: ["bead_id", "worktree_path"],
  additionalProperties: true,
  properties: {
    bead_id: { type: "string", pattern: DNS_LABEL_PATTERN, maxLength: 63 - SPAWN_PREFIX.length },
    worktree_path: { type: "string", pattern: "^/", maxLength: 4096 },
    backend: { type: "string", maxLength: 64 },
    uid: { type: "integer", minimum: 0, maximum: 4_294_967_294 },
    gid: { type: "integer", minimum: 0, maximum: 4_294_967_294 },
    expires_at: { type: ["string", "null"], maxLength: 64 },
  },
} as const;

/** The spec of one spawned agent. */
export function agentSpec(body: SpawnBody, options: SpawnerCompatOptions): { name: string; text: string } {
  const name = `${SPAWN_PREFIX}${body.bead_id}`;
  const expiresAt = body.expires_at ?? "never";
  const doc = {
    apiVersion: "berth/v1",
    kind: "Container",
    metadata: {
      name,
      labels: {
        "com.tidepool.bead_id": body.bead_id,
        "com.tidepool.role": "agent",
        "com.tidepool.expires_at": expiresAt,
      },
    },
    spec: {
      image: options.image,
      hostname: name,
      user: `${body.uid ?? options.user.uid}:${body.gid ?? options.user.gid}`,
      env: { TIDEPOOL_BEAD_ID: body.bead_id, TIDEPOOL_BACKEND: body.backend ?? "claude" },
      mounts: [{ type: "bind", source: body.worktree_path, target: `/worktrees/${body.bead_id}` }],
      network: options.network,
      // An agent is a run (docs/runs.md): once it exits it stays, exited, until /stop or its expiry.
      restartPolicy: "Never",
      expiresAt,
    },
  };
  return { name, text: `# Written by berth's docker-spawner compatibility API (POST /spawn).\n${stringify(doc)}` };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function registerSpawnerCompat(app: FastifyInstance, deps: ServerDeps, options: SpawnerCompatOptions): void {
  // docker-spawner has no authentication. berth asks for the token when one is configured, and
  // without one serves these routes only on a loopback address (and, as every route, only to
  // requests naming a loopback host and coming from no browser page: server.ts).
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (deps.apiToken !== null) {
      if (!bearerMatches(req, deps.apiToken)) return unauthorized(reply);
    } else if (!deps.loopback) {
      return refuse(reply, 403, {
        error: "the docker-spawner API without a token is served on a loopback address only: set --api-token-file",
      });
    }
    return undefined;
  };
  const writable = requireRuntimeDir(deps);
  const json = requireContentType(JSON_TYPES);
  const rootAllowed = deps.policyProfile === "privileged";

  /** An agent: berth's container of a tidepool-agent-… spec, labelled com.tidepool.role=agent. */
  const isAgent = (c: ObservedContainer): boolean =>
    (deps.containers.specOf(c) ?? "").startsWith(SPAWN_PREFIX) && c.labels[ROLE_LABEL] === AGENT_ROLE;
  const findAgent = (id: string): Promise<ObservedContainer | null> => deps.containers.find(id, isAgent);
  const isAgentSpec = (spec: NormalizedSpec): boolean =>
    spec.name.startsWith(SPAWN_PREFIX) && spec.labels[ROLE_LABEL] === AGENT_ROLE;

  /** Polls until `check` answers, or the wait ends (null). */
  const waitFor = async <T>(check: () => Promise<T | null> | T | null): Promise<T | null> => {
    const deadline = deps.now() + options.waitMs;
    for (;;) {
      const found = await check();
      if (found !== null) return found;
      if (deps.now() >= deadline) return null;
      await sleep(POLL_MS);
    }
  };

  app.get("/health", async (_req, reply) => reply.type("text/plain").send("OK"));

  app.post<{ Body: SpawnBody }>(
    "/spawn",
    {
      onRequest: [guard, writable, json],
      preValidation: parseJsonBody,
      schema: { body: SPAWN_BODY_SCHEMA },
      bodyLimit: JSON_BODY_LIMIT,
      config: { waits: true },
    },
    async (req, reply) => {
      const specs = runtimeSpecs(deps);
      const root = (["uid", "gid"] as const).filter((field) => req.body[field] === 0);
      if (root.length > 0 && !rootAllowed) {
        return reply.code(400).send({
          error: "the request body is not valid",
          errors: root.map((field) => ({
            field,
            message: "0 (root) is refused: agents run as root only under --policy privileged",
          })),
        });
      }
      const expires = req.body.expires_at ? parseExpiresAt(req.body.expires_at) : null;
      if (expires !== null && (typeof expires !== "number" || expires <= deps.now())) {
        return reply.code(400).send({
          error: "the request body is not valid",
          errors: [
            { field: "expires_at", message: "must be a future RFC 3339 time (e.g. 2030-01-01T00:00:00Z) or never" },
          ],
        });
      }
      const { name, text } = agentSpec(req.body, options);
      const written = writeAnswer(await specs.write(name, text), name);
      if (written.status >= 300) return reply.code(written.status).send(written.body);
      // Answer when the container with the written spec runs, as docker-spawner does.
      const outcome = await waitFor(() => {
        const spec = deps.status()?.report.specs.find((s) => s.name === name);
        if (!spec) return null;
        const running = spec.containers.find((c) => c.current && c.state === "running");
        if (spec.phase === "Running" && running) return { ok: true as const, id: running.id };
        // An agent that already ran to its end was spawned all the same.
        const finished = spec.containers.find((c) => c.current && c.id !== "" && c.finishedAt !== null);
        if ((spec.phase === "Succeeded" || spec.phase === "Failed") && finished)
          return { ok: true as const, id: finished.id };
        if (spec.phase === "Conflict" || spec.phase === "Invalid") return { ok: false as const, spec };
        return null;
      });
      if (outcome?.ok) return reply.send({ container_id: outcome.id, hostname: name });
      // Why, as seen before the spec goes: a pass after its removal no longer lists it.
      const spec = outcome?.spec ?? deps.status()?.report.specs.find((s) => s.name === name);
      // It did not come up: take the spec back, so that nothing appears later unasked.
      await specs.remove(name);
      const why = spec ? `${spec.phase}${spec.message ? `: ${spec.message}` : ""}` : "not seen by a reconcile pass";
      req.log.warn({ spec: name, why }, "spawn failed");
      return reply
        .code(outcome ? 409 : 504)
        .send({ error: `agent ${name} did not start within ${options.waitMs / 1000}s (${why}); its spec was removed` });
    },
  );

  app.get<{ Params: { id: string } }>("/status/:id", { onRequest: guard }, async (req, reply) => {
    const agent = await findAgent(req.params.id);
    return reply.send({ status: agent?.state ?? "not_found" });
  });

  app.post<{ Params: { id: string } }>(
    "/stop/:id",
    { onRequest: [guard, writable], config: { waits: true } },
    async (req, reply) => {
      const agent = await findAgent(req.params.id);
      let name = agent ? deps.containers.specOf(agent) : undefined;
      if (!agent) {
        // The id may still name an agent's spec whose container is not there (not made yet, or
        // gone): only a DNS label, and only a loaded spec that is an agent's, names a file here.
        if (!CONTAINER_ID.test(req.params.id) && !(await checkName(req.params.id, reply, "container name or ID")))
          return reply;
        const spec = runtimeSpecs(deps).loadedSpec(req.params.id);
        if (spec && isAgentSpec(spec)) name = spec.name;
      }
      if (name === undefined) return reply.code(200).send(); // unknown: docker-spawner says OK
      const removed = removeAnswer(await runtimeSpecs(deps).remove(name), name);
      if (removed.status === 404 && !agent) return reply.code(200).send(); // already gone: docker-spawner says OK
      if (removed.status !== 200) return reply.code(removed.status).send(removed.body);
      const gone = await waitFor(async () => ((await deps.containers.find(name)) === null ? true : null));
      if (!gone)
        return reply.code(504).send({ error: `agent ${name}: its spec is removed but the container is still there` });
      return reply.code(200).send();
    },
  );

  app.post<{ Params: { id: string }; Body: ExecBody }>(
    "/exec/:id",
    {
      onRequest: [guard, json],
      preValidation: parseJsonBody,
      schema: { body: EXEC_BODY_SCHEMA },
      bodyLimit: JSON_BODY_LIMIT,
      config: { waits: true },
    },
    async (req, reply) => {
      const container = await findAgent(req.params.id);
      if (!container) return reply.code(404).send({ error: `no container ${req.params.id} managed by this berth` });
      if (container.state !== "running")
        return reply.code(409).send({ error: `container ${container.name} is ${container.state}, not running` });
      const result = await deps.containers.exec(container, execRequest(req.body, EXEC_MAX_TIMEOUT_MS));
      return reply.send({ exit_code: result.exitCode, stdout: result.stdout, stderr: result.stderr });
    },
  );
}
