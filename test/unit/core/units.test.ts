/** Quantities, durations and times → canonical units, as golden tables. */
import { describe, expect, it } from "vitest";
import {
  formatDurationMs,
  formatQuantity,
  formatSeconds,
  formatTime,
  parseBytes,
  parseDurationMs,
  parseExpiresAt,
  parseNanoCpus,
  parseTimerMs,
} from "../../../src/core/units.js";

describe("parseBytes", () => {
  it.each([
    ["512Mi", 536870912],
    ["1Gi", 1073741824],
    ["1024Mi", 1073741824],
    ["1k", 1000],
    ["1Ki", 1024],
    ["1.5Gi", 1610612736],
    ["0.1Ki", 103],
    ["64", 64],
    [64, 64],
    ["2T", 2e12],
  ] as const)("%s → %d bytes", (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });
  it.each([["1 GB"], ["1Gb"], ["-1Mi"], ["Mi"], [""], ["1e3"]])("refuses %j", (input) => {
    expect(parseBytes(input)).toEqual({ error: `${JSON.stringify(input)} is not a quantity (e.g. 512Mi, 1Gi)` });
  });
  it("refuses a quantity too large to be exact", () => {
    expect(parseBytes("999999999Pi")).toEqual({ error: '"999999999Pi" is too large' });
  });
});

describe("formatQuantity", () => {
  it.each([
    [67108864, "64Mi"],
    [1073741824, "1Gi"],
    [512e6, "512M"],
    [1000, "1k"],
    [1024, "1Ki"],
    [1610612736, "1536Mi"],
    [103, "103"],
    [0, "0"],
  ] as const)("%d bytes → %s, which reads back the same", (bytes, text) => {
    expect(formatQuantity(bytes)).toBe(text);
    expect(parseBytes(text)).toBe(bytes);
  });
});

describe("parseNanoCpus", () => {
  it.each([
    ["1", 1e9],
    ["1000m", 1e9],
    [1, 1e9],
    [0.5, 5e8],
    ["250m", 2.5e8],
    ["0.001", 1e6],
    ["2.000000001", 2000000001],
  ] as const)("%j → %d nano-CPUs", (input, nano) => {
    expect(parseNanoCpus(input)).toBe(nano);
  });
  it.each([["0"], ["0m"], [0]])("refuses %j as no CPU at all", (input) => {
    expect(parseNanoCpus(input)).toEqual({ error: `${JSON.stringify(input)} must be more than 0 CPUs` });
  });
  it("refuses words", () => {
    expect(parseNanoCpus("two")).toEqual({ error: '"two" is not a CPU quantity (e.g. 0.5, "2", "250m")' });
  });
});

describe("durations", () => {
  it.each([
    ["500ms", 500],
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["0s", 0],
    ["2h3m4s5ms", 7_384_005],
  ] as const)("%s → %d ms", (input, ms) => {
    expect(parseDurationMs(input)).toBe(ms);
  });
  it.each([["10"], ["5 seconds"], ["1d"], ["s"], ["-1s"]])("refuses %j", (input) => {
    expect(parseDurationMs(input)).toEqual({
      error: `${JSON.stringify(input)} is not a duration (e.g. 500ms, 10s, 1m30s)`,
    });
  });
  it.each([
    ["1h", 3_600_000],
    ["596h", 2_145_600_000],
    ["596h31m23s647ms", 2 ** 31 - 1],
  ] as const)("a wait berth times: %s → %d ms", (input, ms) => {
    expect(parseTimerMs(input)).toBe(ms);
  });
  it.each([["596h31m23s648ms"], ["597h"], ["1000h"]])("refuses a wait longer than a timer holds: %j", (input) => {
    expect(parseTimerMs(input)).toEqual({
      error: `${JSON.stringify(input)} is longer than the longest wait berth can time, 596h (about 24 days)`,
    });
  });
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [7_384_005, "2h3m4s5ms"],
  ] as const)("formats %d ms as %s", (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
  });
});

describe("formatSeconds", () => {
  it.each([
    [6098, "6.1s"],
    [14_230, "14.2s"],
    [840, "0.8s"],
    [0, "0.0s"],
    [-5, "0.0s"],
  ] as const)("formats %d ms as %s", (ms, text) => {
    expect(formatSeconds(ms)).toBe(text);
  });
});

describe("expiresAt", () => {
  it.each([
    ["never", null],
    ["2026-01-26T00:00:00Z", Date.UTC(2026, 0, 26)],
    ["2026-01-26T01:00:00+01:00", Date.UTC(2026, 0, 26)],
    ["2026-01-25T19:00:00-05:00", Date.UTC(2026, 0, 26)],
    ["2026-01-26T00:00:00.250Z", Date.UTC(2026, 0, 26) + 250],
    ["2024-02-29T12:00:00Z", Date.UTC(2024, 1, 29, 12)],
  ] as const)("%s → %s", (input, epoch) => {
    expect(parseExpiresAt(input)).toBe(epoch);
  });
  it.each([["2026-02-30T00:00:00Z"], ["2025-02-29T00:00:00Z"], ["2026-01-01T24:00:00Z"], ["2026-13-01T00:00:00Z"]])(
    "refuses the impossible date %s",
    (input) => {
      expect(parseExpiresAt(input)).toEqual({ error: `${JSON.stringify(input)} is not a real date and time` });
    },
  );
  it.each([["tomorrow"], ["2026-01-01"], ["2026-01-01T00:00:00"], ["2026-01-01 00:00:00Z"]])("refuses %j", (input) => {
    expect(parseExpiresAt(input)).toEqual({
      error: `${JSON.stringify(input)} is not an RFC 3339 time or never (e.g. 2026-01-26T00:00:00Z)`,
    });
  });
  it("formats times in UTC without needless fractions", () => {
    expect(formatTime(Date.UTC(2026, 0, 26))).toBe("2026-01-26T00:00:00Z");
    expect(formatTime(Date.UTC(2026, 0, 26) + 5)).toBe("2026-01-26T00:00:00.005Z");
  });
});
