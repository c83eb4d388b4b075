/**
 * Every error berth reports carries a code from this one table. docs/errors.md lists the same
 * codes, and a test keeps the two in sync.
 */
export const ERROR_CODES = {
  BERTH_YAML_SYNTAX: "The file is not valid YAML (syntax, tabs in indentation, duplicate keys).",
  BERTH_SCHEMA: "A document does not match the spec schema (wrong type, unknown field, bad value).",
  BERTH_VALUE: "A value is well-formed but not usable (e.g. a reservation above the limit).",
  BERTH_RESERVED_LABEL: "A label key is under berth's reserved prefix.",
  BERTH_DUPLICATE_NAME:
    "Two documents define the same container name (or declare the same network or volume); both are refused.",
  BERTH_EMPTY_FILE: "A spec file holds no documents.",
  BERTH_NOT_TEXT: "A spec file is not UTF-8 text (binary data, NUL bytes, invalid UTF-8).",
  BERTH_FILE_TOO_LARGE: "A spec file is larger than the file size limit.",
  BERTH_TOO_MANY_DOCUMENTS: "A spec file holds more documents than the limit.",
  BERTH_TOO_MANY_ALIASES: "A document uses more YAML aliases than the limit (an alias bomb).",
  BERTH_TOO_DEEP: "A document is nested deeper than the limit.",
  BERTH_TOO_MANY_NODES: "A spec file holds more YAML nodes (keys, values, list items) than the limit.",
  BERTH_NOT_A_FILE: "A path matching the spec file pattern is not a regular file (FIFO, device, socket).",
  BERTH_UNREADABLE: "A spec file or directory cannot be read (permissions, I/O error, symlink loop).",
  BERTH_TOO_MANY_FILES: "A spec directory holds more files than the limit.",
  BERTH_POLICY: "A spec asks for something the admission policy refuses (docs/policy.md lists the checks).",
  BERTH_TARGET:
    "A spec uses a field its --target cannot express: under swarm, one a Swarm service cannot carry (privileged, container:NAME networks, …); under engine, placement.",
  BERTH_USAGE: "A command-line flag or argument is invalid.",
  BERTH_LOCKED:
    "Another berth holds this controller id on this host (its lock socket answers): run and apply refuse to start.",
  BERTH_NOT_LEADER:
    "Under --ha, this berth is a standby or its lease may have lapsed: it refused a Docker write (or an API call that writes) that only the leader makes.",
  BERTH_LEASE_HELD:
    "A command and an --ha group would both write for one controller id: apply, reap or run without --ha beside a group that leads on this host, or apply/reap --ha while another holds the lease (or a process without --ha holds the host lock).",
  BERTH_HA:
    "The --ha lease store cannot be used (the lock file's folder, the Redis server or its password). A standby keeps trying; no one leads meanwhile.",
  BERTH_DOCKER:
    "A Docker Engine API call failed: the engine is unreachable or slow, or answered with an error (the message names the call).",
  BERTH_DOCKER_UNREACHABLE:
    "No Docker engine answers at DOCKER_HOST: the socket does not exist, or the connection is refused or reset. Retried by the controller; a one-shot command exits 1.",
  BERTH_DOCKER_PERMISSION:
    "The Docker socket is there but this user may not open it (EACCES): join the socket's group, or --group-add its gid when berth runs in a container.",
  BERTH_DOCKER_NOT_ENGINE:
    "Something answers at DOCKER_HOST, but not as the Docker engine does (an HTTP error without the engine's JSON body, or a body that is not JSON): DOCKER_HOST points at another server.",
  BERTH_DOCKER_NO_ANSWER:
    "The Docker engine accepted the connection but did not answer before the deadline (--docker-timeout for a call, --timeout for apply).",
  BERTH_DOCKER_HOST:
    "DOCKER_HOST is not an address berth can use (a scheme other than unix://, tcp://, http://, https://, ssh://; a network address without a host; a bare path): refused before any Docker call.",
  BERTH_DOCKER_UNRESOLVED:
    "The host name in DOCKER_HOST does not resolve (ENOTFOUND; EAI_AGAIN: DNS did not answer): set DOCKER_HOST to a valid host name or address. Retried by the controller; a one-shot command exits 1.",
  BERTH_DOCKER_REFUSED: "Docker refused to create the container as specified (a 400 from the engine). Terminal.",
  BERTH_IMAGE_MISSING: "The image is not on the host and imagePullPolicy is Never. Terminal until the image appears.",
  BERTH_PULL_FAILED: "Pulling the image failed (registry unreachable, unknown image, no access). Retried.",
  BERTH_PULL_DENIED:
    "The registry refused the pull (401/403): the message names the registry and where berth looked for credentials. Retried, so fixed credentials are picked up.",
  BERTH_REGISTRY_AUTH:
    "Registry credentials cannot be used: an auth file is unreadable or not in config.json's format, an imagePullSecret names no entry, or a credential helper failed. Retried.",
  BERTH_BUILD_FAILED:
    "Building a spec's image failed (the Dockerfile, a step, the engine): the message ends with the build's last lines. The last good containers keep running. Retried.",
  BERTH_BUILD_CONTEXT:
    "A build context or its Dockerfile does not exist (a problem of the spec file, at build.context or build.dockerfile), or the context cannot be read or leads outside the spec folder through a symbolic link (at build time: retried).",
  BERTH_NAME_CONFLICT:
    "The container name is held by a container berth does not own (phase Conflict). Terminal until the name is free.",
  BERTH_START_FAILED: "A container was created but did not start, or a replacement did not become ready. Retried.",
  BERTH_NOT_STABLE:
    "A replacement did not stay up for its spec's stableFor (it exited, was restarted or turned unhealthy). Retried with backoff; under StopFirst the rollout holds.",
  BERTH_SECRET: "A secretEnv value cannot be read (a missing variable or file). Retried.",
  BERTH_HASH_KEY:
    "The volume holding the controller's hash key (for secrets in the spec hash) is not one berth made. Terminal until it is removed.",
  BERTH_RACE: "Something changed while berth worked (a name taken, a container or the spec gone). Planned again.",
  BERTH_COMPOSE:
    "berth import compose cannot convert the Compose file (bad YAML, no image, a required variable unset): nothing is written.",
  BERTH_COMPOSE_LOSSY:
    "berth import compose converted a Compose setting with a difference, or left out one berth cannot express (a warning).",
  BERTH_VOLUME_IN_USE:
    "A per-instance volume berth would remove is still used by a container (the engine refused with 409). Retried with backoff.",
  BERTH_VOLUME_CONFLICT:
    "A per-instance volume's name is held by a volume berth did not make for that spec and mount. Retried with backoff; remove or rename that volume.",
  BERTH_HOST_PORT_IN_USE:
    "A `hostPort: auto` port berth chose is held by a program outside Docker (the start failed): the container is removed and the next pass takes the next free port.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error berth raises on purpose: a code from the table above, a message fit for the
 * user, and whether trying the same thing again may succeed. As controller-runtime separates
 * them: a retriable error backs off and retries; a terminal one is shown and not retried until
 * something changes.
 */
export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  /** What it is about, when the loop must watch it to know a terminal error may be over (an image reference, a container name). */
  readonly subject: string | null;

  constructor(
    code: ErrorCode,
    message: string,
    options: { readonly retriable?: boolean; readonly subject?: string; readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BerthError";
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.subject = options.subject ?? null;
  }

  /** A flag or argument that cannot be used. */
  static usage(message: string): BerthError {
    return new BerthError("BERTH_USAGE", message);
  }

  /** Worth another try as it is: backed off and retried. */
  static retriable(code: ErrorCode, message: string, cause?: unknown): BerthError {
    return new BerthError(code, message, { retriable: true, cause });
  }

  /** Not worth another try until `subject` (or the spec) changes. */
  static terminal(code: ErrorCode, message: string, subject?: string, cause?: unknown): BerthError {
    return new BerthError(code, message, { retriable: false, ...(subject !== undefined ? { subject } : {}), cause });
  }
}

export function isBerthError(err: unknown, ...codes: ErrorCode[]): err is BerthError {
  return err instanceof BerthError && (codes.length === 0 || codes.includes(err.code));
}

/** A problem at a place in a spec file: `file:line:column: path: message`. */
export interface SpecIssue {
  readonly code: ErrorCode;
  readonly file: string;
  /** 1-based; 0 for a problem with a directory rather than a place in a file. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** The field path (`spec.resources.memory`), or "" for a problem with the file or document. */
  readonly path: string;
  readonly message: string;
}

/** `file:line:col: path: message`; a problem with a whole directory (line 0) has no position. */
export function formatIssue(issue: SpecIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

export function compareIssues(a: SpecIssue, b: SpecIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
