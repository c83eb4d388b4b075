/** The file lease store on a real temporary folder: versions created with link(), no lock. */
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileLeaseStore } from "../../../src/host/lease-file.js";
import { pollUntil } from "../../support/poll.js";
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
    const file = path.join(tempDir(), "lease");
    writeFileSync(file, "not json");
    await expect(new FileLeaseStore(file, "test").acquire("a", 5_000, 0)).rejects.toThrow(/not a lease file/);
  });
});

/** A pause a test holds a store in, between its read and its write, and lets go of. */
function pauseOnce(): { seams: { beforeWrite: () => Promise<void> }; paused: Promise<void>; resume: () => void } {
  let resume: () => void = () => undefined;
  let reached: () => void = () => undefined;
  const paused = new Promise<void>((r) => {
    reached = r;
  });
  let used = false;
  return {
    seams: {
      beforeWrite: () => {
        if (used) return Promise.resolve();
        used = true;
        reached();
        return new Promise<void>((r) => {
          resume = r;
        });
      },
    },
    paused,
    resume: () => {
      resume();
    },
  };
}

describe("FileLeaseStore without a lock: a berth paused mid-change", () => {
  const versions = (file: string) => readdirSync(file).filter((n) => n.startsWith("lease."));

  it("blocks no one, and when it resumes after the others wrote, writes nothing over them", async () => {
    const clock = { now: 1_000 };
    const file = path.join(tempDir(), "lease");
    const pause = pauseOnce();
    const a = new FileLeaseStore(file, "test", () => clock.now);
    const b = new FileLeaseStore(file, "test", () => clock.now, pause.seams);
    // b reads a free store and pauses before its write (SIGSTOP between read and write).
    const taking = b.acquire("b", 5_000, 0);
    await pause.paused;
    // a takes the lease and renews it meanwhile: nothing of b's holds it up.
    expect(await a.acquire("a", 5_000, 0)).toEqual({ acquired: true, term: 1, fresh: false });
    for (let i = 0; i < 3; i++) {
      clock.now += 1_000;
      expect(await a.renew({ holder: "a", term: 1 }, 5_000)).toBe(true);
    }
    expect(versions(file)).toEqual(["lease.4"]);
    // b resumes: the version it meant to write was written and removed since; it sees a's lease.
    pause.resume();
    expect(await taking).toEqual({ acquired: false, current: { holder: "a", term: 1 } });
    expect(versions(file)).toEqual(["lease.4"]);
    expect(await a.renew({ holder: "a", term: 1 }, 5_000)).toBe(true);
  });

  it("resuming right after another wrote the version it meant to write, it reads again", async () => {
    const clock = { now: 1_000 };
    const file = path.join(tempDir(), "lease");
    const pause = pauseOnce();
    const a = new FileLeaseStore(file, "test", () => clock.now);
    const b = new FileLeaseStore(file, "test", () => clock.now, pause.seams);
    const taking = b.acquire("b", 5_000, 0);
    await pause.paused;
    expect(await a.acquire("a", 5_000, 0)).toMatchObject({ acquired: true, term: 1 });
    pause.resume();
    expect(await taking).toEqual({ acquired: false, current: { holder: "a", term: 1 } });
    expect(await a.renew({ holder: "a", term: 1 }, 5_000)).toBe(true);
  });

  it("a leader paused mid-renewal past its lease: another takes over, and the renewal fails when it resumes", async () => {
    const clock = { now: 1_000 };
    const file = path.join(tempDir(), "lease");
    const pause = pauseOnce();
    const a = new FileLeaseStore(file, "test", () => clock.now, { beforeWrite: () => Promise.resolve() });
    const b = new FileLeaseStore(file, "test", () => clock.now);
    expect(await a.acquire("a", 5_000, 0)).toMatchObject({ term: 1 });
    const paused = new FileLeaseStore(file, "test", () => clock.now, pause.seams);
    const renewing = paused.renew({ holder: "a", term: 1 }, 5_000);
    await pause.paused;
    clock.now += 6_000;
    expect(await b.acquire("b", 5_000, 1)).toEqual({ acquired: true, term: 2, fresh: false });
    expect(await b.renew({ holder: "b", term: 2 }, 5_000)).toBe(true);
    pause.resume();
    expect(await renewing).toBe(false);
    expect(await b.renew({ holder: "b", term: 2 }, 5_000)).toBe(true);
    expect(await a.acquire("a", 5_000, 1)).toEqual({ acquired: false, current: { holder: "b", term: 2 } });
  });

  it("three berths taking at once: one term, one holder", async () => {
    const file = path.join(tempDir(), "lease");
    const stores = ["a", "b", "c"].map(() => new FileLeaseStore(file, "test"));
    const results = await Promise.all(stores.map((s, i) => s.acquire(`h${i}`, 5_000, 0)));
    const won = results.filter((r) => r.acquired);
    expect(won).toHaveLength(1);
    const lost = results.filter((r) => !r.acquired);
    expect(new Set(lost.map((r) => (r.acquired ? null : r.current?.term)))).toEqual(new Set([1]));
  });

  it("tells a standby of a release (the folder's watch), once", async () => {
    const file = path.join(tempDir(), "lease");
    const a = await FileLeaseStore.open(file, "test");
    const b = await FileLeaseStore.open(file, "test");
    let told = 0;
    b.onReleased(() => told++);
    expect(await a.acquire("a", 5_000, 0)).toMatchObject({ term: 1 });
    expect(await a.renew({ holder: "a", term: 1 }, 5_000)).toBe(true);
    await a.release({ holder: "a", term: 1 });
    expect(await pollUntil(() => told > 0, 2_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(told).toBe(1);
    await b.close();
  });
});

describe("FileLeaseStore beside an older berth's lease file", () => {
  it("honours its lease while it runs, then turns the file into the folder, its counter kept", async () => {
    const clock = { now: 1_000 };
    const file = path.join(tempDir(), "lease");
    writeFileSync(file, JSON.stringify({ holder: "old", term: 6, counter: 6, expiresAt: 5_000 }));
    const store = new FileLeaseStore(file, "test", () => clock.now);
    expect(await store.acquire("new", 5_000, 0)).toEqual({ acquired: false, current: { holder: "old", term: 6 } });
    clock.now = 5_001;
    expect(await store.acquire("new", 5_000, 0)).toEqual({ acquired: true, term: 7, fresh: false });
    expect(statSync(file).isDirectory()).toBe(true);
  });
});

describe("FileLeaseStore.open: a path that can never hold a lease", () => {
  it("refuses a folder that does not exist, saying to create it (and creates nothing)", async () => {
    const missing = path.join(tempDir(), "nonexistent-dir");
    await expect(FileLeaseStore.open(path.join(missing, "x.lock"), "test")).rejects.toThrow(
      new RegExp(`--ha file:${missing}/x.lock: the folder ${missing} does not exist; create it first`),
    );
    expect(existsSync(missing)).toBe(false);
  });

  it("refuses a folder that is a file", async () => {
    const notDir = path.join(tempDir(), "file");
    writeFileSync(notDir, "");
    await expect(FileLeaseStore.open(path.join(notDir, "x.lock"), "test")).rejects.toMatchObject({
      code: "BERTH_USAGE",
      message: expect.stringMatching(/is not a folder/) as unknown,
    });
  });

  it.runIf(process.platform === "linux")("refuses a folder berth cannot write in (/proc, /sys)", async () => {
    await expect(FileLeaseStore.open("/proc/berth-test.lock", "test")).rejects.toMatchObject({ code: "BERTH_USAGE" });
    await expect(FileLeaseStore.open("/sys/berth-test.lock", "test")).rejects.toMatchObject({ code: "BERTH_USAGE" });
  });

  it("takes an existing folder, and keeps no more than the current version", async () => {
    const file = path.join(tempDir(), "x.lock");
    const store = await FileLeaseStore.open(file, "test");
    expect(await store.acquire("a", 5_000, 0)).toMatchObject({ acquired: true });
    for (let i = 0; i < 5; i++) await store.renew({ holder: "a", term: 1 }, 5_000);
    expect(readdirSync(file)).toEqual(["lease.6"]);
    await FileLeaseStore.open(file, "test");
  });
});
