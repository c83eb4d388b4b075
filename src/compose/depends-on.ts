/** Compose's depends_on → dependsOn (docs/design.md, "Start order"). */
import { type Handler, noService } from "./context.js";
import type { Tree } from "./tree.js";
import { scalarText } from "./values.js";

const text = (v: Tree): string => scalarText(v);

const CONDITIONS: Readonly<Record<string, "Started" | "Healthy" | "Succeeded">> = {
  service_started: "Started",
  service_healthy: "Healthy",
  service_completed_successfully: "Succeeded",
};

/**
 * `depends_on: [db]` or `{db: {condition: service_healthy}}` → dependsOn, by each service's spec
 * name; `required: false` and `restart: true` have no equivalent (a warning each).
 */
export const dependsOn: Handler = (ctx, value, at, path) => {
  const deps: { name: string; condition: "Started" | "Healthy" | "Succeeded" }[] = [];
  const add = (service: string, condition: "Started" | "Healthy" | "Succeeded", where: Tree, p: string): void => {
    const name = ctx.project.names.get(service);
    if (name === undefined) ctx.error(where, p, noService(ctx.project, service));
    else deps.push({ name, condition });
  };
  if (value.kind === "seq") {
    value.items.forEach((item, i) => {
      add(text(item), "Started", item, `${path}[${i}]`);
    });
  } else if (value.kind === "map") {
    for (const [service, e] of value.entries) {
      const p = `${path}.${service}`;
      let condition: "Started" | "Healthy" | "Succeeded" = "Started";
      if (e.value.kind === "map") {
        for (const [k, ke] of e.value.entries) {
          if (k === "condition") {
            const mapped = CONDITIONS[text(ke.value)];
            if (mapped) condition = mapped;
            else ctx.error(ke, `${p}.condition`, `"${text(ke.value)}" is not ${Object.keys(CONDITIONS).join(", ")}`);
          } else if (k === "required" && text(ke.value) === "false")
            ctx.warn(ke, `${p}.required`, "berth always waits for a dependency: an optional one is waited for too");
          else if (k === "restart" && text(ke.value) === "true")
            ctx.warn(ke, `${p}.restart`, "berth does not restart a service when its dependency is updated");
          else if (k !== "required" && k !== "restart") ctx.warn(ke, `${p}.${k}`, "unknown depends_on key, ignored");
        }
      }
      add(service, condition, e.value.kind === "map" ? e.value : value, p);
    }
  } else {
    ctx.error(at, path, "expected a list of services or a mapping of service to condition");
    return;
  }
  if (deps.length > 0) ctx.spec.dependsOn = deps;
};
