/**
 * Host paths, as the policy sees them: lexically normalized, and resolved through the caller's
 * realpath (the host edge resolves symbolic links; a pure check passes the identity).
 */
import type { ObservedMount, ObservedVolume } from "../observed.js";
import { widen } from "./check.js";
import type { Policy, PolicyContext } from "./types.js";

/** `/a/../etc/` → `/etc`; `//etc` → `/etc`; `.` and `..` resolved without looking at the disk. */
export function lexicalPath(p: string): string {
  const absolute = p.startsWith("/");
  const parts: string[] = [];
  for (const segment of p.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
      continue;
    }
    parts.push(segment);
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

export function isWithin(child: string, parent: string): boolean {
  return parent === "/" ? true : child === parent || child.startsWith(`${parent}/`);
}

/** The forbidden path a host path is, lies in, or contains; null when none. */
function forbiddenHit(p: string, policy: Policy): string | null {
  for (const f of policy.forbiddenHostPaths) {
    const forbidden = lexicalPath(f);
    if (p === forbidden || (forbidden !== "/" && (isWithin(p, forbidden) || isWithin(forbidden, p)))) return forbidden;
  }
  return null;
}

/** Why a host path may not be bind-mounted, or null. Checks the path as written and resolved. */
export function bindRefusal(
  source: string,
  policy: Policy,
  ctx: PolicyContext,
): { check: string; message: string } | null {
  const lexical = lexicalPath(source);
  const resolved = lexicalPath(ctx.realpath(lexical));
  const shown = resolved === lexical ? JSON.stringify(source) : `${JSON.stringify(source)} (resolves to ${resolved})`;
  const hit = forbiddenHit(lexical, policy) ?? forbiddenHit(resolved, policy);
  if (hit !== null) {
    return {
      check: "bind-forbidden",
      message:
        hit === "/"
          ? `${shown} is the host's root filesystem, which is never mounted`
          : `${shown} is or holds ${hit}, which is never mounted (it would give the container the host)`,
    };
  }
  const allowed = policy.allowBind.map((prefix) => lexicalPath(ctx.realpath(lexicalPath(prefix))));
  // Docker mounts what the path resolves to: that is what must lie under an allowed prefix.
  if (!allowed.some((prefix) => isWithin(resolved, prefix))) {
    return {
      check: "bind-allowed-prefix",
      message:
        allowed.length === 0
          ? `${shown}: bind mounts are refused unless berth allows their host folder (--allow-bind PREFIX); use a volume or tmpfs mount instead`
          : `${shown} is not under an allowed host folder (${policy.allowBind.join(", ")}); move it there or allow it with --allow-bind`,
    };
  }
  return null;
}

/** The host source of a Binds entry: `src:dst[:opts]`. */
export function bindSource(bind: string): string {
  return bind.split(":")[0] ?? bind;
}

interface BodyMounts {
  readonly HostConfig: {
    readonly Binds?: readonly string[];
    readonly Mounts?: readonly {
      readonly Type: string;
      readonly Source?: string;
      readonly Target: string;
      readonly ReadOnly?: boolean;
    }[];
  };
}

/** The host paths a create body mounts. */
export function bindSources(b: BodyMounts): string[] {
  return [
    ...(b.HostConfig.Binds ?? []).map(bindSource),
    ...(b.HostConfig.Mounts ?? []).filter((m) => m.Type !== "volume" && m.Type !== "tmpfs").map((m) => m.Source ?? ""),
  ];
}

/** The mounts a create body asks for, as the engine lists them: a bind by its host path, a volume by its name. */
export function bodyMounts(b: BodyMounts): ObservedMount[] {
  return [
    ...(b.HostConfig.Binds ?? []).map((bind) => {
      const [source = "", target = "", mode = ""] = bind.split(":");
      return { type: "bind", source, target, rw: !mode.split(",").includes("ro") };
    }),
    ...(b.HostConfig.Mounts ?? []).map((m) => ({
      type: m.Type,
      source: m.Source ?? "",
      target: m.Target,
      rw: m.ReadOnly !== true,
    })),
  ];
}

/** The names of the named volumes a create body mounts. */
export function bodyVolumes(b: BodyMounts): string[] {
  return [...new Set((b.HostConfig.Mounts ?? []).filter((m) => m.Type === "volume").map((m) => m.Source ?? ""))];
}

/**
 * The host path a named volume mounts, when its driver options say so; else null. The local
 * driver mounts `device` with mount(2): with `o=bind` (or `type=none`) that is a bind of a host
 * folder (`docker volume create -o type=none -o o=bind -o device=/secret`), and an absolute
 * `device` of another type is a host device or file (`-o type=ext4 -o device=/dev/sda1`). Other
 * drivers are plugins the host's administrator installed; berth does not judge their options.
 */
export function volumeHostPath(v: ObservedVolume): string | null {
  if (v.driver !== "local") return null;
  const device = (v.options.device ?? "").trim();
  if (device === "") return null;
  const o = (v.options.o ?? "").split(",").map((x) => x.trim());
  const type = (v.options.type ?? "").trim();
  if (o.includes("bind") || o.includes("rbind") || type === "none" || type === "bind") {
    // mount(2) resolves a relative path from dockerd's working directory, the root.
    return lexicalPath(device.startsWith("/") ? device : `/${device}`);
  }
  return device.startsWith("/") ? lexicalPath(device) : null;
}

export function secretFileRefusal(file: string, policy: Policy, ctx: PolicyContext): string | null {
  const lexical = lexicalPath(file);
  const resolved = lexicalPath(ctx.realpath(lexical));
  const dirs = policy.allowSecretDirs.map((d) => lexicalPath(ctx.realpath(lexicalPath(d))));
  if (dirs.some((d) => isWithin(resolved, d) && resolved !== d)) return null;
  const shown = resolved === lexical ? file : `${file} (resolves to ${resolved})`;
  return `${shown} is not under an allowed secret folder (${policy.allowSecretDirs.join(", ") || "none"})${widen("--allow-secret-dir")}`;
}

/** Checks a secret file path at read time (resolved), under the policy; null when allowed. */
export function secretFileAllowed(file: string, policy: Policy, ctx: PolicyContext): string | null {
  return policy.profile === "privileged" ? null : secretFileRefusal(file, policy, ctx);
}
