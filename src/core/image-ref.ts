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
