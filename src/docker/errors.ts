/**
 * Docker failures in berth's terms: a BerthError of a kind. The adapter maps every engine error
 * to a kind; the executor decides from the kind alone whether to retry, treat as done, or give up.
 * The kinds that mean "no engine to talk to" have codes of their own (the CLI explains each one);
 * the others are BERTH_DOCKER.
 */
import { BerthError, type ErrorCode } from "../core/errors.js";
import { formatDurationMs } from "../core/units.js";

export type DockerErrorKind =
  /** 404: no such container (treat as gone). */
  | "not-found"
  /** 409: a name is taken, or the container is in a state that forbids the operation. */
  | "conflict"
  /** 409 "removal already in progress", or 304 "already stopped": nothing left to do. */
  | "gone"
  /** The image is not present locally. */
  | "image-missing"
  /** The call did not answer before its deadline. */
  | "timeout"
  /** The engine cannot be reached (no socket, connection refused or reset). */
  | "unavailable"
  /** The socket is there but this user may not open it (EACCES, EPERM). */
  | "permission"
  /** Something answered at DOCKER_HOST, but not as the Docker engine does (an error without the engine's JSON). */
  | "not-engine"
  /** DOCKER_HOST is not an address berth can use (a scheme it does not speak, no host): refused before any call. */
  | "bad-host"
  /** DOCKER_HOST's host name does not resolve (ENOTFOUND, EAI_AGAIN). */
  | "unknown-host"
  /** 400: the engine refused the request. */
  | "bad-request"
  /** 500 and anything else. */
  | "server";

/** The kinds that mean berth has no engine to talk to, and their codes. */
export const ENGINE_CODES = {
  unavailable: "BERTH_DOCKER_UNREACHABLE",
  permission: "BERTH_DOCKER_PERMISSION",
  "not-engine": "BERTH_DOCKER_NOT_ENGINE",
  timeout: "BERTH_DOCKER_NO_ANSWER",
  "bad-host": "BERTH_DOCKER_HOST",
  "unknown-host": "BERTH_DOCKER_UNRESOLVED",
} as const satisfies Partial<Record<DockerErrorKind, ErrorCode>>;

export type EngineErrorKind = keyof typeof ENGINE_CODES;

export function isEngineKind(kind: DockerErrorKind): kind is EngineErrorKind {
  return kind in ENGINE_CODES;
}

export class DockerError extends BerthError {
  readonly kind: DockerErrorKind;
  readonly operation: string;
  readonly statusCode: number | undefined;
  /** The system error code behind an unreachable engine (ENOENT, ECONNREFUSED, EACCES…). */
  readonly errno: string | undefined;
  /** For a timeout: the deadline that passed. */
  readonly timeoutMs: number | undefined;

  constructor(
    kind: DockerErrorKind,
    operation: string,
    message: string,
    statusCode?: number,
    options?: { cause?: unknown; errno?: string; timeoutMs?: number },
  ) {
    // Only a request the engine refused as invalid, or a DOCKER_HOST berth cannot use, fails the same way every time.
    const code: ErrorCode = isEngineKind(kind) ? ENGINE_CODES[kind] : "BERTH_DOCKER";
    super(code, message, { retriable: kind !== "bad-request" && kind !== "bad-host", cause: options?.cause });
    this.name = "DockerError";
    this.kind = kind;
    this.operation = operation;
    this.statusCode = statusCode;
    this.errno = options?.errno;
    this.timeoutMs = options?.timeoutMs;
  }
}

/** The engine could not be used at all: no socket, no permission, not an engine, no answer. */
export function isEngineError(err: unknown): err is DockerError & { kind: EngineErrorKind } {
  return err instanceof DockerError && isEngineKind(err.kind);
}

export function isDockerError(err: unknown, ...kinds: DockerErrorKind[]): err is DockerError {
  return err instanceof DockerError && (kinds.length === 0 || kinds.includes(err.kind));
}

interface EngineError {
  statusCode?: number;
  code?: string;
  name?: string;
  message?: string;
  json?: { message?: string } | null;
  reason?: string;
}

const PERMISSION_CODES = new Set(["EACCES", "EPERM"]);

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "ENOTDIR",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ETIMEDOUT",
]);

/** A host name that does not resolve: none such (ENOTFOUND), or no answer from DNS for now (EAI_AGAIN). */
const UNKNOWN_HOST_CODES = new Set(["ENOTFOUND", "EAI_AGAIN"]);

/**
 * The schemes DOCKER_HOST may have, as docker-modem (dockerode's client) reads it: a unix socket,
 * the engine's HTTP API over TCP (tcp://, http://, https://; https when DOCKER_TLS_VERIFY=1 or
 * port 2376), ssh://, and a Windows named pipe. Without a scheme, HOST:PORT is tcp://HOST:PORT.
 */
export const DOCKER_HOST_SCHEMES = ["unix", "npipe", "tcp", "http", "https", "ssh"] as const;

/** What DOCKER_HOST says, or why berth cannot use it. */
export type DockerHostParse =
  | {
      readonly ok: true;
      readonly scheme: (typeof DOCKER_HOST_SCHEMES)[number];
      /** The host name or address to connect to; null for a socket or a pipe. */
      readonly hostname: string | null;
    }
  | {
      readonly ok: false;
      /** scheme: one berth cannot use; no-host: a network scheme without a host; malformed: not a URL. */
      readonly problem: "scheme" | "no-host" | "malformed";
      readonly scheme: string | null;
    };

/** DOCKER_HOST (unset or empty: the default socket) as docker-modem will use it, or what is wrong with it. */
export function parseDockerHost(value: string | undefined): DockerHostParse {
  if (value === undefined || value === "" || value.startsWith("unix://"))
    return { ok: true, scheme: "unix", hostname: null };
  if (value.startsWith("npipe://")) return { ok: true, scheme: "npipe", hostname: null };
  // docker-modem's reading: without "//", a host and port over TCP (anything else there, a path
  // or "unix:/PATH", would become a TCP host it is not).
  if (!value.includes("//") && !/^(\[[^\]]*\]|[^/:[\]]+)(:\d+)?$/.test(value))
    return { ok: false, problem: value.startsWith("/") ? "no-host" : "malformed", scheme: null };
  const text = value.includes("//") ? value : `tcp://${value}`;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase() ?? null;
  if (scheme === null) return { ok: false, problem: "malformed", scheme: null };
  const known = DOCKER_HOST_SCHEMES.find((s) => s === scheme);
  if (known === undefined) return { ok: false, problem: "scheme", scheme };
  // Nothing between the scheme (or a user) and the port or path: no host (URL would not parse it).
  if (/^[^:]+:\/\/([^@/]*@)?(:|\/|$)/.test(text)) return { ok: false, problem: "no-host", scheme };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: "malformed", scheme };
  }
  if (url.hostname === "") return { ok: false, problem: "no-host", scheme };
  // URL keeps an IPv6 address's brackets; the resolver and the message want the address.
  return { ok: true, scheme: known, hostname: url.hostname.replace(/^\[(.*)\]$/, "$1") };
}

/** The DockerError for a DOCKER_HOST berth cannot use, or null when it can be used. */
export function dockerHostError(value: string | undefined): DockerError | null {
  const parsed = parseDockerHost(value);
  if (parsed.ok) return null;
  const why = { scheme: `scheme ${parsed.scheme ?? ""}:// unknown`, "no-host": "no host", malformed: "not an address" };
  return new DockerError("bad-host", "connect", `DOCKER_HOST ${value ?? ""}: ${why[parsed.problem]}`);
}

/** The engine's own error text: every engine error response is JSON with a message. */
function jsonMessage(err: EngineError): string | null {
  const json = err.json;
  return json && typeof json === "object" && typeof json.message === "string" ? json.message : null;
}

/** Engine error → DockerError, with the operation (and what it was about) in the message. */
export function mapError(
  operation: string,
  raw: unknown,
  subject?: string,
  deadline?: { readonly timeoutMs: number },
): DockerError {
  const err = (raw ?? {}) as EngineError;
  if (raw instanceof DockerError) return raw;
  const what = subject === undefined ? `Docker ${operation}` : `Docker ${operation} ${subject}`;
  if (err.name === "AbortError" || err.name === "TimeoutError" || err.code === "ABORT_ERR") {
    const within = deadline ? `within ${formatDurationMs(deadline.timeoutMs)}` : "before the deadline";
    return new DockerError("timeout", operation, `${what}: no answer ${within}`, undefined, {
      cause: raw,
      ...(deadline ? { timeoutMs: deadline.timeoutMs } : {}),
    });
  }
  if (err.code && PERMISSION_CODES.has(err.code)) {
    return new DockerError(
      "permission",
      operation,
      `${what}: permission denied on the engine's socket (${err.code})`,
      undefined,
      {
        cause: raw,
        errno: err.code,
      },
    );
  }
  if (err.code && UNKNOWN_HOST_CODES.has(err.code)) {
    return new DockerError(
      "unknown-host",
      operation,
      `${what}: the engine's host name does not resolve (${err.code})`,
      undefined,
      { cause: raw, errno: err.code },
    );
  }
  if (err.code && UNAVAILABLE_CODES.has(err.code)) {
    return new DockerError("unavailable", operation, `${what}: the engine cannot be reached (${err.code})`, undefined, {
      cause: raw,
      errno: err.code,
    });
  }
  const status = err.statusCode;
  const engineText = jsonMessage(err);
  // 304 (already stopped) has no body; an error status whose body was read and is not the engine's
  // JSON is not the engine. (A streamed request's error, a pull's, carries its text in the message
  // and no body at all: that is the engine.)
  if (status !== undefined && status >= 400 && engineText === null && err.json !== null && err.json !== undefined) {
    return new DockerError(
      "not-engine",
      operation,
      `${what}: HTTP ${status} without a Docker error body: the server is not a Docker engine`,
      status,
      { cause: raw },
    );
  }
  const message = engineText ?? err.message ?? JSON.stringify(err);
  let kind: DockerErrorKind;
  if (status === 404) kind = /no such image/i.test(message) ? "image-missing" : "not-found";
  else if (status === 409)
    kind = /removal .* already in progress|is already in progress/i.test(message) ? "gone" : "conflict";
  else if (status === 304) kind = "gone";
  else if (status === 400) kind = "bad-request";
  else kind = "server";
  return new DockerError(kind, operation, `${what}: ${message}`, status, { cause: raw });
}
