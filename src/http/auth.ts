/**
 * Bearer-token checks of the write endpoints. Without a configured token they are off (403);
 * tokens are compared in constant time. The guards run in onRequest, before the body is read: a
 * caller without the token never has a byte of its body buffered.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Socket } from "node:net";
import type { FastifyReply, FastifyRequest } from "fastify";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Compares in constant time (over digests, so the length of the token does not leak either). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The request carries `Authorization: Bearer TOKEN` with the right token (the scheme in any case, RFC 9110). */
export function bearerMatches(req: FastifyRequest, token: string): boolean {
  const match = /^Bearer +(.+)$/i.exec(req.headers.authorization ?? "");
  return match?.[1] !== undefined && tokenMatches(match[1], token);
}

/**
 * The request carries the right token as `?token=`. Only the routes a browser opens without
 * being able to set a header take it (Server-Sent Events, WebSockets); a URL is never logged with
 * its query (pathOf), so the token does not reach the log.
 */
export function queryTokenMatches(req: FastifyRequest, token: string): boolean {
  const query = req.query as Record<string, unknown> | undefined;
  const given = query?.token;
  return typeof given === "string" && given !== "" && tokenMatches(given, token);
}

/** A URL as it may be logged or shown: its path, without the query (which may carry a token). */
export function pathOf(url: string): string {
  return url.split("?")[0] ?? "";
}

/** How long a refused request's connection stays after the answer while the rest of its body arrives. */
export const LINGER_MS = 2_000;
/** The largest declared body berth waits for (and drops) after refusing its request. */
export const LINGER_BYTES = 64 * 1024;

/**
 * Answers a request refused before its body was read; the body is never buffered. When a small
 * body (a Content-Length of at most LINGER_BYTES) is still on its way, berth ends its side once
 * the answer is out and lets node read and drop the rest for at most LINGER_MS, so that the
 * client reads its answer (closing with unread input would reset the connection and lose it).
 * A larger or chunked body is not waited for: the connection is closed at once, and its client
 * may see a reset instead of the answer. Either way no client holds the connection by trickling.
 */
export function refuse(reply: FastifyReply, status: number, body: Record<string, unknown>): FastifyReply {
  const req = reply.request.raw;
  const socket: unknown = req.socket;
  const declared = req.headers["content-length"];
  if (socket instanceof Socket && !req.complete && declared !== undefined && Number(declared) <= LINGER_BYTES) {
    // Not "Connection: close": node would then close at once, with the body unread.
    reply.raw.once("finish", () => {
      socket.end();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    });
  } else {
    reply.header("connection", "close");
  }
  return reply.code(status).send(body);
}

/** 401, asking for a bearer token. */
export function unauthorized(reply: FastifyReply): FastifyReply {
  return refuse(reply.header("www-authenticate", "Bearer"), 401, { error: "a valid bearer token is required" });
}

/** An onRequest hook; it answers (and returns the reply) to stop the request. */
export type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/**
 * An onRequest hook: 403 when writes are off, 401 without the right token. With `inQuery`
 * (Server-Sent Events and WebSocket routes only), `?token=` is taken too.
 */
export function requireToken(
  token: string | null,
  offReason = "start berth with --api-token-file or BERTH_API_TOKEN",
  inQuery = false,
): Guard {
  return async (req, reply) => {
    if (token === null) return refuse(reply, 403, { error: `write endpoints are off: ${offReason}` });
    if (!bearerMatches(req, token) && !(inQuery && queryTokenMatches(req, token))) return unauthorized(reply);
    return undefined;
  };
}

/** requireToken for the routes a browser opens without headers (SSE, WebSocket): `?token=` too. */
export function requireStreamToken(token: string | null): Guard {
  return requireToken(token, undefined, true);
}
