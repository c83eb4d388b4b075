/**
 * Registry credentials on the host: `--registry-auth-file` (under an allowed secret folder, as
 * every secret file) and Docker's own config.json (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`), read at each lookup so that a `docker login` or a rotated file counts
 * at the next pull; credential helpers run as `docker-credential-<name> get` with the server on
 * standard input (fixed argv, no shell, a deadline). The choice of entry is core/registry.ts's.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BerthError } from "../core/errors.js";
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
    throw BerthError.retriable("BERTH_REGISTRY_AUTH", `${file}: cannot read it (${(err as Error).message})`, err);
  }
  return parseAuthFile(file, text);
}

/** Runs `docker-credential-<helper> get` with the server on stdin; null when it has nothing for it. */
function runHelper(helper: string, server: string, timeoutMs: number): Promise<string | null> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ["get"], { timeout: timeoutMs, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      // Docker's helpers say so on stdout or stderr, with exit code 1.
      if (/credentials not found/i.test(`${stdout}${stderr}`)) {
        resolve(null);
        return;
      }
      const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "is not on PATH" : "failed";
      // Its first line of stderr only, cut short: a helper's error says what went wrong, not the secret.
      const detail = stderr.split("\n")[0]?.slice(0, 200) ?? "";
      reject(
        BerthError.retriable("BERTH_REGISTRY_AUTH", `${program} get ${why}${detail ? `: ${detail}` : ""}`, undefined),
      );
    });
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
      const from = `docker-credential-${source.helper} (${source.file})`;
      const output = await runHelper(source.helper, source.server, timeoutMs);
      const credentials = output === null ? null : helperCredentials(source.server, output);
      if (output !== null && credentials === null)
        throw BerthError.retriable("BERTH_REGISTRY_AUTH", `${from}: its answer is not {"Username", "Secret"} JSON`);
      return { registry, credentials, from, searched: [...searched, from] };
    },
  };
}
