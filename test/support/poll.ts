/** Poll-with-deadline: the test-side replacement for sleeps. */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls until `read` returns a value satisfying `accept`; returns the last value read. */
export async function pollValue<T>(
  read: () => T | Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * What `url` serves, as `STATUS BODY` (the body trimmed), polled until a server answers at all;
 * `error ...` (the last error) if none does within `timeoutMs`. A container counts as running a
 * moment before its server listens, so the first connections may be refused.
 */
export async function servedPage(url: string, timeoutMs = 10_000): Promise<string> {
  const read = () =>
    fetch(url).then(
      async (res) => `${res.status} ${(await res.text()).trim()}`,
      (err: unknown) => `error ${String(err)}`,
    );
  return pollValue(read, (text) => !text.startsWith("error "), timeoutMs, 100);
}
