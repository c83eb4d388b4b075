/**
 * The host lock (docs/design.md, "Judgement calls"): one controller per id on a host. Two
 * `berth run` with the same --id fight — each removes what the other creates — so `run`, `apply`
 * and `reap` hold a lock for their id while they work: a Unix domain socket `<state-dir>/<id>.sock`
 * that the holder listens on.
 *
 * - listen succeeds: the lock is held. The holder answers every connection with one JSON line
 *   saying who it is (pid, hostname, start time, version, command, listen address).
 * - EADDRINUSE: connect. If something answers, the id is held: refuse, naming the holder. If the
 *   connection is refused (ECONNREFUSED: a socket file whose process died, even by kill -9) the
 *   lock is stale: remove the file and listen again. ENOENT: it just went; try again.
 *
 * Two berths recovering the same stale lock at once must not both win (the second would remove
 * the first's fresh socket): removing a stale socket happens only while holding a recovery guard,
 * a Linux abstract socket (released by the kernel when its process dies, so it is never stale
 * itself) named after the lock's path. Elsewhere the guard is skipped (a tiny window remains).
 *
 * Limits: one host, and the processes that share the state folder. Two hosts driving one engine
 * over TCP are not covered (`--ha redis://` is; core/writers.ts keeps the two kinds apart); berth containers each with their own
 * tmpfs at /run/berth do not see each other's lock (share a host folder to cover them).
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, chmod, mkdir, stat, unlink } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { BerthError } from "../core/errors.js";

/** What a holder says of itself, one JSON line per connection. */
export interface HolderInfo {
  readonly berth: string;
  readonly command: string;
  readonly id: string;
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
  readonly listen: string | null;
}

export interface HostLock {
  /** The socket's path. */
  readonly path: string;
  /** Sets the HTTP address the holder reports, once it listens. */
  setListen(address: string | null): void;
  /** Closes the socket (the file goes with it). */
  release(): Promise<void>;
}

export interface LockOptions {
  readonly stateDir: string;
  readonly controllerId: string;
  readonly command: string;
  readonly version: string;
  /** How long to wait for a holder's answer. */
  readonly answerTimeoutMs?: number;
  /** More to say in each answer, asked at each connection (an --ha participant's lease). */
  readonly describe?: () => Readonly<Record<string, string | number | null>>;
}

/** The longest Unix socket path (sun_path holds 108 bytes with its terminating NUL). */
const MAX_SOCKET_PATH = 107;
const MAX_ANSWER = 4096;
const ATTEMPTS = 10;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * Creates the state folder (0700) or checks the one given: it must be a folder owned by berth's
 * own user (then made 0700) or by root (a tmpfs mounted for berth). A folder another user owns
 * could fake or block the lock.
 */
export async function prepareStateDir(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  try {
    await mkdir(absolute, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw BerthError.usage(`--state-dir: cannot create ${absolute}: ${(err as Error).message}`);
  }
  const st = await stat(absolute);
  if (!st.isDirectory()) throw BerthError.usage(`--state-dir: ${absolute} is not a folder`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    throw BerthError.usage(
      `--state-dir: ${absolute} belongs to uid ${st.uid}, not to berth's user (uid ${uid}) or root; ` +
        "another user could fake or block berth's lock there: give berth a folder of its own",
    );
  }
  if (uid !== undefined && st.uid === uid && (st.mode & 0o077) !== 0) await chmod(absolute, 0o700);
  return absolute;
}

/**
 * The state folder: --state-dir (BERTH_STATE_DIR) when given; else /run/berth when it can be
 * created and written, else $XDG_RUNTIME_DIR/berth, else <tmpdir>/berth-<uid>.
 */
export async function resolveStateDir(
  given: string | null,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  if (given !== null) return prepareStateDir(given);
  const candidates = ["/run/berth"];
  if (env.XDG_RUNTIME_DIR) candidates.push(path.join(env.XDG_RUNTIME_DIR, "berth"));
  for (const dir of candidates) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await access(dir, constants.W_OK | constants.X_OK);
      return await prepareStateDir(dir);
    } catch {
      // Not here: the next place.
    }
  }
  return prepareStateDir(path.join(os.tmpdir(), `berth-${process.getuid?.() ?? "user"}`));
}

export type Answer =
  | { readonly kind: "answered"; readonly text: string }
  | { readonly kind: "silent" }
  | { readonly kind: "refused" }
  | { readonly kind: "gone" }
  | { readonly kind: "failed"; readonly message: string };

/** Connects to a lock socket and reads the holder's line. */
export function ask(socketPath: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    let text = "";
    let done = false;
    const socket = net.connect(socketPath);
    const finish = (answer: Answer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => {
      finish(text ? { kind: "answered", text } : { kind: "silent" });
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("\n") || text.length >= MAX_ANSWER) finish({ kind: "answered", text });
    });
    socket.on("end", () => {
      finish(text ? { kind: "answered", text } : { kind: "silent" });
    });
    socket.on("error", (err) => {
      const code = errno(err);
      if (code === "ECONNREFUSED") finish({ kind: "refused" });
      else if (code === "ENOENT") finish({ kind: "gone" });
      else finish({ kind: "failed", message: err.message });
    });
  });
}

function listen(server: net.Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off("listening", onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(address);
  });
}

/** A field of a holder's answer, as berth repeats it (the answer is not trusted). */
function field(info: Record<string, unknown>, key: string): string {
  const value = info[key];
  if (typeof value !== "string" && typeof value !== "number") return "?";
  const text = String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text).slice(1, -1);
}

/** A holder's answer as an object, or null when it is not one. */
export function parseHolder(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text.split("\n")[0] ?? "");
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Who holds the lock, in words. */
export function describeHolder(text: string): string {
  const info = parseHolder(text);
  if (info === null) return "a process that does not say who it is";
  const listening = typeof info.listen === "string" ? `, HTTP API on ${field(info, "listen")}` : "";
  return (
    `berth ${field(info, "berth")} (${field(info, "command")}, pid ${field(info, "pid")} on host ` +
    `${field(info, "hostname")}, started ${field(info, "startedAt")}${listening})`
  );
}

function locked(controllerId: string, socketPath: string, holder: string): BerthError {
  return new BerthError(
    "BERTH_LOCKED",
    `controller id ${JSON.stringify(controllerId)} is already held on this host by ${holder}; ` +
      `its lock is ${socketPath}. Two controllers with one id undo each other's work: stop that one first, ` +
      "or give this one another --id",
  );
}

/**
 * Removes a stale lock socket, under the recovery guard: only while no one else recovers it, and
 * only if it is still stale (nobody listens on it). Also the --ha presence sockets' (host/ha-presence.ts).
 */
export async function removeStaleSocket(socketPath: string, timeoutMs: number): Promise<void> {
  const guard = net.createServer();
  guard.unref();
  const name = `\0berth-lock-recovery-${createHash("sha256").update(socketPath).digest("hex").slice(0, 40)}`;
  if (process.platform === "linux") {
    try {
      await listen(guard, name);
    } catch (err) {
      if (errno(err) === "EADDRINUSE") {
        // Another berth is recovering this lock: let it finish, then look again.
        await new Promise((resolve) => setTimeout(resolve, 50));
        return;
      }
      throw err;
    }
  }
  try {
    const again = await ask(socketPath, timeoutMs);
    if (again.kind === "refused") await unlink(socketPath).catch(() => undefined);
  } finally {
    if (guard.listening) await new Promise((resolve) => guard.close(resolve));
  }
}

/**
 * Takes the lock of a controller id, or throws BERTH_LOCKED naming the process that holds it.
 * The lock does not keep the process alive (its server is unref'd) and dies with it.
 */
export async function acquireHostLock(options: LockOptions): Promise<HostLock> {
  const socketPath = path.join(options.stateDir, `${options.controllerId}.sock`);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw BerthError.usage(
      `--state-dir: the lock ${socketPath} is longer than a Unix socket path may be (${MAX_SOCKET_PATH} bytes); choose a shorter folder`,
    );
  }
  const timeoutMs = options.answerTimeoutMs ?? 2000;
  const info: { -readonly [K in keyof HolderInfo]: HolderInfo[K] } = {
    berth: options.version,
    command: options.command,
    id: options.controllerId,
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    listen: null,
  };
  const server = net.createServer((socket) => {
    socket.on("error", () => undefined);
    socket.end(`${JSON.stringify({ ...info, ...options.describe?.() })}\n`);
  });
  server.unref();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      await listen(server, socketPath);
      return {
        path: socketPath,
        setListen: (address) => {
          info.listen = address;
        },
        release: () =>
          new Promise<void>((resolve) => {
            server.close(() => {
              resolve();
            });
          }),
      };
    } catch (err) {
      if (errno(err) !== "EADDRINUSE") {
        throw BerthError.usage(`cannot take the lock ${socketPath}: ${(err as Error).message}`);
      }
    }
    const answer = await ask(socketPath, timeoutMs);
    switch (answer.kind) {
      case "answered":
        throw locked(options.controllerId, socketPath, describeHolder(answer.text));
      case "silent":
        throw locked(options.controllerId, socketPath, "a process that listens on the lock but does not answer");
      case "failed":
        throw BerthError.usage(`cannot look at the lock ${socketPath}: ${answer.message}`);
      case "refused":
        await removeStaleSocket(socketPath, timeoutMs);
        break;
      case "gone":
        break;
    }
  }
  throw BerthError.usage(`cannot take the lock ${socketPath}: it kept changing; try again`);
}

/**
 * Runs `work` holding this controller's host lock (its state folder resolved first), and releases
 * the lock however `work` ends. What `run` and `apply` do: one controller per id on this host.
 */
export async function withHostLock<T>(
  options: Omit<LockOptions, "stateDir"> & { readonly stateDir: string | null },
  work: (lock: HostLock) => Promise<T>,
): Promise<T> {
  const lock = await acquireHostLock({ ...options, stateDir: await resolveStateDir(options.stateDir) });
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}
