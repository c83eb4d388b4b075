/**
 * What the commands that ask a running controller share (`berth claim`, `release`, `restart`,
 * `rollout retry`): its API at --server, with the bearer token from --api-token-file or
 * BERTH_API_TOKEN (never from argv, where `ps` shows it).
 */
import { type Command, Option } from "commander";
import { BerthError } from "../core/errors.js";
import { readApiToken } from "./api-token.js";
import type { CliIO } from "./io.js";
import { DEFAULT_SERVER } from "./live.js";
import { printable } from "./sanitize.js";
import { GROUPS } from "./options.js";

export interface ApiOptions {
  readonly server: string;
  readonly apiTokenFile?: string;
}

export function addApiOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--server <url>", "the running controller (berth run) whose API is asked")
        .env("BERTH_SERVER")
        .default(DEFAULT_SERVER)
        .helpGroup(GROUPS.controller),
    )
    .addOption(
      new Option("--api-token-file <path>", "file holding the API's bearer token (or set BERTH_API_TOKEN)")
        .env("BERTH_API_TOKEN_FILE")
        .helpGroup(GROUPS.controller),
    );
}

async function tokenOf(opts: ApiOptions, io: CliIO): Promise<string> {
  const token = await readApiToken(opts.apiTokenFile, io);
  if (token === undefined || token === "")
    throw BerthError.usage("the API needs a token: set BERTH_API_TOKEN or give --api-token-file");
  return token;
}

/** One call to the API: its status and JSON body; a usage error when nothing answers. */
export async function callApi(
  opts: ApiOptions,
  io: CliIO,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ readonly status: number; readonly body: Record<string, unknown> }> {
  const token = await tokenOf(opts, io);
  const url = `${opts.server.replace(/\/+$/, "")}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw BerthError.usage(
      `no berth answers at ${opts.server} (${(err as Error).message}); start berth run, or give --server`,
    );
  }
  const parsed: unknown = await res.json().catch(() => ({}));
  return {
    status: res.status,
    body: typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {},
  };
}

/** A field of an answer as text: strings as they are, anything else as JSON ("" when absent). */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  return value === undefined ? "" : JSON.stringify(value);
}

/**
 * POST /v1/specs/{name}/{verb} for each name in turn, each answer's `steps` handed to `print` as
 * they come; a refusal is a usage error naming it. `stop`: end before the next name (a failed step).
 */
export async function postEachSpec<S>(
  names: readonly string[],
  opts: ApiOptions,
  io: CliIO,
  verb: string,
  print: (step: S) => void,
  stop: (answered: readonly S[]) => boolean = () => false,
): Promise<S[]> {
  const steps: S[] = [];
  for (const name of names) {
    const res = await callApi(opts, io, "POST", `/v1/specs/${encodeURIComponent(name)}/${verb}`);
    if (res.status !== 200)
      throw BerthError.usage(
        `${verb} of ${printable(name)} refused by ${opts.server} (${res.status}): ${printable(text(res.body.error))}`,
      );
    const answered = Array.isArray(res.body.steps) ? (res.body.steps as S[]) : [];
    for (const step of answered) {
      steps.push(step);
      print(step);
    }
    if (stop(answered)) break;
  }
  return steps;
}
