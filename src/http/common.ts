/** Small pieces the route modules share. */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isDnsLabel } from "../core/names.js";

/** Bodies of the JSON endpoints are small. */
export const JSON_BODY_LIMIT = 64 * 1024;

/** 400 unless `name` is a DNS label. */
export async function checkName(name: string, reply: FastifyReply, what = "spec name"): Promise<boolean> {
  if (isDnsLabel(name)) return true;
  await reply
    .code(400)
    .send({ error: `${JSON.stringify(name)} is not a ${what} (a DNS label: lowercase letters, digits, '-')` });
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
