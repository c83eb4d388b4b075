/**
 * Finding 14b: SELinux label options are an allow-list. The denylist that came before
 * (`disable`, `spc_t`, `unconfined_t`) let through other unconfined or host types
 * (container_runtime_t, unconfined_service_t), `level:`, `user:` and `role:` options. Each of those
 * is tried here on a spec (refused at load, with its field) and on an Engine API create body (the
 * check just before create), in both of Docker's spellings (`label=` and the older `label:`).
 */
import { describe, expect, it } from "vitest";
import type { EngineCreateBody } from "../../../src/core/create-request.js";
import { checkRequest, DEFAULT_POLICY, type Policy } from "../../../src/core/policy/policy.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { specText } from "../../support/specs.js";

const REFUSED = [
  "disable",
  "type:spc_t",
  "type:unconfined_t",
  "type:container_runtime_t",
  "type:unconfined_service_t",
  "type:kernel_t",
  "type:svirt_apache_t",
  "type:container_t:s0",
  "type:",
  "level:s0",
  "level:s0:c100,c200",
  "user:system_u",
  "role:system_r",
  "filetype:container_file_t",
  "nested",
];
const ALLOWED = ["type:container_t", "type:container_init_t", "type:container_kvm_t"];

function issues(option: string, profile: Policy["profile"] = "baseline"): string[] {
  const text = specText("s", { extra: [`securityContext: { selinuxOptions: [${JSON.stringify(option)}] }`] });
  return parseSpecText(text, "s.yaml", { ...DEFAULT_PARSE_OPTIONS, policy: { ...DEFAULT_POLICY, profile } }).issues.map(
    (i) => `${i.path}: ${i.message}`,
  );
}

function body(securityOpt: string[]): EngineCreateBody {
  return {
    Image: "busybox",
    Labels: {},
    HostConfig: { NetworkMode: "bridge", SecurityOpt: securityOpt },
  } as unknown as EngineCreateBody;
}

describe("selinux-allowed-types (finding 14b)", () => {
  it.each(REFUSED)("refuses %s in a spec, with its field and the check's id", (option) => {
    expect(issues(option)).toEqual([
      expect.stringMatching(
        /^spec\.securityContext\.selinuxOptions\[0\]: SELinux option .* is refused; only type:container_t, type:container_init_t, type:container_kvm_t may be set \[policy baseline: selinux-allowed-types\]$/,
      ),
    ]);
  });

  it.each(REFUSED)("refuses label=%s and label:%s in a create request", (option) => {
    for (const opt of [`label=${option}`, `label:${option}`]) {
      expect(checkRequest(body([opt]), DEFAULT_POLICY)).toEqual([
        expect.stringMatching(/^selinux-allowed-types: SecurityOpt /),
      ]);
    }
  });

  it.each(ALLOWED)("accepts %s in a spec and in a create request", (option) => {
    expect(issues(option)).toEqual([]);
    expect(checkRequest(body([`label=${option}`, "no-new-privileges"]), DEFAULT_POLICY)).toEqual([]);
  });

  it("applies under restricted too, and not under privileged", () => {
    expect(issues("type:container_runtime_t", "restricted").join("\n")).toContain("selinux-allowed-types");
    expect(issues("type:container_runtime_t", "privileged")).toEqual([]);
  });
});
