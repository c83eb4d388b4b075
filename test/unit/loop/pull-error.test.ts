/** A failed pull in the user's terms (loop/executor.ts, pullError): golden messages. */
import { describe, expect, it } from "vitest";
import { pullError } from "../../../src/loop/executor.js";

const IMAGE = "127.0.0.1:5000/team/app:1";
const DENIED = new Error("Head http://127.0.0.1:5000/v2/team/app/manifests/1: no basic auth credentials");

describe("pullError", () => {
  it("a refusal without credentials says where berth looked and what to run", () => {
    const err = pullError(IMAGE, DENIED, {
      registry: "127.0.0.1:5000",
      credentials: null,
      from: null,
      searched: ["--registry-auth-file /run/secrets/r.json", "/root/.docker/config.json"],
    });
    expect([err.code, err.retriable, err.message]).toEqual([
      "BERTH_PULL_DENIED",
      true,
      `the registry 127.0.0.1:5000 refused the pull of ${IMAGE} (${DENIED.message}); berth retries with backoff. ` +
        "berth found no credentials for 127.0.0.1:5000 (berth looked in --registry-auth-file /run/secrets/r.json, " +
        "/root/.docker/config.json): run docker login 127.0.0.1:5000, or add an auths entry for it to --registry-auth-file",
    ]);
  });

  it("a refusal of credentials sent names the entry, never the credentials", () => {
    const err = pullError(IMAGE, DENIED, {
      registry: "127.0.0.1:5000",
      credentials: { serveraddress: "127.0.0.1:5000", username: "u", password: "hunter2" },
      from: 'auths["127.0.0.1:5000"] of /c/config.json',
      searched: ["/c/config.json"],
    });
    expect(err.message).toContain(
      'berth sent the credentials of auths["127.0.0.1:5000"] of /c/config.json: check them (docker login 127.0.0.1:5000)',
    );
    expect(err.message).not.toContain("hunter2");
  });

  it("any other failure stays BERTH_PULL_FAILED", () => {
    const err = pullError(IMAGE, new Error("manifest unknown"), null);
    expect([err.code, err.message]).toEqual([
      "BERTH_PULL_FAILED",
      `pulling image ${IMAGE} failed (manifest unknown); berth retries with backoff. If the image exists only on this ` +
        `host, build it there (docker build -t ${IMAGE} .) or set imagePullPolicy: Never`,
    ]);
  });

  const REFUSED = new Error('Get "https://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused');

  it("an unreachable registry under Always says so, and that Always pulls even when the image is on this host", () => {
    const err = pullError(IMAGE, REFUSED, null, "Always");
    expect([err.code, err.message]).toEqual([
      "BERTH_PULL_FAILED",
      `pulling image ${IMAGE} failed (${REFUSED.message}); berth retries with backoff. The registry 127.0.0.1:5000 ` +
        "could not be reached: under imagePullPolicy: Always berth pulls before every create, even when the image is " +
        "on this host (IfNotPresent would use the local image)",
    ]);
    expect(err.message).not.toContain("exists only on this host");
  });

  it("an unreachable registry under IfNotPresent says it could not be reached, not to build the image", () => {
    const err = pullError(IMAGE, new Error("dial tcp: lookup registry.example: no such host"), null, "IfNotPresent");
    expect(err.message).toContain("The registry 127.0.0.1:5000 could not be reached: check that it is up");
    expect(err.message).not.toContain("exists only on this host");
  });

  it("a failure that is neither a refusal, nor unreachable, nor not found gets no hint", () => {
    const err = pullError(IMAGE, new Error("write /var/lib/docker/tmp: no space left on device"), null, "Always");
    expect(err.message).toBe(
      `pulling image ${IMAGE} failed (write /var/lib/docker/tmp: no space left on device); berth retries with backoff`,
    );
  });
});
