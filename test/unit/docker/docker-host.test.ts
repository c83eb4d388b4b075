/**
 * DOCKER_HOST as berth reads it: the forms docker-modem (dockerode's client) can use pass, any
 * other is refused before a call with BERTH_DOCKER_HOST and the forms that would do; a host name
 * that does not resolve is BERTH_DOCKER_UNRESOLVED, naming the host. A golden line per case.
 */
import { describe, expect, it } from "vitest";
import { engineMessage } from "../../../src/docker/engine-message.js";
import { dockerHostError, isEngineError, mapError, parseDockerHost } from "../../../src/docker/errors.js";

const ctx = (dockerHost: string) => ({ dockerHost, socket: null, uid: 1000, inContainer: false });

/** What berth says about DOCKER_HOST=`value` before any call: null when it can be used. */
function refusal(value: string | undefined): string | null {
  const err = dockerHostError(value);
  if (err === null) return null;
  expect(isEngineError(err)).toBe(true);
  expect(err.retriable).toBe(false);
  return engineMessage(err as Parameters<typeof engineMessage>[0], ctx(value ?? ""));
}

const FORMS =
  "unix:///PATH/TO/docker.sock, tcp://HOST:PORT (or http://, https://) or ssh://USER@HOST, or unset it for unix:///var/run/docker.sock";

describe("DOCKER_HOST", () => {
  it.each<[string | undefined, string | null]>([
    [undefined, null],
    ["", null],
    ["unix:///var/run/docker.sock", null],
    ["unix://", null],
    ["npipe:////./pipe/docker_engine", null],
    ["tcp://127.0.0.1:2375", null],
    ["tcp://docker.example:2376", null],
    ["http://127.0.0.1:2375", null],
    ["https://docker.example:2376", null],
    ["ssh://me@docker.example", null],
    ["TCP://127.0.0.1:2375", null],
    ["tcp://[::1]:2375", null],
    // docker-modem's own reading: HOST:PORT without a scheme is tcp://.
    ["127.0.0.1:2375", null],
    ["docker.example", null],
    [
      "bogus://x",
      `DOCKER_HOST bogus://x has a scheme berth cannot use (bogus://): set it to ${FORMS} [BERTH_DOCKER_HOST]`,
    ],
    ["fd://", `DOCKER_HOST fd:// has a scheme berth cannot use (fd://): set it to ${FORMS} [BERTH_DOCKER_HOST]`],
    ["tcp://", `DOCKER_HOST tcp:// names no host: set it to ${FORMS} [BERTH_DOCKER_HOST]`],
    ["tcp://:2375", `DOCKER_HOST tcp://:2375 names no host: set it to ${FORMS} [BERTH_DOCKER_HOST]`],
    [
      "tcp://host:port",
      `DOCKER_HOST tcp://host:port is not an address berth can read: set it to ${FORMS} [BERTH_DOCKER_HOST]`,
    ],
    [
      "unix:/var/run/docker.sock",
      `DOCKER_HOST unix:/var/run/docker.sock is not an address berth can read: set it to ${FORMS} [BERTH_DOCKER_HOST]`,
    ],
    [
      "/var/run/docker.sock",
      `DOCKER_HOST /var/run/docker.sock is a path, not an address: a socket is unix:///var/run/docker.sock; set DOCKER_HOST to ${FORMS} [BERTH_DOCKER_HOST]`,
    ],
  ])("%s", (value, expected) => {
    expect(refusal(value)).toBe(expected);
  });

  it("names the host to resolve", () => {
    expect(parseDockerHost("tcp://docker.example:2375")).toEqual({
      ok: true,
      scheme: "tcp",
      hostname: "docker.example",
    });
    expect(parseDockerHost("tcp://[::1]:2375")).toEqual({ ok: true, scheme: "tcp", hostname: "::1" });
    expect(parseDockerHost("unix:///run/docker.sock")).toEqual({ ok: true, scheme: "unix", hostname: null });
  });

  it.each<[string, string, string]>([
    [
      "ENOTFOUND",
      "tcp://nope.invalid:2375",
      "the host name nope.invalid in DOCKER_HOST tcp://nope.invalid:2375 does not resolve (ENOTFOUND): no such host; set DOCKER_HOST to a valid host name or address of the engine (e.g. tcp://192.0.2.10:2375) [BERTH_DOCKER_UNRESOLVED]",
    ],
    [
      "EAI_AGAIN",
      "tcp://docker.example:2375",
      "the host name docker.example in DOCKER_HOST tcp://docker.example:2375 could not be resolved (EAI_AGAIN: no answer from the DNS server): check this machine's DNS (/etc/resolv.conf), or set DOCKER_HOST to a valid host name or address of the engine (e.g. tcp://192.0.2.10:2375) [BERTH_DOCKER_UNRESOLVED]",
    ],
  ])("a host name that does not resolve (%s)", (code, host, expected) => {
    const raw = Object.assign(new Error(`getaddrinfo ${code} x`), { code, syscall: "getaddrinfo" });
    const err = mapError("list", raw);
    expect([err.kind, err.code, err.errno, err.retriable]).toEqual([
      "unknown-host",
      "BERTH_DOCKER_UNRESOLVED",
      code,
      true,
    ]);
    expect(isEngineError(err)).toBe(true);
    expect(engineMessage(err as Parameters<typeof engineMessage>[0], ctx(host))).toBe(expected);
  });
});
