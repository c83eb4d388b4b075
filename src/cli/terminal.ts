/**
 * `berth exec -i`/`-t` on this process's terminal, as `docker exec -it` and `kubectl exec -it`:
 * the local terminal in raw mode (keys, Ctrl-C included, go to the command), its size sent at the
 * start and on every resize, and back to how it was when the command ends, whatever happens.
 */
import type { TerminalHandlers, TerminalSession, TerminalSize } from "../docker/port.js";

export interface TerminalFlags {
  /** Send this process's standard input (-i). */
  readonly interactive: boolean;
  /** A pseudo-terminal (-t). */
  readonly tty: boolean;
}

/** The local terminal's size, when standard output is one. */
export function localSize(): TerminalSize | undefined {
  const { columns, rows } = process.stdout;
  return process.stdout.isTTY && columns > 0 && rows > 0 ? { cols: columns, rows } : undefined;
}

/** Runs an interactive exec `open` starts on this process's streams; resolves with its exit code. */
export async function attachTerminal(
  open: (handlers: TerminalHandlers) => Promise<TerminalSession>,
  flags: TerminalFlags,
): Promise<number | null> {
  const session = await open({
    onOutput: (stream, data) => {
      (stream === "stderr" ? process.stderr : process.stdout).write(data);
    },
  });
  const stdin = process.stdin;
  const raw = flags.tty && flags.interactive && stdin.isTTY;
  const onData = (chunk: Buffer): void => {
    session.write(chunk);
  };
  const onEnd = (): void => {
    session.endInput();
  };
  const onResize = (): void => {
    const size = localSize();
    if (size) void session.resize(size).catch(() => undefined);
  };
  try {
    if (raw) stdin.setRawMode(true);
    if (flags.interactive) {
      stdin.on("data", onData);
      stdin.once("end", onEnd);
      stdin.resume();
    }
    if (flags.tty) process.stdout.on("resize", onResize);
    return await session.exited;
  } finally {
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    process.stdout.off("resize", onResize);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    session.close();
  }
}
