/**
 * Reading logs until they end or the user interrupts: opens the stream with `onLine`, closes it at
 * `stop`, and rejects with the stream's error (`berth logs`, for containers and services alike).
 */
import type { LogHandlers, LogLine } from "../docker/port.js";

export async function readLogs(
  open: (handlers: LogHandlers) => Promise<{ close(): void }>,
  onLine: (line: LogLine) => void,
  stop: Promise<void>,
): Promise<void> {
  let failure: Error | undefined;
  await new Promise<void>((resolve) => {
    void open({
      onLine,
      onEnd: (err) => {
        failure = err;
        resolve();
      },
    })
      .then((handle) =>
        stop.then(() => {
          handle.close();
        }),
      )
      .catch((err: unknown) => {
        failure = err as Error;
        resolve();
      });
  });
  if (failure) throw failure;
}
