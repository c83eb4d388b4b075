/**
 * docker-spawner compatibility (--compat docker-spawner): the endpoints agent orchestrators call
 * today, mapped onto spec files so that the declarative model stays the source of truth.
 *
 *   GET  /health       → "OK"
 *   POST /spawn        {bead_id, worktree_path, backend, uid?, gid?, expires_at?}
 *                      → {container_id, hostname}, once the container runs
 *   GET  /status/{id}  → {status: "running" | "exited" | … | "not_found"}
 *   POST /stop/{id}    → 200, once the container is gone; 404 when there is no such agent
 *   POST /exec/{id}    {cmd, workdir?, env?, user?} → {exit_code, stdout, stderr[, truncated]}
 *
 * A spawn writes spec `tidepool-agent-{bead_id}` (core/agent-name.ts maps a bead id that is not
 * a DNS label) into the runtime spec directory (validated and admitted like any other), with the
 * labels com.tidepool.bead_id, com.tidepool.role=agent and com.tidepool.expires_at, and berth's
 * expiresAt, so the agent is reaped when it expires.
 *
 * These routes reach agents only: containers of this controller whose spec is named
 * tidepool-agent-… and that carry com.tidepool.role=agent, and the agents docker-spawner itself
 * started (ops/spawner-agents.ts). Any other container, berth's or not, is answered for as an
 * unknown one. A spawn may not ask for uid or gid 0 unless the admission policy is `privileged`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { stringify } from "yaml";
import type { SpawnerCompatConfig } from "../../config.js";
import { AGENT_PREFIX, agentName, agentNameOf, BEAD_ID_MAX, BEAD_ID_PATTERN } from "../../core/agent-name.js";
import { type ObservedContainer, shortId } from "../../core/observed.js";
import type { NormalizedSpec } from "../../core/spec.js";
import { parseExpiresAt } from "../../core/units.js";
import { AGENT_ROLE, ROLE_LABEL } from "../../ops/spawner-agents.js";
import { bearerMatches, refuse, unauthorized } from "../auth.js";
import {
  checkName,
  JSON_BODY_LIMIT,
  JSON_TYPES,
  parseJsonBody,
  pollFor,
  requireContentType,
  sharedByKey,
} from "../common.js";
import type { EngineServerDeps } from "../deps.js";
import { EXEC_BODY_SCHEMA, type ExecBody, EXEC_MAX_TIMEOUT_MS, execRequest } from "../exec-body.js";
import { runSpec, withoutRetry } from "../spec-run.js";
import { removeAnswer, requireRuntimeDir, runtimeSpecs, writeAnswer } from "./specs.js";

export type SpawnerCompatOptions = SpawnerCompatConfig;

export const SPAWN_PREFIX = AGENT_PREFIX;
export { AGENT_ROLE, ROLE_LABEL };
const BEAD_LABEL = "com.tidepool.bead_id";
/** Output kept per stream of a docker-spawner exec; past it, the answer says `truncated: true`. */
export const SPAWNER_EXEC_OUTPUT_LIMIT = 16 * 1024 * 1024;

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
    bead_id: { type: "string", pattern: BEAD_ID_PATTERN, maxLength: BEAD_ID_MAX },
    worktree_path: { type: "string", pattern: "^/", maxLength: 4096 },
    backend: { type: "string", maxLength: 64 },
    uid: { type: "integer", minimum: 0, maximum: 4_294_967_294 },
    gid: { type: "integer", minimum: 0, maximum: 4_294_967_294 },
    expires_at: { type: ["string", "null"], maxLength: 64 },
  },
} as const;

/** The spec of one spawned agent; `expiresAt`: berth's, which a spawn already expired sets later. */
export function agentSpec(
  body: SpawnBody,
  options: SpawnerCompatOptions,
  expiresAt: string = body.expires_at ?? "never",
): { name: string; text: string } {
  const name = agentName(body.bead_id);
  const doc = {
    apiVersion: "berth/v1",
    kind: "Container",
    metadata: {
      name,
      labels: {
        [BEAD_LABEL]: body.bead_id,
        [ROLE_LABEL]: AGENT_ROLE,
        "com.tidepool.expires_at": body.expires_at ?? "never",
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

/** Runs one task per key at a time, in arrival order (two spawns of one bead never interleave). */
function keyedQueue(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async (key, task) => {
    const before = tails.get(key) ?? Promise.resolve();
    const run = before.then(task, task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** A stop's answer: its status and body (none on success, as docker-spawner's). */
interface StopAnswer {
  readonly status: number;
  readonly body?: Record<string, unknown>;
}

export function registerSpawnerCompat(
  app: FastifyInstance,
  deps: EngineServerDeps,
  options: SpawnerCompatOptions,
): void {
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
  const oneSpawnPerBead = keyedQueue();

  /** An agent: berth's container of a tidepool-agent-… spec, labelled com.tidepool.role=agent. */
  const isAgent = (c: ObservedContainer): boolean =>
    (deps.containers.specOf(c) ?? "").startsWith(SPAWN_PREFIX) && c.labels[ROLE_LABEL] === AGENT_ROLE;
  const isAgentSpec = (spec: NormalizedSpec): boolean =>
    spec.name.startsWith(SPAWN_PREFIX) && spec.labels[ROLE_LABEL] === AGENT_ROLE;
  /** The names an id may mean: itself, and berth's name for docker-spawner's `tidepool-agent-TP-123`. */
  const namesOf = (id: string): string[] => {
    const mapped = agentNameOf(id);
    return mapped !== null && mapped !== id ? [id, mapped] : [id];
  };

  /** The agent an id names: berth's own first, then one docker-spawner started (`original`). */
  const findAgent = async (id: string): Promise<{ container: ObservedContainer; original: boolean } | null> => {
    for (const name of namesOf(id)) {
      const ours = await deps.containers.find(name, isAgent);
      if (ours) return { container: ours, original: false };
    }
    const theirs = (await deps.originalAgents?.find(id)) ?? null;
    return theirs ? { container: theirs, original: true } : null;
  };

  const waitFor = <T>(check: () => Promise<T | null> | T | null): Promise<T | null> =>
    pollFor(check, options.waitMs, () => deps.now());

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
      if (expires !== null && typeof expires !== "number") {
        return reply.code(400).send({
          error: "the request body is not valid",
          errors: [{ field: "expires_at", message: "must be an RFC 3339 time (e.g. 2030-01-01T00:00:00Z) or never" }],
        });
      }
      return oneSpawnPerBead(agentName(req.body.bead_id), () =>
        spawn(req, reply, typeof expires === "number" && expires <= deps.now()),
      );
    },
  );

  /**
   * One spawn. An agent whose `expires_at` has passed is spawned all the same, as docker-spawner
   * did, and reaped at once: its spec is written without an expiry, and given it once it runs.
   */
  const spawn = async (req: FastifyRequest<{ Body: SpawnBody }>, reply: FastifyReply, expired: boolean) => {
    const specs = runtimeSpecs(deps);
    const { name, text } = agentSpec(req.body, options, expired ? "never" : undefined);
    const existing = await deps.containers.find(name, isAgent);
    if (existing) {
      // docker-spawner's create fails on the taken name: a different request is a conflict (an
      // identical one, a client's retry, is answered with the agent it made).
      const same = existing.labels[BEAD_LABEL] === req.body.bead_id && (await specs.text(name)) === text;
      if (!same) {
        return reply.code(409).send({
          error:
            `agent ${name} already exists (container ${shortId(existing.id)}, ${existing.state}) from another ` +
            `request: stop it first (POST /stop/${shortId(existing.id)}); nothing was changed`,
        });
      }
    }
    // Answer when the container with the written spec runs (or already ran), as docker-spawner does.
    const run = await runSpec(deps, name, existing ? null : text, options.waitMs, { finishedCounts: true });
    if (run.kind === "refused") return reply.code(run.answer.status).send(run.answer.body);
    if (run.kind === "running") {
      const id = run.container.id;
      if (!expired) return reply.send({ container_id: id, hostname: name });
      const reaped = writeAnswer(await specs.write(name, agentSpec(req.body, options).text), name);
      if (reaped.status >= 300) return reply.code(reaped.status).send(reaped.body);
      return reply.send({ container_id: id, hostname: name, expired: true });
    }
    req.log.warn({ spec: name, why: run.why }, "spawn failed");
    if (run.status === 504)
      return reply.code(504).send({
        error: `agent ${name} did not start within ${options.waitMs / 1000}s (${run.why}); its spec was removed`,
      });
    // Seen as soon as it happened, not waited out: say what it was (a name another container
    // holds, an invalid spec, an image that cannot be had), not how long berth would have waited.
    const what = run.status === 502 ? withoutRetry(run.spec?.lastError ?? run.why) : (run.spec?.message ?? run.why);
    return reply.code(run.status).send({ error: `agent ${name} cannot start: ${what}; its spec was removed` });
  };

  app.get<{ Params: { id: string } }>("/status/:id", { onRequest: guard }, async (req, reply) => {
    const agent = await findAgent(req.params.id);
    return reply.send({ status: agent?.container.state ?? "not_found" });
  });

  /** Stops under way, by spec name (an original agent's: by container ID); null: there was nothing to stop. */
  const stopping = sharedByKey<StopAnswer | null>();

  /**
   * Removes an agent's spec and waits for its container to go. A spec already gone while its
   * container is still there (`seen`) was removed by a stop before this one (or DELETE
   * /v1/specs): that container is on its way out, and is waited for as this stop's own.
   */
  const stopSpec = async (name: string, seen: boolean): Promise<StopAnswer | null> => {
    const removed = await runtimeSpecs(deps).remove(name);
    if (removed.kind === "absent" && !seen) return null;
    if (removed.kind !== "absent") {
      const answer = removeAnswer(removed, name);
      if (answer.status !== 200) return answer;
    }
    const gone = await waitFor(async () => ((await deps.containers.find(name)) === null ? true : null));
    if (!gone)
      return { status: 504, body: { error: `agent ${name}: its spec is removed but the container is still there` } };
    return { status: 200 };
  };

  app.post<{ Params: { id: string } }>(
    "/stop/:id",
    { onRequest: [guard, writable], config: { waits: true } },
    async (req, reply) => {
      const agent = await findAgent(req.params.id);
      // docker-spawner's stop of a container that is not there fails: so does this one.
      const unknown = { error: `no agent ${req.params.id}: nothing was stopped` };
      if (agent?.original) {
        const { container } = agent;
        await stopping(`original ${container.id}`, async () => {
          await deps.originalAgents?.stop(container);
          return { status: 200 };
        });
        return reply.code(200).send();
      }
      let name = agent ? deps.containers.specOf(agent.container) : undefined;
      if (!agent) {
        // The id may still name an agent's spec whose container is not there (not made yet, or
        // gone): only a DNS label, and only a loaded spec that is an agent's, names a file here.
        const names = namesOf(req.params.id);
        const last = names[names.length - 1] ?? req.params.id;
        if (!CONTAINER_ID.test(last) && !(await checkName(last, reply, "container name or ID"))) return reply;
        const spec = runtimeSpecs(deps).loadedSpec(last);
        if (spec && isAgentSpec(spec)) name = spec.name;
      }
      if (name === undefined) return reply.code(404).send(unknown);
      const spec = name;
      const answer = await stopping(spec, () => stopSpec(spec, agent !== null));
      if (answer === null) return reply.code(404).send(unknown);
      return reply.code(answer.status).send(answer.body);
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
      const container = (await findAgent(req.params.id))?.container;
      if (!container) return reply.code(404).send({ error: `no agent ${req.params.id}` });
      if (container.state !== "running")
        return reply.code(409).send({ error: `container ${container.name} is ${container.state}, not running` });
      const request = execRequest(req.body, EXEC_MAX_TIMEOUT_MS, SPAWNER_EXEC_OUTPUT_LIMIT);
      const result = await deps.containers.exec(container, request);
      return reply.send({
        exit_code: result.exitCode,
        stdout: result.stdout,
        stderr: result.stderr,
        // An extra field docker-spawner's clients ignore: the output went past the cap and was cut.
        ...(result.truncated ? { truncated: true } : {}),
      });
    },
  );
}
