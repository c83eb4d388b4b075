/**
 * docker-spawner's agent names (docs/http-api.md, "docker-spawner compatibility"). docker-spawner
 * names an agent `tidepool-agent-{bead_id}`, and Docker takes any `[a-zA-Z0-9][a-zA-Z0-9_.-]*`
 * there; a berth spec name is a DNS label. So a bead id is mapped, deterministically:
 *
 * - an id whose name is already a DNS label (and holds no "--") keeps it: `tidepool-abc` →
 *   `tidepool-agent-tidepool-abc`, as docker-spawner named it;
 * - any other is lowercased, every run of other characters becomes one "-", the result is cut to
 *   fit, and "--" and 8 hex digits of the id's SHA-256 follow: `TP-123` → `tidepool-agent-tp-123--…`.
 *
 * A kept name never holds "--" and a hashed one always does, so the two never meet; two hashed
 * names meet only when their ids share the cut-down text and 32 bits of SHA-256, and a spawn
 * compares the bead id its label holds before it answers with an agent (routes/spawner-compat.ts).
 */
import { DNS_LABEL_MAX, isDnsLabel } from "./names.js";
import { sha256Hex } from "./sha256.js";

export const AGENT_PREFIX = "tidepool-agent-";
/** What docker-spawner accepted as a bead id: what may follow `tidepool-agent-` in a container name. */
export const BEAD_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";
export const BEAD_ID_MAX = 200;
const HASH_DIGITS = 8;
const SEPARATOR = "--";

/** The spec (and container) name of the agent of a bead id. */
export function agentName(beadId: string): string {
  const kept = `${AGENT_PREFIX}${beadId}`;
  if (isDnsLabel(kept) && !kept.includes(SEPARATOR)) return kept;
  const room = DNS_LABEL_MAX - AGENT_PREFIX.length - SEPARATOR.length - HASH_DIGITS;
  const slug = beadId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, room)
    .replace(/^-+|-+$/g, "");
  return `${AGENT_PREFIX}${slug || "bead"}${SEPARATOR}${sha256Hex(beadId).slice(0, HASH_DIGITS)}`;
}

/**
 * The agent name a client may hold for an agent: `tidepool-agent-TP-123`, as docker-spawner
 * named it, is berth's `tidepool-agent-tp-123--…`; null when the text is not such a name.
 */
export function agentNameOf(containerName: string): string | null {
  if (!containerName.startsWith(AGENT_PREFIX)) return null;
  const beadId = containerName.slice(AGENT_PREFIX.length);
  return beadId.length <= BEAD_ID_MAX && new RegExp(BEAD_ID_PATTERN).test(beadId) ? agentName(beadId) : null;
}
