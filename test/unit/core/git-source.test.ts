/** Git sources, the pure parts: refs, paths, URLs, credential scrubbing, source folder names. */
import { describe, expect, it } from "vitest";
import {
  commitSubject,
  parseGitPath,
  parseGitRef,
  parseGitUrl,
  scrubSecrets,
  scrubUrls,
  sourceId,
} from "../../../src/core/git-source.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("parseGitRef", () => {
  it.each([
    ["main", { kind: "name", name: "main" }],
    [" release/1.x ", { kind: "name", name: "release/1.x" }],
    ["v1.2.0", { kind: "name", name: "v1.2.0" }],
    ["refs/tags/v1", { kind: "name", name: "refs/tags/v1" }],
    [SHA, { kind: "commit", sha: SHA }],
  ])("%j → %j", (text, expected) => {
    expect(parseGitRef(text)).toEqual(expected);
  });

  it.each([
    ["", "is not a branch, a tag or a full commit SHA"],
    ["--upload-pack=touch /tmp/x", "is not a branch"],
    ["a..b", "is not a branch"],
    ["main:other", "is not a branch"],
    ["a b", "is not a branch"],
    ["x@{1}", "is not a branch"],
    ["ends/", "is not a branch"],
    ["x.lock", "is not a branch"],
    ["0123abc", "looks like a short SHA"],
  ])("refuses %j", (text, message) => {
    const parsed = parseGitRef(text);
    expect("error" in parsed && parsed.error).toContain(message);
  });
});

describe("parseGitPath", () => {
  it.each([
    ["", ""],
    ["specs", "specs"],
    ["./specs/", "specs"],
    ["hosts//edge/", "hosts/edge"],
  ])("%j → %j", (text, expected) => {
    expect(parseGitPath(text)).toBe(expected);
  });

  it.each(["../etc", "specs/../../x", "/abs", ".git", "specs/.hidden"])("refuses %j", (text) => {
    expect(parseGitPath(text)).toHaveProperty("error");
  });
});

describe("parseGitUrl", () => {
  it.each([
    ["https://github.com/acme/deploy.git", "https"],
    ["http://127.0.0.1:8080/r.git", "http"],
    ["ssh://git@host:2222/r.git", "ssh"],
    ["git@github.com:acme/deploy.git", "ssh"],
    ["git://127.0.0.1:9418/r.git", "git"],
    ["file:///srv/git/r.git", "file"],
    ["https://user@host/r.git", "https"],
  ])("%s → %s", (url, transport) => {
    expect(parseGitUrl(url)).toEqual({ transport });
  });

  it("refuses a token in the URL, without repeating it", () => {
    const parsed = parseGitUrl("https://x-access-token:ghp_SECRET@github.com/acme/deploy.git");
    expect("error" in parsed && parsed.error).toContain("--git-token-file");
    expect(JSON.stringify(parsed)).not.toContain("ghp_SECRET");
  });

  it.each(["ext::sh -c touch% /tmp/x", "/srv/git/r.git", "ftp://host/r.git", "-oProxyCommand=x"])(
    "refuses %j",
    (url) => {
      expect(parseGitUrl(url)).toHaveProperty("error");
    },
  );
});

describe("scrubbing", () => {
  it("removes the userinfo of every URL", () => {
    expect(scrubUrls("fatal: unable to access 'https://u:tok3n@h.example/r.git/': 403; also ssh://git@h:22/x")).toBe(
      "fatal: unable to access 'https://h.example/r.git/': 403; also ssh://h:22/x",
    );
  });

  it("removes a known secret anywhere", () => {
    expect(scrubSecrets("Authorization: Bearer s3cr3t-token failed", ["s3cr3t-token"])).toBe(
      "Authorization: Bearer *** failed",
    );
  });
});

describe("sourceId", () => {
  it("is readable, stable and tells sources apart", () => {
    const a = sourceId("https://github.com/acme/deploy.git", "main", "");
    expect(a).toMatch(/^deploy-main-[0-9a-f]{8}$/);
    expect(sourceId("https://github.com/acme/deploy.git", "main", "")).toBe(a);
    expect(sourceId("https://github.com/acme/deploy.git", "main", "edge")).not.toBe(a);
    expect(sourceId("git@h:acme/Deploy.git", "release/1.x", "")).toMatch(/^deploy-release-1\.x-[0-9a-f]{8}$/);
  });
});

describe("commitSubject", () => {
  it("keeps the first line, bounded", () => {
    expect(commitSubject("fix: a\n\nbody")).toBe("fix: a");
    expect(commitSubject("x".repeat(200))).toHaveLength(120);
  });
});
