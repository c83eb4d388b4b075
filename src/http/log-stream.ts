/**
 * A container's logs as Server-Sent Events, for the native API (GET /v1/containers/{name}/logs)
 * and Artie's (GET /api/containers/:id/logs): one stream plumbing, each API its own event shapes.
 * Streams still open when the server closes are ended (they would otherwise hold it open).
 */
import type { FastifyReply } from "fastify";
import type { ObservedContainer } from "../core/observed.js";
import type { LogLine, LogOptions } from "../docker/port.js";
import type { ManagedContainers } from "../ops/containers.js";

/** What one API writes: a whole SSE event (`event: …\ndata: …\n\n`) per step; null: nothing. */
export interface SseFormat {
  open(container: ObservedContainer): string | null;
  line(line: LogLine): string;
  end(err?: Error): string | null;
}

/** One SSE event of `data` (JSON), named when `event` is given. */
export function sseEvent(data: unknown, event?: string): string {
  return `${event !== undefined ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
}

/** Serves one container's logs on the watched request. */
export type ServeLogs = (
  reply: FastifyReply,
  containers: ManagedContainers,
  container: ObservedContainer,
  options: LogOptions,
  format: SseFormat,
) => Promise<FastifyReply>;

export class LogStreams {
  /** Stops of the streams being served. */
  private readonly open = new Set<() => void>();

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    for (const stop of this.open) stop();
  }

  /**
   * Watches for the client going away from the start of a request, so that a log stream opened
   * after it left is closed at once: a follow stream nobody reads would hold a connection to the
   * engine for good. Call before any await; then `serve`.
   */
  watch(reply: FastifyReply): { readonly gone: () => boolean; readonly serve: ServeLogs } {
    const raw = reply.raw;
    const state = { gone: raw.destroyed, stream: null as { close(): void } | null };
    raw.once("close", () => {
      state.gone = true;
      state.stream?.close();
    });
    return {
      gone: () => state.gone,
      serve: (...args) => this.serveWith(state, ...args),
    };
  }

  private async serveWith(
    state: { gone: boolean; stream: { close(): void } | null },
    reply: FastifyReply,
    containers: ManagedContainers,
    container: ObservedContainer,
    options: LogOptions,
    format: SseFormat,
  ): Promise<FastifyReply> {
    const raw = reply.raw;
    reply.hijack();
    if (state.gone) return reply;
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    // The headers go now: a stream whose first event waits for a log line (Artie's) is open at once.
    raw.flushHeaders();
    // The opening event waits for the engine's stream (its answer, a line, or its end): a client
    // that writes a line once it has seen it gets that line, even with tail=0.
    let begun = false;
    const begin = (): void => {
      if (begun) return;
      begun = true;
      const opening = format.open(container);
      if (opening !== null && !raw.destroyed) raw.write(opening);
    };
    let ended = false;
    const end = (err?: Error): void => {
      if (ended) return;
      ended = true;
      if (raw.destroyed) return;
      begin();
      const last = format.end(err);
      if (last !== null) raw.write(last);
      raw.end();
    };
    const stop = (): void => {
      state.stream?.close();
      end();
    };
    this.open.add(stop);
    raw.once("close", () => this.open.delete(stop));
    try {
      const opened = await containers.logs(container, options, {
        onLine: (line) => {
          if (ended || raw.destroyed) return;
          begin();
          raw.write(format.line(line));
        },
        onEnd: end,
      });
      if (state.gone) opened.close();
      else {
        state.stream = opened;
        if (!ended) begin();
      }
    } catch (err) {
      end(err as Error);
    }
    return reply;
  }
}
