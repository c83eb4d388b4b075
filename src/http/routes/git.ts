/**
 * The Git sources (docs/gitops.md): GET /v1/sources (a read, as GET /v1/specs) and the webhook
 * POST /v1/hooks/git, which asks every source to fetch now. The webhook is authenticated by its
 * HMAC signature (or GitLab's token), not by the API token: a Git host cannot send berth's bearer
 * token. Unsigned or wrongly signed → 401 and nothing fetched. Its body is read as bytes (the
 * signature is over the exact bytes), bounded; a flood costs at most one fetch in flight and one
 * queued per source (loop/git-sources.ts).
 */
import type { FastifyInstance } from "fastify";
import type { GitSourceStatus } from "../../core/git-source.js";
import type { ServerDeps } from "../deps.js";
import { refuse } from "../auth.js";
import { verifyWebhook } from "../webhook-signature.js";

/** A push event's payload is a few KiB; GitHub caps them at 25 MB, but berth reads none of it. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** GET /v1/specs's `sources`, with --git only (docs/gitops.md, "Status"). */
export function sourcesOf(deps: Pick<ServerDeps, "gitSources">): { sources?: GitSourceStatus[] } {
  const sources = deps.gitSources?.list() ?? [];
  return sources.length > 0 ? { sources } : {};
}

/** Under either target (docs/swarm.md, "Git sources"). */
export function registerGitRoutes(
  app: FastifyInstance,
  deps: Pick<ServerDeps, "controllerId" | "gitSources" | "gitWebhookSecret">,
): void {
  const sources = deps.gitSources ?? null;
  app.get("/v1/sources", async (_req, reply) =>
    reply.send({ controller: deps.controllerId, sources: sources?.list() ?? [] }),
  );
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, next) => {
      next(null, body);
    });
    scope.post("/v1/hooks/git", { bodyLimit: WEBHOOK_BODY_LIMIT }, async (req, reply) => {
      const secret = deps.gitWebhookSecret ?? null;
      if (sources === null || secret === null)
        return refuse(reply, 404, {
          error: "no Git webhook is configured: start berth with --git URL and --git-webhook-secret-file FILE",
        });
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = verifyWebhook(req.headers, body, secret);
      if (verdict !== "ok") {
        req.log.warn({ verdict }, "git webhook refused");
        return refuse(reply, 401, {
          error:
            verdict === "unsigned"
              ? "the webhook is not signed: set its secret on the Git host (X-Hub-Signature-256 or X-Gitlab-Token)"
              : "the webhook's signature does not match --git-webhook-secret-file",
        });
      }
      void sources.syncAll();
      return reply.code(202).send({ fetching: sources.list().map((s) => s.name) });
    });
    done();
  });
}
