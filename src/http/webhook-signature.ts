/**
 * Is a webhook from the Git host? GitHub and Gitea sign the body: `X-Hub-Signature-256:
 * sha256=<hex HMAC-SHA256 of the raw body under the secret>`; GitLab sends the secret itself in
 * `X-Gitlab-Token`. Both are compared in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type WebhookVerdict = "ok" | "unsigned" | "bad-signature";

function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  // Digests of equal length, so that the comparison's time says nothing of either.
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

export function verifyWebhook(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Uint8Array,
  secret: string,
): WebhookVerdict {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const hub = one("x-hub-signature-256");
  if (hub !== undefined) {
    const m = /^sha256=([0-9a-fA-F]{64})$/.exec(hub.trim());
    if (!m?.[1]) return "bad-signature";
    const expected = createHmac("sha256", secret).update(body).digest();
    return sameDigest(Buffer.from(m[1].toLowerCase(), "hex"), expected) ? "ok" : "bad-signature";
  }
  const gitlab = one("x-gitlab-token");
  if (gitlab !== undefined) return sameDigest(Buffer.from(gitlab), Buffer.from(secret)) ? "ok" : "bad-signature";
  return "unsigned";
}
