/**
 * A Compose file → berth Container documents, one per service, and the list of what could not be
 * converted, each at its file:line. Pure: the caller reads the files and validates the result.
 *
 * Names: a service's spec is named after the service (or its container_name when that is a DNS
 * label), so the names other services use to reach it keep resolving on a user-defined network;
 * with `prefixNames` it is PROJECT-SERVICE, as Compose's PROJECT-SERVICE-1 without the index.
 * Volumes and networks get Compose's engine names: PROJECT_NAME unless external or named; what
 * Compose would create becomes a Network or Volume document (objects.ts).
 */
import { parse as parseDotenv } from "dotenv";
import type { BerthContainer } from "../core/document.gen.js";
import { isDnsLabel } from "../core/names.js";
import type { Finding, Mutable, Project, ServiceContext } from "./context.js";
import { interpolate, type Variables } from "./interpolate.js";
import { type DeclaredObject, declaredObjects, defaultNetwork, type ObjectDocument } from "./objects.js";
import { HANDLERS, monitorOf } from "./service.js";
import { type Entry, type Position, readTree, type Tree } from "./tree.js";
import { UNSUPPORTED_SERVICE_KEYS, UNSUPPORTED_TOP_KEYS } from "./unsupported.js";
import { scalarText } from "./values.js";

export type { Finding } from "./context.js";

export interface ComposeInput {
  readonly text: string;
  /** The absolute folder of the Compose file. */
  readonly dir: string;
  /** The environment (process.env): beats the .env file, as in Compose. */
  readonly env: Variables;
  /** The text of the .env file beside the Compose file, if there is one. */
  readonly dotenv: string | null;
  /** -p: beats COMPOSE_PROJECT_NAME, the file's name:, and the folder's name. */
  readonly projectName: string | null;
  readonly prefixNames: boolean;
  readonly readFile: (path: string) => string | null;
}

export interface ConvertedSpec extends Position {
  readonly service: string;
  readonly document: BerthContainer;
}

/** A network or volume Compose would create, as the document that makes berth create it. */
export interface ConvertedObject extends Position {
  /** The key under the top-level networks: or volumes: ("default" for the implicit network). */
  readonly key: string;
  readonly document: ObjectDocument;
}

export interface Conversion {
  readonly project: string;
  readonly specs: readonly ConvertedSpec[];
  /** Networks the specs join and configured volumes they mount that Compose would have created. */
  readonly objects: readonly ConvertedObject[];
  readonly warnings: readonly Finding[];
  readonly errors: readonly Finding[];
}

/** Compose's project name rule: lowercase letters, digits, '_' and '-', starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "")
    .replace(/^[_-]+/, "");
}

/** A service name → a DNS label (lowercase, '_' and '.' become '-'). */
function dnsLabel(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

/** The order fields are written in: the schema's. A field not listed here goes last, never lost. */
const SPEC_ORDER = [
  "image",
  "build",
  "imagePullPolicy",
  "command",
  "entrypoint",
  "init",
  "workingDir",
  "user",
  "hostname",
  "hostAliases",
  "dnsConfig",
  "env",
  "mounts",
  "shmSize",
  "network",
  "extraNetworks",
  "ports",
  "resources",
  "restartPolicy",
  "backoffLimit",
  "dependsOn",
  "healthcheck",
  "securityContext",
  "pidMode",
  "ipcMode",
  "utsMode",
  "usernsMode",
  "devices",
  "deviceCgroupRules",
  "sysctls",
  "runtime",
  "replicas",
  "updateStrategy",
  "updateParallelism",
  "stableFor",
  "stopTimeout",
  "stopSignal",
  "logging",
  "suspended",
  "ulimits",
];

const IGNORED_TOP = new Set(["version", "name", "services", "volumes", "networks"]);

export function convertCompose(input: ComposeInput): Conversion {
  const warnings: Finding[] = [];
  const errors: Finding[] = [];
  // A key merged from an anchor is reported where the mapping merges it, saying where it is written.
  const finding = (at: Position & { mergedFrom?: Position }, path: string, message: string): Finding => ({
    line: at.line,
    column: at.column,
    path,
    message: at.mergedFrom ? `${message} (merged from line ${at.mergedFrom.line})` : message,
  });
  const warn = (at: Position, path: string, message: string): void => {
    warnings.push(finding(at, path, message));
  };
  const error = (at: Position, path: string, message: string): void => {
    errors.push(finding(at, path, message));
  };

  const dotenv = input.dotenv === null ? {} : parseDotenv(input.dotenv);
  const fromFile: Record<string, string> = {};
  for (const [k, v] of Object.entries(dotenv)) {
    const r = interpolate(v, { ...input.env, ...fromFile });
    fromFile[k] = "value" in r ? r.value : v;
  }
  const vars: Variables = { ...fromFile, ...input.env };
  const read = readTree(input.text, vars);
  for (const e of read.errors) error(e, e.path, e.message);
  for (const [name, at] of read.unset)
    warn(at, at.path, `variable ${name} is not set: it is replaced by an empty string (as Compose does)`);
  const tree = read.tree;
  const empty = (project: string): Conversion => ({ project, specs: [], objects: [], warnings, errors });
  const folder =
    input.dir
      .split("/")
      .filter((s) => s !== "")
      .pop() ?? "default";
  if (tree === null) return empty(normalizeProjectName(input.projectName ?? folder));
  if (tree.kind !== "map") {
    error(tree, "", "a Compose file is a mapping with services");
    return empty(normalizeProjectName(input.projectName ?? folder));
  }
  const top = (key: string): Entry | undefined => tree.entries.get(key);
  const nameEntry = top("name");
  const project = normalizeProjectName(
    input.projectName ?? vars.COMPOSE_PROJECT_NAME ?? (nameEntry ? scalarText(nameEntry.value) : folder),
  );
  if (project === "") error(nameEntry ?? tree, "name", "the project name is empty: give one with -p");

  for (const [key, e] of tree.entries) {
    if (IGNORED_TOP.has(key) || key.startsWith("x-")) continue;
    const why = UNSUPPORTED_TOP_KEYS[key];
    warn(e, key, why ? `not supported: ${why}` : "unknown top-level key, ignored");
  }

  const volumes = declaredObjects(top("volumes"), "volumes", project, warn);
  const networks = declaredObjects(top("networks"), "networks", project, warn);
  if (!networks.has("default")) networks.set("default", defaultNetwork(project, tree));

  const servicesEntry = top("services");
  if (servicesEntry?.value.kind !== "map" || servicesEntry.value.entries.size === 0) {
    error(servicesEntry ?? tree, "services", "no services: a Compose file needs a services mapping");
    return empty(project);
  }
  const services = servicesEntry.value.entries;

  const names = new Map<string, string>();
  for (const [service, e] of services) {
    const containerName = e.value.kind === "map" ? e.value.entries.get("container_name") : undefined;
    const wanted = containerName ? scalarText(containerName.value) : null;
    if (wanted !== null && isDnsLabel(wanted)) {
      names.set(service, wanted);
      continue;
    }
    const name = dnsLabel(input.prefixNames ? `${project}-${service}` : service);
    if (containerName) {
      warn(
        containerName,
        `services.${service}.container_name`,
        `"${wanted ?? ""}" is not a DNS label (berth's names are): the spec is named ${name}`,
      );
    } else if (name !== (input.prefixNames ? `${project}-${service}` : service)) {
      warn(e, `services.${service}`, `the service name is not a DNS label: the spec is named ${name}`);
    }
    names.set(service, name);
  }

  const taken = new Map<string, string>();
  for (const [service, name] of names) {
    const other = taken.get(name);
    const at = services.get(service) ?? tree;
    if (other !== undefined)
      error(at, `services.${service}`, `its spec would be named ${name}, as service ${other}'s is`);
    taken.set(name, service);
  }

  const ctxProject: Project = {
    name: project,
    dir: input.dir,
    vars,
    readFile: input.readFile,
    volumes,
    networks,
    names,
  };
  const specs: ConvertedSpec[] = [];
  const used = new Set<string>();
  for (const [service, e] of services) {
    const path = `services.${service}`;
    if (e.value.kind !== "map") {
      error(e, path, "a service is a mapping");
      continue;
    }
    const spec = { image: "" } as Mutable<BerthContainer["spec"]>;
    const labels: Record<string, string> = {};
    const ctx: ServiceContext = { project: ctxProject, service, spec, labels, path, warn, error };
    for (const [key, entry] of e.value.entries) {
      if (key.startsWith("x-")) continue;
      const handler = HANDLERS[key];
      const why = UNSUPPORTED_SERVICE_KEYS[key];
      if (handler) handler(ctx, entry.value, entry, `${path}.${key}`);
      else warn(entry, `${path}.${key}`, why ? `not supported: ${why}` : "unknown service key, ignored");
    }
    const image = e.value.entries.get("image");
    if (spec.build) {
      delete spec.image;
      if (image)
        warn(
          image,
          `${path}.image`,
          "with build, berth tags the image berth.local/<spec>:<context hash>: image is left out",
        );
    } else if (image) spec.image = scalarText(image.value);
    else error(e, path, "the service has no image or build");
    spec.restartPolicy ??= "Never"; // Compose's default is no; berth's is Always.
    if (spec.stableFor !== undefined && spec.restartPolicy !== "Always") {
      // update_config.monitor on a service that is not restarted: berth's stableFor is for one that keeps running.
      delete spec.stableFor;
      warn(
        monitorOf(spec) ?? e,
        `${path}.deploy.update_config.monitor`,
        "berth's stableFor is for a service that keeps running (restart: always or unless-stopped): left out",
      );
    }
    network(ctx, e.value, used);
    const name = names.get(service) ?? service;
    const ordered = Object.fromEntries(
      [...SPEC_ORDER, ...Object.keys(spec).filter((k) => !SPEC_ORDER.includes(k))]
        .filter((k) => (spec as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, (spec as Record<string, unknown>)[k]]),
    ) as unknown as BerthContainer["spec"];
    const document: BerthContainer = {
      apiVersion: "berth/v1",
      kind: "Container",
      metadata: { name, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
      spec: ordered,
    };
    specs.push({ service, line: e.line, column: e.column, document });
  }
  for (const { document } of specs)
    for (const m of document.spec.mounts ?? []) if (m.type === "volume") used.add(`volume ${m.source}`);
  const objects = [...networks.values(), ...volumes.values()].flatMap((o) =>
    o.document !== null && used.has(`${o.document.kind.toLowerCase()} ${o.name}`) ? [converted(o, o.document)] : [],
  );
  const byPosition = (a: Finding, b: Finding): number => a.line - b.line || a.column - b.column;
  return { project, specs, objects, warnings: warnings.sort(byPosition), errors: errors.sort(byPosition) };
}

function converted(o: DeclaredObject, document: ObjectDocument): ConvertedObject {
  return { key: o.key, line: o.line, column: o.column, document };
}

/** network_mode, or the first of networks (and the others as extraNetworks), or the project's default network. */
function network(ctx: ServiceContext, service: Tree & { kind: "map" }, used: Set<string>): void {
  const mode = service.entries.get("network_mode");
  const nets = service.entries.get("networks");
  const path = ctx.path;
  if (mode) {
    const m = scalarText(mode.value);
    const target = /^service:(.*)$/.exec(m)?.[1];
    if (target !== undefined) {
      const name = ctx.project.names.get(target);
      if (name === undefined) ctx.error(mode, `${path}.network_mode`, `no service named ${target}`);
      else ctx.spec.network = `container:${name}`;
    } else ctx.spec.network = m;
    if (nets) ctx.warn(nets, `${path}.networks`, "network_mode is set: networks are ignored (Compose refuses both)");
    return;
  }
  let keys: [string, Entry | null, Position][] = [["default", null, service]];
  if (nets?.value.kind === "seq") keys = nets.value.items.map((i) => [scalarText(i), null, i]);
  else if (nets?.value.kind === "map") keys = [...nets.value.entries].map(([k, e]) => [k, e, e]);
  keys.forEach(([key, entry, at], i) => {
    const p = `${path}.networks.${key}`;
    const declared = ctx.project.networks.get(key);
    if (!declared) {
      ctx.error(at, p, `network "${key}" is not declared under the top-level networks (Compose refuses it too)`);
      return;
    }
    used.add(`network ${declared.name}`);
    if (i === 0) ctx.spec.network = declared.name;
    else ctx.spec.extraNetworks = [...(ctx.spec.extraNetworks ?? []), declared.name];
    if (entry?.value.kind === "map") {
      for (const [k, f] of entry.value.entries) {
        ctx.warn(
          f,
          `${p}.${k}`,
          `berth's spec has no per-network ${k}: the container is reachable by its name, ${ctx.project.names.get(ctx.service) ?? ctx.service}`,
        );
      }
    }
  });
}
