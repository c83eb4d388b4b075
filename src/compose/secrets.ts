/**
 * Environment variables that look like secrets and whose values come from an env_file or the
 * .env file: Compose reads them at `up`, so they need not be committed; berth writes their values
 * into the spec files. The import keeps them (the specs must run as Compose ran them) and says
 * once that `secretEnv` (docs/spec.md) reads them from a file or berth's environment instead.
 */
import type { Entry, Position, Tree } from "./tree.js";
import { keyValues } from "./values.js";

/** A name with PASSWORD, SECRET, TOKEN or KEY as one of its words (`DB_PASSWORD`, `SECRET_KEY_BASE`). */
const SECRET_NAME = /(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|KEY|API_?KEY)S?(_|$)/i;

/**
 * The secret-looking variables of one service's env whose values come from an env_file or from
 * `.env` (through `${VAR}`, or `VAR` without a value), each where the service takes it.
 */
export function secretsFromFiles(
  service: ReadonlyMap<string, Entry>,
  env: Readonly<Record<string, string>>,
  fromDotenv: ReadonlySet<string>,
): [string, Position][] {
  const environment = service.get("environment");
  const own = new Map<string, [string | null, Tree]>();
  const r = environment ? keyValues(environment.value) : null;
  if (r !== null && "ok" in r) for (const [k, v, node] of r.ok) own.set(k, [v, node]);
  const found: [string, Position][] = [];
  for (const name of Object.keys(env)) {
    if (!SECRET_NAME.test(name)) continue;
    const mine = own.get(name);
    const envFile = service.get("env_file");
    if (mine === undefined) {
      if (envFile) found.push([name, envFile]);
      continue;
    }
    const [value, node] = mine;
    const uses = node.kind === "scalar" ? (node.uses ?? []) : [];
    if ((value === null && fromDotenv.has(name)) || uses.some((u) => fromDotenv.has(u))) found.push([name, node]);
  }
  return found;
}

export interface SecretFromFile {
  readonly service: string;
  readonly name: string;
  readonly at: Position;
}

/** The one finding about them all, at the first; null when there is none. */
export function secretsMessage(
  secrets: readonly SecretFromFile[],
): { at: Position; path: string; message: string } | null {
  const [first] = secrets;
  if (first === undefined) return null;
  const names = [...new Set(secrets.map((s) => s.name))];
  const one = names.length === 1;
  const them = one ? "it" : "them";
  return {
    at: first.at,
    path: `services.${first.service}.environment.${first.name}`,
    message:
      `${one ? "a variable whose name looks like a secret" : `${names.length} variables whose names look like secrets`} ` +
      `(${names.join(", ")}) ${one ? "takes its value" : "take their values"} from an env_file or .env, and berth writes ` +
      `${them} into the specs: to keep ${them} out of files you commit, give ${them} as secretEnv (fromFile or ` +
      "fromHostEnv, docs/spec.md) instead of env",
  };
}
