/**
 * Environment variable names as Docker and Kubernetes take them: letters, digits, '_', '.' and
 * '-', not starting with a digit. Elasticsearch and OpenSearch read settings such as
 * `discovery.type` from the environment. secretEnv keeps to shell identifiers.
 */
import { describe, expect, it } from "vitest";
import { buildCreateBody } from "../../../src/core/create-request.js";
import { formatIssue } from "../../../src/core/errors.js";
import { labelKeys } from "../../../src/core/labels.js";
import { ownership } from "../../../src/core/ownership.js";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { withSpec } from "../../golden/invalid-cases.js";

const parse = (...lines: string[]) => parseSpecText(withSpec(...lines), "u.yaml");

describe("environment variable names", () => {
  it("takes dots and dashes in env: they reach the container as written", () => {
    const result = parse("env:", "  discovery.type: single-node", "  xpack-security.enabled: 'false'", "  _A.b: x");
    expect(result.issues).toEqual([]);
    const spec = (result.documents[0] as { spec: NormalizedSpec }).spec;
    const body = buildCreateBody(spec, {
      owner: ownership(labelKeys("berth"), "test"),
      replica: 0,
      hash: "0".repeat(64),
      source: "u.yaml",
      secretValues: {},
      network: "bridge",
    });
    expect(body.Env).toEqual(
      expect.arrayContaining(["discovery.type=single-node", "xpack-security.enabled=false", "_A.b=x"]),
    );
  });

  it("refuses a name starting with a digit or holding '=', and a dotted secretEnv name", () => {
    for (const [lines, path] of [
      [["env:", "  9a: x"], 'spec.env["9a"]'],
      [["env:", "  'a=b': x"], 'spec.env["a=b"]'],
      [["secretEnv:", "  a.b: { fromHostEnv: HOME }"], 'spec.secretEnv["a.b"]'],
    ] as const) {
      const issues = parse(...lines).issues.map(formatIssue);
      expect(issues).toHaveLength(1);
      expect(issues[0]).toContain(`${path}: key `);
    }
  });
});
