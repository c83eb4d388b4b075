/**
 * The Git sources' schedule and bookkeeping on an in-memory checkout and a fake clock: one fetch
 * in flight and one queued, the last good revision kept on failure, a ref that moves back, the
 * revision that broke a file. (Real git: test/docker/gitops.test.ts.)
 */
import { describe, expect, it } from "vitest";
import type { Commit } from "../../../src/host/git-checkout.js";
import { type Checkout, GitSources } from "../../../src/loop/git-sources.js";
import { silentLogger } from "../../../src/util/log.js";
import { FakeClock, settle } from "../../support/fake-clock.js";

const sha = (c: string): string => c.repeat(40);

/** A remote whose ref the test moves; fetches wait until released when `hold` is set. */
class FakeCheckout implements Checkout {
  readonly specDir = "/state/git/default/src/specs";
  ref = sha("a");
  down = false;
  fetches = 0;
  active: string | null = null;
  hold = false;
  private waiting: (() => void)[] = [];

  release(): void {
    for (const w of this.waiting.splice(0)) w();
  }

  current(): Promise<string | null> {
    return Promise.resolve(this.active);
  }

  revisionOfPath(): string | null {
    return null;
  }

  specFileOf(file: string): string | null {
    return file.startsWith(`${this.specDir}/`) ? file.slice(this.specDir.length + 1) : null;
  }

  commit(s: string): Promise<Commit> {
    return Promise.resolve({ sha: s, committedAt: 1_000_000, subject: `commit ${s.slice(0, 1)}` });
  }

  async fetch(): Promise<string> {
    this.fetches++;
    if (this.hold) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.down) throw new Error("git fetch failed: fatal: unable to access 'https://h/r.git/': Could not connect");
    return this.ref;
  }

  activate(s: string): Promise<void> {
    this.active = s;
    return Promise.resolve();
  }

  clean(): Promise<void> {
    return Promise.resolve();
  }
}

function sources(checkout: FakeCheckout) {
  const clock = new FakeClock();
  const revisions: string[] = [];
  const fetched: (string | null)[] = [];
  const log = silentLogger();
  const warnings: string[] = [];
  log.warn = ((_fields: unknown, msg: string) => {
    warnings.push(msg);
  }) as typeof log.warn;
  const git = new GitSources(
    [{ name: "src", url: "https://h/r.git", ref: "main", path: "", intervalMs: 60_000, checkout }],
    {
      clock,
      log,
      onRevision: (s) => revisions.push(s.revision ?? ""),
      onFetch: (_name, error) => fetched.push(error),
    },
  );
  return { git, clock, revisions, fetched, warnings };
}

describe("GitSources", () => {
  it("fetches at start and every interval; a new revision is activated and told once", async () => {
    const checkout = new FakeCheckout();
    const s = sources(checkout);
    await s.git.start();
    expect([checkout.fetches, checkout.active, s.revisions]).toEqual([1, sha("a"), [sha("a")]]);
    await s.clock.advance(60_000);
    await settle();
    expect([checkout.fetches, s.revisions]).toEqual([2, [sha("a")]]);
    checkout.ref = sha("b");
    await s.clock.advance(60_000);
    await settle();
    expect([checkout.fetches, checkout.active, s.revisions]).toEqual([3, sha("b"), [sha("a"), sha("b")]]);
    expect(s.git.revisionOf("/state/git/default/src/specs/web.yaml")).toBe(sha("b"));
    expect(s.git.revisionOf("/elsewhere/web.yaml")).toBeNull();
  });

  it("a flood of requests costs one fetch in flight and one queued", async () => {
    const checkout = new FakeCheckout();
    const s = sources(checkout);
    await s.git.start();
    checkout.hold = true;
    const all = Array.from({ length: 100 }, () => s.git.syncAll());
    await settle();
    expect(s.git.list()[0]?.fetching).toBe(true);
    checkout.release();
    await settle();
    checkout.release();
    await Promise.all(all);
    expect(checkout.fetches).toBe(3); // the first at start, then one in flight and one queued
    expect(s.git.list()[0]?.fetching).toBe(false);
  });

  it("a failed fetch keeps the last good revision and says why, without credentials", async () => {
    const checkout = new FakeCheckout();
    const s = sources(checkout);
    await s.git.start();
    checkout.down = true;
    checkout.ref = sha("b");
    await s.git.syncAll();
    expect(s.git.list()[0]).toMatchObject({ revision: sha("a"), failures: 1 });
    expect(s.git.list()[0]?.lastError).toContain("Could not connect");
    expect(checkout.active).toBe(sha("a"));
    expect(s.fetched).toEqual([null, s.git.list()[0]?.lastError]);
    checkout.down = false;
    await s.git.syncAll();
    expect(s.git.list()[0]).toMatchObject({ revision: sha("b"), lastError: null, failures: 0 });
  });

  it("counts the failures in a row: a success starts the count again", async () => {
    const checkout = new FakeCheckout();
    const s = sources(checkout);
    await s.git.start();
    checkout.down = true;
    await s.git.syncAll();
    await s.git.syncAll();
    expect(s.git.list()[0]?.failures).toBe(2);
    checkout.down = false;
    await s.git.syncAll();
    expect(s.git.list()[0]).toMatchObject({ lastError: null, failures: 0 });
    checkout.down = true;
    await s.git.syncAll();
    expect(s.git.list()[0]?.failures).toBe(1);
    // Every failure still counts in the metric's total (the onFetch hook feeds it).
    expect(s.fetched.filter((e) => e !== null)).toHaveLength(3);
  });

  it("follows a ref that moves back to a revision seen before, with a warning", async () => {
    const checkout = new FakeCheckout();
    const s = sources(checkout);
    await s.git.start();
    checkout.ref = sha("b");
    await s.git.syncAll();
    checkout.ref = sha("a");
    await s.git.syncAll();
    expect(checkout.active).toBe(sha("a"));
    expect(s.warnings).toEqual(["git source moved back to an earlier revision (force push or revert); following it"]);
  });

  it("names the revision at which a file broke, until it is fixed", async () => {
    const checkout = new FakeCheckout();
    const s = sources(checkout);
    await s.git.start();
    s.git.noteInvalid(["/state/git/default/src/specs/web.yaml", "/other/x.yaml"]);
    expect(s.git.list()[0]).toMatchObject({ invalidFiles: ["web.yaml"], brokenAt: sha("a") });
    checkout.ref = sha("b");
    await s.git.syncAll();
    s.git.noteInvalid(["/state/git/default/src/specs/web.yaml", "/state/git/default/src/specs/db.yaml"]);
    expect(s.git.list()[0]).toMatchObject({ invalidFiles: ["db.yaml", "web.yaml"], brokenAt: sha("a") });
    s.git.noteInvalid([]);
    expect(s.git.list()[0]).toMatchObject({ invalidFiles: [], brokenAt: null });
  });
});
