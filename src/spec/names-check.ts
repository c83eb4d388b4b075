/**
 * Container names must be unique across every spec file: two documents producing the same name
 * (directly, or through replicas: web-0) are an error on both, each naming the other place, and
 * neither is applied.
 */
import type { SpecIssue } from "../core/errors.js";
import { containerNames } from "../core/names.js";
import type { LoadedSpec } from "./loader.js";

export function findNameCollisions(specs: readonly LoadedSpec[]): { refused: Set<LoadedSpec>; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  const owners = new Map<string, LoadedSpec[]>();
  for (const loaded of specs) {
    const names = new Set([loaded.spec.name, ...containerNames(loaded.spec.name, loaded.spec.replicas)]);
    for (const name of names) {
      const list = owners.get(name);
      if (list) list.push(loaded);
      else owners.set(name, [loaded]);
    }
  }
  const refused = new Set<LoadedSpec>();
  for (const [name, list] of owners) {
    if (list.length < 2) continue;
    for (const loaded of list) {
      if (refused.has(loaded)) continue;
      refused.add(loaded);
      const others = list.filter((o) => o !== loaded).map((o) => `${o.file}:${o.line}:${o.column}`);
      const what =
        name === loaded.spec.name
          ? `${JSON.stringify(name)} is also defined`
          : `container name ${JSON.stringify(name)} is also produced`;
      issues.push({
        code: "BERTH_DUPLICATE_NAME",
        file: loaded.file,
        line: loaded.line,
        column: loaded.column,
        path: "metadata.name",
        message: `${what} at ${others.join(", ")}; names must be unique across all spec files (neither is applied)`,
      });
    }
  }
  return { refused, issues };
}
