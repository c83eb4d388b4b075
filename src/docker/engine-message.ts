/**
 * What berth says when it has no engine to talk to: one line naming what happened (no socket, no
 * permission, not an engine, no answer — and which deadline, how long), what fixes it, and the
 * error's code. One-shot commands print it; `berth run` logs it as the advice of its "Docker not
 * answering" line. Pure: the facts about the socket and the user are gathered by
 * engine-context.ts, and only when such an error happens.
 */
import { formatDurationMs } from "../core/units.js";
import { type DockerError, type EngineErrorKind, parseDockerHost } from "./errors.js";

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** The socket's owner, group and mode, when it could be read. */
export interface SocketFacts {
  readonly uid: number;
  readonly gid: number;
  /** The group's name (from /etc/group), when known. */
  readonly group: string | null;
  /** Permission bits, e.g. 0o660. */
  readonly mode: number;
}

export interface EngineContext {
  /** DOCKER_HOST, or the default socket. */
  readonly dockerHost: string;
  /** The unix socket's facts; null for tcp:// or when it cannot be read. */
  readonly socket: SocketFacts | null;
  /** berth's own uid; null where there is none. */
  readonly uid: number | null;
  /** berth runs in a container (/.dockerenv, /run/.containerenv). */
  readonly inContainer: boolean;
}

/** The error a message is made from: a DockerError of an engine kind. */
export type EngineProblem = Pick<DockerError, "operation" | "errno" | "statusCode" | "timeoutMs" | "code"> & {
  readonly kind: EngineErrorKind;
};

/** The operation `berth apply` names when its own --timeout passed before the engine answered. */
export const APPLY_DEADLINE = "apply";

export function socketPathOf(dockerHost: string): string | null {
  return dockerHost.startsWith("unix://") ? dockerHost.slice("unix://".length) : null;
}

/** Which deadline passed, as the user sets it. */
function deadline(p: EngineProblem): string {
  const length = p.timeoutMs === undefined ? "" : `${formatDurationMs(p.timeoutMs)} `;
  if (p.operation === APPLY_DEADLINE) return `${length}(apply --timeout)`;
  if (p.operation === "pull") return `${length}(the image pull deadline)`;
  return `${length}(--docker-timeout / BERTH_DOCKER_TIMEOUT)`;
}

function unreachable(p: EngineProblem, ctx: EngineContext): string {
  const path = socketPathOf(ctx.dockerHost);
  const host = ctx.dockerHost;
  if (path === null) {
    // tcp:// (or ssh://): something on the network.
    if (p.errno === "ECONNREFUSED")
      return `nothing listens at ${host} (ECONNREFUSED): start the engine there, or set DOCKER_HOST to where it listens`;
    if (p.errno === "ECONNRESET" || p.errno === "EPIPE")
      return `the server at ${host} closed the connection without answering (${p.errno}): is it a Docker engine? Check DOCKER_HOST`;
    return `cannot reach the Docker engine at ${host} (${p.errno ?? "no connection"}): check the address in DOCKER_HOST and the network`;
  }
  const start = ctx.inContainer
    ? "mount the host's socket into berth's container (-v /var/run/docker.sock:/var/run/docker.sock), or set DOCKER_HOST to an engine"
    : "start the engine (e.g. systemctl start docker), or set DOCKER_HOST to one that runs";
  switch (p.errno) {
    case "ENOENT":
    case "ENOTDIR":
      return `no Docker engine at ${host}: ${path} does not exist; ${start}`;
    case "ECONNREFUSED":
      return `no Docker engine listens on ${path} (ECONNREFUSED: the socket is left from an engine that stopped); ${start}`;
    case "ECONNRESET":
    case "EPIPE":
      return `the server on ${path} closed the connection without answering (${p.errno}): is it a Docker engine? Check DOCKER_HOST`;
    default:
      return `cannot reach the Docker engine at ${host} (${p.errno ?? "no connection"}); ${start}`;
  }
}

function permission(ctx: EngineContext): string {
  const path = socketPathOf(ctx.dockerHost) ?? ctx.dockerHost;
  const who = ctx.uid === null ? "this user" : `uid ${ctx.uid}`;
  const s = ctx.socket;
  const facts = s
    ? ` (owner uid ${s.uid}, group ${s.group ?? s.gid}, mode ${(s.mode & 0o777).toString(8).padStart(4, "0")})`
    : "";
  const other = "or set DOCKER_HOST to an engine this user may use";
  if (s && (s.mode & 0o060) === 0) {
    // No group access: joining a group does not help.
    return `permission denied on the Docker socket ${path}${facts} for ${who}: only its owner may open it; run berth as uid ${s.uid}, give the socket a group (as dockerd does: root:docker 0660), ${other}`;
  }
  const group = s ? (s.group ?? `gid ${s.gid}`) : "the socket's group";
  if (ctx.inContainer) {
    const gid = s ? String(s.gid) : "GID";
    return `permission denied on the Docker socket ${path}${facts} for ${who}: run berth's container with --group-add ${gid} (the socket's group id on the host${s ? "" : ": stat -c %g " + path}) or add the user to ${group} in its image, ${other}`;
  }
  // Unknown facts: dockerd's own default is the docker group.
  const name = s ? s.group : "docker";
  const join = name === null ? "then log in again" : `sudo usermod -aG ${name} USER, then log in again`;
  const which = s ? group : "the socket's group (usually docker)";
  return `permission denied on the Docker socket ${path}${facts} for ${who}: add the user to ${which} (${join}), ${other}`;
}

function notEngine(p: EngineProblem, ctx: EngineContext): string {
  const status = p.statusCode === undefined ? "" : ` with HTTP ${p.statusCode}`;
  // A success status with a body that is not JSON (a web page), or an error status without the engine's error.
  const what =
    p.statusCode !== undefined && p.statusCode < 400 ? "a body that is not Docker's JSON" : "no Docker error";
  return `the server at ${ctx.dockerHost} is not a Docker engine: it answered the ${p.operation} call${status} and ${what}; set DOCKER_HOST to the engine (e.g. ${DEFAULT_DOCKER_HOST} or tcp://HOST:2375)`;
}

function noAnswer(p: EngineProblem, ctx: EngineContext): string {
  const call = p.operation === APPLY_DEADLINE ? "" : ` to the ${p.operation} call`;
  return `no answer from the Docker engine at ${ctx.dockerHost}${call} within ${deadline(p)}: it accepts connections but does not respond; check the engine (systemctl status docker, its log), or raise the deadline if it is only slow`;
}

/** The forms of DOCKER_HOST berth can use, as a fix says them. */
const VALID_HOSTS = `unix:///PATH/TO/docker.sock, tcp://HOST:PORT (or http://, https://) or ssh://USER@HOST, or unset it for ${DEFAULT_DOCKER_HOST}`;

/** A DOCKER_HOST berth cannot use: what is wrong with it, and the forms that would do. */
function badHost(ctx: EngineContext): string {
  const host = ctx.dockerHost;
  const parsed = parseDockerHost(host);
  if (!parsed.ok && parsed.problem === "no-host" && parsed.scheme === null)
    return `DOCKER_HOST ${host} is a path, not an address: a socket is unix://${host}; set DOCKER_HOST to ${VALID_HOSTS}`;
  const what =
    parsed.ok || parsed.problem === "malformed"
      ? "is not an address berth can read"
      : parsed.problem === "scheme"
        ? `has a scheme berth cannot use (${parsed.scheme ?? ""}://)`
        : "names no host";
  return `DOCKER_HOST ${host} ${what}: set it to ${VALID_HOSTS}`;
}

/** DOCKER_HOST's host name does not resolve: name it, and what fixes it. */
function unknownHost(p: EngineProblem, ctx: EngineContext): string {
  const parsed = parseDockerHost(ctx.dockerHost);
  const name = parsed.ok && parsed.hostname !== null ? parsed.hostname : ctx.dockerHost;
  const fix = `set DOCKER_HOST to a valid host name or address of the engine (e.g. tcp://192.0.2.10:2375)`;
  if (p.errno === "EAI_AGAIN")
    return `the host name ${name} in DOCKER_HOST ${ctx.dockerHost} could not be resolved (EAI_AGAIN: no answer from the DNS server): check this machine's DNS (/etc/resolv.conf), or ${fix}`;
  return `the host name ${name} in DOCKER_HOST ${ctx.dockerHost} does not resolve (${p.errno ?? "ENOTFOUND"}): no such host; ${fix}`;
}

/** The one line (without "berth: " and the newline) for an engine problem. */
export function engineMessage(p: EngineProblem, ctx: EngineContext): string {
  let text: string;
  switch (p.kind) {
    case "unavailable":
      text = unreachable(p, ctx);
      break;
    case "permission":
      text = permission(ctx);
      break;
    case "not-engine":
      text = notEngine(p, ctx);
      break;
    case "timeout":
      text = noAnswer(p, ctx);
      break;
    case "bad-host":
      text = badHost(ctx);
      break;
    case "unknown-host":
      text = unknownHost(p, ctx);
      break;
  }
  return `${text} [${p.code}]`;
}
