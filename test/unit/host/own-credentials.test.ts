/**
 * Finding 6: berth's API token must not be readable through secretEnv.fromFile when the token
 * file lies under an allowed secret folder (by default /run/secrets, where Compose secrets live).
 * Refused when the spec is loaded, with the field's path (directly, through `..`, a symbolic link
 * or a hard link), and again when the file is read: a link swapped after the load, or between the
 * check and the open, is caught on the opened file itself. The same attack on a running
 * controller: test/docker/own-credentials.test.ts.
 */
import { linkSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildPolicy } from "../../../src/config.js";
import { formatIssue } from "../../../src/core/errors.js";
import { resolveSecrets } from "../../../src/core/secrets.js";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { hostPolicyContext } from "../../../src/host/host-paths.js";
import { hostSecretSources } from "../../../src/host/secrets.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

const TOKEN = "berth-api-token-0123456789abcdef";

function secretsFolder() {
  const dir = tempDir("berth-secrets-");
  const token = path.join(dir, "api-token");
  writeFileSync(token, `${TOKEN}\n`);
  writeFileSync(path.join(dir, "gh-token"), "harmless\n");
  const policy = buildPolicy({ allowSecretDir: [dir], apiTokenFile: token });
  return { dir, token, policy };
}

function load(file: string, policy: ReturnType<typeof buildPolicy>) {
  const text = specText("s", { extra: [`secretEnv: { T: { fromFile: ${JSON.stringify(file)} } }`] });
  return parseSpecText(text, "s.yaml", { ...DEFAULT_PARSE_OPTIONS, policy, policyContext: hostPolicyContext });
}

const specOf = (file: string): NormalizedSpec =>
  ({ secretEnv: { T: { kind: "file", path: file } } }) as unknown as NormalizedSpec;

describe("secretEnv.fromFile never reads berth's own credentials (finding 6)", () => {
  it("refuses the token file at load, by its path, through .., a symbolic link and a hard link", () => {
    const { dir, token, policy } = secretsFolder();
    symlinkSync(token, path.join(dir, "link"));
    linkSync(token, path.join(dir, "hard"));
    for (const file of [token, `${dir}/sub/../api-token`, `${dir}//api-token`, `${dir}/link`, `${dir}/hard`]) {
      const issues = load(file, policy).issues.map(formatIssue);
      expect(issues, file).toEqual([
        expect.stringMatching(
          /^s\.yaml:\d+:\d+: spec\.secretEnv\.T\.fromFile: .* is a file berth reads for its own credentials .* \[policy baseline: no-own-credentials\]$/,
        ),
      ]);
      expect(issues.join("\n")).not.toContain(TOKEN);
    }
    expect(load(path.join(dir, "gh-token"), policy).issues).toEqual([]);
  });

  it("knows the token file from a relative --api-token-file and from BERTH_API_TOKEN_FILE", () => {
    const { dir, token } = secretsFolder();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const policy = buildPolicy({ allowSecretDir: [dir], apiTokenFile: "api-token" });
      expect(policy.ownCredentialFiles).toEqual([token]);
      expect(load(token, policy).issues.map((i) => i.code)).toEqual(["BERTH_POLICY"]);
    } finally {
      process.chdir(cwd);
    }
  });

  it("refuses at read time a link that pointed elsewhere when the spec was loaded", async () => {
    const { dir, token, policy } = secretsFolder();
    const link = path.join(dir, "current");
    symlinkSync(path.join(dir, "gh-token"), link);
    expect(load(link, policy).issues).toEqual([]); // accepted at load
    const sources = hostSecretSources(policy);
    expect(await resolveSecrets(specOf(link), sources)).toMatchObject({ ok: true, values: { T: "harmless" } });
    // Swapped atomically, as a Compose or Kubernetes secret update would.
    symlinkSync(token, `${link}.new`);
    renameSync(`${link}.new`, link);
    const read = await resolveSecrets(specOf(link), sources);
    expect(read).toEqual({
      ok: false,
      error: expect.stringMatching(/^secret T: cannot read the file .*current: .* own credentials/) as string,
    });
    expect(JSON.stringify(read)).not.toContain(TOKEN);
  });

  it("refuses the opened file itself: a link swapped between the check and the open", async () => {
    const { dir, token, policy } = secretsFolder();
    const link = path.join(dir, "current");
    symlinkSync(token, link);
    // The path checks see the link as it was a moment earlier (pointing elsewhere); the file
    // opened is the token file.
    const stale = { realpath: (p: string) => (p === link ? path.join(dir, "gh-token") : p) };
    const read = await resolveSecrets(specOf(link), hostSecretSources(policy, stale));
    expect(read).toMatchObject({ ok: false, error: expect.stringContaining("own credentials") as string });
    expect(JSON.stringify(read)).not.toContain(TOKEN);
  });

  it("reads the token file like any other under --policy privileged, which checks nothing", async () => {
    const { dir, token } = secretsFolder();
    const policy = buildPolicy({ policy: "privileged", allowSecretDir: [dir], apiTokenFile: token });
    expect(load(token, policy).issues).toEqual([]);
    expect(await resolveSecrets(specOf(token), hostSecretSources(policy))).toMatchObject({ ok: true });
  });
});
