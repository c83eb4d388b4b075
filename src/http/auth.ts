/**
 * Bearer-token checks of the write endpoints. Without a configured token they are off (403);
 * tokens are compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Compares in constant time (over digests, so the length of the token does not leak either). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The request carries `Authorization: Bearer TOKEN` with the right token. */
export function bearerMatches(req: FastifyRequest, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
  return match?.[1] !== undefined && tokenMatches(match[1], token);
}

/** 401, asking for a bearer token. */
export function unauthorized(reply: FastifyReply): FastifyReply {
  return reply.code(401).header("www-authenticate", "Bearer").send({ error: "a valid bearer token is required" });
}

/** A preHandler; it answers (and returns the reply) to stop the request. */
export type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/** A preHandler: 403 when writes are off, 401 without the right token. */
export function requireToken(
  token: string | null,
  offReason = "start berth with --api-token-file or BERTH_API_TOKEN",
): Guard {
  return async (req, reply) => {
    if (token === null) return reply.code(403).send({ error: `write endpoints are off: ${offReason}` });
    if (!bearerMatches(req, token)) return unauthorized(reply);
    return undefined;
  };
}
