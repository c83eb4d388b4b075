/**
 * The HTTP edge (fastify), built apart from `listen` so that tests use `inject()`.
 *
 * - GET /healthz: the process is alive.
 * - GET /readyz: Docker answering, specs loaded, first reconcile done; 503 with the reason.
 * - PUT /v1/specs/{name}, DELETE /v1/specs/{name}: write and remove spec files in the runtime
 *   spec directory, atomically, validated first (400 with the same errors as `berth validate`).
 *   Behind a bearer token; without a configured token they are off.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { formatIssue } from "../core/errors.js";
import type { Readiness } from "../controller/controller.js";
import { removeSpecFile, SpecWriteError, specFilePath, writeSpecFile } from "../fs/spec-writer.js";
import { displayPath } from "../spec/loader.js";
import type { Policy } from "../core/policy.js";
import { hostPolicyContext } from "../fs/host-paths.js";
import { DEFAULT_LIMITS, DEFAULT_PARSE_OPTIONS, parseSpecText } from "../spec/parse.js";

export interface ServerDeps {
  readonly log: Logger;
  readiness(): Readiness;
  /** The bearer token of the write endpoints; null turns them off. */
  readonly apiToken: string | null;
  /** Where PUT and DELETE write; null turns them off. */
  readonly runtimeDir: string | null;
  readonly labelPrefix: string;
  /** The admission policy a spec written through the API must satisfy (400 otherwise). */
  readonly policy: Policy;
  /** The file that defines a spec now, if any. */
  specFile(name: string): string | null;
  /** Spec files changed: reload and reconcile. */
  specsChanged(): void;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Compares in constant time (over digests, so the length of the token does not leak either). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export type HttpServer = ReturnType<typeof buildServer>;

// The return type is inferred: it carries the pino logger's type through fastify.
export function buildServer(deps: ServerDeps) {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: "http" }),
    disableRequestLogging: true,
    bodyLimit: DEFAULT_LIMITS.maxFileBytes,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    done(null, body);
  });

  app.get("/healthz", () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const r = deps.readiness();
    return reply.code(r.ready ? 200 : 503).send({ ready: r.ready, reason: r.reason });
  });

  const authorize = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (deps.apiToken === null) {
      await reply
        .code(403)
        .send({ error: "write endpoints are off: start berth with --api-token-file or BERTH_API_TOKEN" });
      return;
    }
    const header = req.headers.authorization ?? "";
    const match = /^Bearer (.+)$/.exec(header);
    if (!match?.[1] || !tokenMatches(match[1], deps.apiToken)) {
      await reply.code(401).header("www-authenticate", "Bearer").send({ error: "a valid bearer token is required" });
      return;
    }
    if (deps.runtimeDir === null) {
      await reply.code(403).send({ error: "no runtime spec directory: start berth with --runtime-specs DIR" });
    }
  };

  const checkName = async (name: string, reply: FastifyReply): Promise<boolean> => {
    if (NAME_RE.test(name) && name.length <= 63) return true;
    await reply
      .code(400)
      .send({ error: `${JSON.stringify(name)} is not a spec name (a DNS label: lowercase letters, digits, '-')` });
    return false;
  };

  /** A spec defined in a spec directory other than the runtime one cannot be changed here. */
  const definedElsewhere = (name: string, dir: string): string | null => {
    const file = deps.specFile(name);
    return file !== null && file !== displayPath(specFilePath(dir, name)) ? file : null;
  };

  app.put<{ Params: { name: string }; Body: string }>(
    "/v1/specs/:name",
    { preHandler: authorize },
    async (req, reply) => {
      const dir = deps.runtimeDir as string;
      const { name } = req.params;
      if (!(await checkName(name, reply))) return reply;
      const text = typeof req.body === "string" ? req.body : "";
      const file = displayPath(specFilePath(dir, name));
      const parsed = parseSpecText(text, file, {
        ...DEFAULT_PARSE_OPTIONS,
        labelPrefix: deps.labelPrefix,
        policy: deps.policy,
        policyContext: hostPolicyContext,
      });
      if (parsed.issues.length > 0) {
        return reply
          .code(400)
          .send({ error: "the spec is not valid", errors: parsed.issues.map((i) => ({ ...i, text: formatIssue(i) })) });
      }
      const names = parsed.documents.map((d) => d.spec.name);
      if (names.length !== 1 || names[0] !== name) {
        return reply.code(400).send({
          error: `the body must hold one document whose metadata.name is ${JSON.stringify(name)} (found: ${names.join(", ") || "none"})`,
        });
      }
      const elsewhere = definedElsewhere(name, dir);
      if (elsewhere !== null)
        return reply.code(409).send({ error: `spec ${name} is defined in ${elsewhere}; change it there` });
      try {
        const created = await writeSpecFile(dir, name, text);
        deps.specsChanged();
        req.log.info({ spec: name, file, created }, "spec written");
        return await reply.code(created ? 201 : 200).send({ name, file, created });
      } catch (err) {
        return sendWriteError(err, reply);
      }
    },
  );

  app.delete<{ Params: { name: string } }>("/v1/specs/:name", { preHandler: authorize }, async (req, reply) => {
    const dir = deps.runtimeDir as string;
    const { name } = req.params;
    if (!(await checkName(name, reply))) return reply;
    const elsewhere = definedElsewhere(name, dir);
    if (elsewhere !== null)
      return reply.code(409).send({ error: `spec ${name} is defined in ${elsewhere}; remove it there` });
    try {
      if (!(await removeSpecFile(dir, name))) return await reply.code(404).send({ error: `no spec ${name} in ${dir}` });
      deps.specsChanged();
      req.log.info({ spec: name }, "spec removed");
      return await reply.code(200).send({ name, removed: true });
    } catch (err) {
      return sendWriteError(err, reply);
    }
  });

  return app;
}

async function sendWriteError(err: unknown, reply: FastifyReply): Promise<FastifyReply> {
  if (err instanceof SpecWriteError) return reply.code(err.status).send({ error: err.message, code: err.code });
  throw err;
}
