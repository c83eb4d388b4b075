/**
 * The adapter's pure mappings: engine errors (as docker-modem reports them) → our error kinds,
 * and the list API's Status text → exit code and health.
 */
import { describe, expect, it } from "vitest";
import { parseStatus } from "../../../src/docker/adapter.js";
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
