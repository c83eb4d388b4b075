/** "Did you mean …?" for misspelt field names and enum values. */

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The closest candidate, when it is close enough to be a likely typo. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const limit = Math.max(2, Math.floor(0.45 * Math.max(input.length, candidate.length)));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Kubernetes kinds that run containers: their container's fields are what a berth spec holds. */
const WORKLOAD_KINDS = new Set(["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]);
/** `v1`, `apps/v1`, `batch/v1beta1`, `networking.k8s.io/v1`: a Kubernetes apiVersion. */
const KUBERNETES_API_VERSION_RE = /^(v\d+|[a-z0-9.-]+\/v\d+[a-z0-9]*)$/;

/** A file name as a shell word: bare when safe, else single-quoted. */
function shellWord(text: string): string {
  return /^[\w./@%+:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * What a document that is not a berth spec looks like, and what to do about it: a Docker Compose
 * file (top-level `services:`) or a Kubernetes object (apiVersion v1, apps/v1, …). One message in
 * place of the schema's complaints, which would only list every field as unknown.
 */
export function lookalike(data: unknown, file: string): string | undefined {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return undefined;
  const doc = data as Record<string, unknown>;
  const services = doc.services;
  if (!("apiVersion" in doc) && !("kind" in doc) && services !== null && typeof services === "object") {
    return `this looks like a Docker Compose file, not a berth spec: convert it with \`berth import compose ${shellWord(file)}\``;
  }
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== "string" || typeof kind !== "string") return undefined;
  // A berth spec with a wrong apiVersion (kind Container) gets the schema's plain message.
  if (kind === "Container" || apiVersion.startsWith("berth/") || !KUBERNETES_API_VERSION_RE.test(apiVersion))
    return undefined;
  const what = `this looks like a Kubernetes ${kind} (apiVersion ${apiVersion}), not a berth spec`;
  if (!WORKLOAD_KINDS.has(kind)) return `${what}: berth runs containers only (apiVersion: berth/v1, kind: Container)`;
  return (
    `${what}: write one document per container with apiVersion: berth/v1 and kind: Container, ` +
    "and move the container's image, env, ports and resources to its spec (Kubernetes' command " +
    "is berth's entrypoint, its args berth's command; `berth schema` lists every field)"
  );
}

const BYTE_UNIT_RE = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtTpP])(i?)([bB]?)\s*$/;

/**
 * The quantity someone writing `512MB`, `1 GB`, `512m` (Docker's spelling) or `2GiB` meant, in
 * berth's units: the binary one (what Docker and Kubernetes users usually mean) and, for a
 * decimal spelling, the decimal one too. Undefined when it is no such spelling.
 */
export function quantityGuess(value: unknown): string[] | undefined {
  if (typeof value !== "string") return undefined;
  const m = BYTE_UNIT_RE.exec(value);
  if (!m) return undefined;
  const [, number = "", letter = "", binary, byte] = m;
  const unit = letter.toUpperCase();
  const guesses = [`${number}${unit}i`];
  // "512MB" and "1 GB" may mean powers of 1000; "512m" (Docker) and "2GiB" are binary.
  if (binary === "" && byte !== "") guesses.push(`${number}${unit === "K" ? "k" : unit}`);
  return guesses.includes(value) ? undefined : guesses;
}
