/**
 * The adapter's pure mappings: engine errors (as docker-modem reports them) → our error kinds,
 * the list API's Status text → exit code and health, and inspect's State → a run.
 */
import { describe, expect, it } from "vitest";
import { parseStatus, toRun } from "../../../src/docker/adapter.js";
import { mapError } from "../../../src/docker/errors.js";

describe("mapError", () => {
  it.each([
    [
      { statusCode: 404, json: { message: "No such container: web" } },
      "not-found",
      "Docker start: No such container: web",
    ],
    [
      { statusCode: 404, json: { message: "No such image: app:1" } },
      "image-missing",
      "Docker start: No such image: app:1",
    ],
    [
      { statusCode: 409, json: { message: 'Conflict. The container name "/web" is already in use' } },
      "conflict",
      'Docker start: Conflict. The container name "/web" is already in use',
    ],
    [
      { statusCode: 409, json: { message: "removal of container abc is already in progress" } },
      "gone",
      "Docker start: removal of container abc is already in progress",
    ],
    [{ statusCode: 304, message: "container already stopped" }, "gone", "Docker start: container already stopped"],
    [
      { statusCode: 400, json: { message: "invalid mount config" } },
      "bad-request",
      "Docker start: invalid mount config",
    ],
    [{ statusCode: 500, json: { message: "driver failed" } }, "server", "Docker start: driver failed"],
    [
      { code: "ECONNREFUSED", message: "connect ECONNREFUSED /var/run/docker.sock" },
      "unavailable",
      "Docker start: the engine cannot be reached (ECONNREFUSED)",
    ],
    [
      { code: "ENOENT", message: "connect ENOENT /var/run/docker.sock" },
      "unavailable",
      "Docker start: the engine cannot be reached (ENOENT)",
    ],
    [
      { code: "EACCES", message: "connect EACCES /var/run/docker.sock" },
      "permission",
      "Docker start: permission denied on the engine's socket (EACCES)",
    ],
    [
      { statusCode: 404, reason: "unexpected", message: "(HTTP code 404) unexpected - ", json: Buffer.from("") },
      "not-engine",
      "Docker start: HTTP 404 without a Docker error body: the server is not a Docker engine",
    ],
    [
      { statusCode: 502, message: "(HTTP code 502) unexpected - Bad Gateway", json: "Bad Gateway" },
      "not-engine",
      "Docker start: HTTP 502 without a Docker error body: the server is not a Docker engine",
    ],
    [
      // A streamed request (a pull): the engine's text is in the message, no body is kept.
      {
        statusCode: 500,
        message: '(HTTP code 500) server error - Get "http://127.0.0.1:9/v2/": connect: connection refused',
        json: null,
      },
      "server",
      'Docker start: (HTTP code 500) server error - Get "http://127.0.0.1:9/v2/": connect: connection refused',
    ],
    [{ name: "AbortError", message: "aborted" }, "timeout", "Docker start: no answer before the deadline"],
    [
      { name: "TimeoutError", message: "The operation was aborted due to timeout" },
      "timeout",
      "Docker start: no answer before the deadline",
    ],
  ])("%j → %s", (raw, kind, message) => {
    const err = mapError("start", raw);
    expect([err.kind, err.message, err.operation]).toEqual([kind, message, "start"]);
  });

  it("says how long a deadline was, when it knows", () => {
    const err = mapError("list", { name: "TimeoutError" }, undefined, { timeoutMs: 30_000 });
    expect([err.kind, err.message, err.timeoutMs]).toEqual(["timeout", "Docker list: no answer within 30s", 30_000]);
  });

  it.each([
    [{ code: "ENOENT" }, "BERTH_DOCKER_UNREACHABLE", "ENOENT"],
    [{ code: "ECONNREFUSED" }, "BERTH_DOCKER_UNREACHABLE", "ECONNREFUSED"],
    [{ code: "EACCES" }, "BERTH_DOCKER_PERMISSION", "EACCES"],
    [{ statusCode: 404, json: "" }, "BERTH_DOCKER_NOT_ENGINE", undefined],
    [{ name: "TimeoutError" }, "BERTH_DOCKER_NO_ANSWER", undefined],
    [{ statusCode: 404, json: { message: "No such container: web" } }, "BERTH_DOCKER", undefined],
    [{ statusCode: 500, json: { message: "driver failed" } }, "BERTH_DOCKER", undefined],
  ])("%j has code %s", (raw, code, errno) => {
    const err = mapError("list", raw);
    expect([err.code, err.errno]).toEqual([code, errno]);
  });

  it("names the subject when given", () => {
    expect(mapError("pull", { statusCode: 500, json: { message: "denied" } }, "app:1").message).toBe(
      "Docker pull app:1: denied",
    );
  });
});

describe("parseStatus", () => {
  it.each([
    ["Up 3 minutes", { exitCode: null, health: null }],
    ["Up 3 minutes (healthy)", { exitCode: null, health: "healthy" }],
    ["Up 2 seconds (health: starting)", { exitCode: null, health: "starting" }],
    ["Up 1 hour (unhealthy)", { exitCode: null, health: "unhealthy" }],
    ["Exited (0) 5 seconds ago", { exitCode: 0, health: null }],
    ["Exited (137) About a minute ago", { exitCode: 137, health: null }],
    ["Created", { exitCode: null, health: null }],
  ])("%s", (status, expected) => {
    expect(parseStatus(status)).toEqual(expected);
  });
});

describe("toRun: a run as inspect tells it (docs/runs.md)", () => {
  const base = {
    Created: "2026-11-23T12:00:00.123456789Z",
    RestartCount: 0,
    State: {
      Running: false,
      ExitCode: 1,
      OOMKilled: false,
      StartedAt: "2026-11-23T12:00:00.5Z",
      FinishedAt: "2026-11-23T12:00:03Z",
    },
  };
  const policy = (Name: string, MaximumRetryCount = 0) => ({
    HostConfig: { RestartPolicy: { Name, MaximumRetryCount } },
  });

  it("reads the times to the millisecond, and an unset time as null", () => {
    expect(toRun({ ...base, ...policy("no") })).toEqual({
      createdAt: Date.parse("2026-11-23T12:00:00.123Z"),
      startedAt: Date.parse("2026-11-23T12:00:00.5Z"),
      finishedAt: Date.parse("2026-11-23T12:00:03Z"),
      oomKilled: false,
      restartCount: 0,
      lastExit: { code: 1, at: Date.parse("2026-11-23T12:00:03Z") },
      settled: true,
    });
    const never = {
      ...base,
      State: { ...base.State, StartedAt: "0001-01-01T00:00:00Z", FinishedAt: "0001-01-01T00:00:00Z" },
    };
    expect(toRun({ ...never, ...policy("no") })).toMatchObject({ startedAt: null, finishedAt: null, lastExit: null });
  });

  it.each([
    ["no", 0, 1, 0, true],
    ["on-failure", 0, 0, 5, true],
    ["on-failure", 0, 1, 5, false],
    ["on-failure", 3, 1, 2, false],
    ["on-failure", 3, 1, 3, true],
    ["unless-stopped", 0, 0, 0, false],
  ] as const)("policy %s (max %d), exit %d after %d restarts: settled %s", (name, max, exit, restarts, settled) => {
    const c = { ...base, RestartCount: restarts, State: { ...base.State, ExitCode: exit }, ...policy(name, max) };
    expect(toRun(c).settled).toBe(settled);
  });

  it("a running container has not finished, nor settled", () => {
    const running = { ...base, State: { ...base.State, Running: true }, ...policy("no") };
    expect(toRun(running)).toMatchObject({ finishedAt: null, settled: false });
  });

  it("a container the engine restarts keeps its restarts and last exit; the code only while it waits", () => {
    const at = Date.parse("2026-11-23T12:00:03Z");
    const waiting = {
      ...base,
      RestartCount: 4,
      State: { ...base.State, Running: true, Restarting: true, ExitCode: 3 },
    };
    expect(toRun({ ...waiting, ...policy("always") })).toMatchObject({
      finishedAt: null,
      restartCount: 4,
      lastExit: { code: 3, at },
      settled: false,
    });
    // Started again, the engine reads 0 for the code: not the last exit's.
    const again = { ...waiting, State: { ...waiting.State, Restarting: false, ExitCode: 0 } };
    expect(toRun({ ...again, ...policy("always") })).toMatchObject({ restartCount: 4, lastExit: { code: null, at } });
  });
});
