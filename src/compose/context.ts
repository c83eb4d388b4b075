/** What converting one service needs to know about the project, and where it reports findings. */
import type { Spec } from "../core/document.gen.js";
import type { Variables } from "./interpolate.js";
import type { Position, Tree } from "./tree.js";

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
  /** A file's text, or null when it cannot be read (env_file). */
  readonly readFile: (path: string) => string | null;
  readonly volumes: ReadonlyMap<string, Declared>;
  readonly networks: ReadonlyMap<string, Declared>;
  /** metadata.name of each service (network_mode: service:NAME). */
  readonly names: ReadonlyMap<string, string>;
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
  warn(at: Position, path: string, message: string): void;
  error(at: Position, path: string, message: string): void;
}

/** A handler for one Compose service key: reads `value` into ctx.spec. */
export type Handler = (ctx: ServiceContext, value: Tree, at: Position, path: string) => void;
