/**
 * Registry credentials in Docker's own format (`config.json`: `auths`, `credHelpers`,
 * `credsStore`), pure: which registry an image reference names, how the keys of `auths` are
 * normalized, and which entry or helper answers for an image (docs/images.md, Credentials).
 * Reading the files and running credential helpers is the host's (host/registry-auth.ts).
 */
import { BerthError } from "./errors.js";

/** What the engine is handed as X-Registry-Auth for one pull: never logged, shown or stored. */
export interface RegistryCredentials {
  readonly serveraddress: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
}

/** One file in config.json's format, as berth read it. */
export interface AuthFile {
  /** Where it was read from (for messages; never its content). */
  readonly path: string;
  /** `auths`, each key as written, with its decoded credentials. */
  readonly auths: ReadonlyMap<string, RegistryCredentials>;
  /** `credHelpers`: normalized registry → helper name (docker-credential-<name>). */
  readonly credHelpers: ReadonlyMap<string, string>;
  /** `credsStore`: the helper for every registry without an entry, or null. */
  readonly credsStore: string | null;
}

/** Where the credentials of a pull come from: an entry of a file, or a helper to run. */
export type AuthSource =
  | { readonly kind: "entry"; readonly file: string; readonly key: string; readonly credentials: RegistryCredentials }
  | { readonly kind: "helper"; readonly file: string; readonly helper: string; readonly server: string };

/** Docker Hub's canonical name; every alias of it normalizes to this. */
export const DOCKER_HUB = "docker.io";
/** The server address Docker's CLI and credential helpers use for Docker Hub. */
export const DOCKER_HUB_SERVER = "https://index.docker.io/v1/";

const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

/**
 * The registry part of an image reference, as Docker decides it: the first path component when it
 * has a dot or a port or is `localhost`, else Docker Hub. `127.0.0.1:5000/team/app:1` → `127.0.0.1:5000`.
 */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash === -1) return DOCKER_HUB;
  const first = image.slice(0, slash);
  if (!first.includes(".") && !first.includes(":") && first !== "localhost") return DOCKER_HUB;
  return normalizeRegistry(first);
}

/** The repository of a reference without its registry, tag or digest: `127.0.0.1:5000/team/app:1` → `team/app`. */
export function repositoryOf(image: string): string {
  const registry = registryOf(image);
  const withoutDigest = image.split("@")[0] ?? image;
  const slash = withoutDigest.indexOf("/");
  let path = registry === DOCKER_HUB && !isHubPrefixed(withoutDigest) ? withoutDigest : withoutDigest.slice(slash + 1);
  const colon = path.lastIndexOf(":");
  if (colon > path.lastIndexOf("/")) path = path.slice(0, colon);
  return registry === DOCKER_HUB && !path.includes("/") ? `library/${path}` : path;
}

function isHubPrefixed(image: string): boolean {
  const first = image.slice(0, image.indexOf("/"));
  return image.includes("/") && HUB_ALIASES.has(first.toLowerCase());
}

/**
 * A registry name or an `auths` key as Docker writes them, normalized: no scheme, no path, host in
 * lower case, Docker Hub's aliases as `docker.io`. `https://index.docker.io/v1/` → `docker.io`,
 * `http://127.0.0.1:5000` → `127.0.0.1:5000`.
 */
export function normalizeRegistry(key: string): string {
  const host = (key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0] ?? "").toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** An `auths` key's path below its registry (`ghcr.io/team-a` → `team-a`), "" for none. */
function keyPath(key: string): string {
  const rest = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = rest.indexOf("/");
  if (slash === -1) return "";
  const path = rest.slice(slash + 1).replace(/\/+$/, "");
  // Docker Hub's own key carries the API version, not a repository.
  return normalizeRegistry(key) === DOCKER_HUB && /^v[12]$/.test(path) ? "" : path;
}

/**
 * What a broken credentials file means for pulls: berth fails closed (it cannot tell which
 * registries the file meant to answer for), and reads the file again at the next pull.
 */
export const UNTIL_FIXED = "every pull fails until it is fixed (berth reads it again at each pull)";

function invalid(file: string, what: string): BerthError {
  return BerthError.retriable(
    "BERTH_REGISTRY_AUTH",
    `${file}: ${what} (Docker's config.json format: {"auths": {"registry.example": {"auth": "<base64 of user:password>"}}}); ${UNTIL_FIXED}`,
  );
}

function decodeEntry(file: string, key: string, value: unknown): RegistryCredentials {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid(file, `auths[${JSON.stringify(key)}] is not an object`);
  const entry = value as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const v = entry[name];
    if (v === undefined || v === "") return undefined;
    if (typeof v !== "string") throw invalid(file, `auths[${JSON.stringify(key)}].${name} is not a string`);
    return v;
  };
  const serveraddress = key;
  const identitytoken = text("identitytoken");
  const auth = text("auth");
  if (auth !== undefined) {
    const decoded = Buffer.from(auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    // Never the value in the message: it is the credential.
    if (colon <= 0) throw invalid(file, `auths[${JSON.stringify(key)}].auth is not the base64 of user:password`);
    return {
      serveraddress,
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      ...(identitytoken ? { identitytoken } : {}),
    };
  }
  const username = text("username");
  const password = text("password");
  if (identitytoken !== undefined) return { serveraddress, ...(username ? { username } : {}), identitytoken };
  if (username !== undefined && password !== undefined) return { serveraddress, username, password };
  throw invalid(file, `auths[${JSON.stringify(key)}] has neither auth, username and password, nor identitytoken`);
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Parses a file in config.json's format; an error names the file and the entry, never a credential. */
export function parseAuthFile(path: string, text: string): AuthFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // Only where: V8's message quotes the text it choked on, which may be the credential itself.
    const at = /at position \d+/.exec(err instanceof Error ? err.message : "")?.[0];
    throw invalid(path, `is not JSON${at ? ` (${at})` : ""}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw invalid(path, "is not a JSON object");
  const root = json as Record<string, unknown>;
  const auths = new Map<string, RegistryCredentials>();
  const rawAuths = root.auths ?? {};
  if (typeof rawAuths !== "object" || rawAuths === null || Array.isArray(rawAuths))
    throw invalid(path, "auths is not an object");
  for (const [key, value] of Object.entries(rawAuths as Record<string, unknown>)) {
    // `docker login` leaves `{}` for a registry whose secret went to a helper.
    if (typeof value === "object" && value !== null && Object.keys(value).length === 0) continue;
    auths.set(key, decodeEntry(path, key, value));
  }
  const credHelpers = new Map<string, string>();
  const rawHelpers = root.credHelpers ?? {};
  if (typeof rawHelpers !== "object" || rawHelpers === null || Array.isArray(rawHelpers))
    throw invalid(path, "credHelpers is not an object");
  for (const [key, value] of Object.entries(rawHelpers)) {
    if (typeof value !== "string" || !HELPER_NAME.test(value))
      throw invalid(path, `credHelpers[${JSON.stringify(key)}] is not a helper name (docker-credential-<name>)`);
    credHelpers.set(normalizeRegistry(key), value);
  }
  const store = root.credsStore;
  if (store !== undefined && (typeof store !== "string" || (store !== "" && !HELPER_NAME.test(store))))
    throw invalid(path, "credsStore is not a helper name (docker-credential-<name>)");
  return { path, auths, credHelpers, credsStore: typeof store === "string" && store !== "" ? store : null };
}

/**
 * The credentials for an image, from the files in the order given (the first that answers wins).
 * With `secret` (a spec's imagePullSecret), only the entry of `auths` with exactly that key, and
 * only when it is for the image's registry. Without, an entry whose key names the registry and a
 * path the repository lies under (the longest such path wins; kubelet's rule), then the registry's
 * credHelpers entry, then credsStore. null: nothing answers (the pull goes without credentials).
 */
export function chooseAuth(files: readonly AuthFile[], image: string, secret: string | null): AuthSource | null {
  const registry = registryOf(image);
  const repository = repositoryOf(image);
  if (secret !== null) {
    for (const file of files) {
      const credentials = file.auths.get(secret);
      if (credentials === undefined) continue;
      if (normalizeRegistry(secret) !== registry)
        throw BerthError.retriable(
          "BERTH_REGISTRY_AUTH",
          `imagePullSecret ${JSON.stringify(secret)} (${file.path}) is for registry ${normalizeRegistry(secret)}, but image ${image} is on ${registry}`,
        );
      return { kind: "entry", file: file.path, key: secret, credentials };
    }
    throw BerthError.retriable(
      "BERTH_REGISTRY_AUTH",
      `imagePullSecret ${JSON.stringify(secret)} is not a key of auths in ${files.map((f) => f.path).join(" or ") || "any registry auth file (none was found)"}`,
    );
  }
  for (const file of files) {
    let best: { key: string; path: string; credentials: RegistryCredentials } | null = null;
    for (const [key, credentials] of file.auths) {
      if (normalizeRegistry(key) !== registry) continue;
      const path = keyPath(key);
      if (path !== "" && repository !== path && !repository.startsWith(`${path}/`)) continue;
      if (best === null || path.length > best.path.length) best = { key, path, credentials };
    }
    if (best) return { kind: "entry", file: file.path, key: best.key, credentials: best.credentials };
    const helper = file.credHelpers.get(registry) ?? file.credsStore;
    if (helper !== null && helper !== undefined)
      return {
        kind: "helper",
        file: file.path,
        helper,
        server: registry === DOCKER_HUB ? DOCKER_HUB_SERVER : registry,
      };
  }
  return null;
}

/**
 * A credential helper's answer (`{"ServerURL", "Username", "Secret"}`) as credentials; the user
 * `<token>` means the secret is an identity token, as Docker's CLI reads it.
 */
export function helperCredentials(server: string, output: string): RegistryCredentials | null {
  let json: unknown;
  try {
    json = JSON.parse(output);
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null) return null;
  const { Username: username, Secret: secret } = json as { Username?: unknown; Secret?: unknown };
  if (typeof username !== "string" || typeof secret !== "string" || secret === "") return null;
  return username === "<token>"
    ? { serveraddress: server, identitytoken: secret }
    : { serveraddress: server, username, password: secret };
}

/** The credentials found for one image, and where berth looked (for the message of a refused pull). */
export interface CredentialLookup {
  readonly registry: string;
  /** null: nothing answered; the pull goes without credentials. */
  readonly credentials: RegistryCredentials | null;
  /** Which entry or helper answered (`auths["ghcr.io"] of /root/.docker/config.json`), or null. */
  readonly from: string | null;
  /** The places looked in, in order. */
  readonly searched: readonly string[];
}

/** Finds the credentials of a pull (host/registry-auth.ts on the host; nothing in the tests' fake). */
export interface RegistryAuth {
  lookup(image: string, secret: string | null): Promise<CredentialLookup>;
}

/** A pull the registry refused for want of credentials (401, 403, "denied"), in the engine's words. */
export function isDeniedPull(message: string): boolean {
  return /unauthorized|authentication required|no basic auth credentials|denied|\b40[13]\b|forbidden/i.test(message);
}

/**
 * A pull that never reached the registry (refused or reset connection, unknown host, a timeout),
 * in the engine's words (Go's net errors): `dial tcp 127.0.0.1:5000: connect: connection refused`.
 */
export function isUnreachableRegistry(message: string): boolean {
  return /connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset by peer|TLS handshake timeout|Client\.Timeout exceeded|server misbehaving/i.test(
    message,
  );
}

/** A pull the registry answered with "no such image or tag" (`manifest unknown`, a 404). */
export function isImageNotFound(message: string): boolean {
  return /manifest unknown|name unknown|not found|\b404\b/i.test(message);
}
