/**
 * The restricted profile's additions: non-root, no new privileges, no capabilities, no host paths
 * mounted (bind mounts, or volumes that bind one), and only volumes berth made or was told about.
 */
import { canonicalCapability } from "../spec.js";
import { type Check, type Found, listFound, widen } from "./check.js";
import { bindSource, bodyVolumes, volumeHostPath } from "./paths.js";
import type { Policy, PolicyContext } from "./types.js";

/** A volume name against an --allow-volume pattern: `*` any run of characters, `?` one. */
export function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(name);
}

/** volume-mounts-only, for named volumes: one whose options bind a host path is a bind mount. */
function hostPathVolumes(names: readonly string[], _policy: Policy, ctx: PolicyContext): string[] {
  return names.flatMap((name) => {
    const volume = ctx.volumes?.get(name);
    const host = volume ? volumeHostPath(volume) : null;
    return host === null ? [] : [`volume ${JSON.stringify(name)} mounts host path ${host}`];
  });
}

/** volume-origin: a volume berth made for this spec, or one an --allow-volume pattern names. */
function foreignVolumes(names: readonly string[], policy: Policy, ctx: PolicyContext): string[] {
  return names.flatMap((name) => {
    if (policy.allowVolumes.some((pattern) => globMatch(pattern, name))) return [];
    const volume = ctx.volumes?.get(name);
    // Unknown here, or missing (berth creates it, labelled), or berth's own for this spec.
    if (volume === undefined || volume === null || ctx.berthVolume?.(volume) === true) return [];
    return [
      `volume ${JSON.stringify(name)} exists and was not made by berth for this spec${widen(`--allow-volume ${name}`)}`,
    ];
  });
}

function nonRootUser(user: string): boolean {
  const m = /^(\d+):(\d+)$/.exec(user);
  return m !== null && Number(m[1]) !== 0 && Number(m[2]) !== 0;
}

export const RESTRICTED_CHECKS: readonly Check[] = [
  {
    id: "run-as-non-root",
    scope: "restricted",
    summary: "`user` must be a numeric `UID:GID`, neither 0.",
    spec: (doc) => {
      const user = doc.spec.user;
      if (user !== undefined && nonRootUser(user)) return [];
      return [
        {
          path: user === undefined ? ["spec"] : ["spec", "user"],
          message:
            user === undefined
              ? 'spec.user is required: set a numeric non-root UID:GID (e.g. user: "1000:1000")'
              : `${JSON.stringify(user)} is not a numeric non-root UID:GID (e.g. "1000:1000")`,
        },
      ];
    },
    request: (b) => (b.User === undefined || !nonRootUser(b.User) ? [`User ${b.User ?? "(image default)"}`] : []),
  },
  {
    id: "no-new-privileges",
    scope: "restricted",
    summary: "`securityContext.noNewPrivileges` must be true.",
    spec: (doc) =>
      doc.spec.securityContext?.noNewPrivileges === true
        ? []
        : [
            {
              path: doc.spec.securityContext ? ["spec", "securityContext"] : ["spec"],
              message: "set securityContext.noNewPrivileges: true",
            },
          ],
    request: (b) => ((b.HostConfig.SecurityOpt ?? []).includes("no-new-privileges") ? [] : ["no no-new-privileges"]),
  },
  {
    id: "drop-all-capabilities",
    scope: "restricted",
    summary: "`securityContext.capDrop` must hold `ALL`, and `capAdd` at most `NET_BIND_SERVICE`.",
    spec: (doc) => {
      const sc = doc.spec.securityContext;
      const found: Found[] = [];
      if (!(sc?.capDrop ?? []).some((c) => canonicalCapability(c) === "ALL")) {
        found.push({
          path: sc?.capDrop ? ["spec", "securityContext", "capDrop"] : sc ? ["spec", "securityContext"] : ["spec"],
          message: "set securityContext.capDrop: [ALL]",
        });
      }
      found.push(
        ...listFound(sc?.capAdd, (cap, i) =>
          canonicalCapability(cap) === "NET_BIND_SERVICE"
            ? null
            : { path: ["spec", "securityContext", "capAdd", i], message: "only NET_BIND_SERVICE may be added back" },
        ),
      );
      return found;
    },
    request: (b) => [
      ...((b.HostConfig.CapDrop ?? []).map(canonicalCapability).includes("ALL") ? [] : ["CapDrop lacks ALL"]),
      ...(b.HostConfig.CapAdd ?? [])
        .map(canonicalCapability)
        .filter((c) => c !== "NET_BIND_SERVICE")
        .map((c) => `CapAdd ${c}`),
    ],
  },
  {
    id: "volume-mounts-only",
    scope: "restricted",
    summary:
      "Only `volume` and `tmpfs` mounts: no bind mounts, even under `--allow-bind`, and no named volume whose driver options mount a host path.",
    spec: (doc) =>
      listFound(doc.spec.mounts, (m, i) =>
        m.type === "bind"
          ? { path: ["spec", "mounts", i, "type"], message: "bind mounts are refused; use a volume or tmpfs mount" }
          : null,
      ),
    request: (b, policy, ctx) => [
      ...(b.HostConfig.Binds ?? []).map((bind) => `bind ${bindSource(bind)}`),
      ...(b.HostConfig.Mounts ?? [])
        .filter((m) => m.Type !== "volume" && m.Type !== "tmpfs")
        .map((m) => `mount ${m.Type}`),
      ...hostPathVolumes(bodyVolumes(b), policy, ctx),
    ],
    mounts: (mounts) => mounts.filter((m) => m.type === "bind").map((m) => `bind ${m.source}`),
    volumes: hostPathVolumes,
  },
  {
    id: "volume-origin",
    scope: "restricted",
    summary:
      "A named volume must be one berth made for the spec (berth creates a missing one itself, labelled with the controller and the spec) or match an `--allow-volume` pattern; a volume someone else made is refused. Checked against the engine just before each create.",
    request: (b, policy, ctx) => foreignVolumes(bodyVolumes(b), policy, ctx),
    volumes: foreignVolumes,
  },
];
