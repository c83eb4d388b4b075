/**
 * Checks on host paths a container mounts: never the host's vital paths, only under allowed
 * folders, never inside what a container can write, and not through a named volume either.
 */
import type { ObservedMount } from "../observed.js";
import type { Check, Found } from "./check.js";
import { listFound } from "./check.js";
import { findOverlaps, type HostMount, hostMounts, OVERLAP_ADVICE, overlapLine, overlapMessage } from "./overlap.js";
import { bindRefusal, bodyMounts, bodyVolumes, lexicalPath, volumeHostPath } from "./paths.js";
import type { Policy, PolicyContext } from "./types.js";

function bindsOf(mounts: readonly ObservedMount[]): string[] {
  return mounts.filter((m) => m.type === "bind").map((m) => m.source);
}

function forbiddenBinds(mounts: readonly ObservedMount[], policy: Policy, ctx: PolicyContext): string[] {
  return bindsOf(mounts).flatMap((source) =>
    bindRefusal(source, policy, ctx)?.check === "bind-forbidden" ? [`bind mount of ${source}`] : [],
  );
}

function unlistedBinds(mounts: readonly ObservedMount[], policy: Policy, ctx: PolicyContext): string[] {
  return bindsOf(mounts).flatMap((source) =>
    bindRefusal(source, policy, ctx)?.check === "bind-allowed-prefix"
      ? [`bind mount of ${source} outside the allowed prefixes`]
      : [],
  );
}

/** bind-inside-writable, read off a container's mounts and the other containers' (ctx.otherMounts). */
function insideWritable(mounts: readonly ObservedMount[], ctx: PolicyContext): string[] {
  const mine = hostMounts(mounts, "this container", ctx);
  const others = (ctx.otherMounts ?? []).flatMap((o) => hostMounts(o.mounts, o.by, ctx));
  const mineSet = new Set(mine);
  return findOverlaps(mine, others, ctx.realpath).map((o) => overlapLine(o, mineSet.has(o.inner) ? "inner" : "outer"));
}

/** volume-host-path: a volume that binds a host path, judged as a bind of that path. */
function volumeHostPaths(names: readonly string[], policy: Policy, ctx: PolicyContext): string[] {
  return names.flatMap((name) => {
    const volume = ctx.volumes?.get(name);
    const host = volume ? volumeHostPath(volume) : null;
    if (host === null) return [];
    const refusal = bindRefusal(host, policy, ctx);
    if (refusal === null) return [];
    const resolved = lexicalPath(ctx.realpath(host));
    const at = resolved === host ? host : `${host} (resolves to ${resolved})`;
    return [
      refusal.check === "bind-forbidden"
        ? `volume ${JSON.stringify(name)} mounts host path ${at}, which is or holds a path never mounted`
        : `volume ${JSON.stringify(name)} mounts host path ${at}, outside the allowed host folders (--allow-bind)`,
    ];
  });
}

export const MOUNT_CHECKS: readonly Check[] = [
  {
    id: "bind-forbidden",
    scope: "baseline",
    summary:
      "Bind mounts of `/`, `/etc`, `/proc`, `/sys`, `/var/lib/docker` and the Docker socket (or a folder holding them) are refused, whatever `--allow-bind` says, also through `..`, `//`, trailing slashes and symbolic links.",
    spec: (doc, _spec, policy, ctx) =>
      listFound(doc.spec.mounts, (m, i) => {
        if (m.type !== "bind") return null;
        const refusal = bindRefusal(m.source, policy, ctx);
        return refusal?.check === "bind-forbidden"
          ? { path: ["spec", "mounts", i, "source"], message: refusal.message }
          : null;
      }),
    request: (b, policy, ctx) => forbiddenBinds(bodyMounts(b), policy, ctx),
    mounts: forbiddenBinds,
  },
  {
    id: "bind-allowed-prefix",
    scope: "baseline",
    summary:
      "Bind mounts are refused unless their host path (resolved) lies under an `--allow-bind` prefix; none by default.",
    spec: (doc, _spec, policy, ctx) =>
      listFound(doc.spec.mounts, (m, i) => {
        if (m.type !== "bind") return null;
        const refusal = bindRefusal(m.source, policy, ctx);
        return refusal?.check === "bind-allowed-prefix"
          ? { path: ["spec", "mounts", i, "source"], message: refusal.message }
          : null;
      }),
    request: (b, policy, ctx) => unlistedBinds(bodyMounts(b), policy, ctx),
    mounts: unlistedBinds,
  },
  {
    id: "bind-inside-writable",
    scope: "baseline",
    summary:
      "No bind mount's host path (resolved, or a folder on the way to it) may lie inside a writable bind mount's, in any container berth manages: that container could swap it for a symbolic link the next start follows. Both are refused: within a spec, across files, before each create and before berth starts one.",
    spec: (doc, _spec, _policy, ctx) => {
      const index = new Map<HostMount, number>();
      const mounts: HostMount[] = [];
      (doc.spec.mounts ?? []).forEach((m, i) => {
        if (m.type !== "bind") return;
        const mount = { source: m.source, target: m.target, writable: m.readOnly !== true, by: `spec.mounts[${i}]` };
        index.set(mount, i);
        mounts.push(mount);
      });
      return findOverlaps(mounts, [], ctx.realpath).map((o): Found => ({
        path: ["spec", "mounts", index.get(o.inner) ?? 0, "source"],
        message: `${overlapMessage(o, "inner")}: ${OVERLAP_ADVICE}`,
      }));
    },
    request: (b, _policy, ctx) => insideWritable(bodyMounts(b), ctx),
    mounts: (mounts, _policy, ctx) => insideWritable(mounts, ctx),
  },
  {
    id: "volume-host-path",
    scope: "baseline",
    summary:
      "A named volume whose driver options mount a host path (`docker volume create -o type=none -o o=bind -o device=DIR`, or a host device) is judged as a bind mount of that path: never a forbidden path, and only under `--allow-bind`. Checked on `kind: Volume` documents, against the engine just before each create, and again once the new container holds the volume.",
    request: (b, policy, ctx) => volumeHostPaths(bodyVolumes(b), policy, ctx),
    volumes: volumeHostPaths,
    object: (o, policy, ctx) => {
      const host =
        o.kind === "Volume" ? volumeHostPath({ name: o.name, driver: o.driver, labels: {}, options: o.options }) : null;
      const refusal = host === null ? null : bindRefusal(host, policy, ctx);
      return refusal === null
        ? []
        : [{ path: ["spec", "options", "device"], message: `this volume binds a host path: ${refusal.message}` }];
    },
  },
];
