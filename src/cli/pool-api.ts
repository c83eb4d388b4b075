/**
 * What the commands that ask a running controller share (`berth claim`, `release`, `restart`,
 * `rollout retry`): its API at --server, with the bearer token from --api-token-file or
 * BERTH_API_TOKEN (never from argv, where `ps` shows it).
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type Command, Option } from "commander";
import { BerthError } from "../core/errors.js";
import { advertisedUrl } from "../core/lease.js";
import { CONTROLLER_HEADER, ROLE_HEADER } from "../http/access.js";
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

/** Nothing answers at --server (a usage error): `writeOrAsk` (cli/ha.ts) adds why it asked. */
export class NoApiAnswer extends BerthError {
  constructor(
    readonly server: string,
    readonly why: string,
  ) {
    super("BERTH_USAGE", `no berth answers at ${server} (${why}); start berth run, or give --server`);
  }
}

interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** Who answered: --server, or the leader a standby there named. */
  readonly server: string;
}

/**
 * One call to the API: its status and JSON body; a usage error when nothing answers. A standby of
 * an --ha group that names where its leader answers (BERTH_NOT_LEADER, `leaderUrl`) is left for
 * the leader once, said on stderr, after the leader's open /readyz showed it is this controller's
 * leader: the token goes only to a berth of the group.
 */
export async function callApi(
  opts: ApiOptions,
  io: CliIO,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const token = await tokenOf(opts, io);
  const first = await callOnce(opts.server, token, method, path, body);
  const leader = first.status === 503 && first.body.code === "BERTH_NOT_LEADER" ? leaderOf(first.body) : null;
  const answer = ({ status, body, server }: ApiAnswer): ApiAnswer => ({ status, body, server });
  if (leader === null || leader === opts.server.replace(/\/+$/, "")) return answer(first);
  io.err(`${printable(`berth: ${opts.server} is a standby; asking the leader at ${leader}`)}\n`);
  await believedLeader(leader, first.controller, opts.server);
  return answer(await callOnce(leader, token, method, path, body));
}

/** Throws, saying why, unless `leader`'s /readyz (asked without the token) is `controller`'s leader. */
async function believedLeader(leader: string, controller: string | null, standby: string): Promise<void> {
  const named = `the standby at ${standby} names the leader at ${leader}, which`;
  let res: Exchanged;
  try {
    res = await exchange(new URL(`${leader}/readyz`), "GET", {}, undefined);
  } catch (err) {
    throw BerthError.usage(
      `${named} does not answer (${oneLine((err as Error).message)}). After a leader dies a standby takes over ` +
        "within the lease's TTL (--ha-ttl): try again then; if this lasts, the leader's --ha-advertise is not where its API answers",
    );
  }
  if (res.controller !== controller || res.role !== "leader")
    throw BerthError.usage(
      `${named} does not answer as controller ${JSON.stringify(controller ?? "?")}'s leader ` +
        `(status ${res.status}, controller ${JSON.stringify(res.controller ?? "none")}, role ${JSON.stringify(res.role ?? "none")}): ` +
        "the token was not sent there. Check the leader's --ha-advertise, or give --server the leader's API",
    );
}

/** An error's message on one line (an OpenSSL error carries newlines). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The leader's URL a standby's refusal names, when it is one berth would advertise. */
function leaderOf(body: Record<string, unknown>): string | null {
  const url = body.leaderUrl;
  return typeof url === "string" && advertisedUrl(url) === url ? url : null;
}

async function callOnce(
  server: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer & { readonly controller: string | null }> {
  const no = (why: string): BerthError => new NoApiAnswer(server, oneLine(why));
  let url: URL;
  try {
    url = new URL(`${server.replace(/\/+$/, "")}${path}`);
  } catch {
    throw no("not a URL");
  }
  const payload = body === undefined ? undefined : JSON.stringify(body);
  let res: Exchanged;
  try {
    res = await exchange(
      url,
      method,
      {
        authorization: `Bearer ${token}`,
        ...(payload !== undefined ? { "content-type": "application/json" } : {}),
      },
      payload,
    );
  } catch (err) {
    throw no((err as Error).message);
  }
  let parsed: unknown = {};
  try {
    parsed = JSON.parse(res.text);
  } catch {
    // Not JSON: the status alone speaks.
  }
  return {
    status: res.status,
    body: typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {},
    server,
    controller: res.controller,
  };
}

/**
 * One HTTP exchange with no timeout of its own: an answer that waits (`restart`, a StopFirst
 * `rollout retry` through each replica's stableFor) is waited for as long as the connection lives.
 * fetch (undici) gives up on an answer whose headers take over 5 minutes.
 */
interface Exchanged {
  readonly status: number;
  readonly text: string;
  /** The answer's x-berth-controller and x-berth-role, when it has them. */
  readonly controller: string | null;
  readonly role: string | null;
}

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
): Promise<Exchanged> {
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return Promise.reject(new Error(`${url.protocol} is not http: or https:`));
  return new Promise((resolve, reject) => {
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
      });
      res.on("end", () => {
        const header = (name: string): string | null => {
          const value = res.headers[name];
          return typeof value === "string" ? value : null;
        };
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString("utf8"),
          controller: header(CONTROLLER_HEADER),
          role: header(ROLE_HEADER),
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
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
        `${verb} of ${printable(name)} refused by ${res.server} (${res.status}): ${printable(text(res.body.error))}`,
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
