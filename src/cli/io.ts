import { isatty } from "node:tty";

/** Where a command writes: process streams in the CLI, buffers in tests. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
  /** Standard error is a terminal (apply's live progress); absent: it is not. */
  readonly errIsTTY?: boolean;
  /** Standard error's width in columns, when it is a terminal. */
  readonly errColumns?: () => number | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * This build's cache folder (cli/code-cache.ts): short commands keep their verdicts on spec
   * files there (manifest/verdicts.ts). Absent: no caches (tests, NODE_DISABLE_COMPILE_CACHE).
   */
  readonly cacheDir?: string;
  /**
   * Resolves once standard output's reader has closed it (EPIPE: `berth … | head -1`); writes
   * after that are dropped. A command that only keeps printing (`logs -f`, `events --watch`)
   * ends then; any other runs on to its own exit code. Absent: it never closes (tests).
   */
  readonly outClosed?: Promise<void>;
}

/** A write to a pipe whose reader has gone (or to a stream already torn down by that). */
function isClosedPipe(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

/** Where one of the process's streams is written: quietly nothing, once its reader has closed it. */
export interface ClosableOut {
  readonly write: (text: string) => void;
  /** Resolves when the reader has closed the stream. */
  readonly closed: Promise<void>;
}

/**
 * Writes to `stream` until its reader closes it. Node reports a write to a closed pipe as an
 * 'error' event on the stream, a tick later: with no listener that is an uncaught exception (a
 * stack trace, exit 1) whenever the process writes again before it exits, as apply and the
 * follow commands do. The listener takes EPIPE as the end of the output; any other error stays
 * uncaught, as before. Direct writes to the stream (exec -it's terminal) are covered too.
 */
export function closableOut(stream: NodeJS.WritableStream): ClosableOut {
  let open = true;
  let close: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  stream.on("error", (err: unknown) => {
    if (!isClosedPipe(err)) throw err;
    open = false;
    close();
  });
  return {
    write: (text) => {
      if (open) stream.write(text);
    },
    closed,
  };
}

const stdout = closableOut(process.stdout);
const stderr = closableOut(process.stderr);

export const processIO: CliIO = {
  out: stdout.write,
  err: stderr.write,
  outClosed: stdout.closed,
  isTTY: isatty(1),
  errIsTTY: isatty(2),
  errColumns: () => process.stderr.columns,
  env: process.env,
  cwd: process.cwd(),
};

/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** Errors found (validate), a failed spec (apply), or a failed command. */
  failed: 1,
  /** `berth plan`: changes are pending. */
  changes: 2,
} as const;

/** What a command module is handed: where to write, and how to set the exit code. */
export interface CommandContext {
  readonly io: CliIO;
  readonly setExit: (code: number) => void;
}
