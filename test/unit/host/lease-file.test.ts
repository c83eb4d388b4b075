/** The file lease store on a real temporary folder (its mutex is a real Unix socket). */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileLeaseStore } from "../../../src/host/lease-file.js";
import { tempDir } from "../../support/tmp.js";

describe("FileLeaseStore", () => {
  it("gives the lease to one holder at a time, in growing terms, and back after it expires or is released", async () => {
    let now = 1_000;
    const file = path.join(tempDir(), "lease");
    const store = new FileLeaseStore(file, "test", () => now);
    const first = await store.acquire("a", 5_000, 0);
    expect(first).toEqual({ acquired: true, term: 1, fresh: false });
    expect(await store.acquire("b", 5_000, 0)).toEqual({ acquired: false, current: { holder: "a", term: 1 } });
    expect(await store.renew({ holder: "a", term: 1 }, 5_000)).toBe(true);
    expect(await store.renew({ holder: "b", term: 1 }, 5_000)).toBe(false);
    now += 5_001;
    expect(await store.renew({ holder: "a", term: 1 }, 5_000)).toBe(false);
    expect(await store.acquire("b", 5_000, 1)).toEqual({ acquired: true, term: 2, fresh: false });
    await store.release({ holder: "a", term: 1 });
    expect(await store.acquire("c", 5_000, 2)).toMatchObject({ acquired: false });
    await store.release({ holder: "b", term: 2 });
    expect(await store.acquire("c", 5_000, 2)).toEqual({ acquired: true, term: 3, fresh: false });
  });

  it("a file removed under holders that saw a term gives a term above it, marked fresh", async () => {
    const dir = tempDir();
    const store = new FileLeaseStore(path.join(dir, "lease"), "test");
    expect(await store.acquire("a", 5_000, 0)).toMatchObject({ term: 1 });
    const again = new FileLeaseStore(path.join(dir, "other"), "test");
    expect(await again.acquire("b", 5_000, 9)).toEqual({ acquired: true, term: 10, fresh: true });
  });

  it("refuses a file it did not write, saying so", async () => {
    const { writeFileSync } = await import("node:fs");
    const file = path.join(tempDir(), "lease");
    writeFileSync(file, "not json");
    await expect(new FileLeaseStore(file, "test").acquire("a", 5_000, 0)).rejects.toThrow(/not a lease file/);
  });
});
