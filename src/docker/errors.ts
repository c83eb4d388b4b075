/**
 * Docker failures in berth's terms: a BerthError (code BERTH_DOCKER) of a kind. The adapter maps
 * every engine error to a kind; the executor decides from the kind alone whether to retry, treat
 * as done, or give up.
 */
import { BerthError } from "../core/errors.js";

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
  /** The engine cannot be reached. */
  | "unavailable"
  /** 400: the engine refused the request. */
  | "bad-request"
  /** 500 and anything else. */
  | "server";

export class DockerError extends BerthError {
  readonly kind: DockerErrorKind;
  readonly operation: string;
  readonly statusCode: number | undefined;

  constructor(
    kind: DockerErrorKind,
    operation: string,
    message: string,
    statusCode?: number,
    options?: { cause?: unknown },
  ) {
    // Only a request the engine refused as invalid fails the same way every time.
    super("BERTH_DOCKER", message, { retriable: kind !== "bad-request", cause: options?.cause });
    this.name = "DockerError";
    this.kind = kind;
    this.operation = operation;
    this.statusCode = statusCode;
  }
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

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "EACCES",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ETIMEDOUT",
]);

function engineMessage(err: EngineError): string {
  const json = err.json;
  if (json && typeof json === "object" && typeof json.message === "string") return json.message;
  return err.message ?? JSON.stringify(err);
}

/** Engine error → DockerError, with the operation (and what it was about) in the message. */
export function mapError(operation: string, raw: unknown, subject?: string): DockerError {
  const err = (raw ?? {}) as EngineError;
  if (raw instanceof DockerError) return raw;
  const what = subject === undefined ? `Docker ${operation}` : `Docker ${operation} ${subject}`;
  if (err.name === "AbortError" || err.name === "TimeoutError" || err.code === "ABORT_ERR") {
    return new DockerError("timeout", operation, `${what}: no answer before the deadline`, undefined, { cause: raw });
  }
  if (err.code && UNAVAILABLE_CODES.has(err.code)) {
    return new DockerError("unavailable", operation, `${what}: the engine cannot be reached (${err.code})`, undefined, {
      cause: raw,
    });
  }
  const message = engineMessage(err);
  const status = err.statusCode;
  let kind: DockerErrorKind;
  if (status === 404) kind = /no such image/i.test(message) ? "image-missing" : "not-found";
  else if (status === 409)
    kind = /removal .* already in progress|is already in progress/i.test(message) ? "gone" : "conflict";
  else if (status === 304) kind = "gone";
  else if (status === 400) kind = "bad-request";
  else kind = "server";
  return new DockerError(kind, operation, `${what}: ${message}`, status, { cause: raw });
}
