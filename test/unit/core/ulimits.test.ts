/**
 * ulimits, golden: what a spec writes → the normalized limits, the create body's HostConfig.Ulimits
 * and the hash input; and the baseline ceilings read off a create body (the check made again just
 * before every create).
 */
import { describe, expect, it } from "vitest";
import { buildCreateBody, type EngineCreateBody } from "../../../src/core/create-request.js";
import { canonicalJson, hashInput } from "../../../src/core/hash.js";
import { labelKeys } from "../../../src/core/labels.js";
import { ownership } from "../../../src/core/ownership.js";
import { checkRequest, DEFAULT_POLICY } from "../../../src/core/policy/policy.js";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { withSpec } from "../../golden/invalid-cases.js";

function only(...lines: string[]): NormalizedSpec {
  const result = parseSpecText(withSpec(...lines), "u.yaml");
  expect(result.issues).toEqual([]);
  return (result.documents[0] as { spec: NormalizedSpec }).spec;
}

const body = (spec: NormalizedSpec): EngineCreateBody =>
  buildCreateBody(spec, {
    owner: ownership(labelKeys("berth"), "test"),
    replica: 0,
    hash: "0".repeat(64),
    source: "u.yaml",
    secretValues: {},
    network: "bridge",
  });

describe("ulimits: spec → normalized → create body → hash input (golden)", () => {
  const cases: [string, string[], unknown][] = [
    ["none: the engine's defaults, nothing in the body", [], undefined],
    [
      "a number is soft = hard; names sorted",
      ["ulimits: { nproc: 512, core: 0 }"],
      [
        { Name: "core", Soft: 0, Hard: 0 },
        { Name: "nproc", Soft: 512, Hard: 512 },
      ],
    ],
    [
      "soft and hard, and -1 (unlimited) where the kernel allows it",
      ["ulimits: { nofile: { soft: 1024, hard: 2048 }, stack: { soft: 8388608, hard: -1 } }"],
      [
        { Name: "nofile", Soft: 1024, Hard: 2048 },
        { Name: "stack", Soft: 8388608, Hard: -1 },
      ],
    ],
  ];
  it.each(cases)("%s", (_name, lines, ulimits) => {
    const spec = only(...lines);
    expect(body(spec).HostConfig.Ulimits).toEqual(ulimits);
  });

  it("enters the hash input only when set, so existing hashes stay", () => {
    expect(canonicalJson(hashInput(only(), {}))).not.toContain("ulimits");
    expect(canonicalJson(hashInput(only("ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 512 }"), {}))).toContain(
      '"ulimits":{"nofile":{"hard":2048,"soft":1024},"nproc":{"hard":512,"soft":512}}',
    );
  });

  it("hashes a number and the same soft/hard pair alike", () => {
    expect(canonicalJson(hashInput(only("ulimits: { nproc: 512 }"), {}))).toBe(
      canonicalJson(hashInput(only("ulimits: { nproc: { soft: 512, hard: 512 } }"), {})),
    );
  });
});

describe("ulimit-ceilings on the create body", () => {
  const request = (ulimits: { Name: string; Soft: number; Hard: number }[], memory?: number): string[] => {
    const b = body(only());
    return checkRequest(
      { ...b, HostConfig: { ...b.HostConfig, Ulimits: ulimits, ...(memory !== undefined ? { Memory: memory } : {}) } },
      DEFAULT_POLICY,
    );
  };
  it.each([
    ["nofile", 1_048_576, 1_048_577, undefined],
    ["memlock", 64 * 2 ** 20, -1, undefined],
    ["memlock", 256 * 2 ** 20, 256 * 2 ** 20 + 1, 256 * 2 ** 20],
    ["nice", 20, 21, undefined],
    ["rtprio", 0, 1, undefined],
  ] as const)("%s: %d passes, %d is refused", (name, ok, refused, memory) => {
    expect(request([{ Name: name, Soft: 0, Hard: ok }], memory)).toEqual([]);
    expect(request([{ Name: name, Soft: 0, Hard: refused }], memory)).toEqual([
      expect.stringMatching(new RegExp(`^ulimit-ceilings: Ulimit ${name} .* is above the ceiling of`)),
    ]);
  });

  it("leaves the names it does not cap alone, unlimited included", () => {
    expect(
      request([
        { Name: "nproc", Soft: -1, Hard: -1 },
        { Name: "core", Soft: -1, Hard: -1 },
      ]),
    ).toEqual([]);
  });
});
