/**
 * The spec endpoints: status reads (GET /v1/specs, /v1/specs/{name}), a rollout's verdict (GET
 * /v1/specs/{name}/rollout, `berth rollout status` in one look), writes in the runtime spec
 * directory (PUT, DELETE), validated and policy-checked before anything is written (400 with the
 * same errors as `berth validate`), a rolling restart of a spec's containers (POST
 * /v1/specs/{name}/restart, `berth restart`), and the release of a rollout a rejected version
 * holds (POST /v1/specs/{name}/retry, `berth rollout retry`). The use cases
 * (ops/runtime-specs.ts, ops/restart.ts, ops/rollout-retry.ts) say what happened; this module
 * says it in HTTP.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { formatIssue } from "../../core/errors.js";
import type { RolloutState } from "../../core/rollout-status.js";
import { formatTime, isParseError, parseDurationMs } from "../../core/units.js";
import type { SpecFileProblem } from "../../host/spec-writer.js";
import { DEFAULT_LIMITS } from "../../manifest/parse.js";
import type { RemoveOutcome, RuntimeSpecs, WriteOutcome } from "../../ops/runtime-specs.js";
import { refuse, requireToken } from "../auth.js";
import { checkName, nameError, requireContentType, SPEC_TYPES } from "../common.js";
import type { EngineServerDeps, ServerDeps } from "../deps.js";
import { sourcesOf } from "./git.js";

/** An answer to send: status code and JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * A full disk is Insufficient Storage; a read-only one, Service Unavailable; a name that would
 * leave the folder, Bad Request (the routes and the use case check names first); anything else, 500.
 */
const FILE_PROBLEM_STATUS: Readonly<Record<SpecFileProblem, number>> = {
  "disk-full": 507,
  "read-only": 503,
  denied: 500,
  missing: 500,
  outside: 400,
  failed: 500,
};

const badName = (name: string): Answer => ({ status: 400, body: { error: nameError(name) } });

export function writeAnswer(outcome: WriteOutcome, name: string): Answer {
  switch (outcome.kind) {
    case "written":
      return {
        status: outcome.created ? 201 : 200,
        body: { name: outcome.name, file: outcome.file, created: outcome.created },
      };
    case "invalid":
      return {
        status: 400,
        body: { error: "the spec is not valid", errors: outcome.issues.map((i) => ({ ...i, text: formatIssue(i) })) },
      };
    case "wrong-document":
      return {
        status: 400,
        body: {
          error: `the body must hold one document whose metadata.name is ${JSON.stringify(name)} (found: ${outcome.found.join(", ") || "none"})`,
        },
      };
    case "bad-name":
      return badName(outcome.name);
    case "defined-elsewhere":
      return { status: 409, body: { error: `spec ${name} is defined in ${outcome.file}; change it there` } };
    case "name-taken":
      return {
        status: 409,
        body: {
          error:
            `spec ${name} clashes with spec ${outcome.spec} in ${outcome.file}: spec and container names ` +
            `(NAME-0 … with replicas, NAME-<n> for any n of a pool) must be unique across all spec files; nothing was written`,
          file: outcome.file,
        },
      };
    case "not-loaded":
      return { status: 503, body: { error: "the spec files are not loaded yet; try again in a moment" } };
    case "failed":
      return { status: FILE_PROBLEM_STATUS[outcome.problem], body: { error: outcome.message, code: outcome.errno } };
  }
}

export function removeAnswer(outcome: RemoveOutcome, name: string): Answer {
  switch (outcome.kind) {
    case "removed":
      return { status: 200, body: { name, removed: true } };
    case "bad-name":
      return badName(outcome.name);
    case "absent":
      return { status: 404, body: { error: `no spec ${name} in ${outcome.dir}` } };
    case "defined-elsewhere":
      return { status: 409, body: { error: `spec ${name} is defined in ${outcome.file}; remove it there` } };
    case "failed":
      return { status: FILE_PROBLEM_STATUS[outcome.problem], body: { error: outcome.message, code: outcome.errno } };
  }
}

/** An onRequest hook: 403 when there is no runtime spec directory to write to. */
export function requireRuntimeDir(deps: Pick<ServerDeps, "specs">) {
  return async (_req: unknown, reply: FastifyReply): Promise<FastifyReply | undefined> =>
    deps.specs === null
      ? refuse(reply, 403, { error: "no runtime spec directory: start berth with --runtime-specs DIR" })
      : undefined;
}

/** The runtime specs, once requireRuntimeDir has let the request through. */
export function runtimeSpecs(deps: Pick<ServerDeps, "specs">): RuntimeSpecs {
  if (deps.specs === null) throw new Error("no runtime spec directory");
  return deps.specs;
}

const send = (reply: FastifyReply, answer: Answer): FastifyReply => reply.code(answer.status).send(answer.body);

export function registerSpecRoutes(app: FastifyInstance, deps: EngineServerDeps): void {
  const noPassYet = (reply: FastifyReply): FastifyReply =>
    reply.code(503).send({ error: "no reconcile pass has completed yet", reason: deps.readiness().reason });

  app.get("/v1/specs", async (_req, reply) => {
    const status = deps.status();
    if (status === null) return noPassYet(reply);
    return reply.send({
      controller: deps.controllerId,
      observedAt: formatTime(status.at),
      ...status.report,
      ...sourcesOf(deps),
    });
  });

  app.get<{ Params: { name: string } }>("/v1/specs/:name", async (req, reply) => {
    const status = deps.status();
    if (status === null) return noPassYet(reply);
    const spec = status.report.specs.find((s) => s.name === req.params.name);
    if (!spec) return reply.code(404).send({ error: `no spec ${req.params.name}` });
    return reply.send({ observedAt: formatTime(status.at), ...spec });
  });

  registerRolloutRoute(app, {
    look: (name) => {
      const status = deps.status();
      return status && { at: status.at, spec: status.report.specs.find((s) => s.name === name) };
    },
    noPassYet,
    judge: deps.rollout,
    counts: (spec) => ({ replicas: spec.replicas }),
  });

  registerSpecWrites(app, deps);

  // Answers when every container is back (or one failed): as long as their waits, so no idle timeout.
  app.post<{ Params: { name: string } }>(
    "/v1/specs/:name/restart",
    { onRequest: [requireToken(deps.apiToken)], config: { waits: true } },
    async (req, reply) => {
      if (!(await checkName(req.params.name, reply))) return reply;
      if (!deps.restart) return refuse(reply, 501, { error: "this controller does not restart containers" });
      const answer = await deps.restart(req.params.name);
      if (answer.kind === "refused") return refuse(reply, answer.status, { error: answer.reason });
      const failed = answer.steps.some((s) => s.outcome === "failed");
      return reply.code(200).send({ spec: req.params.name, restarted: !failed, steps: answer.steps });
    },
  );

  app.post<{ Params: { name: string } }>(
    "/v1/specs/:name/retry",
    // A StopFirst replica made again answers once it stayed up (or failed): no idle timeout.
    { onRequest: [requireToken(deps.apiToken)], config: { waits: true } },
    async (req, reply) => {
      if (!(await checkName(req.params.name, reply))) return reply;
      if (!deps.retry) return refuse(reply, 501, { error: "this controller does not retry rollouts" });
      const answer = await deps.retry(req.params.name);
      if (answer.kind === "refused") return refuse(reply, answer.status, { error: answer.reason });
      return reply.code(200).send({ spec: req.params.name, steps: answer.steps });
    },
  );
}

/**
 * PUT and DELETE /v1/specs/{name} in the runtime spec directory: the same under both targets
 * (the pass that follows makes a container or a service of it).
 */
export function registerSpecWrites(app: FastifyInstance, deps: Pick<ServerDeps, "apiToken" | "specs">): void {
  const token = requireToken(deps.apiToken);
  const writable = requireRuntimeDir(deps);

  app.put<{ Params: { name: string }; Body: string }>(
    "/v1/specs/:name",
    { onRequest: [token, writable, requireContentType(SPEC_TYPES)], bodyLimit: DEFAULT_LIMITS.maxFileBytes },
    async (req, reply) => {
      if (!(await checkName(req.params.name, reply))) return reply;
      const text = typeof req.body === "string" ? req.body : "";
      return send(reply, writeAnswer(await runtimeSpecs(deps).write(req.params.name, text), req.params.name));
    },
  );

  app.delete<{ Params: { name: string } }>("/v1/specs/:name", { onRequest: [token, writable] }, async (req, reply) => {
    if (!(await checkName(req.params.name, reply))) return reply;
    return send(reply, removeAnswer(await runtimeSpecs(deps).remove(req.params.name), req.params.name));
  });
}

/** What GET /v1/specs/{name}/rollout reads, under either target. */
export interface RolloutRouteSource<S extends { readonly name: string; readonly phase: string }> {
  /** The last pass: when it observed, and the spec of that name in it; null before the first pass. */
  look(name: string): { readonly at: number; readonly spec: S | undefined } | null;
  noPassYet(reply: FastifyReply): FastifyReply;
  /** The verdict (ops/rollout-verdict.ts); absent: 501. */
  readonly judge: ((spec: S, stableForMs: number | null) => Promise<RolloutState>) | undefined;
  /** The spec's counts in the answer: its replicas, or under swarm its tasks. */
  counts(spec: S): Record<string, unknown>;
}

/** `berth rollout status` in one look: done, waiting or failed, and its line (ops/rollout-verdict.ts). */
export function registerRolloutRoute<S extends { readonly name: string; readonly phase: string }>(
  app: FastifyInstance,
  source: RolloutRouteSource<S>,
): void {
  app.get<{ Params: { name: string }; Querystring: { stableFor?: string } }>(
    "/v1/specs/:name/rollout",
    async (req, reply) => {
      const last = source.look(req.params.name);
      if (last === null) return source.noPassYet(reply);
      const { at, spec } = last;
      if (!spec) return reply.code(404).send({ error: `no spec ${req.params.name}` });
      const given = req.query.stableFor;
      const stableForMs = given === undefined ? null : parseDurationMs(given);
      if (stableForMs !== null && isParseError(stableForMs))
        return reply.code(400).send({ error: `stableFor: ${stableForMs.error}` });
      if (stableForMs !== null && stableForMs <= 0)
        return reply.code(400).send({ error: "stableFor: give a duration longer than 0s" });
      if (!source.judge) return refuse(reply, 501, { error: "this controller does not judge rollouts" });
      const verdict = await source.judge(spec, stableForMs);
      return reply.send({
        observedAt: formatTime(at),
        name: spec.name,
        state: verdict.kind,
        line: verdict.line,
        phase: spec.phase,
        ...source.counts(spec),
      });
    },
  );
}
