import { describe, expect, it } from "vitest";
import {
  chooseAuth,
  helperCredentials,
  isDeniedPull,
  isImageNotFound,
  isUnreachableRegistry,
  normalizeRegistry,
  parseAuthFile,
  registryOf,
  repositoryOf,
} from "../../../src/core/registry.js";

const b64 = (text: string): string => Buffer.from(text).toString("base64");

describe("registryOf and repositoryOf: Docker's rule for the registry part", () => {
  it.each([
    ["busybox", "docker.io", "library/busybox"],
    ["busybox:1.36", "docker.io", "library/busybox"],
    ["team/app:1", "docker.io", "team/app"],
    ["docker.io/library/busybox", "docker.io", "library/busybox"],
    ["index.docker.io/team/app", "docker.io", "team/app"],
    ["registry-1.docker.io/team/app@sha256:ab", "docker.io", "team/app"],
    ["localhost/app", "localhost", "app"],
    ["localhost:5000/app:2", "localhost:5000", "app"],
    ["127.0.0.1:5000/team/sub/app:1", "127.0.0.1:5000", "team/sub/app"],
    ["GHCR.io/Team/app", "ghcr.io", "Team/app"],
    ["ghcr.io/team/app@sha256:0123", "ghcr.io", "team/app"],
  ])("%s → %s, %s", (image, registry, repository) => {
    expect(registryOf(image)).toBe(registry);
    expect(repositoryOf(image)).toBe(repository);
  });

  it.each([
    ["https://index.docker.io/v1/", "docker.io"],
    ["index.docker.io", "docker.io"],
    ["registry.hub.docker.com", "docker.io"],
    ["http://127.0.0.1:5000", "127.0.0.1:5000"],
    ["https://GHCR.IO/team-a", "ghcr.io"],
    ["registry.example.com:443", "registry.example.com:443"],
  ])("auths key %s → %s", (key, registry) => {
    expect(normalizeRegistry(key)).toBe(registry);
  });
});

describe("parseAuthFile", () => {
  it("decodes auth, username/password and identitytoken; skips the empty entries docker login leaves", () => {
    const file = parseAuthFile(
      "/f.json",
      JSON.stringify({
        auths: {
          "ghcr.io": { auth: b64("alice:pa:ss") },
          "registry.example": { username: "bob", password: "pw" },
          "https://index.docker.io/v1/": { identitytoken: "tok" },
          "quay.io": {},
        },
        credHelpers: { "gcr.io": "gcloud" },
        credsStore: "pass",
      }),
    );
    expect(Object.fromEntries(file.auths)).toEqual({
      "ghcr.io": { serveraddress: "ghcr.io", username: "alice", password: "pa:ss" },
      "registry.example": { serveraddress: "registry.example", username: "bob", password: "pw" },
      "https://index.docker.io/v1/": { serveraddress: "https://index.docker.io/v1/", identitytoken: "tok" },
    });
    expect(Object.fromEntries(file.credHelpers)).toEqual({ "gcr.io": "gcloud" });
    expect(file.credsStore).toBe("pass");
  });

  it.each([
    ["{", /\/f\.json: is not JSON/],
    ["[]", /\/f\.json: is not a JSON object/],
    [
      JSON.stringify({ auths: { "ghcr.io": { auth: b64("nocolon") } } }),
      /auths\["ghcr.io"\]\.auth is not the base64 of user:password/,
    ],
    [JSON.stringify({ auths: { "ghcr.io": { username: "u" } } }), /has neither auth/],
    [JSON.stringify({ credHelpers: { "gcr.io": "../../bin/sh" } }), /credHelpers\["gcr.io"\] is not a helper name/],
    [JSON.stringify({ credsStore: "a b" }), /credsStore is not a helper name/],
  ])("refuses %s, naming the file and entry and never the credential", (text, message) => {
    let error: unknown;
    try {
      parseAuthFile("/f.json", text);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: "BERTH_REGISTRY_AUTH", message: expect.stringMatching(message) as unknown });
    expect((error as Error).message).not.toContain("nocolon");
  });

  it("a file that is not JSON: named, with where it breaks, never its text, and what it does to pulls", () => {
    const message = (text: string): string => {
      try {
        parseAuthFile("/run/secrets/r.json", text);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error("parsed");
    };
    // V8's own message would quote the text: "Unexpected token 'h', "hunter2:secretpw" is not valid JSON".
    const plain = message("hunter2:secretpw");
    expect(plain).toBe(
      '/run/secrets/r.json: is not JSON (Docker\'s config.json format: {"auths": {"registry.example": {"auth": ' +
        '"<base64 of user:password>"}}}); every pull fails until it is fixed (berth reads it again at each pull)',
    );
    const broken = message(`{"auths": {"r.example": {"auth": "${b64("u:secretpw")}"} x}`);
    expect(broken).toMatch(/^\/run\/secrets\/r\.json: is not JSON \(at position \d+\) /);
    expect(broken).not.toContain(b64("u:secretpw"));
  });
});

describe("chooseAuth", () => {
  const file = parseAuthFile(
    "/auth.json",
    JSON.stringify({
      auths: {
        "ghcr.io": { auth: b64("any:1") },
        "ghcr.io/team-a": { auth: b64("a:2") },
        "ghcr.io/team-a/deep": { auth: b64("deep:3") },
        "https://index.docker.io/v1/": { auth: b64("hub:4") },
      },
      credHelpers: { "gcr.io": "gcloud" },
    }),
  );
  const store = parseAuthFile(
    "/config.json",
    JSON.stringify({ credsStore: "pass", auths: { "quay.io": { auth: b64("q:5") } } }),
  );
  const user = (image: string, secret: string | null = null, files = [file, store]): string | null => {
    const source = chooseAuth(files, image, secret);
    if (source === null) return null;
    return source.kind === "entry"
      ? `${source.key} from ${source.file}`
      : `helper ${source.helper} for ${source.server}`;
  };

  it.each([
    ["ghcr.io/other/app:1", "ghcr.io from /auth.json"],
    ["ghcr.io/team-a/app:1", "ghcr.io/team-a from /auth.json"],
    ["ghcr.io/team-a/deep/app", "ghcr.io/team-a/deep from /auth.json"],
    ["ghcr.io/team-ab/app", "ghcr.io from /auth.json"],
    ["busybox", "https://index.docker.io/v1/ from /auth.json"],
    ["gcr.io/p/app", "helper gcloud for gcr.io"],
    ["quay.io/x/y", "quay.io from /config.json"],
    ["registry.example/x", "helper pass for registry.example"],
  ])("%s → %s", (image, expected) => {
    expect(user(image)).toBe(expected);
  });

  it("uses Docker Hub's server address for a helper, and nothing when no file answers", () => {
    expect(user("team/app", null, [store])).toBe("helper pass for https://index.docker.io/v1/");
    expect(user("registry.example/x", null, [file])).toBeNull();
  });

  it("imagePullSecret takes exactly that key, only for the image's registry", () => {
    expect(user("ghcr.io/team-a/deep/app", "ghcr.io")).toBe("ghcr.io from /auth.json");
    expect(() => user("quay.io/x", "ghcr.io")).toThrow(
      'imagePullSecret "ghcr.io" (/auth.json) is for registry ghcr.io, but image quay.io/x is on quay.io',
    );
    expect(() => user("ghcr.io/x", "team-b")).toThrow(
      'imagePullSecret "team-b" is not a key of auths in /auth.json or /config.json',
    );
  });
});

describe("helperCredentials", () => {
  it.each([
    ['{"ServerURL":"s","Username":"u","Secret":"p"}', { serveraddress: "srv", username: "u", password: "p" }],
    ['{"Username":"<token>","Secret":"t"}', { serveraddress: "srv", identitytoken: "t" }],
    ['{"Username":"u"}', null],
    ["not json", null],
  ])("%s", (output, expected) => {
    expect(helperCredentials("srv", output)).toEqual(expected);
  });
});

describe("isDeniedPull", () => {
  it.each([
    ['Head "http://127.0.0.1:5000/v2/x/manifests/1": no basic auth credentials', true],
    ["unauthorized: authentication required", true],
    ["pull access denied for x, repository does not exist or may require 'docker login'", true],
    ["manifest for x:1 not found: manifest unknown", false],
    ["dial tcp 127.0.0.1:5000: connect: connection refused", false],
  ])("%s → %s", (message, denied) => {
    expect(isDeniedPull(message)).toBe(denied);
  });
});

describe("isUnreachableRegistry and isImageNotFound", () => {
  it.each([
    ['Get "https://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused', true, false],
    ["dial tcp: lookup registry.example on 127.0.0.11:53: no such host", true, false],
    ['Get "https://r.example/v2/": net/http: TLS handshake timeout', true, false],
    ["dial tcp 10.0.0.9:443: i/o timeout", true, false],
    ["manifest for 127.0.0.1:5000/x:1 not found: manifest unknown: manifest unknown", false, true],
    ["write /var/lib/docker/tmp: no space left on device", false, false],
  ])("%s → unreachable %s, not found %s", (message, unreachable, notFound) => {
    expect([isUnreachableRegistry(message), isImageNotFound(message)]).toEqual([unreachable, notFound]);
  });
});
