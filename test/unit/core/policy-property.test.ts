/**
 * The policy's two readings agree: every spec the validator and the policy accept renders an
 * Engine API create request that passes every check (read off the request, not the spec), and
 * for every check the request can show, the spec and the request give the same verdict.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildPolicy, type PolicyOptions } from "../../../src/config.js";
import { buildCreateBody } from "../../../src/core/create-request.js";
import { labelKeys } from "../../../src/core/labels.js";
import { ownership } from "../../../src/core/ownership.js";
import { CHECKS, checkRequest, checkSpec, type PolicyContext } from "../../../src/core/policy/policy.js";
import { normalize } from "../../../src/core/normalize.js";
import { specValidator } from "../../../src/manifest/schema.js";
import { ERROR_CODES } from "../../../src/core/errors.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { riskySpecArb, toYaml } from "../../support/arbitraries.js";

const RUNS = 10_000;

const POLICIES: readonly PolicyOptions[] = [
  {},
  { policy: "restricted" },
  { policy: "privileged" },
  { allowBind: ["/srv/data"], allowHostPorts: ["80", "443", "8000-9000"], allowHostIp: ["0.0.0.0"] },
  { policy: "restricted", allowBind: ["/srv/data"], requireLimits: true },
  { maxMemory: "1Gi", maxCpus: "4", maxPids: "1000", allowRuntime: ["runc", "runsc"] },
  { allowBind: ["/", "/srv"], allowSecretDir: ["/etc"] },
];

// A spec named "peer" exists: container:peer joins one of berth's containers, container:other does not.
const CTX: PolicyContext = { realpath: (p) => p, ownsContainer: (name) => name === "peer" };
const REQUESTABLE = new Set(CHECKS.filter((c) => c.request).map((c) => c.id));
/**
 * A fixed amount of work (seeded runs), a few seconds on a quiet machine; the unit project's 20 s
 * is not enough beside two lanes of real-engine tests on two cores. Nothing here is timed.
 */
const WORK_TIMEOUT_MS = 180_000;

describe("policy: the spec check and the create-request check agree", () => {
  it(
    `on ${RUNS} generated specs under ${POLICIES.length} policies`,
    () => {
      const validate = specValidator();
      const policies = POLICIES.map((p) => buildPolicy(p));
      const counts = { accepted: 0, refused: 0, invalid: 0 };
      fc.assert(
        fc.property(riskySpecArb, fc.nat({ max: policies.length - 1 }), (doc, which) => {
          const policy = policies[which] ?? policies[0];
          if (!policy || !validate(doc)) {
            counts.invalid++;
            return;
          }
          const normalized = normalize(doc, { labelPrefix: "berth" });
          if (!normalized.ok) {
            counts.invalid++;
            return;
          }
          const spec = normalized.spec;
          const violations = checkSpec(doc, spec, policy, CTX);
          const body = buildCreateBody(spec, {
            owner: ownership(labelKeys("berth"), "prop"),
            replica: 0,
            hash: "0".repeat(64),
            source: "s.yaml",
            secretValues: Object.fromEntries(Object.keys(spec.secretEnv).map((k) => [k, "value"])),
            network: spec.network === "auto" ? "bridge" : spec.network,
            ...(spec.security.seccompProfile?.startsWith("/")
              ? { seccompProfileJson: '{"defaultAction":"SCMP_ACT_ALLOW"}' }
              : {}),
          });
          const fromRequest = checkRequest(body, policy, CTX);
          if (violations.length === 0) {
            counts.accepted++;
            expect(fromRequest).toEqual([]);
          } else {
            counts.refused++;
          }
          const specIds = new Set(violations.map((v) => v.check).filter((id) => REQUESTABLE.has(id)));
          const requestIds = new Set(fromRequest.map((line) => line.split(":")[0]));
          expect(requestIds).toEqual(specIds);
        }),
        { numRuns: RUNS, seed: 20261123 },
      );
      // Not vacuous: plenty of both verdicts.
      expect(counts.accepted).toBeGreaterThan(RUNS / 20);
      expect(counts.refused).toBeGreaterThan(RUNS / 4);
      expect(counts.invalid).toBeLessThan(RUNS / 4);
    },
    WORK_TIMEOUT_MS,
  );
});

describe("the loader on risky specs", () => {
  it(
    "never throws: every outcome is documents or issues with berth's own codes",
    () => {
      const policies = POLICIES.map((p) => buildPolicy(p));
      fc.assert(
        fc.property(riskySpecArb, fc.nat({ max: policies.length - 1 }), (doc, which) => {
          const policy = policies[which] ?? DEFAULT_PARSE_OPTIONS.policy;
          const result = parseSpecText(toYaml(doc), "risky.yaml", {
            ...DEFAULT_PARSE_OPTIONS,
            policy,
            policyContext: CTX,
          });
          expect(result.documents.length + result.issues.length).toBeGreaterThan(0);
          for (const issue of result.issues) expect(Object.keys(ERROR_CODES)).toContain(issue.code);
        }),
        { numRuns: 2000, seed: 20261124 },
      );
    },
    WORK_TIMEOUT_MS,
  );
});
