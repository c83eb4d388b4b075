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
});
