/** Small pieces the route modules share. */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isDnsLabel } from "../core/names.js";
import { type Guard, refuse } from "./auth.js";

/** Bodies of the JSON endpoints are small; so is any body a route does not ask for. */
export const JSON_BODY_LIMIT = 64 * 1024;

/** What a JSON endpoint accepts. */
export const JSON_TYPES: readonly string[] = ["application/json"];
/**
 * What PUT /v1/specs/{name} accepts: YAML under its usual names, or JSON (YAML is a superset).
 * Not text/plain: a browser may send that to any site without asking first.
 */
export const SPEC_TYPES: readonly string[] = ["application/yaml", "text/yaml", "application/x-yaml", ...JSON_TYPES];

/** The media type of a Content-Type header, lowercased, without its parameters. */
export function mediaType(header: string | undefined): string | null {
  const type = header?.split(";")[0]?.trim().toLowerCase();
  return type ? type : null;
}

/**
 * The request has no body at all, by fastify's rule (which then reads none, as for a bodyless
 * POST /v1/specs/{name}/restart): no Content-Type, no Transfer-Encoding, and no Content-Length or 0.
 */
export function hasNoBody(req: FastifyRequest): boolean {
  const { headers } = req;
  const length = headers["content-length"];
  return (
    headers["content-type"] === undefined &&
    headers["transfer-encoding"] === undefined &&
    (length === undefined || length === "0")
  );
}

/**
 * An onRequest hook: 415 unless the body is one of `types` (checked before the body is read).
 * `optionalBody`: a request with no body at all passes too (its route reads it as `{}`, parseJsonBody);
 * a body of any length with another type, or with none, is still refused.
 */
export function requireContentType(types: readonly string[], options: { optionalBody?: boolean } = {}): Guard {
  return async (req, reply) => {
    const type = mediaType(req.headers["content-type"]);
    if (type !== null && types.includes(type)) return undefined;
    if (options.optionalBody === true && hasNoBody(req)) return undefined;
    return refuse(reply, 415, {
      error: `the request body must be sent as ${types.join(", ")} (Content-Type: ${type ?? "none"})`,
    });
  };
}

/** Why `name` is refused where a DNS label is needed. */
export function nameError(name: string, what = "spec name"): string {
  return `${JSON.stringify(name)} is not a ${what} (a DNS label: lowercase letters, digits, '-')`;
}

/** 400 unless `name` is a DNS label. */
export async function checkName(name: string, reply: FastifyReply, what = "spec name"): Promise<boolean> {
  if (isDnsLabel(name)) return true;
  await reply.code(400).send({ error: nameError(name, what) });
  return false;
}

/** preValidation of the JSON routes: the text body becomes an object, or 400. */
export async function parseJsonBody(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const text = typeof req.body === "string" ? req.body : "";
  if (text.trim() === "") {
    req.body = {};
    return;
  }
  try {
    req.body = JSON.parse(text) as unknown;
  } catch (err) {
    await reply.code(400).send({ error: `the request body is not JSON: ${(err as Error).message}` });
  }
}

/** Polls `check` until it answers (not null) or `waitMs` has passed (null); `now` is the server's clock. */
export async function pollFor<T>(
  check: () => Promise<T | null> | T | null,
  waitMs: number,
  now: () => number,
  intervalMs = 100,
): Promise<T | null> {
  const deadline = now() + waitMs;
  for (;;) {
    const found = await check();
    if (found !== null) return found;
    if (now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The query of a Server-Sent Events or WebSocket route: its own parameters, and the token
 * (auth.ts, requireStreamToken); nothing else.
 */
export function streamQuery(properties: Record<string, unknown>) {
  return {
    type: "object",
    additionalProperties: false,
    properties: { ...properties, token: { type: "string", maxLength: 1024 } },
  } as const;
}

/** The options of a route that takes a JSON body (checked against `body`) and may wait for the engine. */
export function jsonRoute(onRequest: Guard[], body: Record<string, unknown>) {
  return {
    onRequest: [...onRequest, requireContentType(JSON_TYPES)],
    preValidation: parseJsonBody,
    schema: { body },
    bodyLimit: JSON_BODY_LIMIT,
    config: { waits: true },
  };
}

/** 409 for a container that must run for what was asked (exec, terminal). */
export function notRunning(reply: FastifyReply, container: { name: string; state: string }): FastifyReply {
  return reply.code(409).send({ error: `container ${container.name} is ${container.state}, not running` });
}

/**
 * Joins a task to the one under way for the same key, if any, and gives both its result: a second
 * stop of an agent whose stop still runs waits for that stop and answers as it does (as a
 * Kubernetes DELETE of a terminating pod is accepted), instead of finding its spec already gone.
 */
export function sharedByKey<T>(): (key: string, task: () => Promise<T>) => Promise<T> {
  const underWay = new Map<string, Promise<T>>();
  return (key, task) => {
    const joined = underWay.get(key);
    if (joined) return joined;
    const run = task().finally(() => underWay.delete(key));
    underWay.set(key, run);
    return run;
  };
}
