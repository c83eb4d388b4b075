/**
 * The one module that runs the `git` program (docs/design.md, "Judgement calls": git, not
 * isomorphic-git, which speaks no ssh). Every run has a fixed argument list (execFile: no shell),
 * a timeout, and a scrubbed environment: no prompt, no system or user configuration, a private
 * HOME, ssh with the given key and known_hosts only and strict host checking. Credentials never
 * reach argv or a message: an https token travels as an `http.extraHeader` in git's
 * GIT_CONFIG_* environment, and every message is scrubbed of URLs' userinfo and of the token.
 */
import { execFile } from "node:child_process";
import { scrubSecrets } from "../core/git-source.js";

export interface GitCredentials {
  /** An https token (the file's content): `user:password` is sent as Basic, anything else as Bearer. */
  readonly token: string | null;
  /** The ssh private key file. */
  readonly sshKeyFile: string | null;
  /** The known_hosts file ssh checks the server's key against (strict: unknown hosts are refused). */
  readonly knownHostsFile: string | null;
}

export const NO_CREDENTIALS: GitCredentials = { token: null, sshKeyFile: null, knownHostsFile: null };

export interface GitOptions {
  /** A private folder for HOME (nothing of the user's own configuration is read). */
  readonly home: string;
  readonly credentials: GitCredentials;
  readonly timeoutMs: number;
  /** More environment for this one run (GIT_INDEX_FILE). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A git run that failed: its message is scrubbed, and says what git said. */
export class GitError extends Error {
  constructor(
    message: string,
    /** "timeout", "missing" (no git program), or "failed". */
    readonly kind: "timeout" | "missing" | "failed",
  ) {
    super(message);
    this.name = "GitError";
  }
}

/** How ssh is run: the key alone, the known_hosts file alone, no prompt, no agent. */
function sshCommand(c: GitCredentials): string {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const parts = ["ssh", "-o BatchMode=yes", "-o StrictHostKeyChecking=yes", "-o IdentitiesOnly=yes", "-F /dev/null"];
  if (c.sshKeyFile !== null) parts.push(`-i ${quote(c.sshKeyFile)}`);
  parts.push(`-o UserKnownHostsFile=${quote(c.knownHostsFile ?? "/dev/null")}`);
  return parts.join(" ");
}

function authorization(token: string): string {
  return token.includes(":") ? `Basic ${Buffer.from(token).toString("base64")}` : `Bearer ${token}`;
}

/** The whole environment of a git run: nothing inherited but PATH (and the locale, for messages). */
export function gitEnv(options: Pick<GitOptions, "home" | "credentials" | "env">): Record<string, string> {
  const config: [string, string][] = [["protocol.ext.allow", "never"]];
  if (options.credentials.token !== null)
    config.push(["http.extraHeader", `Authorization: ${authorization(options.credentials.token)}`]);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LC_ALL: "C",
    HOME: options.home,
    XDG_CONFIG_HOME: options.home,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    GIT_SSH_COMMAND: sshCommand(options.credentials),
    GIT_CONFIG_COUNT: String(config.length),
    ...options.env,
  };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Lines git adds to every failure that say nothing of this one (ssh's own reason comes before them). */
const BOILERPLATE = ["hint:", "Please make sure you have the correct access rights", "and the repository exists."];

/** Runs `git ARGS…` and returns its standard output; a GitError with git's own words otherwise. */
export function runGit(args: readonly string[], options: GitOptions): Promise<string> {
  const secrets = options.credentials.token !== null ? [options.credentials.token] : [];
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        env: gitEnv(options),
        timeout: options.timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: MAX_OUTPUT,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === "ENOENT") {
          reject(new GitError("the git program is not installed (apt-get install git)", "missing"));
          return;
        }
        const said = stderr
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "" && !BOILERPLATE.some((b) => l.startsWith(b)))
          .slice(-4)
          .join("; ");
        const message = e.killed
          ? `git ${args[0] ?? ""} did not finish within ${Math.round(options.timeoutMs / 1000)} s`
          : `git ${args[0] ?? ""} failed: ${said || e.message}`;
        reject(new GitError(scrubSecrets(message, secrets), e.killed ? "timeout" : "failed"));
      },
    );
  });
}
