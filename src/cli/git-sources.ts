/**
 * The Git sources' wiring shared by `run` under both targets: their credentials and webhook
 * secret read from files, their checkouts under `<state dir>/git/<id>` (0700), and the first
 * fetch of each before the first pass (observe-first: a pass never sees a source without its
 * checkout when one can be had), cut short by a signal.
 */
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { AppDeps } from "../app.js";
import type { Config } from "../config.js";
import { BerthError } from "../core/errors.js";
import type { GitSources } from "../loop/git-sources.js";

export type GitSecrets = Pick<NonNullable<AppDeps["git"]>, "credentials" | "webhookSecret">;

/**
 * The Git sources' credentials and webhook secret, from their files (checked by config.ts to lie
 * under the allowed secret folders).
 */
export async function readGitSecrets(config: Config): Promise<GitSecrets> {
  const read = async (flag: string, file: string | null): Promise<string | null> => {
    if (file === null) return null;
    try {
      const text = (await readFile(file, "utf8")).trim();
      if (text === "") throw new Error("it is empty");
      return text;
    } catch (err) {
      throw BerthError.usage(`${flag}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const git = config.git;
  if (git.webhookSecretFile !== null && git.sources.length === 0)
    throw BerthError.usage("--git-webhook-secret-file: applies only with --git URL");
  const webhookSecret = await read("--git-webhook-secret-file", git.webhookSecretFile);
  if (webhookSecret !== null && webhookSecret.length < 16)
    throw BerthError.usage(
      "--git-webhook-secret-file: the secret must be at least 16 characters (e.g. openssl rand -hex 32)",
    );
  for (const [flag, file] of [
    ["--git-ssh-key-file", git.sshKeyFile],
    ["--git-known-hosts", git.knownHostsFile],
  ] as const)
    if (file !== null) await read(flag, file);
  return {
    credentials: {
      token: await read("--git-token-file", git.tokenFile),
      sshKeyFile: git.sshKeyFile,
      knownHostsFile: git.knownHostsFile,
    },
    webhookSecret,
  };
}

export interface GitCheckouts {
  /** What createApp/createSwarm need: none without --git. */
  readonly deps: Pick<AppDeps, "git">;
  /** Makes the checkouts' folder and fetches each source once, or until `stopped`. */
  firstFetch(sources: GitSources | null, stopped: Promise<void>): Promise<void>;
}

/** The checkouts of `config`'s Git sources under `stateDir`. */
export function gitCheckouts(config: Config, stateDir: string, secrets: GitSecrets): GitCheckouts {
  if (config.git.sources.length === 0) return { deps: {}, firstFetch: () => Promise.resolve() };
  const root = path.join(stateDir, "git", config.controllerId);
  return {
    deps: { git: { root, ...secrets } },
    firstFetch: async (sources, stopped) => {
      if (sources === null) return;
      await mkdir(root, { recursive: true, mode: 0o700 });
      await Promise.race([sources.start(), stopped]);
    },
  };
}
