/**
 * An interactive exec over a WebSocket (docs/http-api.md, "Terminals"): the native
 * /v1/containers/{name}/terminal and Artie's /api/containers/:id/terminal.
 *
 * - client → berth: a binary frame is input as it is; a text frame is input too, unless it is a
 *   control message, a JSON object with a `type`: `{"type":"resize","cols":120,"rows":40}`, or
 *   `{"type":"input","data":"ls\r"}`;
 * - berth → client: the terminal's output, as binary frames (native) or text (Artie's browser
 *   terminal);
 * - when the command ends berth closes with code 1000 and the reason `{"exitCode":N}`; a
 *   terminal that could not start closes with 1011 and the reason why. A client that goes away
 *   hangs the terminal up (its shell gets SIGHUP).
 */
import type { FastifyBaseLogger } from "fastify";
import type { TerminalHandlers, TerminalSession, TerminalSize } from "../docker/port.js";

/** What berth uses of a WebSocket (ws's, as @fastify/websocket hands it over). */
export interface TerminalSocket {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: Buffer | string, options?: { binary?: boolean }): void;
  close(code?: number, reason?: string): void;
  on(event: "message", listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: "close", listener: () => void): unknown;
}

/** How berth writes output to the client. */
export type OutputFrames = "binary" | "text";

/** The close code of a command that ended (its exit code is in the reason), and of one that could not start. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_FAILED = 1011;
/** A close reason is at most 123 bytes. */
const MAX_REASON = 120;
/** The size of a terminal whose client never says. */
export const DEFAULT_SIZE: TerminalSize = { cols: 80, rows: 24 };

type Control =
  { readonly type: "resize"; readonly size: TerminalSize } | { readonly type: "input"; readonly data: string };

const isDimension = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 10_000;

/** A text frame that is a control message; null when it is plain input. */
export function controlOf(text: string): Control | null {
  if (!text.startsWith("{")) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const m = parsed as Record<string, unknown>;
  if (m.type === "resize" && isDimension(m.cols) && isDimension(m.rows))
    return { type: "resize", size: { cols: m.cols, rows: m.rows } };
  if ((m.type === "input" || m.type === "stdin") && typeof m.data === "string") return { type: "input", data: m.data };
  return null;
}

function reason(text: string): string {
  return Buffer.byteLength(text) <= MAX_REASON ? text : `${Buffer.from(text).subarray(0, MAX_REASON).toString()}…`;
}

/**
 * Connects a WebSocket to a terminal that `open` starts. Input that arrives before the terminal
 * is open waits for it.
 */
export function bridgeTerminal(
  socket: TerminalSocket,
  open: (handlers: TerminalHandlers) => Promise<TerminalSession>,
  output: OutputFrames,
  log: FastifyBaseLogger,
): void {
  let session: TerminalSession | null = null;
  let gone = false;
  const pending: (Buffer | Control)[] = [];
  // In the order they came: input sent after a resize reaches the command once the resize is made.
  let applied = Promise.resolve();
  const apply = (s: TerminalSession, item: Buffer | Control): void => {
    applied = applied.then(async () => {
      if (Buffer.isBuffer(item)) s.write(item);
      else if (item.type === "input") s.write(Buffer.from(item.data));
      else await s.resize(item.size).catch(() => undefined);
    });
  };
  socket.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const item = isBinary ? bytes : (controlOf(bytes.toString("utf8")) ?? bytes);
    if (session) apply(session, item);
    else pending.push(item);
  });
  socket.on("close", () => {
    gone = true;
    session?.close();
  });
  const decoder = new TextDecoder("utf-8");
  open({
    onOutput: (_stream, data) => {
      if (socket.readyState !== socket.OPEN) return;
      if (output === "binary") socket.send(data, { binary: true });
      else socket.send(decoder.decode(data, { stream: true }));
    },
  }).then(
    (s) => {
      if (gone) {
        s.close();
        return;
      }
      session = s;
      for (const item of pending.splice(0)) apply(s, item);
      void s.exited.then((exitCode) => {
        if (socket.readyState === socket.OPEN) socket.close(CLOSE_NORMAL, JSON.stringify({ exitCode }));
      });
    },
    (err: unknown) => {
      const message = (err as Error).message;
      log.warn({ err: message }, "terminal not opened");
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_FAILED, reason(message));
    },
  );
}
