/**
 * Registry credentials on the host: `--registry-auth-file` (under an allowed secret folder, as
 * every secret file) and Docker's own config.json (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`), read at each lookup so that a `docker login` or a rotated file counts
 * at the next pull; credential helpers run as `docker-credential-<name> get` with the server on
 * standard input (fixed argv, no shell, a deadline). The choice of entry is core/registry.ts's.
 */
import { type ExecFileException, execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BerthError } from "../core/errors.js";
import { formatDurationMs } from "../core/units.js";
import type { Policy } from "../core/policy/policy.js";
import { secretFileAllowed } from "../core/policy/policy.js";
import {
  type AuthFile,
  type CredentialLookup,
  chooseAuth,
  helperCredentials,
  parseAuthFile,
  type RegistryAuth,
  registryOf,
  UNTIL_FIXED,
} from "../core/registry.js";
import { hostPolicyContext } from "./host-paths.js";
import { MAX_SECRET_FILE_BYTES } from "./secrets.js";

export interface HostRegistryAuthOptions {
  /** --registry-auth-file, or null. */
  readonly authFile: string | null;
  /** Docker's config.json (dockerConfigPath). */
  readonly dockerConfig: string;
  readonly policy: Policy;
  /** Deadline of one credential helper run. */
  readonly helperTimeoutMs?: number;
}

const HELPER_TIMEOUT_MS = 10_000;
const HELPER_MAX_OUTPUT_BYTES = 64 * 1024;

/** Docker's config.json as the docker CLI finds it. */
export function dockerConfigPath(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), ".docker");
  return path.join(dir, "config.json");
}

async function readAuthFile(file: string, required: boolean): Promise<AuthFile | null> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_SECRET_FILE_BYTES) throw new Error(`is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB`);
    text = bytes.toString("utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw BerthError.retriable(
      "BERTH_REGISTRY_AUTH",
      `${file}: cannot read it (${(err as Error).message}); ${UNTIL_FIXED}`,
      err,
    );
  }
  return parseAuthFile(file, text);
}

/** Why a helper run failed, in words: missing, too talkative, past its deadline, or its exit. */
function helperFailure(err: ExecFileException, timeoutMs: number): string {
  if (err.code === "ENOENT") return "is not on PATH";
  if (err.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER")
    return `answered more than ${HELPER_MAX_OUTPUT_BYTES / 1024} KiB`;
  // execFile's own kill at the deadline.
  if (err.killed === true) return `timed out after ${formatDurationMs(timeoutMs)}`;
  if (typeof err.code === "number") return `exited with code ${err.code}`;
  if (err.signal) return `was killed by ${err.signal}`;
  // Not err.message: it holds the whole stderr, of which only the first line is shown.
  return "failed";
}

/** Runs `docker-credential-<helper> get` with the server on stdin; null when it has nothing for it. */
function runHelper(helper: string, server: string, timeoutMs: number): Promise<string | null> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      ["get"],
      // SIGKILL: a deadline a helper that ignores SIGTERM would outlive is no deadline.
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: HELPER_MAX_OUTPUT_BYTES },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        // Docker's helpers say so on stdout or stderr, with exit code 1.
        if (/credentials not found/i.test(`${stdout}${stderr}`)) {
          resolve(null);
          return;
        }
        // Its first line of stderr only, cut short: a helper's error says what went wrong, not the secret.
        const detail = stderr.split("\n")[0]?.slice(0, 200) ?? "";
        reject(
          BerthError.retriable(
            "BERTH_REGISTRY_AUTH",
            `${program} get ${helperFailure(err, timeoutMs)}${detail ? `: ${detail}` : ""}`,
            undefined,
          ),
        );
      },
    );
    // A helper that exits without reading its input closes the pipe under the write (EPIPE): its
    // exit, which the callback above reports, is the failure, and an unhandled 'error' would end berth.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(`${server}\n`);
  });
}

export function hostRegistryAuth(options: HostRegistryAuthOptions): RegistryAuth {
  const timeoutMs = options.helperTimeoutMs ?? HELPER_TIMEOUT_MS;
  const configPath = options.dockerConfig;
  return {
    lookup: async (image, secret): Promise<CredentialLookup> => {
      const searched: string[] = [];
      const files: AuthFile[] = [];
      if (options.authFile !== null) {
        searched.push(`--registry-auth-file ${options.authFile}`);
        const refusal = secretFileAllowed(options.authFile, options.policy, hostPolicyContext);
        if (refusal !== null) throw BerthError.retriable("BERTH_REGISTRY_AUTH", `--registry-auth-file: ${refusal}`);
        const file = await readAuthFile(options.authFile, true);
        if (file) files.push(file);
      }
      searched.push(configPath);
      const config = await readAuthFile(configPath, false);
      if (config) files.push(config);
      const registry = registryOf(image);
      const source = chooseAuth(files, image, secret);
      if (source === null) return { registry, credentials: null, from: null, searched };
      if (source.kind === "entry")
        return {
          registry,
          credentials: source.credentials,
          from: `auths[${JSON.stringify(source.key)}] of ${source.file}`,
          searched,
        };
      const helper = `docker-credential-${source.helper} (${source.file})`;
      const output = await runHelper(source.helper, source.server, timeoutMs);
      // "credentials not found": nothing is sent, and a refused pull must say berth found none.
      if (output === null) return { registry, credentials: null, from: null, searched: [...searched, helper] };
      const credentials = helperCredentials(source.server, output);
      if (credentials === null)
        throw BerthError.retriable("BERTH_REGISTRY_AUTH", `${helper}: its answer is not {"Username", "Secret"} JSON`);
      return { registry, credentials, from: helper, searched: [...searched, helper] };
    },
  };
}
