/**
 * `environment` and `env_file`. Values are fixed when converting, as Compose fixes them at `up`:
 * a name without a value takes the variable from the environment (and the .env file), and is
 * left out when it is not set. `environment` beats `env_file`; a later env file beats an earlier.
 */
import { lexicalPath } from "../core/policy/paths.js";
import type { Handler, ServiceContext } from "./context.js";
import { readDotenv } from "./dotenv.js";
import { unsetMessage } from "./interpolate.js";
import type { Position, Tree } from "./tree.js";
import { keyValues, scalarText } from "./values.js";

/** The keys each service's `environment` set, so an env_file read after it does not override them. */
const fromEnvironment = new WeakMap<ServiceContext, Set<string>>();

function set(ctx: ServiceContext, key: string, value: string, strong: boolean): void {
  const own = fromEnvironment.get(ctx) ?? new Set<string>();
  fromEnvironment.set(ctx, own);
  if (strong) own.add(key);
  else if (own.has(key)) return;
  (ctx.spec.env ??= {})[key] = value;
}

export const environment: Handler = (ctx, value, at, path) => {
  const r = keyValues(value);
  if ("error" in r) {
    ctx.error(at, path, r.error);
    return;
  }
  for (const [key, v, node] of r.ok) {
    const resolved = v ?? ctx.project.vars[key];
    if (resolved === undefined) {
      ctx.warn(
        node,
        `${path}.${key}`,
        `${key} takes its value from the environment, where it is not set: left out (as Compose does)`,
      );
    } else set(ctx, key, resolved, true);
  }
};

function readEnvFile(ctx: ServiceContext, at: Position, path: string, file: string, required: boolean): void {
  const full = lexicalPath(file.startsWith("/") ? file : `${ctx.project.dir}/${file}`);
  const content = ctx.project.readFile(full);
  if (content === null) {
    if (required) ctx.error(at, path, `cannot read the env file ${full}`);
    else ctx.warn(at, path, `the optional env file ${full} is missing, skipped`);
    return;
  }
  const read = readDotenv(content, full, ctx.project.vars);
  if (full !== ctx.project.dotenvFile) for (const u of read.unset) ctx.warn(u, path, unsetMessage(u.name));
  for (const [k, v] of Object.entries(read.values)) set(ctx, k, v, false);
}

export const envFile: Handler = (ctx, value, at, path) => {
  const items: Tree[] = value.kind === "seq" ? [...value.items] : [value];
  items.forEach((item, i) => {
    const p = value.kind === "seq" ? `${path}[${i}]` : path;
    if (item.kind === "map") {
      const file = item.entries.get("path")?.value;
      const required = item.entries.get("required")?.value;
      for (const [k, e] of item.entries) {
        if (k !== "path" && k !== "required")
          ctx.warn(e, `${p}.${k}`, `berth reads env files in the .env format only: ${k} is ignored`);
      }
      if (!file) ctx.error(item, p, "an env_file entry needs path");
      else readEnvFile(ctx, item, p, scalarText(file), !(required?.kind === "scalar" && required.value === false));
    } else readEnvFile(ctx, item, p, scalarText(item), true);
  });
};
