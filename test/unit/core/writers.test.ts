/**
 * One writer per controller id between --ha groups and the commands beside them (core/writers.ts):
 * which participant answers keep a command without --ha out, and what a one-shot command under
 * --ha does with what its election says (golden tables).
 */
import { describe, expect, it } from "vitest";
import {
  type ElectionView,
  ledByGroup,
  oneShotVerdict,
  type PresenceAnswer,
  presenceBlocks,
  presenceLease,
} from "../../../src/core/writers.js";

describe("a participant's answer (golden)", () => {
  const who = "berth 1.0 (run --ha, pid 7 on host h)";
  const cases: [string, PresenceAnswer, boolean][] = [
    ["leads", { kind: "answered", who, lease: { leader: "h/7/run/ab", term: 3, store: "file:/l" } }, true],
    [
      "a standby that sees a leader",
      { kind: "answered", who, lease: { leader: "h/9/run/cd", term: null, store: "x" } },
      true,
    ],
    [
      "a standby that sees none (the store is free or down)",
      { kind: "answered", who, lease: { leader: null, term: null, store: "x" } },
      false,
    ],
    ["says nothing of a lease", { kind: "answered", who, lease: null }, false],
    ["does not answer (paused)", { kind: "silent", who }, true],
  ];
  it.each(cases)("%s", (_what, answer, blocks) => {
    expect(presenceBlocks(answer)).toBe(blocks);
  });

  it("reads the lease fields of an untrusted answer", () => {
    expect(presenceLease({ store: "file:/l", leader: "h/1/run/x", leaderUrl: "http://h:7435", term: 4 })).toEqual({
      leader: "h/1/run/x",
      leaderUrl: "http://h:7435",
      term: 4,
      store: "file:/l",
    });
    expect(presenceLease({ store: "file:/l", leader: 5, term: "4" })).toEqual({
      leader: null,
      leaderUrl: null,
      term: null,
      store: "file:/l",
    });
    expect(presenceLease({ pid: 3 })).toBeNull();
  });

  it("says who leads, in which store, and what to do", () => {
    const error = ledByGroup("web", "apply", {
      kind: "answered",
      who,
      lease: { leader: "h/7/run/ab", term: 3, store: "redis://***@r:6379/0" },
    });
    expect(error.code).toBe("BERTH_LEASE_HELD");
    expect(error.message).toBe(
      `controller id "web" is led by an --ha group on this host: ${who}; the leader is h/7/run/ab in term 3, ` +
        "lease in redis://***@r:6379/0. apply without --ha would write beside its leader: pass the group's --ha " +
        "(or set BERTH_HA) to take the lease in turn, or stop the group first",
    );
    const withApi = ledByGroup("web", "apply", {
      kind: "answered",
      who,
      lease: { leader: "h/7/run/ab", leaderUrl: "http://h:7435", term: 3, store: "file:/l" },
    });
    expect(withApi.message).toContain(
      "the leader is h/7/run/ab in term 3, its API at http://h:7435, lease in file:/l.",
    );
  });
});

describe("a one-shot command under --ha (golden)", () => {
  const base: ElectionView = {
    leading: false,
    holdsLease: false,
    leader: null,
    store: "file:/run/berth/web.lock",
    storeError: null,
    blockedBy: null,
  };
  const cases: [string, Partial<ElectionView>, boolean, string | RegExp][] = [
    ["leads: writes", { leading: true, holdsLease: true }, false, "go"],
    ["holds a first term that waits one TTL: waits, whatever --ha-wait says", { holdsLease: true }, false, "wait"],
    ["another holds it, --ha-wait has time left: waits", { leader: "h/7/run/ab" }, true, "wait"],
    [
      "another holds it, no time left: refused naming the holder",
      { leader: "h/7/run/ab" },
      false,
      /^BERTH_LEASE_HELD: controller id "web": the lease in file:\/run\/berth\/web\.lock is held by h\/7\/run\/ab; apply writes only holding it\. Stop that berth \(SIGTERM lets the lease go at once\), or wait for it with --ha-wait <duration>$/,
    ],
    [
      "another holds it and said where its API answers: refused naming both",
      { leader: "h/7/run/ab", leaderUrl: "http://10.0.0.5:7435" },
      false,
      /is held by h\/7\/run\/ab \(its API at http:\/\/10\.0\.0\.5:7435\); apply writes only holding it/,
    ],
    [
      "a berth without --ha holds the host lock: refused naming it",
      { blockedBy: "berth 1.0 (run, pid 9)" },
      false,
      /^BERTH_LEASE_HELD: .*berth 1\.0 \(run, pid 9\) holds the id's host lock and writes without --ha/,
    ],
    [
      "the store does not answer: refused with why",
      { storeError: "connection refused" },
      false,
      /^BERTH_HA: .*connection refused$/,
    ],
  ];
  it.each(cases)("%s", (_what, view, waitLeft, want) => {
    const verdict = oneShotVerdict({ ...base, ...view }, "web", "apply", waitLeft);
    const got = verdict.kind === "refuse" ? `${verdict.error.code}: ${verdict.error.message}` : verdict.kind;
    if (typeof want === "string") expect(got).toBe(want);
    else expect(got).toMatch(want);
  });
});
