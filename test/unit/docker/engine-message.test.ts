/**
 * What a one-shot command says when it has no engine: a golden line per kind of problem and
 * context (the socket's facts, a container or not, unix or tcp).
 */
import { describe, expect, it } from "vitest";
import { type EngineContext, type EngineProblem, engineMessage } from "../../../src/docker/engine-message.js";
import { ENGINE_CODES, type EngineErrorKind } from "../../../src/docker/errors.js";

function problem(kind: EngineErrorKind, extra: Partial<EngineProblem> = {}): EngineProblem {
  return {
    kind,
    code: ENGINE_CODES[kind],
    operation: "list",
    errno: undefined,
    statusCode: undefined,
    timeoutMs: undefined,
    ...extra,
  };
}

const host: EngineContext = { dockerHost: "unix:///var/run/docker.sock", socket: null, uid: 1000, inContainer: false };
const dockerSocket = { uid: 0, gid: 999, group: "docker", mode: 0o660 };

describe("engineMessage", () => {
  it.each<[string, EngineProblem, EngineContext, string]>([
    [
      "no socket, on a host",
      problem("unavailable", { errno: "ENOENT" }),
      { ...host, dockerHost: "unix:///tmp/nope.sock" },
      "no Docker engine at unix:///tmp/nope.sock: /tmp/nope.sock does not exist; start the engine (e.g. systemctl start docker), or set DOCKER_HOST to one that runs [BERTH_DOCKER_UNREACHABLE]",
    ],
    [
      "no socket, in a container",
      problem("unavailable", { errno: "ENOENT" }),
      { ...host, inContainer: true },
      "no Docker engine at unix:///var/run/docker.sock: /var/run/docker.sock does not exist; mount the host's socket into berth's container (-v /var/run/docker.sock:/var/run/docker.sock), or set DOCKER_HOST to an engine [BERTH_DOCKER_UNREACHABLE]",
    ],
    [
      "a stale socket",
      problem("unavailable", { errno: "ECONNREFUSED" }),
      host,
      "no Docker engine listens on /var/run/docker.sock (ECONNREFUSED: the socket is left from an engine that stopped); start the engine (e.g. systemctl start docker), or set DOCKER_HOST to one that runs [BERTH_DOCKER_UNREACHABLE]",
    ],
    [
      "nothing on a tcp port",
      problem("unavailable", { errno: "ECONNREFUSED" }),
      { ...host, dockerHost: "tcp://127.0.0.1:2375" },
      "nothing listens at tcp://127.0.0.1:2375 (ECONNREFUSED): start the engine there, or set DOCKER_HOST to where it listens [BERTH_DOCKER_UNREACHABLE]",
    ],
    [
      "a tcp server that hangs up",
      problem("unavailable", { errno: "ECONNRESET" }),
      { ...host, dockerHost: "tcp://127.0.0.1:8080" },
      "the server at tcp://127.0.0.1:8080 closed the connection without answering (ECONNRESET): is it a Docker engine? Check DOCKER_HOST [BERTH_DOCKER_UNREACHABLE]",
    ],
    [
      "permission, on a host, the docker group",
      problem("permission", { errno: "EACCES" }),
      { ...host, socket: dockerSocket },
      "permission denied on the Docker socket /var/run/docker.sock (owner uid 0, group docker, mode 0660) for uid 1000: add the user to docker (sudo usermod -aG docker USER, then log in again), or set DOCKER_HOST to an engine this user may use [BERTH_DOCKER_PERMISSION]",
    ],
    [
      "permission, in a container",
      problem("permission", { errno: "EACCES" }),
      { ...host, socket: { ...dockerSocket, group: null }, inContainer: true },
      "permission denied on the Docker socket /var/run/docker.sock (owner uid 0, group 999, mode 0660) for uid 1000: run berth's container with --group-add 999 (the socket's group id on the host) or add the user to gid 999 in its image, or set DOCKER_HOST to an engine this user may use [BERTH_DOCKER_PERMISSION]",
    ],
    [
      "permission, the socket's facts unreadable",
      problem("permission", { errno: "EACCES" }),
      { ...host, uid: null },
      "permission denied on the Docker socket /var/run/docker.sock for this user: add the user to the socket's group (usually docker) (sudo usermod -aG docker USER, then log in again), or set DOCKER_HOST to an engine this user may use [BERTH_DOCKER_PERMISSION]",
    ],
    [
      "permission, a socket only its owner may open",
      problem("permission", { errno: "EACCES" }),
      { ...host, socket: { uid: 0, gid: 0, group: "root", mode: 0o600 } },
      "permission denied on the Docker socket /var/run/docker.sock (owner uid 0, group root, mode 0600) for uid 1000: only its owner may open it; run berth as uid 0, give the socket a group (as dockerd does: root:docker 0660), or set DOCKER_HOST to an engine this user may use [BERTH_DOCKER_PERMISSION]",
    ],
    [
      "not an engine",
      problem("not-engine", { statusCode: 404 }),
      { ...host, dockerHost: "tcp://127.0.0.1:8080" },
      "the server at tcp://127.0.0.1:8080 is not a Docker engine: it answered the list call with HTTP 404 and no Docker error; set DOCKER_HOST to the engine (e.g. unix:///var/run/docker.sock or tcp://HOST:2375) [BERTH_DOCKER_NOT_ENGINE]",
    ],
    [
      "not an engine: a web page with HTTP 200",
      problem("not-engine", { statusCode: 200 }),
      { ...host, dockerHost: "tcp://127.0.0.1:8080" },
      "the server at tcp://127.0.0.1:8080 is not a Docker engine: it answered the list call with HTTP 200 and a body that is not Docker's JSON; set DOCKER_HOST to the engine (e.g. unix:///var/run/docker.sock or tcp://HOST:2375) [BERTH_DOCKER_NOT_ENGINE]",
    ],
    [
      "a silent engine, the call deadline",
      problem("timeout", { timeoutMs: 30_000 }),
      host,
      "no answer from the Docker engine at unix:///var/run/docker.sock to the list call within 30s (--docker-timeout / BERTH_DOCKER_TIMEOUT): it accepts connections but does not respond; check the engine (systemctl status docker, its log), or raise the deadline if it is only slow [BERTH_DOCKER_NO_ANSWER]",
    ],
    [
      "a silent engine, apply's deadline",
      problem("timeout", { operation: "apply", timeoutMs: 90_000 }),
      host,
      "no answer from the Docker engine at unix:///var/run/docker.sock within 1m30s (apply --timeout): it accepts connections but does not respond; check the engine (systemctl status docker, its log), or raise the deadline if it is only slow [BERTH_DOCKER_NO_ANSWER]",
    ],
    [
      "a pull that outlived its deadline",
      problem("timeout", { operation: "pull", timeoutMs: 600_000 }),
      host,
      "no answer from the Docker engine at unix:///var/run/docker.sock to the pull call within 10m (the image pull deadline): it accepts connections but does not respond; check the engine (systemctl status docker, its log), or raise the deadline if it is only slow [BERTH_DOCKER_NO_ANSWER]",
    ],
  ])("%s", (_name, p, ctx, expected) => {
    expect(engineMessage(p, ctx)).toBe(expected);
  });

  it("is one line, and never points at a script of berth's repository", () => {
    for (const kind of Object.keys(ENGINE_CODES) as EngineErrorKind[]) {
      for (const ctx of [host, { ...host, inContainer: true }, { ...host, dockerHost: "tcp://10.0.0.1:2375" }]) {
        const text = engineMessage(problem(kind, { errno: "ENOENT", statusCode: 404, timeoutMs: 1000 }), ctx);
        expect(text).not.toMatch(/\n|scripts\//);
      }
    }
  });
});
