/**
 * Git remotes on loopback for the GitOps tests: a bare repository with a working clone that
 * commits and pushes (force pushes too), served as file://, by `git daemon`, or over smart HTTP
 * (`git http-backend` as a CGI behind a small node server that checks a bearer token and counts
 * fetches).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { afterAll } from "vitest";
import { pollUntil } from "./poll.js";
import { tempDir } from "./tmp.js";

const children = new Set<ChildProcess>();
const servers = new Set<http.Server>();
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await Promise.all([...servers].map((s) => new Promise((resolve) => s.close(resolve))));
});

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "berth test",
  GIT_AUTHOR_EMAIL: "test@berth.invalid",
  GIT_COMMITTER_NAME: "berth test",
  GIT_COMMITTER_EMAIL: "test@berth.invalid",
};

function git(cwd: string, args: readonly string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" }).trim();
}

export class GitRemote {
  /** The folder holding the bare repository `repo.git` (git daemon's and http-backend's root). */
  readonly root: string;
  readonly bare: string;
  private readonly work: string;

  constructor() {
    this.root = tempDir("berth-git-", "file");
    this.bare = path.join(this.root, "repo.git");
    this.work = path.join(this.root, "work");
    git(this.root, ["init", "--quiet", "--bare", "--initial-branch=main", this.bare]);
    git(this.root, ["init", "--quiet", "--initial-branch=main", this.work]);
    git(this.work, ["remote", "add", "origin", this.bare]);
  }

  get fileUrl(): string {
    return `file://${this.bare}`;
  }

  /** Writes (or, for null, removes) files, commits and pushes; returns the new commit's SHA. */
  commit(message: string, files: Readonly<Record<string, string | null>>): string {
    for (const [file, text] of Object.entries(files)) {
      const full = path.join(this.work, file);
      if (text === null) rmSync(full, { force: true });
      else {
        mkdirSync(path.dirname(full), { recursive: true });
        writeFileSync(full, text);
      }
    }
    git(this.work, ["add", "--all"]);
    git(this.work, ["commit", "--quiet", "--allow-empty", "-m", message]);
    git(this.work, ["push", "--quiet", "--force", "origin", "HEAD:main"]);
    return git(this.work, ["rev-parse", "HEAD"]);
  }

  /** Moves main back to `sha` (a force push), as a rewritten history does. */
  forcePush(sha: string): void {
    git(this.work, ["reset", "--quiet", "--hard", sha]);
    git(this.work, ["push", "--quiet", "--force", "origin", "HEAD:main"]);
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      resolve(false);
    });
  });
}

/** `git daemon` serving the remote's root on 127.0.0.1; stop() ends it (the remote is then down). */
export async function gitDaemon(remote: GitRemote): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    "git",
    ["daemon", "--reuseaddr", "--export-all", `--base-path=${remote.root}`, "--listen=127.0.0.1", `--port=${port}`],
    { env: GIT_ENV, stdio: "ignore" },
  );
  children.add(child);
  if (!(await pollUntil(() => answers(port), 10_000))) throw new Error(`git daemon did not listen on ${port}`);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url: `git://127.0.0.1:${port}/repo.git`,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      children.delete(child);
    },
  };
}

export interface HttpRemote {
  readonly url: string;
  /** Fetches served (each begins with GET …/info/refs?service=git-upload-pack, with the right token). */
  readonly fetches: number;
  /** Requests refused for a missing or wrong token. */
  readonly refused: number;
  /** Every Authorization header seen (to check what berth sent). */
  readonly authorizations: readonly string[];
}

/** Smart HTTP: `git http-backend` behind a node server that wants `Authorization: Bearer TOKEN`. */
export async function httpRemote(remote: GitRemote, token: string): Promise<HttpRemote> {
  const state = { fetches: 0, refused: 0, authorizations: [] as string[] };
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    state.authorizations.push(auth);
    if (auth !== `Bearer ${token}`) {
      state.refused++;
      res.writeHead(401, { "www-authenticate": 'Bearer realm="git"' }).end("no");
      return;
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname.endsWith("/info/refs")) state.fetches++;
    const cgi = spawn("git", ["http-backend"], {
      env: {
        ...GIT_ENV,
        GIT_PROJECT_ROOT: remote.root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        REMOTE_ADDR: "127.0.0.1",
      },
    });
    children.add(cgi);
    cgi.once("exit", () => children.delete(cgi));
    req.pipe(cgi.stdin);
    // A CGI answer: header lines, a blank line, the body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on("end", () => res.end());
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/repo.git`,
    get fetches() {
      return state.fetches;
    },
    get refused() {
      return state.refused;
    },
    get authorizations() {
      return state.authorizations;
    },
  };
}

export interface SshRemote {
  readonly url: string;
  /** A key sshd accepts, and a known_hosts file naming sshd's host key. */
  readonly keyFile: string;
  readonly knownHostsFile: string;
  /** A known_hosts file naming another key for the same host (a man in the middle). */
  readonly wrongKnownHostsFile: string;
}

/**
 * `sshd` on a free loopback port, for this user, accepting one fresh key (scripts/ensure-git.sh
 * installs it). The key and known_hosts files are written to `secrets`.
 */
export async function sshRemote(remote: GitRemote, secrets: string): Promise<SshRemote> {
  const dir = tempDir("berth-sshd-", "file");
  const keygen = (file: string) =>
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "berth-test", "-f", file]);
  keygen(path.join(dir, "host"));
  keygen(path.join(dir, "other-host"));
  const keyFile = path.join(secrets, "id_ed25519");
  keygen(keyFile);
  writeFileSync(path.join(dir, "authorized_keys"), readFileSync(`${keyFile}.pub`));
  const port = await freePort();
  const user = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
  mkdirSync("/run/sshd", { recursive: true });
  const child = spawn(
    "/usr/sbin/sshd",
    [
      "-D",
      "-e",
      "-f",
      "/dev/null",
      "-o",
      `ListenAddress=127.0.0.1:${port}`,
      "-o",
      `HostKey=${path.join(dir, "host")}`,
      "-o",
      `AuthorizedKeysFile=${path.join(dir, "authorized_keys")}`,
      "-o",
      "StrictModes=no",
      "-o",
      "PasswordAuthentication=no",
      "-o",
      "KbdInteractiveAuthentication=no",
      "-o",
      "PermitRootLogin=prohibit-password",
      "-o",
      `AllowUsers=${user}`,
      "-o",
      `PidFile=${path.join(dir, "sshd.pid")}`,
    ],
    { stdio: "ignore" },
  );
  children.add(child);
  if (!(await pollUntil(() => answers(port), 10_000))) throw new Error(`sshd did not listen on ${port}`);
  const hostLine = (file: string) =>
    `[127.0.0.1]:${port} ${readFileSync(`${file}.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`;
  const knownHostsFile = path.join(secrets, "known_hosts");
  writeFileSync(knownHostsFile, hostLine(path.join(dir, "host")));
  const wrongKnownHostsFile = path.join(secrets, "known_hosts.wrong");
  writeFileSync(wrongKnownHostsFile, hostLine(path.join(dir, "other-host")));
  return { url: `ssh://${user}@127.0.0.1:${port}${remote.bare}`, keyFile, knownHostsFile, wrongKnownHostsFile };
}
