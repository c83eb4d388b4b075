/** The Git webhook's signature check: GitHub/Gitea's HMAC and GitLab's token. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "../../../src/http/webhook-signature.js";

const SECRET = "0123456789abcdef-webhook";
const BODY = Buffer.from('{"ref":"refs/heads/main","after":"abc"}');
const sign = (body: Uint8Array, secret = SECRET): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("verifyWebhook", () => {
  it.each([
    ["a good X-Hub-Signature-256", { "x-hub-signature-256": sign(BODY) }, "ok"],
    ["upper-case hex", { "x-hub-signature-256": sign(BODY).toUpperCase().replace("SHA256", "sha256") }, "ok"],
    ["a good X-Gitlab-Token", { "x-gitlab-token": SECRET }, "ok"],
    ["no signature", {}, "unsigned"],
    ["another secret's signature", { "x-hub-signature-256": sign(BODY, "another-secret-0123456") }, "bad-signature"],
    ["another body's signature", { "x-hub-signature-256": sign(Buffer.from("{}")) }, "bad-signature"],
    ["sha1 only (X-Hub-Signature is not read)", { "x-hub-signature": "sha1=00" }, "unsigned"],
    ["a malformed signature", { "x-hub-signature-256": "sha256=zz" }, "bad-signature"],
    ["an empty signature", { "x-hub-signature-256": "" }, "bad-signature"],
    ["a wrong GitLab token", { "x-gitlab-token": `${SECRET}x` }, "bad-signature"],
    ["a GitLab token that is a prefix", { "x-gitlab-token": SECRET.slice(0, 8) }, "bad-signature"],
  ])("%s → %s", (_what, headers, verdict) => {
    expect(verifyWebhook(headers, BODY, SECRET)).toBe(verdict);
  });

  it("checks the signature over the exact bytes (not re-encoded text)", () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect(verifyWebhook({ "x-hub-signature-256": sign(bytes) }, bytes, SECRET)).toBe("ok");
  });
});
