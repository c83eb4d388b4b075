import { describe, expect, it } from "vitest";
import {
  advertisedUrl,
  decodeLease,
  defaultAdvertise,
  describeHaTarget,
  encodeLease,
  holderAddress,
  holderWithAddress,
  leaseMargin,
  leaseTimingError,
  nextTerm,
  parseHaTarget,
  redactUrl,
  writeDeadline,
} from "../../../src/core/lease.js";

describe("--ha targets (golden)", () => {
  const cases: [string, unknown][] = [
    ["file:/run/berth/web.lock", { kind: "file", path: "/run/berth/web.lock" }],
    ["redis://127.0.0.1:6379/0", { kind: "redis", url: "redis://127.0.0.1:6379/0", tls: false }],
    ["rediss://:pw@redis.internal:6380/2", { kind: "redis", url: "rediss://:pw@redis.internal:6380/2", tls: true }],
    ["redis://redis", { kind: "redis", url: "redis://redis", tls: false }],
    ["file:run/berth.lock", /absolute path/],
    ["http://127.0.0.1:6379", /http: is not file:, redis: or rediss:/],
    ["redis://:pw@host:6379/zero", /database "zero" is not a number/],
    ["nonsense", /is neither file:\/PATH nor redis:\/\/host:port\/db/],
  ];
  it.each(cases)("%s", (text, want) => {
    const got = parseHaTarget(text);
    if (want instanceof RegExp) expect(got).toMatch(want);
    else expect(got).toEqual(want);
  });

  it("never shows a password in what it says", () => {
    expect(redactUrl("redis://:s3cret@host:6379/0")).toBe("redis://***@host:6379/0");
    expect(redactUrl("rediss://user:s3cret@host/0")).toBe("rediss://***@host/0");
    expect(describeHaTarget({ kind: "redis", url: "redis://:s3cret@h:1/0", tls: false })).not.toContain("s3cret");
    expect(parseHaTarget("redis://:s3cret@host:6379/zz")).not.toContain("s3cret");
    expect(parseHaTarget(":s3cret@")).not.toContain("s3cret");
  });
});

describe("where a holder's API answers (golden)", () => {
  const urls: [string, string | null][] = [
    ["http://10.0.0.5:7435", "http://10.0.0.5:7435"],
    ["http://10.0.0.5:7435/", "http://10.0.0.5:7435"],
    ["https://berth-a.internal:8443", "https://berth-a.internal:8443"],
    ["http://[::1]:7435", "http://[::1]:7435"],
    ["HTTP://Host-A:80", "http://host-a"],
    ["http://u:p@host:1", null],
    ["http://host:1/api", null],
    ["http://host:1?x=1", null],
    ["ftp://host:1", null],
    ["host:7435", null],
    ["not a url", null],
  ];
  it.each(urls)("--ha-advertise %s", (text, want) => {
    expect(advertisedUrl(text)).toBe(want);
  });

  it("a holder's name and its address travel together, and an older berth's holder reads as a name", () => {
    expect(holderWithAddress("h/1/run/ab", "http://h:7435")).toBe("h/1/run/ab@http://h:7435");
    expect(holderWithAddress("h/1/run/ab", null)).toBe("h/1/run/ab");
    expect(holderAddress("h/1/run/ab@http://h:7435")).toEqual({ name: "h/1/run/ab", url: "http://h:7435" });
    expect(holderAddress("h/1/run/ab")).toEqual({ name: "h/1/run/ab", url: null });
    // Whatever follows @ that berth would not advertise is not believed as an address.
    expect(holderAddress("h/1/run/ab@javascript:alert(1)")).toEqual({ name: "h/1/run/ab", url: null });
  });

  it("by default: the --listen address, or this host's name when it listens on every interface", () => {
    expect(defaultAdvertise("127.0.0.1", 7435, "host-a")).toBe("http://127.0.0.1:7435");
    expect(defaultAdvertise("0.0.0.0", 7435, "host-a")).toBe("http://host-a:7435");
    expect(defaultAdvertise("::", 9000, "host-a")).toBe("http://host-a:9000");
    expect(defaultAdvertise("::1", 7435, "host-a")).toBe("http://[::1]:7435");
  });
});

describe("lease timing (golden)", () => {
  it.each([
    [10_000, 2_000, 8_000],
    [3_000, 600, 2_400],
    [1_000, 200, 800],
  ])("ttl %i ms: margin %i ms, writes until sent + %i ms", (ttl, margin, until) => {
    expect(leaseMargin(ttl)).toBe(margin);
    expect(writeDeadline(1_000, ttl)).toBe(1_000 + until);
  });

  it.each([
    [{ ttlMs: 10_000, renewMs: 2_000 }, null],
    [{ ttlMs: 3_000, renewMs: 500 }, null],
    [{ ttlMs: 500, renewMs: 100 }, /below the minimum/],
    [{ ttlMs: 10_000, renewMs: 0 }, /above 0/],
    [{ ttlMs: 10_000, renewMs: 3_000 }, /fewer than three renewals/],
  ])("%o → %s", (timing, want) => {
    const got = leaseTimingError(timing);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});

describe("fencing numbers", () => {
  it.each([
    [1, 0, 1],
    [5, 3, 5],
    [1, 4, 5],
    [4, 4, 5],
  ])("counter %i, highest seen %i → term %i", (counter, seen, term) => {
    expect(nextTerm(counter, seen)).toBe(term);
  });

  it("encodes a holder and its term, and decodes only what it encoded", () => {
    expect(decodeLease(encodeLease({ holder: "host/12/ab|c", term: 7 }))).toEqual({ holder: "host/12/ab|c", term: 7 });
    for (const bad of [null, "", "x|y", "0|h", "|h", "-1|h", "1.5|h"]) expect(decodeLease(bad)).toBeNull();
  });
});
