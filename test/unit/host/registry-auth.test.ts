/**
 * Credential helpers as berth runs them (host/registry-auth.ts): real tiny shell scripts on PATH,
 * so that what the child process does (exit before reading its stdin, hang, answer "credentials
 * not found") is what berth meets on a host.
 */
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BerthError } from "../../../src/core/errors.js";
import { DEFAULT_POLICY } from "../../../src/core/policy/policy.js";
import { hostRegistryAuth } from "../../../src/host/registry-auth.js";
import { pullError } from "../../../src/loop/executor.js";
import { tempDir } from "../../support/tmp.js";

const REGISTRY = "127.0.0.1:5000";
const IMAGE = `${REGISTRY}/team/app:1`;

/** Each helper's script body, installed as docker-credential-berthtest-<name>. */
const HELPERS: Record<string, string> = {
  // Exits without reading its standard input: berth's write of the server name meets a closed pipe.
  exit: "exit 1",
  "not-json": "echo not json",
  "not-json-fail": "echo not json; exit 1",
  stderr: "echo 'cannot open keyring: locked' >&2; echo second line >&2; exit 3",
  // Ignores SIGTERM: only a firm kill ends it.
  hang: "trap '' TERM; sleep 30 & wait",
  "not-found": "cat >/dev/null; echo 'credentials not found in native keychain'; exit 1",
  ok: 'cat >/dev/null; echo \'{"ServerURL":"127.0.0.1:5000","Username":"u","Secret":"hunter2"}\'',
};

let bin = "";
let savedPath: string | undefined;

beforeAll(() => {
  bin = tempDir("berth-helpers-", "file");
  for (const [name, body] of Object.entries(HELPERS)) {
    const file = path.join(bin, `docker-credential-berthtest-${name}`);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  }
  savedPath = process.env.PATH;
  process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ""}`;
});

afterAll(() => {
  process.env.PATH = savedPath;
});

function authWith(helper: string, helperTimeoutMs?: number) {
  const dir = tempDir("berth-docker-config-");
  const dockerConfig = path.join(dir, "config.json");
  writeFileSync(dockerConfig, JSON.stringify({ credHelpers: { [REGISTRY]: `berthtest-${helper}` } }));
  return {
    dockerConfig,
    auth: hostRegistryAuth({
      authFile: null,
      dockerConfig,
      policy: DEFAULT_POLICY,
      ...(helperTimeoutMs !== undefined ? { helperTimeoutMs } : {}),
    }),
  };
}

async function failure(promise: Promise<unknown>): Promise<BerthError> {
  const err: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof BerthError)) throw new Error(`expected a BerthError, got ${String(err)}`);
  return err;
}

describe("credential helpers", () => {
  it("a helper that exits without reading its stdin is a retriable BERTH_REGISTRY_AUTH, never a crash (EPIPE)", async () => {
    const { auth } = authWith("exit");
    // The write can land before or after the helper is gone: many runs meet the closed pipe. An
    // unhandled 'error' (EPIPE) on the helper's stdin is an uncaught exception, which fails the run.
    const errors = await Promise.all(Array.from({ length: 20 }, () => failure(auth.lookup(IMAGE, null))));
    for (const err of errors) {
      expect([err.code, err.retriable, err.message]).toEqual([
        "BERTH_REGISTRY_AUTH",
        true,
        "docker-credential-berthtest-exit get exited with code 1",
      ]);
    }
  });

  it("a helper that answers what is not JSON, with or without failing, is BERTH_REGISTRY_AUTH", async () => {
    const { auth, dockerConfig } = authWith("not-json");
    const errors = await Promise.all(Array.from({ length: 20 }, () => failure(auth.lookup(IMAGE, null))));
    for (const err of errors)
      expect([err.code, err.message]).toEqual([
        "BERTH_REGISTRY_AUTH",
        `docker-credential-berthtest-not-json (${dockerConfig}): its answer is not {"Username", "Secret"} JSON`,
      ]);
    const failing = authWith("not-json-fail").auth;
    const more = await Promise.all(Array.from({ length: 20 }, () => failure(failing.lookup(IMAGE, null))));
    for (const err of more)
      expect([err.code, err.message]).toEqual([
        "BERTH_REGISTRY_AUTH",
        "docker-credential-berthtest-not-json-fail get exited with code 1",
      ]);
  });

  it("a failing helper's message says its exit code and its first line of stderr", async () => {
    const err = await failure(authWith("stderr").auth.lookup(IMAGE, null));
    expect([err.code, err.message]).toEqual([
      "BERTH_REGISTRY_AUTH",
      "docker-credential-berthtest-stderr get exited with code 3: cannot open keyring: locked",
    ]);
  });

  it("a helper that hangs, even one that ignores SIGTERM, is killed at its deadline and says so", async () => {
    const started = Date.now();
    const err = await failure(authWith("hang", 300).auth.lookup(IMAGE, null));
    expect([err.code, err.message]).toEqual([
      "BERTH_REGISTRY_AUTH",
      "docker-credential-berthtest-hang get timed out after 300ms",
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a helper that is not on PATH says so", async () => {
    const err = await failure(authWith("missing").auth.lookup(IMAGE, null));
    expect(err.message).toBe("docker-credential-berthtest-missing get is not on PATH");
  });

  it("a helper's credentials are used and said to come from it", async () => {
    const { auth, dockerConfig } = authWith("ok");
    const found = await auth.lookup(IMAGE, null);
    expect(found).toEqual({
      registry: REGISTRY,
      credentials: { serveraddress: REGISTRY, username: "u", password: "hunter2" },
      from: `docker-credential-berthtest-ok (${dockerConfig})`,
      searched: [dockerConfig, `docker-credential-berthtest-ok (${dockerConfig})`],
    });
  });

  it('a helper\'s "credentials not found" is no credentials: a refused pull says berth sent none', async () => {
    const { auth, dockerConfig } = authWith("not-found");
    const found = await auth.lookup(IMAGE, null);
    expect([found.credentials, found.from]).toEqual([null, null]);
    const err = pullError(IMAGE, new Error("no basic auth credentials"), found);
    expect(err.code).toBe("BERTH_PULL_DENIED");
    expect(err.message).not.toContain("berth sent");
    expect(err.message).toContain(
      `berth found no credentials for ${REGISTRY} (berth looked in ${dockerConfig}, ` +
        `docker-credential-berthtest-not-found (${dockerConfig})): run docker login ${REGISTRY}`,
    );
  });
});
