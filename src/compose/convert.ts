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
import type { BerthContainer } from "../core/document.gen.js";
import { type Finding, type Mutable, noService, type Project, type ServiceContext } from "./context.js";
import { readDotenv } from "./dotenv.js";
import { unsetMessage, type Variables } from "./interpolate.js";
import { type DeclaredObject, declaredObjects, defaultNetwork, type ObjectDocument } from "./objects.js";
import { hostNetworkPorts } from "./ports.js";
import { HANDLERS, monitorOf } from "./service.js";
import { applyExtends } from "./extends.js";
import { mergeFiles } from "./merge.js";
import { specNames } from "./names.js";
import { byProfiles, skippedMessage } from "./profiles.js";
import { type SecretFromFile, secretsFromFiles, secretsMessage } from "./secrets.js";
import { type Entry, type Position, readTree, type Tree, writtenAt } from "./tree.js";
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
  /** Where that .env file is, for findings (default: DIR/.env). */
  readonly dotenvFile?: string;
  /** --profile: the active profiles (default: COMPOSE_PROFILES, from the environment or .env). */
  readonly profiles?: readonly string[];
  /** -p: beats COMPOSE_PROJECT_NAME, the file's name:, and the folder's name. */
  readonly projectName: string | null;
  readonly prefixNames: boolean;
  readonly readFile: (path: string) => string | null;
  /** Override files (their absolute paths and texts), merged onto the Compose file in order, as `-f a -f b`. */
  readonly overrides?: readonly { readonly file: string; readonly text: string }[];
  /** The Compose file's absolute path, for findings that name a line (default: DIR/compose.yaml). */
  readonly file?: string;
  /** How a finding's message names a file (default: as given). */
  readonly displayPath?: (path: string) => string;
}

export interface ConvertedSpec extends Position {
  readonly service: string;
  readonly document: BerthContainer;
  /** Where spec fields come from (`spec.ports[0]`, `spec.securityContext.capAdd`), for findings about them. */
  readonly places: ReadonlyMap<string, Position>;
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
  const finding = (at: Position, path: string, message: string): Finding => ({
    line: at.line,
    column: at.column,
    ...(at.file !== undefined ? { file: at.file } : {}),
    path,
    message: at.mergedFrom ? `${message} (merged from line ${at.mergedFrom.line})` : message,
  });
  const warn = (at: Position, path: string, message: string): void => {
    warnings.push(finding(at, path, message));
  };
  const error = (at: Position, path: string, message: string): void => {
    errors.push(finding(at, path, message));
  };

  const dotenvFile = input.dotenvFile ?? `${input.dir}/.env`;
  const dotenv = readDotenv(input.dotenv ?? "", dotenvFile, input.env);
  for (const u of dotenv.unset) warn(u, "", unsetMessage(u.name));
  const vars: Variables = { ...dotenv.values, ...input.env };
  // The Compose file, then each override file merged onto it, each with its extends resolved (as Compose).
  let tree: Tree | null = null;
  for (const file of [{ file: undefined, text: input.text }, ...(input.overrides ?? [])]) {
    const read = readTree(file.text, vars, file.file);
    for (const e of read.errors) error(e, e.path, e.message);
    for (const [name, at] of read.unset) warn(at, at.path, unsetMessage(name));
    if (read.tree === null) {
      tree = null;
      break;
    }
    const resolved = withExtends(read.tree, error);
    tree = tree === null ? resolved : mergeFiles(tree, resolved);
  }
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
  // A name given (-p, COMPOSE_PROJECT_NAME, name:) must be valid, as Compose refuses it; the folder's is made so.
  const given = input.projectName ?? vars.COMPOSE_PROJECT_NAME ?? (nameEntry ? scalarText(nameEntry.value) : null);
  const project = normalizeProjectName(given ?? folder);
  if (given === "" || project === "") error(nameEntry ?? tree, "name", "the project name is empty: give one with -p");
  else if (given !== null && given !== project) {
    const from =
      input.projectName !== null ? "-p" : vars.COMPOSE_PROJECT_NAME !== undefined ? "COMPOSE_PROJECT_NAME" : "name:";
    error(
      input.projectName === null && vars.COMPOSE_PROJECT_NAME === undefined && nameEntry ? nameEntry : tree,
      "name",
      `the project name "${given}" (${from}) is not valid, as Compose refuses it: use lowercase letters, digits, '-' and '_', starting with a letter or digit (e.g. ${project})`,
    );
  }

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
  const { services, skipped } = byProfiles(servicesEntry.value.entries, input.profiles ?? [], vars.COMPOSE_PROFILES);
  const left = skippedMessage(skipped);
  if (left !== null) warn(servicesEntry, "services", left);
  const mainFile = input.file ?? `${input.dir}/compose.yaml`;
  const display = input.displayPath ?? ((p: string): string => p);
  const runnable = (e: Entry): boolean =>
    e.value.kind === "map" && (e.value.entries.has("image") || e.value.entries.has("build"));
  if (![...services.values()].some(runnable) && (input.overrides ?? []).length === 0) {
    // An override file holds what it changes: its services have no image of their own.
    error(
      servicesEntry,
      "services",
      `no service has image or build: this looks like an override file; give the main Compose file first, then this one (berth import compose compose.yaml ${display(mainFile)})`,
    );
    return empty(project);
  }

  const where = (at: Position): string => `${display(at.file ?? mainFile)}:${writtenAt(at).line}`;
  const names = specNames(services, { project, prefixNames: input.prefixNames, where }, warn);

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
    dotenvFile,
    readFile: input.readFile,
    volumes,
    networks,
    names,
    skipped,
  };
  const specs: ConvertedSpec[] = [];
  const used = new Set<string>();
  const fromDotenv = new Set(Object.keys(dotenv.values).filter((k) => input.env[k] === undefined));
  const secrets: SecretFromFile[] = [];
  for (const [service, e] of services) {
    const path = `services.${service}`;
    if (e.value.kind !== "map") {
      error(e, path, "a service is a mapping");
      continue;
    }
    const spec = { image: "" } as Mutable<BerthContainer["spec"]>;
    const labels: Record<string, string> = {};
    const places = new Map<string, Position>();
    const place = (specPath: string, at: Position): void => {
      if (!places.has(specPath)) places.set(specPath, at);
    };
    const ctx: ServiceContext = {
      project: ctxProject,
      service,
      spec,
      labels,
      path,
      entries: e.value.entries,
      warn,
      error,
      place,
    };
    for (const [key, entry] of e.value.entries) {
      if (key.startsWith("x-")) continue;
      const handler = HANDLERS[key];
      const why = UNSUPPORTED_SERVICE_KEYS[key];
      if (!handler) {
        warn(entry, `${path}.${key}`, why ? `not supported: ${why}` : "unknown service key, ignored");
        continue;
      }
      handler(ctx, entry.value, entry, `${path}.${key}`);
      for (const field of fieldPaths(spec)) place(field, entry);
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
    replicasAgree(ctx, e.value.entries);
    network(ctx, e.value, used);
    for (const [name, at] of secretsFromFiles(e.value.entries, spec.env ?? {}, fromDotenv))
      secrets.push({ service, name, at });
    hostNetworkPorts(ctx);
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
    specs.push({ service, line: e.line, column: e.column, document, places });
  }
  const secretFinding = secretsMessage(secrets);
  if (secretFinding !== null) warn(secretFinding.at, secretFinding.path, secretFinding.message);
  for (const { document } of specs)
    for (const m of document.spec.mounts ?? []) if (m.type === "volume") used.add(`volume ${m.source}`);
  const objects = [...networks.values(), ...volumes.values()].flatMap((o) =>
    o.document !== null && used.has(`${o.document.kind.toLowerCase()} ${o.name}`) ? [converted(o, o.document)] : [],
  );
  const byPosition = (a: Finding, b: Finding): number =>
    (a.file ?? "").localeCompare(b.file ?? "") || a.line - b.line || a.column - b.column;
  return { project, specs, objects, warnings: warnings.sort(byPosition), errors: errors.sort(byPosition) };
}

/** `scale` and `deploy.replicas` both given must agree, as Compose requires. */
function replicasAgree(ctx: ServiceContext, entries: ReadonlyMap<string, Entry>): void {
  const scale = entries.get("scale");
  const deploy = entries.get("deploy")?.value;
  const replicas = deploy?.kind === "map" ? deploy.entries.get("replicas") : undefined;
  if (scale && replicas && scalarText(scale.value) !== scalarText(replicas.value))
    ctx.error(
      scale,
      `${ctx.path}.scale`,
      `scale (${scalarText(scale.value)}) and deploy.replicas (${scalarText(replicas.value)}) differ, which Compose refuses: give one`,
    );
}

/** A file's tree with the services' `extends` within it resolved. */
function withExtends(tree: Tree, error: (at: Position, path: string, message: string) => void): Tree {
  const services = tree.kind === "map" ? tree.entries.get("services") : undefined;
  if (tree.kind !== "map" || services?.value.kind !== "map") return tree;
  const entries = new Map(tree.entries);
  entries.set("services", {
    ...services,
    value: { ...services.value, entries: applyExtends(services.value.entries, error) },
  });
  return { ...tree, entries };
}

/** A spec's fields and their fields, as paths (`spec.securityContext.capAdd`). */
function fieldPaths(spec: object): string[] {
  return Object.entries(spec as Record<string, unknown>).flatMap(([k, v]) => [
    `spec.${k}`,
    ...(typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.keys(v).map((sub) => `spec.${k}.${sub}`)
      : []),
  ]);
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
      if (name === undefined) ctx.error(mode, `${path}.network_mode`, noService(ctx.project, target));
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
