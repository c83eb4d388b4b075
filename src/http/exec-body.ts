/** The body of an exec request (native and docker-spawner alike) and the request it becomes. */
import type { ExecRequest } from "../docker/port.js";

/** Output kept per stream of an exec. */
export const EXEC_OUTPUT_LIMIT = 1024 * 1024;
export const EXEC_DEFAULT_TIMEOUT_MS = 60_000;
export const EXEC_MAX_TIMEOUT_MS = 60 * 60_000;

export interface ExecBody {
  readonly cmd: string[];
  readonly workdir?: string;
  readonly env?: Record<string, string> | string[];
  readonly user?: string;
  readonly timeout?: string;
}

/** The JSON Schema of an exec body; `env` as a map or as KEY=VALUE entries. */
export const EXEC_BODY_SCHEMA = {
  type: "object",
  required: ["cmd"],
  additionalProperties: false,
  properties: {
    cmd: { type: "array", minItems: 1, maxItems: 1000, items: { type: "string", maxLength: 32_768 } },
    workdir: { type: "string", minLength: 1, maxLength: 4096 },
    env: {
      oneOf: [
        { type: "object", additionalProperties: { type: "string" }, propertyNames: { pattern: "^[^=]+$" } },
        { type: "array", items: { type: "string", pattern: "^[^=]+=" } },
      ],
    },
    user: { type: "string", minLength: 1, maxLength: 256 },
    timeout: { type: "string", pattern: "^[0-9]", maxLength: 32 },
  },
} as const;

export function envEntries(env: ExecBody["env"]): string[] | undefined {
  if (env === undefined) return undefined;
  return Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** The exec request of a body, with the timeout (and output cap) the route decided. */
export function execRequest(body: ExecBody, timeoutMs: number, maxOutputBytes = EXEC_OUTPUT_LIMIT): ExecRequest {
  const env = envEntries(body.env);
  return {
    cmd: body.cmd,
    ...(body.workdir !== undefined ? { workdir: body.workdir } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(body.user !== undefined ? { user: body.user } : {}),
    timeoutMs,
    maxOutputBytes,
  };
}
