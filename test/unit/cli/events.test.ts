/**
 * `berth events` (cli/commands/events.ts) against the real HTTP server's GET /v1/events: the table,
 * the spec filter and limit, JSON, a hostile event's text cleaned, and a clear failure when no
 * berth of this --id answers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { EventLog } from "../../../src/ops/event-log.js";
import { runCli } from "../../support/cli.js";
import { testServer } from "../../support/http-server.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serving(log: EventLog): Promise<string> {
  const s = testServer({ events: log });
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  closers.push(() => s.app.close());
  const address = s.app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return `http://127.0.0.1:${address.port}`;
}

function log(): EventLog {
  const events = new EventLog(10);
  const now = Date.now();
  const add = (spec: string, kind: "create" | "replace", ok: boolean, text: string, error: string | null = null) =>
    events.add({ at: now - 5_000, spec, kind, reason: "not found", text, ok, error, durationMs: 12 });
  add("web", "create", true, "create  web: not found");
  add("api", "create", false, "create  api: not found", "image missing\x1b[2J");
  add("web", "replace", true, "replace web: hash changed");
  return events;
}

describe("berth events", () => {
  it("prints the controller's events oldest first, a failure with its error", async () => {
    const server = await serving(log());
    const run = await runCli(["events", "--server", server]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      "AGE  SPEC  EVENT    RESULT  MESSAGE\n" +
        "5s   web   create   ok      create  web: not found\n" +
        "5s   api   create   failed  create  api: not found: image missing\n" +
        "5s   web   replace  ok      replace web: hash changed\n",
    );
  });

  it("filters by spec and limit, and prints the events as data", async () => {
    const server = await serving(log());
    const run = await runCli(["events", "--server", server, "--spec", "web", "--limit", "1", "-o", "json"]);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as { events: { seq: number; spec: string; kind: string }[] };
    expect(body.events.map((e) => [e.seq, e.spec, e.kind])).toEqual([[3, "web", "replace"]]);
  });

  it("fails with one line when no berth of this --id answers", async () => {
    const server = await serving(log());
    const other = await runCli(["events", "--server", server, "--id", "other"]);
    expect(other.code).toBe(1);
    expect(other.stdout).toBe("");
    expect(other.stderr).toBe(
      `berth: no berth with --id other answers at ${server}; berth events reads a running controller's (berth run): give the --server it listens at and its --id\n`,
    );
    const none = await runCli(["events", "--server", "http://127.0.0.1:1"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^berth: no berth with --id default answers at http:\/\/127\.0\.0\.1:1;/);
  });
});
