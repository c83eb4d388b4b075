/**
 * `berth status` and `berth get` read whatever answers on --server (finding 14c): an answer is
 * believed only when it is berth's (the controller header and body naming this --id, JSON of the
 * report's shape, within a size cap), and nothing they print carries a control character.
 */
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { liveStatus, liveSwarmStatus, MAX_REPORT_BYTES } from "../../../src/cli/live.js";
import { printable, printableDeep } from "../../../src/cli/sanitize.js";
import type { StatusReport } from "../../../src/core/status.js";
import { runCli } from "../../support/cli.js";
import { testServer } from "../../support/http-server.js";
import { SWARM_NETWORK, SWARM_SPEC } from "../../support/swarm-status.js";

/** Escapes a hostile answer might carry: clear screen, window title, colour, carriage return, C1 CSI, bidi override. */
const HOSTILE = "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b[31mred\x1b[0m\r\u009b1Aup\u202Eevil\x00\x7f";
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/; // eslint-disable-line no-control-regex

function report(text = "web"): StatusReport & { controller: string; observedAt: string } {
  return {
    controller: "default",
    observedAt: "2026-01-01T00:00:00Z",
    specs: [
      {
        name: text,
        phase: "Failed",
        message: text,
        file: `specs/${text}.yaml`,
        hash: "h",
        replicas: { desired: 1, ready: 0, updated: 0, available: 0 },
        containers: [
          {
            id: "a".repeat(64),
            name: text,
            replica: 0,
            state: "exited",
            health: null,
            current: true,
            createdAt: text,
            addresses: { [text]: text },
            hostPorts: {},
            ipv6Addresses: {},
            exitCode: null,
            reason: null,
            startedAt: null,
            finishedAt: null,
            restarts: null,
            lastExit: null,
            collected: false,
          },
        ],
        lastAction: { kind: "create", reason: text, at: "2026-01-01T00:00:00Z", ok: false },
        lastError: text,
        lastErrorCode: null,
        expiresAt: null,
        retryAt: null,
        collected: false,
      },
    ],
    orphans: [],
    notes: [text],
  };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** Something listening on a loopback port, answering every request with `handler`. */
async function impostor(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return `http://127.0.0.1:${address.port}`;
}

const answer =
  (body: unknown, headers: Record<string, string> = { "x-berth-controller": "default" }): http.RequestListener =>
  (_req, res) => {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };

describe("live status believes berth only", () => {
  it("takes a well-formed answer of the same controller", async () => {
    const url = await impostor(answer(report()));
    const live = await liveStatus(url, "default");
    expect(live?.report.specs.map((s) => s.name)).toEqual(["web"]);
  });

  it("takes berth's own answer (the real server sets the header)", async () => {
    const s = testServer({
      status: { at: 0, report: { specs: report().specs, orphans: [], notes: [] } },
    });
    await s.app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const address = s.app.server.address();
      if (address === null || typeof address === "string") throw new Error("not listening");
      const live = await liveStatus(`http://127.0.0.1:${address.port}`, "default");
      expect(live?.report.specs.map((sp) => sp.name)).toEqual(["web"]);
      expect(await liveStatus(`http://127.0.0.1:${address.port}`, "other")).toBeNull();
    } finally {
      await s.app.close();
    }
  });

  it.each([
    ["without berth's header", answer(report(), {})],
    ["with another controller's header", answer(report(), { "x-berth-controller": "other" })],
    ["with another controller in the body", answer({ ...report(), controller: "other" })],
    ["that is not JSON", answer("<html>", { "x-berth-controller": "default", "content-type": "text/html" })],
    [
      "of the wrong shape (a name that is a number)",
      answer({ ...report(), specs: [{ ...report().specs[0], name: 1 }] }),
    ],
    [
      "of the wrong shape (an unknown phase)",
      answer({ ...report(), specs: [{ ...report().specs[0], phase: "Pwned" }] }),
    ],
    ["of the wrong shape (no orphans)", answer({ ...report(), orphans: undefined })],
    [
      "that redirects",
      (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.writeHead(302, { location: "http://127.0.0.1:1/v1/specs", "x-berth-controller": "default" });
        res.end();
      },
    ],
  ])("ignores an answer %s", async (_what, handler) => {
    const url = await impostor(handler);
    expect(await liveStatus(url, "default")).toBeNull();
  });

  it("gives up at its deadline on a server that sends headers and never the body", async () => {
    const url = await impostor((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-berth-controller": "default" });
      res.write("{");
    });
    expect(await liveStatus(url, "default", 200)).toBeNull();
  });

  it("ignores an answer larger than the cap", async () => {
    const url = await impostor((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-berth-controller": "default" });
      const pad = " ".repeat(1024 * 1024);
      for (let i = 0; i <= MAX_REPORT_BYTES / pad.length; i++) res.write(pad);
      res.end(JSON.stringify(report()));
    });
    expect(await liveStatus(url, "default", 10_000)).toBeNull();
  });
});

describe("what status and get print carries no control characters", () => {
  it("printable() removes escape sequences whole, turns breaks into spaces and drops the rest", () => {
    expect(printable(HOSTILE)).toBe("red upevil");
    expect(printable("line one\nline two\ttab")).toBe("line one line two tab");
    expect(printable("ünïcode ✓")).toBe("ünïcode ✓");
    expect(printableDeep({ [`k\x1b[1m`]: [HOSTILE, 1, null, { a: "\r" }] })).toEqual({
      k: ["red upevil", 1, null, { a: " " }],
    });
  });

  it("berth status and berth get, as a table and as JSON, print a hostile live answer cleaned", async () => {
    const url = await impostor(answer({ ...report(HOSTILE), observedAt: HOSTILE }));
    const outputs = await Promise.all([
      runCli(["status", "--server", url]),
      runCli(["status", "--server", url, "-o", "json"]),
      runCli(["get", "--server", url, printable(HOSTILE)]),
      runCli(["get", "--server", url, printable(HOSTILE), "-o", "json"]),
      runCli(["get", "--server", url, `no-such${HOSTILE}`]),
    ]);
    for (const out of outputs) {
      expect(out.stdout + out.stderr).toContain("red upevil");
      expect(out.stdout + out.stderr).not.toMatch(CONTROL);
      expect(out.stdout + out.stderr).not.toContain("\\u001b");
    }
    expect(outputs.map((o) => o.code)).toEqual([0, 0, 0, 0, 1]);
  });
});

/** A swarm controller's GET /v1/specs (`berth run --target swarm`). */
function swarmAnswer(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    controller: "default",
    target: "swarm",
    observedAt: "2026-01-01T00:00:00Z",
    specs: [SWARM_SPEC],
    networks: [SWARM_NETWORK],
    notes: [],
    ...extra,
  };
}

describe("live status under --target swarm believes a swarm controller only", () => {
  it("takes a swarm controller's answer, networks and all", async () => {
    const live = await liveSwarmStatus(await impostor(answer(swarmAnswer())), "default");
    expect(live?.report.specs.map((s) => [s.name, s.running])).toEqual([["web", 2]]);
    expect(live?.report.networks.map((n) => [n.name, n.scope, n.inUse])).toEqual([["front", "swarm", true]]);
  });

  it.each([
    ["an engine controller's answer", answer(report())],
    ["one without the target", answer(swarmAnswer({ target: undefined }))],
    ["another controller's", answer(swarmAnswer({ controller: "other" }))],
    ["one without networks", answer(swarmAnswer({ networks: undefined }))],
  ])("ignores %s", async (_what, handler) => {
    expect(await liveSwarmStatus(await impostor(handler), "default")).toBeNull();
  });

  it("is not read as an engine controller's status, whatever else the body holds", async () => {
    const url = await impostor(answer({ ...report(), target: "swarm" }));
    expect(await liveStatus(url, "default")).toBeNull();
  });
});
