/**
 * A CLI pointed at a standby of an --ha group reaches the leader (docs/reliability.md, "Which
 * berth answers"): `berth status` and `berth events` read the leader that the standby names in its
 * x-berth-leader header, and the commands that write through the API (restart, rollout retry,
 * claim, release) follow a standby's BERTH_NOT_LEADER refusal to the leaderUrl it names, once.
 * Real servers on loopback: berth's own HTTP server for the reads, bare ones for the writes.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { CliIO } from "../../../src/cli/io.js";
import { haMemberAt } from "../../../src/cli/live.js";
import { main } from "../../../src/cli/main.js";
import { callApi } from "../../../src/cli/pool-api.js";
import type { LeadershipStatus } from "../../../src/loop/leadership.js";
import { EventLog } from "../../../src/ops/event-log.js";
import { runCli } from "../../support/cli.js";
import { testServer } from "../../support/http-server.js";
import { pollUntil } from "../../support/poll.js";
import { specStatus } from "../../support/spec-status.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function role(kind: "leader" | "standby", leaderUrl: () => string | null): () => LeadershipStatus {
  return () => ({
    role: kind,
    term: kind === "leader" ? 3 : null,
    leader: "host-a/1/run/aa",
    leaderUrl: leaderUrl(),
    leaderTerm: 3,
    store: "file:/run/berth/x.lock",
    storeError: null,
    blockedBy: null,
    transitions: 1,
    firstWriteInMs: null,
  });
}

/** Berth's own server, listening on loopback; its URL. */
async function berth(options: Parameters<typeof testServer>[0]): Promise<string> {
  const s = testServer(options);
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  closers.push(() => s.app.close());
  return `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
}

function events(text: string): EventLog {
  const log = new EventLog(10);
  log.add({
    at: Date.now(),
    spec: "web",
    kind: "create",
    reason: "not found",
    text,
    ok: true,
    error: null,
    durationMs: 5,
  });
  return log;
}

const spec = (name: string) => specStatus({ name, phase: "Running" });

/** A leader and a standby naming it (or not), each with events and a status of its own. */
async function group(standbyNamesLeader = true): Promise<{ leader: string; standby: string }> {
  const leader = await berth({
    leadership: role("leader", () => null),
    events: events("create  web: by the leader"),
    status: { at: 0, report: { specs: [spec("from-leader")], orphans: [], notes: [] } },
  });
  const standby = await berth({
    leadership: role("standby", () => (standbyNamesLeader ? leader : null)),
    status: { at: 0, report: { specs: [spec("from-standby")], orphans: [], notes: [] } },
  });
  return { leader, standby };
}

describe("reads from a standby", () => {
  it("berth events and berth status read the leader the standby names, and say so", async () => {
    const { leader, standby } = await group();
    const ev = await runCli(["events", "--server", standby]);
    expect([ev.code, ev.stdout, ev.stderr]).toEqual([
      0,
      expect.stringContaining("create  web: by the leader"),
      `(events of the leader at ${leader}; the standby at ${standby} named it)\n`,
    ]);
    const st = await runCli(["status", "--server", standby, "-o", "json"]);
    expect(st.code).toBe(0);
    expect((JSON.parse(st.stdout) as { specs: { name: string }[] }).specs.map((s) => s.name)).toEqual(["from-leader"]);
    const table = await runCli(["status", "--server", standby]);
    expect(table.stderr).toContain(
      `(live from the leader at ${leader} (the standby at ${standby} named it), observed `,
    );
  });

  it("a standby that names no leader is read, and said to be a standby", async () => {
    const { standby } = await group(false);
    const ev = await runCli(["events", "--server", standby]);
    expect([ev.code, ev.stdout, ev.stderr]).toEqual([
      0,
      "no events\n",
      `(events of a standby at ${standby}, which acts on nothing while another berth leads)\n`,
    ]);
    const st = await runCli(["status", "--server", standby]);
    expect(st.stdout).toContain("from-standby");
    expect(st.stderr).toContain(`(live from a standby at ${standby}, which acts on nothing while another berth leads`);
  });

  it("a standby whose leader does not answer is read, and says which leader did not", async () => {
    const standby = await berth({
      leadership: role("standby", () => "http://127.0.0.1:9"),
      status: { at: 0, report: { specs: [spec("from-standby")], orphans: [], notes: [] } },
    });
    const st = await runCli(["status", "--server", standby]);
    expect([st.code, st.stdout]).toEqual([0, expect.stringContaining("from-standby")]);
    expect(st.stderr).toContain(
      `(live from a standby at ${standby}: the leader it names, http://127.0.0.1:9, did not answer as this --id, observed `,
    );
  });

  it("the leader asked directly says nothing of roles", async () => {
    const { leader } = await group();
    const ev = await runCli(["events", "--server", leader]);
    expect([ev.code, ev.stderr]).toEqual([0, ""]);
  });
});

describe("an --ha member at --server", () => {
  it("is told by its role header, of this controller only", async () => {
    const { leader, standby } = await group();
    const plain = await berth({});
    expect(await haMemberAt(standby, "default")).toBe(true);
    expect(await haMemberAt(leader, "default")).toBe(true);
    expect(await haMemberAt(standby, "other")).toBe(false);
    expect(await haMemberAt(plain, "default")).toBe(false);
    expect(await haMemberAt("http://127.0.0.1:9", "default")).toBe(false);
  });
});

describe("berth events --watch through a standby, across a failover", () => {
  it("goes on with the next leader's new events once the one it read stops answering", async () => {
    const first = new EventLog(10);
    first.add({
      at: Date.now() - 1_000,
      spec: "a",
      kind: "create",
      reason: "not found",
      text: "create  a",
      ok: true,
      error: null,
      durationMs: 1,
    });
    const next = new EventLog(10);
    // Older than what was printed: the next leader's history is not printed again.
    next.add({
      at: Date.now() - 60_000,
      spec: "old",
      kind: "create",
      reason: "not found",
      text: "create  old",
      ok: true,
      error: null,
      durationMs: 1,
    });
    const one = testServer({ leadership: role("leader", () => null), events: first });
    await one.app.listen({ host: "127.0.0.1", port: 0 });
    const oneUrl = `http://127.0.0.1:${(one.app.server.address() as AddressInfo).port}`;
    const two = await berth({ leadership: role("leader", () => null), events: next });
    let named = oneUrl;
    const standby = await berth({ leadership: role("standby", () => named) });

    let stdout = "";
    let stderr = "";
    let close: () => void = () => undefined;
    const io: CliIO = {
      out: (text) => {
        stdout += text;
      },
      err: (text) => {
        stderr += text;
      },
      isTTY: false,
      env: process.env,
      cwd: process.cwd(),
      outClosed: new Promise((resolve) => {
        close = resolve;
      }),
    };
    const exited = main(["node", "berth", "events", "-w", "-o", "json", "--server", standby], io);
    expect(await pollUntil(() => Promise.resolve(stdout.includes('"create  a"')), 10_000)).toBe(true);

    // The leader goes; the group's next one is named by the standby.
    await one.app.close();
    named = two;
    next.add({
      at: Date.now(),
      spec: "b",
      kind: "create",
      reason: "not found",
      text: "create  b",
      ok: true,
      error: null,
      durationMs: 1,
    });
    expect(await pollUntil(() => Promise.resolve(stdout.includes('"create  b"')), 15_000), stderr).toBe(true);
    close();
    expect(await exited).toBe(0);
    expect(stdout).not.toContain("create  old");
    expect(stderr).toContain(
      `(the leader at ${oneUrl} stopped answering; waiting for the next one through ${standby})`,
    );
    expect(stderr).toContain(`(events of the leader at ${two} from now on)`);
  });
});

describe("writes through a standby", () => {
  const TOKEN = "ha-follow-test-token-0123456789abcdef";
  let said = "";
  const io = {
    out: () => undefined,
    err: (text: string) => {
      said += text;
    },
    isTTY: false,
    env: { BERTH_API_TOKEN: TOKEN },
    cwd: "/",
  } as CliIO;

  /**
   * A bare server of controller "default" answering every request with `status` and `body` (its
   * /readyz: its role); what it was asked, as it was asked.
   */
  async function serve(status: number, body: () => unknown, role: "leader" | "standby" | null = null) {
    const asked: { url?: string; auth?: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      req.on("end", () => {
        asked.push({ url: req.url, auth: req.headers.authorization, body: text });
        const headers = { "content-type": "application/json", "x-berth-controller": "default" };
        if (req.url === "/readyz")
          res.writeHead(200, role === null ? headers : { ...headers, "x-berth-role": role }).end("{}");
        else res.writeHead(status, headers).end(JSON.stringify(body()));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
  }

  it("a standby's refusal naming the leader is followed once, with the same token and body", async () => {
    said = "";
    const leader = await serve(200, () => ({ steps: ["done"] }), "leader");
    const standby = await serve(503, () => ({ code: "BERTH_NOT_LEADER", error: "standby", leaderUrl: leader.url }));
    const res = await callApi({ server: standby.url }, io, "POST", "/v1/specs/web/restart", { x: 1 });
    expect(res).toEqual({ status: 200, body: { steps: ["done"] }, server: leader.url });
    // Its open /readyz first, without the token: the token goes only to this controller's leader.
    expect(leader.asked).toEqual([
      { url: "/readyz", body: "" },
      { url: "/v1/specs/web/restart", auth: `Bearer ${TOKEN}`, body: '{"x":1}' },
    ]);
    expect(standby.asked).toHaveLength(1);
    expect(said).toBe(`berth: ${standby.url} is a standby; asking the leader at ${leader.url}\n`);
  });

  it.each([
    ["no leaderUrl", {}],
    ["a leaderUrl that is not an API's URL", { leaderUrl: "file:///etc/passwd" }],
    ["a leaderUrl with a path", { leaderUrl: "http://127.0.0.1:1/x" }],
  ])("a refusal with %s is the answer", async (_what, extra) => {
    said = "";
    const standby = await serve(503, () => ({ code: "BERTH_NOT_LEADER", error: "standby", ...extra }));
    const res = await callApi({ server: standby.url }, io, "POST", "/v1/specs/web/restart");
    expect([res.status, res.body.code, said]).toEqual([503, "BERTH_NOT_LEADER", ""]);
  });

  it("a named leader that is not this controller's leader gets no token, and the refusal says why", async () => {
    said = "";
    const impostor = await serve(200, () => ({ steps: [] }), null);
    const standby = await serve(503, () => ({ code: "BERTH_NOT_LEADER", error: "standby", leaderUrl: impostor.url }));
    await expect(callApi({ server: standby.url }, io, "POST", "/v1/specs/web/restart")).rejects.toThrow(
      `the standby at ${standby.url} names the leader at ${impostor.url}, which does not answer as controller "default"'s leader (status 200, controller "default", role "none"): the token was not sent there`,
    );
    expect(impostor.asked.map((a) => [a.url, a.auth])).toEqual([["/readyz", undefined]]);
  });

  it("a named leader that does not answer: the refusal says a standby takes over within the TTL", async () => {
    const standby = await serve(503, () => ({
      code: "BERTH_NOT_LEADER",
      error: "standby",
      leaderUrl: "http://127.0.0.1:9",
    }));
    await expect(callApi({ server: standby.url }, io, "POST", "/v1/specs/web/restart")).rejects.toThrow(
      /names the leader at http:\/\/127\.0\.0\.1:9, which does not answer \(connect ECONNREFUSED[^)]*\)\. After a leader dies a standby takes over within the lease's TTL/,
    );
  });

  it("a leader that is itself a standby by now is not followed further", async () => {
    said = "";
    let second = "";
    const leader = await serve(
      503,
      () => ({ code: "BERTH_NOT_LEADER", error: "standby too", leaderUrl: second }),
      "leader",
    );
    const standby = await serve(503, () => ({ code: "BERTH_NOT_LEADER", error: "standby", leaderUrl: leader.url }));
    second = standby.url;
    const res = await callApi({ server: standby.url }, io, "POST", "/v1/specs/web/restart");
    expect([res.status, res.body.error]).toEqual([503, "standby too"]);
    expect([standby.asked.length, leader.asked.length]).toEqual([1, 2]);
  });
});
