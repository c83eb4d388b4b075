/**
 * A service's `build:` → the spec's `build` (docs/images.md, Builds). The string form is the
 * context; the mapping form's context, dockerfile, args and target map one to one. Paths stay as
 * Compose writes them, relative to the Compose file's folder (`berth import compose --out-dir`
 * rebases them onto the spec files' folder). What berth's builds cannot do is listed, not dropped
 * silently. `image` beside `build` names Compose's tag for the built image: berth tags its own.
 */
import type { Handler } from "./context.js";
import { keyValues, scalarText } from "./values.js";

/** Compose build keys berth does not take, each with why. */
const UNSUPPORTED_BUILD_KEYS: Readonly<Record<string, string>> = {
  secrets: "the Engine API's build endpoint has no BuildKit secrets; pass secrets at run time with secretEnv",
  ssh: "the Engine API's build endpoint has no BuildKit ssh forwarding",
  dockerfile_inline: "berth builds from a Dockerfile in the context: write it to a file",
  additional_contexts: "berth sends one context",
  platforms: "berth builds for the engine's own platform",
  tags: `berth tags its builds berth.local/<spec>:<context hash>`,
};

export const build: Handler = (ctx, value, at, path) => {
  if (value.kind === "scalar") {
    ctx.spec.build = { context: scalarText(value) };
    return;
  }
  if (value.kind !== "map") {
    ctx.error(at, path, "build is a context folder or a mapping (context, dockerfile, args, target)");
    return;
  }
  const out: { context: string; dockerfile?: string; args?: Record<string, string>; target?: string } = {
    context: ".",
  };
  for (const [key, e] of value.entries) {
    const p = `${path}.${key}`;
    if (key === "context") out.context = scalarText(e.value);
    else if (key === "dockerfile") out.dockerfile = scalarText(e.value);
    else if (key === "target") out.target = scalarText(e.value);
    else if (key === "args") {
      const r = keyValues(e.value);
      if ("error" in r) {
        ctx.error(e, p, r.error);
        continue;
      }
      for (const [name, v, node] of r.ok) {
        const resolved = v ?? ctx.project.vars[name];
        if (resolved === undefined)
          ctx.warn(node, `${p}.${name}`, `${name} takes its value from the environment, where it is not set: left out`);
        else (out.args ??= {})[name] = resolved;
      }
    } else {
      const why = UNSUPPORTED_BUILD_KEYS[key];
      ctx.warn(e, p, why ? `not supported: ${why}` : "unknown build key, ignored");
    }
  }
  ctx.spec.build = out;
};
