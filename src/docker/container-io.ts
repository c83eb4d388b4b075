/**
 * Exec and logs against a real engine, for the operator surfaces. Callers have
 * already checked that the container is berth's own.
 */
import { readFile } from "node:fs/promises";
import type { Duplex, Readable } from "node:stream";
import type { DockerClient, DockerExec } from "./client.js";
import { mapError } from "./errors.js";
import { CappedBuffer, Demuxer, LineSplitter, type StreamName } from "./demux.js";
import type {
  ContainerIO,
  ExecCommand,
  ExecRequest,
  ExecResult,
  LogHandlers,
  LogOptions,
  TerminalHandlers,
  TerminalRequest,
  TerminalSession,
  TerminalSize,
} from "./port.js";

/** How long to wait for the output to end once the timed-out process is killed. */
const AFTER_KILL_MS = 2000;
/** After an interactive exec's output ends, how long the engine may take to report it finished. */
const EXIT_REPORT_MS = 2000;
const EXIT_POLL_MS = 50;

/**
 * Kills an exec'd process and its descendants by host PID, when berth can see them (it runs on
 * the host, or with --pid host) and the process is in that container's cgroup. Docker has no API
 * to kill an exec.
 */
async function killExec(pid: number, containerId: string): Promise<boolean> {
  if (!(pid > 0)) return false;
  try {
    const cgroup = await readFile(`/proc/${pid}/cgroup`, "utf8");
    if (!cgroup.includes(containerId)) return false;
    const tree = [pid];
    for (let i = 0; i < tree.length && tree.length < 1000; i++) {
      const children = await readFile(`/proc/${tree[i]}/task/${tree[i]}/children`, "utf8").catch(() => "");
      tree.push(...children.split(" ").filter(Boolean).map(Number));
    }
    for (const p of tree.reverse()) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    return true;
  } catch {
    return false;
  }
}

/** The engine's exec-create fields for what runs, and as whom. */
function execCreate(command: ExecCommand) {
  return {
    Cmd: [...command.cmd],
    ...(command.workdir !== undefined ? { WorkingDir: command.workdir } : {}),
    ...(command.env !== undefined ? { Env: [...command.env] } : {}),
    ...(command.user !== undefined ? { User: command.user } : {}),
  };
}

/** Made by DockerAdapter.containerIO(), on the adapter's own client. */
export class DockerContainerIO implements ContainerIO {
  constructor(
    private readonly docker: DockerClient,
    private readonly callTimeoutMs: number,
  ) {}

  async exec(id: string, request: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    const container = this.docker.getContainer(id);
    let exec: DockerExec;
    let stream: Duplex;
    try {
      exec = await container.exec({ ...execCreate(request), AttachStdout: true, AttachStderr: true, Tty: false });
      stream = await exec.start({ hijack: true, stdin: false });
    } catch (err) {
      throw mapError("exec", err, id);
    }
    const out = { stdout: new CappedBuffer(request.maxOutputBytes), stderr: new CappedBuffer(request.maxOutputBytes) };
    const demux = new Demuxer((name, payload) => {
      out[name].push(payload);
    });
    stream.on("data", (chunk: Buffer) => {
      demux.push(chunk);
    });
    const ended = new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", () => {
        resolve();
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      ended.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          resolve(true);
        }, request.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    let killed = false;
    if (timedOut) {
      const info = await exec.inspect().catch(() => null);
      killed = info?.Running === true && (await killExec(info.Pid, info.ContainerID));
      // Cleared once the output ends: a pending timer would hold `berth exec` open after it is done.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        ended,
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, AFTER_KILL_MS);
        }),
      ]);
      clearTimeout(grace);
      stream.destroy();
    }
    const info = timedOut
      ? null
      : await exec.inspect().catch((err: unknown) => Promise.reject(mapError("exec", err, id)));
    return {
      exitCode: info?.ExitCode ?? null,
      stdout: out.stdout.text(),
      stderr: out.stderr.text(),
      truncated: out.stdout.truncated || out.stderr.truncated,
      timedOut,
      killed,
      durationMs: Math.round(performance.now() - started),
    };
  }

  async terminal(id: string, request: TerminalRequest, handlers: TerminalHandlers): Promise<TerminalSession> {
    const container = this.docker.getContainer(id);
    let exec: DockerExec;
    let stream: Duplex;
    try {
      exec = await container.exec({
        ...execCreate(request),
        AttachStdin: request.stdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: request.tty,
      });
      stream = await exec.start({ hijack: true, stdin: request.stdin, Tty: request.tty });
    } catch (err) {
      throw mapError("exec", err, id);
    }
    const resize = async (size: TerminalSize): Promise<void> => {
      if (!request.tty) return;
      try {
        await exec.resize({ h: size.rows, w: size.cols });
      } catch (err) {
        throw mapError("exec", err, id);
      }
    };
    // Under a TTY the output is the terminal's bytes as they are; without one, Docker's frames.
    const demux = new Demuxer((name, payload) => {
      handlers.onOutput(name, payload);
    });
    stream.on("data", (chunk: Buffer) => {
      if (request.tty) handlers.onOutput("stdout", chunk);
      else demux.push(chunk);
    });
    const ended = new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", () => {
        resolve();
      });
    });
    const exited = ended.then(async () => {
      // The engine may report the process as running for a moment after its output ended.
      const deadline = performance.now() + EXIT_REPORT_MS;
      for (;;) {
        const info = await exec.inspect().catch(() => null);
        if (info === null) return null;
        if (!info.Running) return info.ExitCode;
        if (performance.now() >= deadline) return null;
        await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
      }
    });
    if (request.size) await resize(request.size).catch(() => undefined);
    return {
      write: (data) => {
        if (!stream.writableEnded && !stream.destroyed) stream.write(data);
      },
      endInput: () => {
        if (!stream.writableEnded && !stream.destroyed) stream.end();
      },
      resize,
      close: () => {
        stream.destroy();
      },
      exited,
    };
  }

  async user(id: string): Promise<string> {
    try {
      const info = await this.docker
        .getContainer(id)
        .inspect({ abortSignal: AbortSignal.timeout(this.callTimeoutMs) } as object);
      return info.Config.User;
    } catch (err) {
      throw mapError("inspect", err, id);
    }
  }

  async logs(id: string, options: LogOptions, handlers: LogHandlers): Promise<{ close(): void }> {
    const container = this.docker.getContainer(id);
    let tty: boolean;
    let source: Readable | Buffer;
    try {
      const info = await container.inspect({ abortSignal: AbortSignal.timeout(this.callTimeoutMs) } as object);
      tty = info.Config.Tty;
      const common = {
        stdout: true,
        stderr: true,
        timestamps: true,
        ...(options.tail !== null ? { tail: options.tail } : {}),
        ...(options.since !== null ? { since: options.since } : {}),
      } as const;
      source = options.follow
        ? ((await container.logs({ ...common, follow: true })) as unknown as Readable)
        : await container.logs({ ...common, follow: false });
    } catch (err) {
      throw mapError("logs", err, id);
    }
    return logLines(source, tty, handlers);
  }
}

const NEWLINE = 0x0a;
/** The engine's stamp: RFC 3339 with its nanoseconds (fixed width), and a space. */
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) /;

/** How many bytes the stamp at the start of a message takes (0 without one). */
function stampLength(payload: Buffer): number {
  return STAMP.exec(payload.subarray(0, 64).toString("latin1"))?.[0].length ?? 0;
}

/**
 * A logs answer (a buffer, or a stream when following) as lines, each with its stream and the
 * engine's timestamp: Docker's frames unless the source has a TTY. Shared by a container's logs
 * and a service's (swarm-adapter.ts). Under a TTY the stream has no frames, and a long line's
 * continuations cannot be told from its text: berth runs its containers without one.
 */
export function logLines(source: Readable | Buffer, tty: boolean, handlers: LogHandlers): { close(): void } {
  const splitters = new Map<StreamName, LineSplitter>();
  const splitter = (name: StreamName): LineSplitter => {
    let s = splitters.get(name);
    if (!s) {
      s = new LineSplitter((text) => {
        const m = /^(\d{4}-\d\d-\d\dT\S+Z) ?(.*)$/s.exec(text);
        handlers.onLine({ stream: name, time: m?.[1] ?? null, line: m ? (m[2] ?? "") : text });
      });
      splitters.set(name, s);
    }
    return s;
  };
  // Each frame is one message of the engine's, stamped. A line longer than the log driver's
  // buffer (16 KiB for json-file and local) is stored as partial messages, all but the last
  // without their "\n", and each is a frame of its own with its own time in front (moby's
  // daemon/logger/copier.go makes them; daemon/server/httputils/logstream/logstream.go stamps
  // every message): the line keeps its first time, a continuation's goes.
  const midLine = new Set<StreamName>();
  const demux = new Demuxer((name, payload) => {
    const body = midLine.has(name) ? payload.subarray(stampLength(payload)) : payload;
    if (payload.length > 0) {
      if (payload[payload.length - 1] === NEWLINE) midLine.delete(name);
      else midLine.add(name);
    }
    splitter(name).push(body);
  });
  const feed = (chunk: Buffer): void => {
    if (tty) splitter("stdout").push(chunk);
    else demux.push(chunk);
  };
  let done = false;
  const finish = (err?: Error): void => {
    if (done) return;
    done = true;
    for (const s of splitters.values()) s.flush();
    handlers.onEnd(err);
  };
  if (Buffer.isBuffer(source)) {
    feed(source);
    finish();
    return { close: () => undefined };
  }
  const stream = source;
  stream.on("data", feed);
  stream.once("end", () => {
    finish();
  });
  stream.once("error", (err) => {
    finish(err);
  });
  stream.once("close", () => {
    finish();
  });
  return {
    close: () => {
      stream.destroy();
      finish();
    },
  };
}
