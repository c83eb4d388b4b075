/** The restricted profile's additions: non-root, no new privileges, no capabilities, no bind mounts. */
import { canonicalCapability } from "../spec.js";
import { type Check, type Found, listFound } from "./check.js";
import { bindSource } from "./paths.js";

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
    summary: "Only `volume` and `tmpfs` mounts: no bind mounts, even under `--allow-bind`.",
    spec: (doc) =>
      listFound(doc.spec.mounts, (m, i) =>
        m.type === "bind"
          ? { path: ["spec", "mounts", i, "type"], message: "bind mounts are refused; use a volume or tmpfs mount" }
          : null,
      ),
    request: (b) => [
      ...(b.HostConfig.Binds ?? []).map((bind) => `bind ${bindSource(bind)}`),
      ...(b.HostConfig.Mounts ?? [])
        .filter((m) => m.Type !== "volume" && m.Type !== "tmpfs")
        .map((m) => `mount ${m.Type}`),
    ],
  },
];
