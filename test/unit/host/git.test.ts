/** The git runner's environment and its messages (git itself runs in test/docker/gitops.test.ts). */
import { describe, expect, it } from "vitest";
import { gitEnv, GitError, runGit } from "../../../src/host/git.js";
import { tempDir } from "../../support/tmp.js";

describe("gitEnv", () => {
  const home = "/state/git/home";

  it("inherits nothing but PATH, never prompts, reads no system or user configuration", () => {
    const env = gitEnv({ home, credentials: { token: null, sshKeyFile: null, knownHostsFile: null } });
    expect(Object.keys(env).sort()).toEqual(
      [
        "PATH",
        "LC_ALL",
        "HOME",
        "XDG_CONFIG_HOME",
        "GIT_TERMINAL_PROMPT",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_GLOBAL",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "GIT_SSH_COMMAND",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_KEY_0",
        "GIT_CONFIG_VALUE_0",
      ].sort(),
    );
    expect(env).toMatchObject({
      HOME: home,
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_KEY_0: "protocol.ext.allow",
      GIT_CONFIG_VALUE_0: "never",
    });
    expect(env.GIT_SSH_COMMAND).toContain("-o StrictHostKeyChecking=yes");
    expect(env.GIT_SSH_COMMAND).toContain("-o UserKnownHostsFile='/dev/null'");
  });

  it("passes the key and known_hosts to ssh, quoted", () => {
    const env = gitEnv({
      home,
      credentials: { token: null, sshKeyFile: "/run/secrets/it's key", knownHostsFile: "/run/secrets/known_hosts" },
    });
    expect(env.GIT_SSH_COMMAND).toBe(
      "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -F /dev/null -i '/run/secrets/it'\\''s key' -o UserKnownHostsFile='/run/secrets/known_hosts'",
    );
  });

  it("sends a token as a header in git's environment configuration: Bearer, or Basic for user:token", () => {
    const bearer = gitEnv({ home, credentials: { token: "tok123456", sshKeyFile: null, knownHostsFile: null } });
    expect(bearer).toMatchObject({
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_1: "http.extraHeader",
      GIT_CONFIG_VALUE_1: "Authorization: Bearer tok123456",
    });
    const basic = gitEnv({ home, credentials: { token: "bot:tok123456", sshKeyFile: null, knownHostsFile: null } });
    expect(basic.GIT_CONFIG_VALUE_1).toBe(`Authorization: Basic ${Buffer.from("bot:tok123456").toString("base64")}`);
  });
});

describe("runGit", () => {
  it("fails with git's own words, the URL's userinfo and the token scrubbed", async () => {
    const home = tempDir();
    const failed = runGit(["ls-remote", "--", "file://user:pw-in-url@/nonexistent/repo.git"], {
      home,
      credentials: { token: "the-token-value", sshKeyFile: null, knownHostsFile: null },
      timeoutMs: 20_000,
    });
    await expect(failed).rejects.toBeInstanceOf(GitError);
    const message = await failed.catch((e: unknown) => (e as Error).message);
    expect(message).toMatch(/^git ls-remote failed: /);
    expect(message).not.toContain("pw-in-url");
    expect(message).not.toContain("the-token-value");
  });
});
