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
    // Only a request the engine refused as invalid fails the same way every time.
    const code: ErrorCode = isEngineKind(kind) ? ENGINE_CODES[kind] : "BERTH_DOCKER";
    super(code, message, { retriable: kind !== "bad-request", cause: options?.cause });
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
