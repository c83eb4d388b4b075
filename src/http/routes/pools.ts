/**
 * Claims on warm pools (docs/pools.md): POST /v1/pools/{name}/claims takes a ready member,
 * GET lists the pool's claims or reads one, DELETE releases one (its container is removed). All
 * need the token; the use case (ops/pools.ts) says what happened, this module says it in HTTP.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { isParseError, parseDurationMs, parseExpiresAt } from "../../core/units.js";
import type { ClaimExpiry, ClaimOutcome, ClaimView, Pools, ReleaseOutcome } from "../../ops/pools.js";
import { refuse, requireToken } from "../auth.js";
import { checkName, JSON_BODY_LIMIT, JSON_TYPES, nameError, parseJsonBody, requireContentType } from "../common.js";
import type { EngineServerDeps } from "../deps.js";

/** The longest a claim may wait for a member. */
export const MAX_CLAIM_WAIT_MS = 5 * 60_000;

/**
 * How long a claim waits for a member when none is ready and it gives no `wait`: long enough for
 * the member made cold for it to be created, started and found healthy.
 */
export const DEFAULT_CLAIM_WAIT_MS = 60_000;

const CLAIM_BODY_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: { type: "string", maxLength: 63 },
    labels: { type: "object", maxProperties: 64, additionalProperties: { type: "string", maxLength: 1024 } },
    ttl: { type: "string", maxLength: 32 },
    expiresAt: { type: "string", maxLength: 64 },
    wait: { type: "string", maxLength: 32 },
  },
} as const;

interface ClaimBody {
  readonly name?: string;
  readonly labels?: Record<string, string>;
  readonly ttl?: string;
  readonly expiresAt?: string;
  readonly wait?: string;
}

/** The body of a claim as the API shows it. */
export function claimBody(c: ClaimView): Record<string, unknown> {
  return { ...c };
}

function claimAnswer(outcome: ClaimOutcome, pool: string): { status: number; body: Record<string, unknown> } {
  switch (outcome.kind) {
    case "claimed":
      return { status: 201, body: claimBody(outcome.claim) };
    case "exists":
      return {
        status: 409,
        body: { error: `pool ${pool} already has a claim ${outcome.claim.claim}`, claim: claimBody(outcome.claim) },
      };
    case "not-a-pool":
      return { status: 404, body: { error: outcome.reason } };
    case "bad-name":
      return { status: 400, body: { error: nameError(outcome.name, "claim name") } };
    case "unavailable":
      return { status: 503, body: { error: outcome.reason } };
    case "failed":
      return { status: 500, body: { error: outcome.message } };
  }
}

function releaseAnswer(outcome: ReleaseOutcome): { status: number; body: Record<string, unknown> } {
  switch (outcome.kind) {
    case "released":
      return {
        status: 200,
        body: { claim: outcome.claim, released: true, removedContainer: outcome.removedContainer },
      };
    case "absent":
      return { status: 404, body: { error: `pool ${outcome.pool} has no claim ${outcome.claim}` } };
    case "failed":
      return { status: 500, body: { error: outcome.message } };
  }
}

/** The latest time a Date can hold (epoch ms): a claim's expiry is reported as one. */
const LATEST_TIME_MS = 8.64e15;

/**
 * ttl / expiresAt / wait → the claim's expiry (a ttl counts from when a member is claimed) and its
 * wait in ms; a message naming the field when one is not valid. `now`: the server's clock. A claim
 * must expire after it is made: a ttl of at least 1ms, an expiresAt after now (else its member
 * would be removed as expired right after the answer).
 */
function timesOf(body: ClaimBody, now: number): { expires: ClaimExpiry; waitMs: number } | string {
  if (body.ttl !== undefined && body.expiresAt !== undefined) return "give ttl or expiresAt, not both";
  let expires: ClaimExpiry = null;
  if (body.ttl !== undefined) {
    const ttl = parseDurationMs(body.ttl);
    if (isParseError(ttl)) return `ttl: ${ttl.error}`;
    if (ttl <= 0) {
      return `ttl: ${JSON.stringify(body.ttl)} is not a time to live: give a duration longer than 0 (e.g. 30s, 10m, 1h), or no ttl for a claim until released`;
    }
    if (now + ttl > LATEST_TIME_MS) {
      return `ttl: ${JSON.stringify(body.ttl)} is too long: the claim would expire after the latest time there is`;
    }
    expires = { afterMs: ttl };
  } else if (body.expiresAt !== undefined) {
    const at = parseExpiresAt(body.expiresAt);
    if (at !== null && typeof at !== "number") return `expiresAt: ${at.error}`;
    if (at !== null && at <= now) {
      return `expiresAt: ${JSON.stringify(body.expiresAt)} is not in the future (it is now ${new Date(now).toISOString()}): give a later RFC 3339 time, a ttl, or never`;
    }
    if (at !== null) expires = { at };
  }
  let waitMs = DEFAULT_CLAIM_WAIT_MS;
  if (body.wait !== undefined) {
    const wait = parseDurationMs(body.wait);
    if (isParseError(wait)) return `wait: ${wait.error}`;
    if (wait > MAX_CLAIM_WAIT_MS) return `wait: ${body.wait} is longer than the most a claim may wait, 5m`;
    waitMs = wait;
  }
  return { expires, waitMs };
}

export function registerPoolRoutes(app: FastifyInstance, deps: EngineServerDeps, pools: Pools | null): void {
  const token = requireToken(deps.apiToken);
  const available = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply | undefined> =>
    pools === null
      ? refuse(reply, 403, {
          error: "no runtime spec directory to record claims in: start berth with --runtime-specs DIR",
        })
      : undefined;
  const use = (): Pools => {
    if (pools === null) throw new Error("no pools");
    return pools;
  };

  app.post<{ Params: { name: string }; Body: ClaimBody }>(
    "/v1/pools/:name/claims",
    {
      // Every field is optional, so is the body: a POST with none at all claims as `{}`.
      onRequest: [token, available, requireContentType(JSON_TYPES, { optionalBody: true })],
      preValidation: parseJsonBody,
      schema: { body: CLAIM_BODY_SCHEMA },
      bodyLimit: JSON_BODY_LIMIT,
      config: { waits: true },
    },
    async (req, reply) => {
      if (!(await checkName(req.params.name, reply))) return reply;
      const times = timesOf(req.body, deps.now());
      if (typeof times === "string") return reply.code(400).send({ error: times });
      const { name, labels } = req.body;
      const outcome = await use().claim(req.params.name, {
        ...(name !== undefined ? { name } : {}),
        ...(labels !== undefined ? { labels } : {}),
        ...times,
      });
      const answer = claimAnswer(outcome, req.params.name);
      return reply.code(answer.status).send(answer.body);
    },
  );

  app.get<{ Params: { name: string } }>(
    "/v1/pools/:name/claims",
    { onRequest: [token, available] },
    async (req, reply) => {
      if (!(await checkName(req.params.name, reply))) return reply;
      return reply.send({ pool: req.params.name, claims: (await use().list(req.params.name)).map(claimBody) });
    },
  );

  app.get<{ Params: { name: string; claim: string } }>(
    "/v1/pools/:name/claims/:claim",
    { onRequest: [token, available] },
    async (req, reply) => {
      if (!(await checkName(req.params.name, reply))) return reply;
      if (!(await checkName(req.params.claim, reply, "claim name"))) return reply;
      const claim = await use().get(req.params.name, req.params.claim);
      if (!claim) return reply.code(404).send({ error: `pool ${req.params.name} has no claim ${req.params.claim}` });
      return reply.send(claimBody(claim));
    },
  );

  app.delete<{ Params: { name: string; claim: string } }>(
    "/v1/pools/:name/claims/:claim",
    { onRequest: [token, available], config: { waits: true } },
    async (req, reply) => {
      if (!(await checkName(req.params.name, reply))) return reply;
      if (!(await checkName(req.params.claim, reply, "claim name"))) return reply;
      const answer = releaseAnswer(await use().release(req.params.name, req.params.claim));
      return reply.code(answer.status).send(answer.body);
    },
  );
}
