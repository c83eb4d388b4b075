/**
 * Docker failures in berth's terms. The adapter maps every engine error to one of these kinds;
 * the executor decides from the kind alone whether to retry, treat as done, or give up.
 */
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

export class DockerError extends Error {
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
    super(message, options);
    this.name = "DockerError";
    this.kind = kind;
    this.operation = operation;
    this.statusCode = statusCode;
  }
}

export function isDockerError(err: unknown, ...kinds: DockerErrorKind[]): err is DockerError {
  return err instanceof DockerError && (kinds.length === 0 || kinds.includes(err.kind));
}
