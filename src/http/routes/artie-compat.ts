/**
 * Artie host-manager compatibility (--compat artie): the API of Artie's Docker host manager, as its
 * backend calls it, mapped onto berth's own use cases (docs/http-api.md, "Artie compatibility").
 *
 *   GET    /health                       → {status: "ok", containerCount, uptime}   (open)
 *   GET    /api/containers               → [container, …]
 *   GET    /api/containers/:id           → container
 *   POST   /api/containers               {name, image?, ports?, volumeName?, pool?} → {id, name, hostPort}
 *   DELETE /api/containers/:id           → {success: true, id}
 *   POST   /api/containers/:id/exec      {command, timeout?} → {exitCode, stdout, stderr}
 *   GET    /api/containers/:id/logs      Server-Sent Events: data: {"line", "timestamp"}
 *   GET    /api/containers/:id/terminal  WebSocket: an interactive shell
 *   POST   /api/containers/:id/setup     → 501: a spec says what to run (the declarative way)
 *
 * A create takes a ready member of a warm pool whose spec runs that image (a claim, docs/pools.md)
 * when there is one, else writes a spec `artie-…` into the runtime spec folder (hostPort: auto,
 * so ports come from 10000 up) and answers once its container runs. Every /api/* route needs the
 * token (the SSE and WebSocket routes take it as ?token= too); they reach only the containers
 * made through this API, any other is a 404.
 */
import { randomBytes } from "node:crypto";
import type {} from "@fastify/websocket";
import type { FastifyInstance, FastifyReply } from "fastify";
import { stringify } from "yaml";
import type { ArtieCompatConfig } from "../../config.js";
import { normalizeImageRef } from "../../core/image-ref.js";
import { type ObservedContainer, shortId } from "../../core/observed.js";
import type { NormalizedSpec } from "../../core/spec.js";
import type { ClaimView } from "../../ops/pools.js";
import { requireStreamToken, requireToken } from "../auth.js";
import { jsonRoute, notRunning, pollFor, sharedByKey } from "../common.js";
import type { EngineServerDeps } from "../deps.js";
import { EXEC_MAX_TIMEOUT_MS, EXEC_OUTPUT_LIMIT } from "../exec-body.js";
import { type LogStreams, type SseFormat, sseEvent } from "../log-stream.js";
import { DEFAULT_SHELL, serveTerminal, terminalTarget } from "./containers.js";
import { runSpec, withoutRetry } from "../spec-run.js";
import { type Answer, removeAnswer, runtimeSpecs } from "./specs.js";

/** The prefix of the specs a create writes. */
export const ARTIE_PREFIX = "artie-";
/** The label (on a written spec's container, and on a claim) holding the name the client gave. */
export const ARTIE_NAME_LABEL = "com.artie.name";
/**
 * The label (on a written spec's container, and on a claim) holding the first port the create
 * asked for: the one whose host port it answered, and GET shows (the engine lists ports in no
 * set order, and a pool member publishes every port of its pool).
 */
export const ARTIE_PORT_LABEL = "com.artie.port";
/**
 * The label on a written spec's container when the create said `pool: true`: in Artie's API, "this
 * is a pool container" (one its caller keeps warm, not yet anyone's), which listings then show.
 */
export const ARTIE_POOL_LABEL = "com.artie.pool";
/** Where Artie mounts a create's `volumeName` (its shared node_modules). */
export const VOLUME_TARGET = "/app/node_modules";
/** Artie's defaults. */
export const DEFAULT_PORTS: readonly number[] = [3000];
const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
/** Lines of history a log stream starts with. */
const LOG_TAIL = 1000;

export interface CreateBody {
  readonly name: string;
  readonly image?: string;
  readonly ports?: number[];
  readonly volumeName?: string;
  readonly pool?: boolean;
}

const CREATE_BODY_SCHEMA = {
  type: "object",
  required: ["name"],
  // Artie's clients may send more than berth reads.
  additionalProperties: true,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    image: { type: "string", minLength: 1, maxLength: 512 },
    ports: { type: "array", maxItems: 20, items: { type: "integer", minimum: 1, maximum: 65535 } },
    volumeName: { type: "string", pattern: "^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$" },
    pool: { type: "boolean" },
  },
} as const;

interface ExecBody {
  readonly command: string;
  readonly timeout?: number;
}

const EXEC_BODY_SCHEMA = {
  type: "object",
  required: ["command"],
  additionalProperties: true,
  properties: {
    command: { type: "string", minLength: 1, maxLength: 32_768 },
    timeout: { type: "integer", minimum: 1, maximum: EXEC_MAX_TIMEOUT_MS },
  },
} as const;

/** A DNS label for a spec of a create named `name`: `artie-<name, cleaned>-<random>`. */
export function artieSpecName(name: string, random: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 63 - ARTIE_PREFIX.length - random.length - 1)
    .replace(/-$/, "");
  return `${ARTIE_PREFIX}${slug ? `${slug}-` : ""}${random}`;
}

/** The spec a create writes: the image kept running, each port on an automatic host port. */
export function artieSpec(
  specName: string,
  body: CreateBody,
  options: ArtieCompatConfig,
): { readonly name: string; readonly text: string } {
  const doc = {
    apiVersion: "berth/v1",
    kind: "Container",
    metadata: {
      name: specName,
      labels: { ...artieLabels(body), ...(body.pool === true ? { [ARTIE_POOL_LABEL]: "true" } : {}) },
    },
    spec: {
      image: body.image ?? options.image,
      // Artie's containers wait for commands (exec, terminal): the image's own command may exit.
      command: ["sleep", "infinity"],
      init: true,
      ports: (body.ports ?? DEFAULT_PORTS).map((p) => ({
        containerPort: p,
        hostPort: "auto",
        ...(options.hostIP !== null ? { hostIP: options.hostIP } : {}),
      })),
      ...(body.volumeName !== undefined
        ? { mounts: [{ type: "volume", source: body.volumeName, target: VOLUME_TARGET }] }
        : {}),
      network: options.network,
    },
  };
  return {
    name: specName,
    text: `# Written by berth's Artie compatibility API (POST /api/containers).\n${stringify(doc)}`,
  };
}

/** The labels a create's container or claim carries: the name the client gave, and its first port. */
export function artieLabels(body: CreateBody): Record<string, string> {
  const first = (body.ports ?? DEFAULT_PORTS)[0];
  return { [ARTIE_NAME_LABEL]: body.name, ...(first !== undefined ? { [ARTIE_PORT_LABEL]: String(first) } : {}) };
}

/** The pool whose members can serve a create: same image, the ports asked for, the volume asked for. */
export function poolFor(pools: readonly NormalizedSpec[], body: CreateBody, defaultImage: string): string | null {
  const image = normalizeImageRef(body.image ?? defaultImage);
  const ports = body.ports ?? DEFAULT_PORTS;
  const fits = (spec: NormalizedSpec): boolean =>
    normalizeImageRef(spec.image) === image &&
    ports.every((p) => spec.ports.some((sp) => sp.containerPort === p && sp.hostPort !== null)) &&
    (body.volumeName === undefined ||
      spec.mounts.some((m) => m.type === "volume" && m.source === body.volumeName && m.target === VOLUME_TARGET));
  return [...pools].sort((a, b) => a.name.localeCompare(b.name)).find(fits)?.name ?? null;
}

/** A container as Artie's API shows it. */
export function artieView(c: ObservedContainer, claim: ClaimView | undefined): Record<string, unknown> {
  const label = (key: string): string | undefined => claim?.labels[key] ?? c.labels[key];
  const ports = (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, hostPort: p.hostPort }));
  // The create's first port (of one made before that label was written: the first listed).
  const first = label(ARTIE_PORT_LABEL);
  const asked = first === undefined ? undefined : ports.find((p) => String(p.containerPort) === first);
  return {
    id: shortId(c.id),
    name: label(ARTIE_NAME_LABEL) ?? c.name,
    containerName: c.name,
    image: c.image,
    status: c.state,
    hostPort: (asked ?? ports[0])?.hostPort ?? null,
    ports,
    // Artie's meaning: made with `pool: true`, kept warm by its caller. A member claimed from one of
    // berth's pools left its pool for this one consumer (docs/pools.md): it is no pool container.
    pool: claim === undefined && c.labels[ARTIE_POOL_LABEL] === "true",
    createdAt: new Date(c.createdAt).toISOString(),
  };
}

/** Artie's log events: `data: {"line", "timestamp"}` (ms since the epoch, the engine's stamp), nothing else. */
export function artieLogEvents(now: () => number): SseFormat {
  return {
    open: () => null,
    line: (line) => {
      const at = line.time === null ? Number.NaN : Date.parse(line.time);
      return sseEvent({ line: line.line, timestamp: Number.isNaN(at) ? now() : at });
    },
    end: () => null,
  };
}

export function registerArtieCompat(
  app: FastifyInstance,
  deps: EngineServerDeps,
  options: ArtieCompatConfig,
  streams: LogStreams,
): void {
  const token = requireToken(deps.apiToken);
  const streamToken = requireStreamToken(deps.apiToken);
  const notFound = (reply: FastifyReply, id: string): FastifyReply =>
    reply.code(404).send({ error: `Container not found: no container ${id} made through this API` });

  /** The claims made through this API, by container ID. */
  const artieClaims = async (): Promise<Map<string, ClaimView>> => {
    const claims = (await deps.pools?.all()) ?? [];
    return new Map(claims.filter((c) => c.labels[ARTIE_NAME_LABEL] !== undefined).map((c) => [c.container, c]));
  };
  /** Containers made through this API: those of its specs, and the pool members it claimed. */
  const artieContainers = async (): Promise<{ list: ObservedContainer[]; claims: Map<string, ClaimView> }> => {
    const claims = await artieClaims();
    const list = await deps.containers.list(
      (c) =>
        claims.has(c.id) ||
        ((deps.containers.specOf(c) ?? "").startsWith(ARTIE_PREFIX) && c.labels[ARTIE_NAME_LABEL] !== undefined),
    );
    return { list, claims };
  };
  /** `id` names it: its container name, full ID, or an ID prefix of 12 or more (the `id` a create answered). */
  const names = (id: string, c: { readonly id: string; readonly name: string }): boolean =>
    c.id === id || c.name === id || (id.length >= 12 && c.id.startsWith(id));
  const findArtie = async (id: string): Promise<{ c: ObservedContainer; claim: ClaimView | undefined } | null> => {
    const { list, claims } = await artieContainers();
    const c = list.find((x) => names(id, x));
    return c ? { c, claim: claims.get(c.id) } : null;
  };
  /** A claim made through this API whose container is gone (Lost), by the container's ID or name. */
  const lostClaim = async (id: string): Promise<ClaimView | undefined> =>
    [...(await artieClaims()).values()].find(
      (claim) => claim.phase === "Lost" && names(id, { id: claim.container, name: claim.name }),
    );

  const waitFor = <T>(check: () => Promise<T | null> | T | null): Promise<T | null> =>
    pollFor(check, options.waitMs, () => deps.now());
  const logEvents = artieLogEvents(() => deps.now());

  app.get("/health", async (_req, reply) => {
    const { list } = await artieContainers();
    return reply.send({ status: "ok", containerCount: list.length, uptime: process.uptime() });
  });

  app.get("/api/containers", { onRequest: token }, async (_req, reply) => {
    const { list, claims } = await artieContainers();
    return reply.send(list.map((c) => artieView(c, claims.get(c.id))));
  });

  app.get<{ Params: { id: string } }>("/api/containers/:id", { onRequest: token }, async (req, reply) => {
    const found = await findArtie(req.params.id);
    if (!found) return notFound(reply, req.params.id);
    return reply.send(artieView(found.c, found.claim));
  });

  app.post<{ Body: CreateBody }>("/api/containers", jsonRoute([token], CREATE_BODY_SCHEMA), async (req, reply) => {
    const body = req.body;
    const ports = body.ports ?? DEFAULT_PORTS;
    const random = randomBytes(3).toString("hex");
    const specName = artieSpecName(body.name, random);
    // From a warm pool: a claim answers at once. A request for a pool container (`pool: true`,
    // Artie's own pool keeping) is made like any other: berth's pools are specs.
    const pool = body.pool === true || !deps.pools ? null : poolFor(deps.pools.specs(), body, options.image);
    if (pool !== null && deps.pools) {
      const outcome = await deps.pools.claim(pool, {
        name: specName,
        labels: artieLabels(body),
        expires: null,
        waitMs: 0,
      });
      if (outcome.kind === "claimed") {
        const hostPort = outcome.claim.hostPorts.find((p) => p.containerPort === ports[0])?.hostPort ?? null;
        return reply.send({ id: shortId(outcome.claim.container), name: body.name, hostPort });
      }
      // No member ready (or the claim failed): made cold, as Artie does with an empty pool.
      req.log.info({ pool, outcome: outcome.kind }, "artie create not served from the pool");
    }
    const { name, text } = artieSpec(specName, body, options);
    const run = await runSpec(deps, name, text, options.waitMs, { failedEnds: true });
    if (run.kind === "refused") return reply.code(run.answer.status).send(run.answer.body);
    if (run.kind === "failed") {
      req.log.warn({ spec: name, why: run.why }, "artie create failed");
      const what =
        run.status === 504
          ? `did not start within ${options.waitMs / 1000}s (${run.why})`
          : `cannot start (${withoutRetry(run.spec?.lastError ?? run.why)})`;
      return reply.code(run.status).send({ error: `container ${body.name} ${what}; its spec was removed` });
    }
    const first = ports[0];
    const hostPort = first === undefined ? null : (run.container.hostPorts[`${first}/tcp`] ?? null);
    return reply.send({ id: shortId(run.container.id), name: body.name, hostPort });
  });

  /** Deletes under way, by container ID: a second DELETE of one joins the first and gets its answer. */
  const deleting = sharedByKey<Answer>();

  /** Releases a claim made through this API: its member is removed (if still there), then its record. */
  const release = async (claim: ClaimView): Promise<Answer> => {
    const released = deps.pools ? await deps.pools.release(claim.pool, claim.claim) : null;
    if (released?.kind === "failed") return { status: 500, body: { error: released.message } };
    return { status: 200, body: { success: true, id: shortId(claim.container) } };
  };

  /**
   * Removes the spec of a container made through this API and waits for the container to go. A
   * spec already gone (DELETE /v1/specs, a delete before this one that gave up waiting) leaves a
   * container on its way out: it is waited for the same.
   */
  const removeMade = async (c: ObservedContainer): Promise<Answer> => {
    const id = shortId(c.id);
    const name = deps.containers.specOf(c) ?? "";
    const removed = await runtimeSpecs(deps).remove(name);
    if (removed.kind !== "absent") {
      const answer = removeAnswer(removed, name);
      if (answer.status !== 200) return answer;
    }
    const gone = await waitFor(async () => ((await deps.containers.find(c.id)) === null ? true : null));
    if (!gone) return { status: 504, body: { error: `container ${id}: its spec is removed but it is still there` } };
    return { status: 200, body: { success: true, id } };
  };

  app.delete<{ Params: { id: string } }>(
    "/api/containers/:id",
    { onRequest: token, config: { waits: true } },
    async (req, reply) => {
      const found = await findArtie(req.params.id);
      // A claimed member removed behind berth's back (docker rm -f) leaves its claim Lost: the
      // client's delete of it is what ends the claim, as a delete of any container it made.
      const lost = found ? undefined : await lostClaim(req.params.id);
      if (lost) {
        const answer = await deleting(lost.container, () => release(lost));
        return reply.code(answer.status).send(answer.body);
      }
      if (!found) return notFound(reply, req.params.id);
      const { c, claim } = found;
      const answer = await deleting(c.id, () => (claim ? release(claim) : removeMade(c)));
      return reply.code(answer.status).send(answer.body);
    },
  );

  app.post<{ Params: { id: string }; Body: ExecBody }>(
    "/api/containers/:id/exec",
    jsonRoute([token], EXEC_BODY_SCHEMA),
    async (req, reply) => {
      const found = await findArtie(req.params.id);
      if (!found) return notFound(reply, req.params.id);
      if (found.c.state !== "running") return notRunning(reply, found.c);
      const result = await deps.containers.exec(found.c, {
        cmd: ["sh", "-c", req.body.command],
        timeoutMs: req.body.timeout ?? DEFAULT_EXEC_TIMEOUT_MS,
        maxOutputBytes: EXEC_OUTPUT_LIMIT,
      });
      return reply.send({
        exitCode: result.exitCode,
        stdout: result.stdout,
        stderr: result.stderr,
        truncated: result.truncated,
        timedOut: result.timedOut,
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/containers/:id/logs",
    { onRequest: streamToken, config: { waits: true } },
    async (req, reply) => {
      const stream = streams.watch(reply);
      const found = await findArtie(req.params.id);
      if (!found) return notFound(reply, req.params.id);
      return stream.serve(reply, deps.containers, found.c, { follow: true, tail: LOG_TAIL, since: null }, logEvents);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/containers/:id/terminal",
    {
      websocket: true,
      onRequest: streamToken,
      preHandler: terminalTarget(async (req) => (await findArtie((req.params as { id: string }).id))?.c ?? null),
      config: { waits: true },
    },
    (socket, req) => {
      serveTerminal(deps, socket, req, { cmd: DEFAULT_SHELL }, "text");
    },
  );

  app.post<{ Params: { id: string } }>("/api/containers/:id/setup", { onRequest: token }, async (_req, reply) =>
    reply.code(501).send({
      error:
        "setup (clone, install, start, callbacks) is not part of berth: declare what the container runs instead, " +
        "in a spec (an image with the repository's dependencies and a command, PUT /v1/specs/{name}) or a pool " +
        "of such containers (docs/pools.md); then run commands with POST /api/containers/:id/exec",
    }),
  );
}
