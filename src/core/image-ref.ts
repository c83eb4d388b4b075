/**
 * Image references in the form Docker lists them: "busybox" → "busybox:latest",
 * "docker.io/library/busybox" → "busybox:latest", digests kept as they are.
 */
export function normalizeImageRef(ref: string): string {
  let name = ref;
  let digest = "";
  const at = name.indexOf("@");
  if (at !== -1) {
    digest = name.slice(at);
    name = name.slice(0, at);
  }
  for (const prefix of ["docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"]) {
    if (name.startsWith(prefix)) {
      name = name.slice(prefix.length);
      break;
    }
  }
  const lastSlash = name.lastIndexOf("/");
  const hasTag = name.lastIndexOf(":") > lastSlash;
  if (digest) return `${name}${digest}`;
  return hasTag ? name : `${name}:latest`;
}

/**
 * Whether berth follows a spec's tag by digest (docs/images.md, Tag updates): imagePullPolicy
 * Always and a tag, not a `@sha256:` pin.
 */
export function followsTag(spec: { readonly image: string; readonly imagePullPolicy: string }): boolean {
  return spec.imagePullPolicy === "Always" && !spec.image.includes("@");
}

/** `sha256:0123456789ab…`: a digest shortened for a plan line; `(none)` for an unknown one. */
export function shortDigest(digest: string | null): string {
  if (digest === null) return "(none)";
  const [algorithm = "", hex = ""] = digest.split(":");
  return hex.length > 12 ? `${algorithm}:${hex.slice(0, 12)}…` : digest;
}
