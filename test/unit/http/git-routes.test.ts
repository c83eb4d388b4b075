/** GET /v1/sources and the Git webhook, through fastify's inject(), under both targets (the same routes). */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { labelKeys } from "../../../src/core/labels.js";
import { ownership } from "../../../src/core/ownership.js";
import type { ContainerIO } from "../../../src/docker/port.js";
import { buildServer } from "../../../src/http/server.js";
import type { GitSourceStatus } from "../../../src/loop/git-sources.js";
import { ManagedContainers } from "../../../src/ops/containers.js";
import { EventLog } from "../../../src/ops/event-log.js";
import { silentLogger } from "../../../src/util/log.js";

const SECRET = "webhook-secret-0123456789";
const API_TOKEN = "0123456789abcdef0123456789abcdef";

const SOURCE: GitSourceStatus = {
  name: "deploy-main-1234abcd",
  url: "https://github.com/acme/deploy.git",
  ref: "main",
  path: "specs",
  specDir: "/run/berth/git/default/deploy-main-1234abcd/specs",
  revision: "0123456789abcdef0123456789abcdef01234567",
  shortRevision: "0123456789ab",
  committedAt: "2026-12-03T10:00:00.000Z",
  subject: "web: 2 replicas",
  lastFetchAt: "2026-12-03T10:01:00.000Z",
  lastAttemptAt: "2026-12-03T10:01:00.000Z",
  lastError: null,
  failures: 0,
  fetching: false,
  invalidFiles: [],
  brokenAt: null,
};

const noIO: ContainerIO = {
  exec: () => Promise.reject(new Error("no")),
  logs: () => Promise.reject(new Error("no")),
};

type Target = "engine" | "swarm";

function server(git: { secret: string | null; sources: boolean }, target: Target) {
  let fetches = 0;
  const log = silentLogger();
  const common = {
    log,
    controllerId: "default",
    readiness: () => ({ ready: true, reason: null }),
    apiToken: API_TOKEN,
    loopback: true,
    events: new EventLog(),
    metrics: null,
    now: () => Date.parse("2026-12-03T10:02:00Z"),
  };
  const targetDeps =
    target === "swarm"
      ? { target, swarmStatus: () => null, specs: null }
      : {
          status: () => null,
          specs: null,
          containers: new ManagedContainers(
            { listContainers: () => Promise.resolve([]) },
            noIO,
            ownership(labelKeys(), "default"),
            log,
          ),
          compat: null,
        };
  const app = buildServer({
    ...common,
    ...targetDeps,
    gitSources: git.sources
      ? {
          list: () => [SOURCE],
          syncAll: () => {
            fetches++;
            return Promise.resolve();
          },
        }
      : null,
    gitWebhookSecret: git.secret,
  });
  return { app, fetches: () => fetches };
}

const BODY = JSON.stringify({ ref: "refs/heads/main", after: "abc" });
const sign = (body: string, secret = SECRET): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

function post(s: ReturnType<typeof server>, headers: Record<string, string>, payload = BODY) {
  return s.app.inject({
    method: "POST",
    url: "/v1/hooks/git",
    headers: { "content-type": "application/json", ...headers },
    payload,
  });
}

describe.each<Target>(["engine", "swarm"])("POST /v1/hooks/git under --target %s", (target) => {
  it("fetches on a good signature, without the API token (202)", async () => {
    const s = server({ secret: SECRET, sources: true }, target);
    const res = await post(s, { "x-hub-signature-256": sign(BODY), "x-github-event": "push" });
    expect([res.statusCode, res.json()]).toEqual([202, { fetching: [SOURCE.name] }]);
    expect(s.fetches()).toBe(1);
  });

  it("takes GitLab's token, and a form-encoded body", async () => {
    const s = server({ secret: SECRET, sources: true }, target);
    const res = await post(
      s,
      { "content-type": "application/x-www-form-urlencoded", "x-gitlab-token": SECRET },
      "payload=%7B%7D",
    );
    expect(res.statusCode).toBe(202);
    expect(s.fetches()).toBe(1);
  });

  it.each([
    ["unsigned", {}, "is not signed"],
    ["wrongly signed", { "x-hub-signature-256": sign(BODY, "another-secret-0123456789") }, "does not match"],
    ["signed for another body", { "x-hub-signature-256": sign("{}") }, "does not match"],
    ["with the API token instead", { authorization: `Bearer ${API_TOKEN}` }, "is not signed"],
  ])("answers 401 and fetches nothing when %s", async (_what, headers, message) => {
    const s = server({ secret: SECRET, sources: true }, target);
    const res = await post(s, headers);
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: string }>().error).toContain(message);
    expect(s.fetches()).toBe(0);
  });

  it("answers 413 for a body above the bound, and fetches nothing", async () => {
    const s = server({ secret: SECRET, sources: true }, target);
    const big = "x".repeat(1024 * 1024 + 1);
    const res = await post(s, { "x-hub-signature-256": sign(big) }, big);
    expect(res.statusCode).toBe(413);
    expect(s.fetches()).toBe(0);
  });

  it("answers 404 without a webhook secret", async () => {
    const s = server({ secret: null, sources: true }, target);
    const res = await post(s, { "x-hub-signature-256": sign(BODY) });
    expect(res.statusCode).toBe(404);
    expect(s.fetches()).toBe(0);
  });
});

describe.each<Target>(["engine", "swarm"])("GET /v1/sources under --target %s", (target) => {
  it("lists the sources with their revisions", async () => {
    const res = await server({ secret: null, sources: true }, target).app.inject({ url: "/v1/sources" });
    expect([res.statusCode, res.json()]).toEqual([200, { controller: "default", sources: [SOURCE] }]);
  });

  it("is an empty list without sources", async () => {
    const res = await server({ secret: null, sources: false }, target).app.inject({ url: "/v1/sources" });
    expect(res.json()).toEqual({ controller: "default", sources: [] });
  });
});
