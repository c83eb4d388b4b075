/** What converting one service needs to know about the project, and where it reports findings. */
import type { Spec } from "../core/document.gen.js";
import type { Variables } from "./interpolate.js";
import type { Entry, Position, Tree } from "./tree.js";

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A top-level volume or network: the engine name it stands for, and whether Compose makes it. */
export interface Declared {
  readonly name: string;
  readonly external: boolean;
}

export interface Project {
  readonly name: string;
  /** The absolute folder of the Compose file: relative bind mounts and env_file paths start here. */
  readonly dir: string;
  readonly vars: Variables;
  /** The .env file the variables were read from: as an env_file, its unset variables are already reported. */
  readonly dotenvFile: string;
  /** A file's text, or null when it cannot be read (env_file). */
  readonly readFile: (path: string) => string | null;
  readonly volumes: ReadonlyMap<string, Declared>;
  readonly networks: ReadonlyMap<string, Declared>;
  /** metadata.name of each service (network_mode: service:NAME). */
  readonly names: ReadonlyMap<string, string>;
  /** Services not converted because none of their profiles is active, with their profiles. */
  readonly skipped: ReadonlyMap<string, readonly string[]>;
}

export interface Finding extends Position {
  /** The Compose key path, e.g. services.web.ports[0]. */
  readonly path: string;
  readonly message: string;
}

export interface ServiceContext {
  readonly project: Project;
  readonly service: string;
  readonly spec: Mutable<Spec>;
  readonly labels: Record<string, string>;
  /** The service's path: services.NAME. */
  readonly path: string;
  /** The service's own keys, for a handler whose meaning depends on another (restart beats deploy.restart_policy). */
  readonly entries: ReadonlyMap<string, Entry>;
  warn(at: Position, path: string, message: string): void;
  error(at: Position, path: string, message: string): void;
  /** Says where a spec field (`spec.ports[2]`) comes from, for findings about it (the first place wins). */
  place(specPath: string, at: Position): void;
}

/** A handler for one Compose service key: reads `value` into ctx.spec. */
export type Handler = (ctx: ServiceContext, value: Tree, at: Position, path: string) => void;

/** Places the items a Compose item added to a spec list (mounts, ports) at that item. */
export function placeNew(ctx: ServiceContext, field: "mounts" | "ports", before: number, at: Position): void {
  const after = ctx.spec[field]?.length ?? 0;
  for (let i = before; i < after; i++) ctx.place(`spec.${field}[${i}]`, at);
}

/** Why a service named in a reference has no spec. */
export function noService(project: Project, service: string): string {
  const profiles = project.skipped.get(service);
  return profiles === undefined
    ? `no service named ${service}`
    : `service ${service} is not converted: none of its profiles (${profiles.join(", ")}) is active (--profile NAME or COMPOSE_PROFILES)`;
}
