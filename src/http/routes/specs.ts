/**
 * The spec endpoints: status reads (GET /v1/specs, /v1/specs/{name}, /v1/events) and writes in
 * the runtime spec directory (PUT, DELETE), validated and policy-checked before anything is
 * written (400 with the same errors as `berth validate`).
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { formatIssue } from "../../core/errors.js";
import { formatTime } from "../../core/units.js";
import { hostPolicyContext } from "../../host/host-paths.js";
import { removeSpecFile, SpecWriteError, specFilePath, writeSpecFile } from "../../host/spec-writer.js";
import { displayPath } from "../../manifest/loader.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../manifest/parse.js";
import { requireToken } from "../auth.js";
import { checkName } from "../common.js";
import type { ServerDeps } from "../server.js";

/** An answer to send: status code and JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

type SpecDeps = Pick<ServerDeps, "runtimeDir" | "labelPrefix" | "policy" | "specFile" | "specsChanged" | "log">;

/** A spec defined in a spec directory other than the runtime one cannot be changed here. */
function definedElsewhere(deps: SpecDeps, name: string, dir: string): string | null {
  const file = deps.specFile(name);
  return file !== null && file !== displayPath(specFilePath(dir, name)) ? file : null;
}

function writeFailure(err: unknown): Answer {
  if (err instanceof SpecWriteError) return { status: err.status, body: { error: err.message, code: err.code } };
  throw err;
}

/** Validates, policy-checks and writes one spec file (201 created, 200 replaced, 4xx/5xx why not). */
export async function writeSpec(deps: SpecDeps, dir: string, name: string, text: string): Promise<Answer> {
  const file = displayPath(specFilePath(dir, name));
  const parsed = parseSpecText(text, file, {
    ...DEFAULT_PARSE_OPTIONS,
    labelPrefix: deps.labelPrefix,
    policy: deps.policy,
    policyContext: hostPolicyContext,
  });
  if (parsed.issues.length > 0) {
    return {
      status: 400,
      body: { error: "the spec is not valid", errors: parsed.issues.map((i) => ({ ...i, text: formatIssue(i) })) },
    };
  }
  const names = parsed.documents.map((d) => d.spec.name);
  if (names.length !== 1 || names[0] !== name) {
    return {
      status: 400,
      body: {
        error: `the body must hold one document whose metadata.name is ${JSON.stringify(name)} (found: ${names.join(", ") || "none"})`,
      },
    };
  }
  const elsewhere = definedElsewhere(deps, name, dir);
  if (elsewhere !== null)
    return { status: 409, body: { error: `spec ${name} is defined in ${elsewhere}; change it there` } };
  try {
    const created = await writeSpecFile(dir, name, text);
    deps.specsChanged({ spec: name, removed: false });
    deps.log.info({ spec: name, file, created }, "spec written");
    return { status: created ? 201 : 200, body: { name, file, created } };
  } catch (err) {
    return writeFailure(err);
  }
}

/** Removes one spec file of the runtime directory (200, 404 when there is none). */
export async function removeSpec(deps: SpecDeps, dir: string, name: string): Promise<Answer> {
  const elsewhere = definedElsewhere(deps, name, dir);
  if (elsewhere !== null)
    return { status: 409, body: { error: `spec ${name} is defined in ${elsewhere}; remove it there` } };
  try {
    if (!(await removeSpecFile(dir, name))) return { status: 404, body: { error: `no spec ${name} in ${dir}` } };
    deps.specsChanged({ spec: name, removed: true });
    deps.log.info({ spec: name }, "spec removed");
    return { status: 200, body: { name, removed: true } };
  } catch (err) {
    return writeFailure(err);
  }
}

/** A preHandler: 403 when there is no runtime spec directory to write to. */
export function requireRuntimeDir(deps: Pick<ServerDeps, "runtimeDir">) {
  return async (_req: unknown, reply: FastifyReply): Promise<FastifyReply | undefined> =>
    deps.runtimeDir === null
      ? reply.code(403).send({ error: "no runtime spec directory: start berth with --runtime-specs DIR" })
      : undefined;
}

const send = (reply: FastifyReply, answer: Answer): FastifyReply => reply.code(answer.status).send(answer.body);

export function registerSpecRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const token = requireToken(deps.apiToken);
  const writable = requireRuntimeDir(deps);

  const noPassYet = (reply: FastifyReply): FastifyReply =>
    reply.code(503).send({ error: "no reconcile pass has completed yet", reason: deps.readiness().reason });

  app.get("/v1/specs", async (_req, reply) => {
    const status = deps.status();
    if (status === null) return noPassYet(reply);
    return reply.send({ controller: deps.controllerId, observedAt: formatTime(status.at), ...status.report });
  });

  app.get<{ Params: { name: string } }>("/v1/specs/:name", async (req, reply) => {
    const status = deps.status();
    if (status === null) return noPassYet(reply);
    const spec = status.report.specs.find((s) => s.name === req.params.name);
    if (!spec) return reply.code(404).send({ error: `no spec ${req.params.name}` });
    return reply.send({ observedAt: formatTime(status.at), ...spec });
  });

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

  app.put<{ Params: { name: string }; Body: string }>(
    "/v1/specs/:name",
    { preHandler: [token, writable] },
    async (req, reply) => {
      if (!(await checkName(req.params.name, reply))) return reply;
      const text = typeof req.body === "string" ? req.body : "";
      return send(reply, await writeSpec(deps, deps.runtimeDir as string, req.params.name, text));
    },
  );

  app.delete<{ Params: { name: string } }>("/v1/specs/:name", { preHandler: [token, writable] }, async (req, reply) => {
    if (!(await checkName(req.params.name, reply))) return reply;
    return send(reply, await removeSpec(deps, deps.runtimeDir as string, req.params.name));
  });
}
