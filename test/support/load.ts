/** The spec files as `berth validate` sees them: loaded, then checked across files. */
import type { Profile } from "../../src/core/policy/policy.js";
import { SpecLoader, validateLoad } from "../../src/manifest/loader.js";

export async function loadChecked(loader: SpecLoader, profile: Profile = "baseline") {
  const load = await loader.load();
  return { ...load, ...validateLoad(load, profile) };
}

/**
 * A loader whose first load is held open once it has read the folder: `read` resolves then, and
 * the load returns what it read when `release` is called (a DELETE lands in between). Later loads
 * are not held.
 */
export function heldFirstLoad(dir: string): {
  readonly loader: { load(): ReturnType<SpecLoader["load"]> };
  readonly read: Promise<void>;
  readonly release: () => void;
} {
  const files = new SpecLoader([dir]);
  let hasRead: () => void = () => undefined;
  const read = new Promise<void>((resolve) => (hasRead = resolve));
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let loads = 0;
  const loader = {
    load: async () => {
      const result = await files.load();
      if (++loads === 1) {
        hasRead();
        await held;
      }
      return result;
    },
  };
  return { loader, read, release: () => release() };
}

/** Starts `pass`, and once its load has read the folder, `between` runs before the load returns. */
export async function passAround<T>(
  held: ReturnType<typeof heldFirstLoad>,
  pass: () => Promise<T>,
  between: () => void,
): Promise<T> {
  const running = pass();
  await held.read;
  between();
  held.release();
  return running;
}
