/**
 * The Swarm part of the Docker adapter (`--target swarm`, docs/swarm.md): services, their tasks
 * and the nodes' names, through the manager's Engine API, in berth's own types. Every call goes
 * through the adapter's `call` (a deadline, errors mapped to DockerError kinds).
 */
import type { Docker } from "./client.js";
import type { ObservedService } from "../core/swarm-plan.js";
import type { ObservedSecret } from "../core/swarm-secrets.js";
import type { ServiceSpec } from "../core/swarm-service.js";
import type { RegistryCredentials } from "../core/registry.js";
import type { ObservedTask } from "../core/swarm-status.js";
import type { Readable } from "node:stream";
import { logLines } from "./container-io.js";
import { DockerError, mapError } from "./errors.js";
import type { ListFilter, LogHandlers, LogOptions } from "./port.js";

export interface SwarmPort {
  /** Services carrying these labels. */
  listServices(filter: ListFilter): Promise<ObservedService[]>;
  /** The service with this name, whoever owns it; null when there is none. */
  serviceByName(name: string): Promise<ObservedService | null>;
  /**
   * The tasks of these services, each task's node by hostname; of the `mixed` ones, those not of
   * the service's current spec marked outdated (Swarm's `_up-to-date` filter, one more list).
   */
  listTasks(serviceIds: readonly string[], mixed?: readonly string[]): Promise<ObservedTask[]>;
  /**
   * Returns the new service's ID. `credentials` go as X-Registry-Auth (never in the body or the
   * URL): the manager hands them to the nodes that pull the image (--with-registry-auth).
   */
  createService(spec: ServiceSpec, credentials: RegistryCredentials | null): Promise<string>;
  /**
   * Replaces the service's spec; `version` is the one it was read at (the engine refuses a stale
   * one). Without credentials the service keeps those it was given last.
   */
  updateService(id: string, version: number, spec: ServiceSpec, credentials: RegistryCredentials | null): Promise<void>;
  /** Only the replicas change: the service's own spec with its replica count set. */
  scaleService(id: string, replicas: number): Promise<void>;
  /**
   * `docker service update --force`: the service as it is, with TaskTemplate.ForceUpdate one
   * higher, so that Swarm replaces its tasks as its UpdateConfig says (berth restart).
   */
  forceUpdate(id: string): Promise<void>;
  /** A service already gone is not an error. */
  removeService(id: string): Promise<void>;
  /** Secrets carrying these labels (never their data: the engine does not return it). */
  listSecrets(filter: ListFilter): Promise<ObservedSecret[]>;
  /** Returns the new secret's ID. The value goes in the request body only, never in a message. */
  createSecret(name: string, labels: Readonly<Record<string, string>>, value: string): Promise<string>;
  /** A secret already gone is not an error. */
  removeSecret(id: string): Promise<void>;
  /** A service's logs from every task (the nodes' log drivers must keep them), each line with its task. */
  serviceLogs(id: string, options: LogOptions, handlers: LogHandlers): Promise<{ close(): void }>;
}

export type Call = <T>(operation: string, run: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * A service update's options for dockerode: the spec as the body, and only `version` in the query
 * string. Without `_query`, docker-modem copies every option into the URL (the whole spec, its
 * env and labels among it), where a proxy or the engine's debug log would keep it, and a large
 * spec passes the engine's limit on a request's head.
 */
function updateBody(spec: object, version: number, abortSignal: AbortSignal): Record<string, unknown> {
  return { ...spec, version, abortSignal, _query: { version }, _body: spec };
}

interface EngineService {
  ID: string;
  Version?: { Index?: number };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string; CompletedAt?: string };
  Spec?: {
    Name?: string;
    Labels?: Record<string, string> | null;
    Mode?: { Replicated?: { Replicas?: number } };
    TaskTemplate?: {
      ContainerSpec?: { Secrets?: { SecretID?: string }[] | null };
      Networks?: { Target?: string }[] | null;
    };
  };
}

interface EngineTask {
  ID?: string;
  Slot?: number;
  ServiceID?: string;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string; Err?: string; Timestamp?: string };
}

function toService(s: EngineService): ObservedService {
  const replicated = s.Spec?.Mode?.Replicated;
  return {
    id: s.ID,
    name: s.Spec?.Name ?? "",
    version: s.Version?.Index ?? 0,
    labels: s.Spec?.Labels ?? {},
    replicas: replicated ? (replicated.Replicas ?? 1) : null,
    updating: ["updating", "rollback_started"].includes(s.UpdateStatus?.State ?? ""),
    updateFailure: ["paused", "rollback_paused", "rollback_completed"].includes(s.UpdateStatus?.State ?? "")
      ? `update ${s.UpdateStatus?.State ?? ""}: ${s.UpdateStatus?.Message ?? ""}`
      : null,
    ...(s.UpdateStatus?.State ? { updateState: s.UpdateStatus.State } : {}),
    updateStartedAt: Date.parse(s.UpdateStatus?.StartedAt ?? "") || null,
    updateCompletedAt: Date.parse(s.UpdateStatus?.CompletedAt ?? "") || null,
    secretIds: (s.Spec?.TaskTemplate?.ContainerSpec?.Secrets ?? []).flatMap((x) => (x.SecretID ? [x.SecretID] : [])),
    networks: (s.Spec?.TaskTemplate?.Networks ?? []).flatMap((n) => n.Target ?? []),
  };
}

/** A remove whose object is already gone has done its work. */
async function goneIsFine(removal: Promise<unknown>): Promise<void> {
  try {
    await removal;
  } catch (err) {
    if (!(err instanceof DockerError && err.kind === "not-found")) throw err;
  }
}

/**
 * dockerode's service create and update with their auth argument, which it sends as the
 * X-Registry-Auth header (base64 JSON); undefined sends none. Its typings name neither shape.
 */
type WithAuth = (auth: RegistryCredentials | undefined, options: object) => Promise<unknown>;

/** The modem's options object with an abort signal (dockerode's typings leave it out of some calls). */
type WithSignal = Record<string, unknown> & { abortSignal: AbortSignal };

export class DockerSwarm implements SwarmPort {
  constructor(
    private readonly docker: Docker,
    private readonly call: Call,
  ) {}

  async listServices(filter: ListFilter): Promise<ObservedService[]> {
    const list = await this.call("services", (abortSignal) =>
      this.docker.listServices({ filters: { label: [...filter.labels] }, abortSignal } as WithSignal),
    );
    return (list as EngineService[]).map(toService);
  }

  async serviceByName(name: string): Promise<ObservedService | null> {
    // The engine's name filter matches prefixes: keep the exact name only.
    const list = await this.call("services", (abortSignal) =>
      this.docker.listServices({ filters: { name: [name] }, abortSignal } as WithSignal),
    );
    return (list as EngineService[]).map(toService).find((s) => s.name === name) ?? null;
  }

  async listTasks(serviceIds: readonly string[], mixed: readonly string[] = []): Promise<ObservedTask[]> {
    if (serviceIds.length === 0) return [];
    const [tasks, nodes, current] = await Promise.all([
      this.call("tasks", (abortSignal) =>
        this.docker.listTasks({ filters: { service: [...serviceIds] }, abortSignal } as WithSignal),
      ),
      this.call("nodes", (abortSignal) => this.docker.listNodes({ abortSignal } as WithSignal)),
      // The manager compares each task's spec version with its service's, as `docker service
      // update`'s progress asks it (the filter docker's CLI uses): no comparison of specs here.
      mixed.length === 0
        ? Promise.resolve([])
        : this.call("tasks", (abortSignal) =>
            this.docker.listTasks({
              filters: { service: [...mixed], "_up-to-date": ["true"] },
              abortSignal,
            } as WithSignal),
          ),
    ]);
    const checked = new Set(mixed);
    const upToDate = new Set((current as EngineTask[]).map((t) => t.ID));
    const names = new Map(
      (nodes as { ID: string; Description?: { Hostname?: string } }[]).map((n) => [
        n.ID,
        n.Description?.Hostname ?? n.ID,
      ]),
    );
    return (tasks as EngineTask[]).map((t) => ({
      id: t.ID ?? "",
      slot: t.Slot ?? null,
      serviceId: t.ServiceID ?? "",
      node: t.NodeID ? (names.get(t.NodeID) ?? t.NodeID) : "",
      desiredState: t.DesiredState ?? "",
      state: t.Status?.State ?? "",
      error: t.Status?.Err ?? "",
      at: Date.parse(t.Status?.Timestamp ?? "") || 0,
      ...(checked.has(t.ServiceID ?? "") && !upToDate.has(t.ID) ? { outdated: true as const } : {}),
    }));
  }

  async createService(spec: ServiceSpec, credentials: RegistryCredentials | null): Promise<string> {
    const created = await this.call("service-create", (abortSignal) =>
      (this.docker.createService as unknown as WithAuth).call(this.docker, credentials ?? undefined, {
        ...spec,
        abortSignal,
      }),
    );
    return (created as { id?: string; ID?: string }).id ?? (created as { ID?: string }).ID ?? "";
  }

  async updateService(
    id: string,
    version: number,
    spec: ServiceSpec,
    credentials: RegistryCredentials | null,
  ): Promise<void> {
    const service = this.docker.getService(id);
    await this.call("service-update", (abortSignal) =>
      (service.update as unknown as WithAuth).call(
        service,
        credentials ?? undefined,
        updateBody(spec, version, abortSignal),
      ),
    );
  }

  async scaleService(id: string, replicas: number): Promise<void> {
    const service = this.docker.getService(id);
    const current = (await this.call("service", (abortSignal) =>
      service.inspect({ abortSignal } as WithSignal),
    )) as EngineService & { Spec: Record<string, unknown> };
    const spec = { ...current.Spec, Mode: { Replicated: { Replicas: replicas } } };
    await this.call("service-update", (abortSignal) =>
      service.update(updateBody(spec, current.Version?.Index ?? 0, abortSignal)),
    );
  }

  async forceUpdate(id: string): Promise<void> {
    const service = this.docker.getService(id);
    const current = (await this.call("service", (abortSignal) =>
      service.inspect({ abortSignal } as WithSignal),
    )) as EngineService & { Spec: Record<string, unknown> & { TaskTemplate?: { ForceUpdate?: number } } };
    const template = current.Spec.TaskTemplate ?? {};
    const spec = { ...current.Spec, TaskTemplate: { ...template, ForceUpdate: (template.ForceUpdate ?? 0) + 1 } };
    await this.call("service-update", (abortSignal) =>
      service.update(updateBody(spec, current.Version?.Index ?? 0, abortSignal)),
    );
  }

  async removeService(id: string): Promise<void> {
    await goneIsFine(
      this.call("service-remove", (abortSignal) => this.docker.getService(id).remove({ abortSignal } as WithSignal)),
    );
  }

  async listSecrets(filter: ListFilter): Promise<ObservedSecret[]> {
    const list = await this.call("secrets", (abortSignal) =>
      this.docker.listSecrets({ filters: { label: [...filter.labels] }, abortSignal } as WithSignal),
    );
    return (list as { ID: string; Spec?: { Name?: string; Labels?: Record<string, string> | null } }[]).map((s) => ({
      id: s.ID,
      name: s.Spec?.Name ?? "",
      labels: s.Spec?.Labels ?? {},
    }));
  }

  async createSecret(name: string, labels: Readonly<Record<string, string>>, value: string): Promise<string> {
    const Data = Buffer.from(value, "utf8").toString("base64");
    // dockerode answers with its Secret object (the new ID as `id`).
    const created = await this.call(
      "secret-create",
      (abortSignal) =>
        // `_query`: no query string. Without it docker-modem copies every option into the URL,
        // Data (the value) with them, where a proxy or the engine's debug log would keep it.
        this.docker.createSecret({
          Name: name,
          Labels: { ...labels },
          Data,
          abortSignal,
          _query: {},
        }) as Promise<{
          id?: string;
        }>,
    );
    return created.id ?? "";
  }

  async removeSecret(id: string): Promise<void> {
    await goneIsFine(
      this.call("secret-remove", (abortSignal) => this.docker.getSecret(id).remove({ abortSignal } as WithSignal)),
    );
  }
  async serviceLogs(id: string, options: LogOptions, handlers: LogHandlers): Promise<{ close(): void }> {
    const service = this.docker.getService(id);
    let tty: boolean;
    let source: Readable | Buffer;
    try {
      const info = (await this.call("service", (abortSignal) => service.inspect({ abortSignal } as WithSignal))) as {
        Spec?: { TaskTemplate?: { ContainerSpec?: { TTY?: boolean } } };
      };
      tty = info.Spec?.TaskTemplate?.ContainerSpec?.TTY === true;
      // No deadline: a followed stream lasts as long as the caller keeps it.
      const common = {
        stdout: true,
        stderr: true,
        timestamps: true,
        details: true,
        ...(options.tail !== null ? { tail: options.tail } : {}),
        ...(options.since !== null ? { since: options.since } : {}),
      };
      // dockerode types a service's logs as a stream; without follow the engine's answer is a buffer.
      type Logs = (o: object) => Promise<Readable | Buffer>;
      source = await (service.logs as unknown as Logs).call(service, { ...common, follow: options.follow });
    } catch (err) {
      throw mapError("logs", err, id);
    }
    return logLines(source, tty, {
      onLine: (line) => {
        handlers.onLine({ ...line, ...detailsOf(line.line) });
      },
      onEnd: (err) => {
        handlers.onEnd(err);
      },
    });
  }
}

/**
 * A service's log line with details: `com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,
 * com.docker.swarm.task.id=… message` (values URL-encoded). The task, and the message alone.
 */
export function detailsOf(text: string): { line: string; task?: string } {
  const m = /^([^=\s,]+=[^,\s]*(?:,[^=\s,]+=[^,\s]*)*) (.*)$/s.exec(text);
  if (!m) return { line: text };
  const details = new Map(
    (m[1] ?? "").split(",").map((kv) => {
      const at = kv.indexOf("=");
      return [kv.slice(0, at), decodeURIComponent(kv.slice(at + 1))] as const;
    }),
  );
  const task = details.get("com.docker.swarm.task.id");
  return { line: m[2] ?? "", ...(task !== undefined ? { task } : {}) };
}
