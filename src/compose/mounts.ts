/** Compose `volumes` (short and long syntax) and `tmpfs` → berth mounts. */
import type { Mount1 } from "../core/document.gen.js";
import { lexicalPath } from "../core/policy/paths.js";
import { type Handler, placeNew, type ServiceContext } from "./context.js";
import type { Position, Tree } from "./tree.js";
import { composeBytes, scalarText, sourceText } from "./values.js";

/** A host path as Compose resolves it: `~` from HOME, relative to the Compose file's folder. */
function hostPath(ctx: ServiceContext, source: string): string {
  const home = ctx.project.vars.HOME ?? "/root";
  const expanded = source === "~" || source.startsWith("~/") ? home + source.slice(1) : source;
  return lexicalPath(expanded.startsWith("/") ? expanded : `${ctx.project.dir}/${expanded}`);
}

/** A named volume's engine name: as declared at the top level (external, name:), else PROJECT_NAME. */
function volumeName(ctx: ServiceContext, at: Position, path: string, source: string): string | null {
  const declared = ctx.project.volumes.get(source);
  if (!declared) {
    ctx.error(at, path, `volume "${source}" is not declared under the top-level volumes (Compose refuses it too)`);
    return null;
  }
  return declared.name;
}

function push(ctx: ServiceContext, mount: Mount1): void {
  (ctx.spec.mounts ??= []).push(mount);
}

/** An anonymous volume (a target only) becomes a named one, since berth's volumes have names. */
function anonymous(ctx: ServiceContext, at: Position, path: string, target: string, readOnly: boolean): void {
  const name = `${ctx.project.name}_${ctx.service}${target.replace(/[^a-zA-Z0-9_.-]+/g, "_")}`;
  ctx.warn(at, path, `an anonymous volume: berth's volumes have names, so it becomes the named volume ${name}`);
  push(ctx, { type: "volume", source: name, target, ...(readOnly ? { readOnly } : {}) });
}

const SHORT_OPTIONS: Readonly<Record<string, string>> = {
  z: "SELinux relabelling (z, Z) is not supported by berth's bind mounts",
  Z: "SELinux relabelling (z, Z) is not supported by berth's bind mounts",
  nocopy: "berth's volumes always copy the image's content into a new volume",
  shared: "berth's bind mounts have no propagation setting",
  rshared: "berth's bind mounts have no propagation setting",
  slave: "berth's bind mounts have no propagation setting",
  rslave: "berth's bind mounts have no propagation setting",
  private: "berth's bind mounts have no propagation setting",
  rprivate: "berth's bind mounts have no propagation setting",
  cached: "consistency is a Docker Desktop setting, ignored on Linux",
  delegated: "consistency is a Docker Desktop setting, ignored on Linux",
  consistent: "consistency is a Docker Desktop setting, ignored on Linux",
};

function isPath(source: string): boolean {
  return source.startsWith("/") || source.startsWith(".") || source.startsWith("~");
}

/** "SOURCE:TARGET[:OPTIONS]" or "TARGET". */
function shortVolume(ctx: ServiceContext, item: Tree, path: string): void {
  const parts = scalarText(item).split(":");
  if (parts.length === 1) {
    anonymous(ctx, item, path, parts[0] ?? "", false);
    return;
  }
  const [source = "", target = "", options = ""] = parts;
  let readOnly = false;
  for (const option of options.split(",").filter((o) => o !== "")) {
    if (option === "ro") readOnly = true;
    else if (option !== "rw")
      ctx.warn(item, path, SHORT_OPTIONS[option] ?? `volume option "${option}" is not supported, ignored`);
  }
  if (parts.length > 3) ctx.error(item, path, `"${scalarText(item)}" has too many ':' (SOURCE:TARGET[:OPTIONS])`);
  else if (isPath(source))
    push(ctx, { type: "bind", source: hostPath(ctx, source), target, ...(readOnly ? { readOnly } : {}) });
  else {
    const name = volumeName(ctx, item, path, source);
    if (name !== null) push(ctx, { type: "volume", source: name, target, ...(readOnly ? { readOnly } : {}) });
  }
}

const LONG_KEYS = new Set(["type", "source", "target", "read_only", "bind", "volume", "tmpfs", "consistency"]);

function longVolume(ctx: ServiceContext, item: Tree & { kind: "map" }, path: string): void {
  const text = (k: string): string | null => {
    const v = item.entries.get(k)?.value;
    return v ? scalarText(v) : null;
  };
  const type = text("type") ?? "volume";
  const target = text("target");
  const source = text("source");
  const readOnly = item.entries.get("read_only")?.value;
  const ro = readOnly?.kind === "scalar" && readOnly.value === true;
  for (const [k, e] of item.entries) {
    if (!LONG_KEYS.has(k)) ctx.warn(e, `${path}.${k}`, "unknown volume key, ignored");
    else if (k === "consistency")
      ctx.warn(e, `${path}.${k}`, "consistency is a Docker Desktop setting, ignored on Linux");
  }
  const sub = (k: string): Tree | undefined => item.entries.get(k)?.value;
  const options = (k: string, supported: readonly string[]): void => {
    const o = sub(k);
    if (o?.kind !== "map") return;
    for (const [name, e] of o.entries) {
      if (!supported.includes(name)) {
        ctx.warn(e, `${path}.${k}.${name}`, `berth's ${type} mounts have no ${name} setting`);
      } else if (k === "bind" && name === "create_host_path" && e.value.kind === "scalar" && e.value.value === false) {
        ctx.warn(e, `${path}.${k}.${name}`, "berth creates a missing bind source folder, as docker run -v does");
      }
    }
  };
  if (target === null) {
    ctx.error(item, path, "a long-syntax volume needs target");
    return;
  }
  switch (type) {
    case "bind":
      options("bind", ["create_host_path"]);
      if (source === null) ctx.error(item, path, "a bind mount needs source");
      else push(ctx, { type: "bind", source: hostPath(ctx, source), target, ...(ro ? { readOnly: true } : {}) });
      return;
    case "volume": {
      options("volume", []);
      if (source === null || source === "") {
        anonymous(ctx, item, path, target, ro);
        return;
      }
      const name = volumeName(ctx, item, path, source);
      if (name !== null) push(ctx, { type: "volume", source: name, target, ...(ro ? { readOnly: true } : {}) });
      return;
    }
    case "tmpfs": {
      options("tmpfs", ["size", "mode"]);
      const t = sub("tmpfs");
      const size = t?.kind === "map" ? t.entries.get("size")?.value : undefined;
      const mode = t?.kind === "map" ? t.entries.get("mode")?.value : undefined;
      tmpfsMount(ctx, item, path, target, size ? scalarText(size) : null, mode ? sourceText(mode) : null);
      return;
    }
    default:
      ctx.warn(item, path, `berth has no ${type} mounts (bind, volume and tmpfs only), left out`);
  }
}

/**
 * A tmpfs mount; `mode` is octal as the file writes it: `1777` (Compose reads a plain number's
 * digits as octal), `"1777"`, `0o1777` or `01777`.
 */
function tmpfsMount(
  ctx: ServiceContext,
  at: Position,
  path: string,
  target: string,
  size: string | null,
  mode: string | null,
): void {
  const mount: Mount1 = { type: "tmpfs", target };
  if (size !== null) {
    const bytes = composeBytes(size);
    if ("error" in bytes) ctx.error(at, path, bytes.error);
    else mount.size = bytes.ok;
  }
  if (mode !== null) {
    const digits = /^(?:0o|0(?=\d))?([0-7]{1,4})$/.exec(mode)?.[1];
    if (digits !== undefined) mount.mode = parseInt(digits, 8);
    else ctx.error(at, path, `tmpfs mode ${JSON.stringify(mode)} is not octal (e.g. 1777)`);
  }
  push(ctx, mount);
}

export const volumes: Handler = (ctx, value, at, path) => {
  if (value.kind !== "seq") {
    ctx.error(at, path, "expected a list of volumes");
    return;
  }
  value.items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const before = ctx.spec.mounts?.length ?? 0;
    if (item.kind === "map") longVolume(ctx, item, p);
    else if (item.kind === "scalar") shortVolume(ctx, item, p);
    else ctx.error(item, p, "expected a volume string or mapping");
    placeNew(ctx, "mounts", before, item);
  });
};

/** `tmpfs: /run` or a list of "TARGET[:size=…,mode=…]". */
export const tmpfs: Handler = (ctx, value, _at, path) => {
  const items = value.kind === "seq" ? value.items : [value];
  items.forEach((item, i) => {
    const p = value.kind === "seq" ? `${path}[${i}]` : path;
    const [target = "", opts = ""] = scalarText(item).split(/:(.*)/);
    let size: string | null = null;
    let mode: string | null = null;
    for (const option of opts.split(",").filter((o) => o !== "")) {
      const [k, v = ""] = option.split("=");
      if (k === "size") size = v;
      else if (k === "mode") mode = v;
      else ctx.warn(item, p, `tmpfs option "${option}" is not supported by berth (size and mode only), ignored`);
    }
    const before = ctx.spec.mounts?.length ?? 0;
    tmpfsMount(ctx, item, p, target, size, mode);
    placeNew(ctx, "mounts", before, item);
  });
};
