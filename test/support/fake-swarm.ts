/**
 * A stateful in-memory Swarm manager behind berth's own SwarmPort: services (name, labels, mode,
 * a version the manager bumps on every write, secrets and networks from their spec), secrets
 * (name, labels; the value is kept but never listed), and tasks the test adds by hand. No
 * scheduler: a service makes no tasks by itself. For loop tests of `--target swarm`; the real
 * adapter (docker/swarm-adapter.ts) is tested against a real swarm.
 */
import type { ObservedService } from "../../src/core/swarm-plan.js";
import type { ObservedSecret } from "../../src/core/swarm-secrets.js";
import type { ServiceSpec } from "../../src/core/swarm-service.js";
import type { ObservedTask } from "../../src/core/swarm-status.js";
import type { ListFilter } from "../../src/docker/port.js";
import { DockerError } from "../../src/docker/errors.js";
import type { SwarmPort } from "../../src/docker/swarm-adapter.js";

interface FakeService {
  readonly id: string;
  version: number;
  spec: ServiceSpec;
  /** Swarm's state of its last update (UpdateStatus.State); absent: none. */
  updateState?: string;
}

interface FakeSecret extends ObservedSecret {
  readonly value: string;
}

let ids = 0;
const newId = (prefix: string): string => `${prefix}${(++ids).toString(16).padStart(8, "0")}`;

function matches(labels: Readonly<Record<string, string>>, filter: ListFilter): boolean {
  return filter.labels.every((f) => {
    const eq = f.indexOf("=");
    return eq === -1 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
  });
}

/** A service as the adapter's service list shows it (docker/swarm-adapter.ts, toService). */
function observed(s: FakeService): ObservedService {
  const mode = s.spec.Mode;
  return {
    id: s.id,
    name: s.spec.Name,
    version: s.version,
    labels: { ...s.spec.Labels },
    replicas: "Replicated" in mode ? mode.Replicated.Replicas : null,
    updating: false,
    updateFailure: null,
    ...(s.updateState !== undefined ? { updateState: s.updateState } : {}),
    secretIds: (s.spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.SecretID),
    networks: s.spec.TaskTemplate.Networks.map((n) => n.Target),
  };
}

const notFound = (operation: string, what: string, id: string): DockerError =>
  new DockerError("not-found", operation, `Docker ${operation}: ${what} ${id} not found`, 404);

export class FakeSwarm implements SwarmPort {
  /** Services by ID. */
  readonly services = new Map<string, FakeService>();
  /** Secrets by ID. */
  readonly secrets = new Map<string, FakeSecret>();
  /** What listTasks answers (filtered by service): none unless the test adds some. */
  readonly tasks: ObservedTask[] = [];
  /** The services forceUpdate was asked for, in order. */
  readonly forced: string[] = [];
  /** The manager's version index: every write to a service takes the next one, as the raft store's. */
  private index = 0;

  // --- test helpers acting as "someone else" (docker service create, another tool) ---

  /**
   * Adds a service directly, as `docker service create` by someone else would: a replicated
   * service of one (or `replicas`), with these labels. Returns its ID.
   */
  add(options: { name: string; labels?: Record<string, string>; replicas?: number; image?: string }): string {
    const spec = {
      Name: options.name,
      Labels: options.labels ?? {},
      TaskTemplate: {
        ContainerSpec: { Image: options.image ?? "berth-test/busybox:latest", Labels: {}, Env: [], Mounts: [] },
        Networks: [],
      },
      Mode: { Replicated: { Replicas: options.replicas ?? 1 } },
    } as unknown as ServiceSpec;
    const id = newId("svc-");
    this.services.set(id, { id, version: ++this.index, spec });
    return id;
  }

  /** `docker service rm` by someone else. */
  kill(name: string): void {
    for (const s of this.services.values()) if (s.spec.Name === name) this.services.delete(s.id);
  }

  /** The body a service was last created or updated with. */
  specOf(name: string): ServiceSpec | undefined {
    return [...this.services.values()].find((s) => s.spec.Name === name)?.spec;
  }

  /** The ID of the service of this name. */
  idOf(name: string): string {
    const s = [...this.services.values()].find((x) => x.spec.Name === name);
    if (!s) throw new Error(`no service ${name}`);
    return s.id;
  }

  names(): string[] {
    return [...this.services.values()].map((s) => s.spec.Name).sort();
  }

  // --- SwarmPort ---

  listServices(filter: ListFilter): Promise<ObservedService[]> {
    return Promise.resolve([...this.services.values()].filter((s) => matches(s.spec.Labels, filter)).map(observed));
  }

  serviceByName(name: string): Promise<ObservedService | null> {
    const s = [...this.services.values()].find((x) => x.spec.Name === name);
    return Promise.resolve(s ? observed(s) : null);
  }

  /** The services each listTasks was asked which tasks are of their current spec (`mixed`). */
  readonly checked: (readonly string[])[] = [];

  listTasks(serviceIds: readonly string[], mixed: readonly string[] = []): Promise<ObservedTask[]> {
    this.checked.push([...mixed]);
    // As the adapter: only the services in `mixed` are asked which tasks are of their current spec.
    return Promise.resolve(
      this.tasks
        .filter((t) => serviceIds.includes(t.serviceId))
        .map(({ outdated, ...t }) => (outdated === true && mixed.includes(t.serviceId) ? { ...t, outdated } : t)),
    );
  }

  /** Sets a service's last update state, as Swarm would (updating, paused, completed, …). */
  setUpdateState(name: string, state: string): void {
    const s = this.services.get(this.idOf(name));
    if (s) s.updateState = state;
  }

  createService(spec: ServiceSpec): Promise<string> {
    if ([...this.services.values()].some((s) => s.spec.Name === spec.Name))
      return Promise.reject(
        new DockerError("conflict", "service-create", `Docker service-create: name ${spec.Name} is in use`, 409),
      );
    const id = newId("svc-");
    this.services.set(id, { id, version: ++this.index, spec });
    return Promise.resolve(id);
  }

  /** As the manager: a version other than the current one is refused (the service changed since it was read). */
  updateService(id: string, version: number, spec: ServiceSpec): Promise<void> {
    const s = this.services.get(id);
    if (!s) return Promise.reject(notFound("service-update", "service", id));
    if (s.version !== version)
      return Promise.reject(
        new DockerError("server", "service-update", "Docker service-update: update out of sequence", 500),
      );
    s.spec = spec;
    s.version = ++this.index;
    return Promise.resolve();
  }

  scaleService(id: string, replicas: number): Promise<void> {
    const s = this.services.get(id);
    if (!s) return Promise.reject(notFound("service-update", "service", id));
    s.spec = { ...s.spec, Mode: { Replicated: { Replicas: replicas } } };
    s.version = ++this.index;
    return Promise.resolve();
  }

  /** As the manager: a forced update replaces the tasks; this fake's updates finish at once. */
  forceUpdate(id: string): Promise<void> {
    const s = this.services.get(id);
    if (!s) return Promise.reject(notFound("service-update", "service", id));
    s.version = ++this.index;
    this.forced.push(s.spec.Name);
    return Promise.resolve();
  }

  removeService(id: string): Promise<void> {
    this.services.delete(id);
    return Promise.resolve();
  }

  listSecrets(filter: ListFilter): Promise<ObservedSecret[]> {
    return Promise.resolve(
      [...this.secrets.values()]
        .filter((s) => matches(s.labels, filter))
        .map(({ id, name, labels }) => ({ id, name, labels: { ...labels } })),
    );
  }

  createSecret(name: string, labels: Readonly<Record<string, string>>, value: string): Promise<string> {
    if ([...this.secrets.values()].some((s) => s.name === name))
      return Promise.reject(
        new DockerError("conflict", "secret-create", `Docker secret-create: name ${name} is in use`, 409),
      );
    const id = newId("sec-");
    this.secrets.set(id, { id, name, labels: { ...labels }, value });
    return Promise.resolve(id);
  }

  removeSecret(id: string): Promise<void> {
    this.secrets.delete(id);
    return Promise.resolve();
  }

  serviceLogs(): Promise<{ close(): void }> {
    return Promise.reject(new Error("FakeSwarm: serviceLogs is not supported"));
  }
}
