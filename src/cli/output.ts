/** -o json and -o yaml: the same data, as JSON or as YAML; table and wide are each command's own. */
import { stringify } from "yaml";
import type { OutputFormat } from "./options.js";

/** True when the data itself is printed (json, yaml), not a table for people. */
export function isData(format: OutputFormat | undefined): format is "json" | "yaml" {
  return format === "json" || format === "yaml";
}

export function formatData(format: "json" | "yaml", data: unknown): string {
  return format === "json" ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 });
}
