/**
 * A one-node swarm for the `--target swarm` tests: a private dockerd in its own network namespace
 * with loopback up (test/support/private-dockerd.ts), where `swarm init --advertise-addr
 * 127.0.0.1` is made — never on the shared engine. Destroying the daemon removes the swarm and
 * everything in it.
 */
import type Docker from "dockerode";
import { afterAll, beforeAll } from "vitest";
import { pollValue } from "./poll.js";
import { PrivateDockerd } from "./private-dockerd.js";

/** Starts the daemon with `images` copied in from the main one, and makes it a swarm's only manager. */
export async function startPrivateSwarm(images: readonly string[]): Promise<PrivateDockerd> {
  const daemon = await PrivateDockerd.create(images, { loopback: true });
  await daemon.docker.swarmInit({ ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1" });
  return daemon;
}

/** A swarm for the calling test file: started before its tests, destroyed (with every service in it) after them. */
export function privateSwarmPerFile(images: readonly string[]): () => PrivateDockerd {
  let daemon: PrivateDockerd | null = null;
  beforeAll(async () => {
    daemon = await startPrivateSwarm(images);
  }, 120_000);
  afterAll(async () => {
    await daemon?.destroy();
  }, 60_000);
  return () => {
    if (daemon === null) throw new Error("the private swarm is not started (use it inside a test)");
    return daemon;
  };
}

/** A service as the engine lists it, the fields the tests read. */
export interface ServiceView {
  readonly ID: string;
  readonly Version: { Index: number };
  readonly Spec: {
    Name: string;
    Labels: Record<string, string>;
    Mode: { Replicated?: { Replicas: number } };
    UpdateConfig?: { Order: string };
    TaskTemplate: { ForceUpdate?: number; ContainerSpec: { Env?: string[]; Labels?: Record<string, string> } };
  };
}

/** The services of controller `id`, by name. */
export async function servicesOf(docker: Docker, id: string): Promise<ServiceView[]> {
  const list = (await docker.listServices({ filters: { label: [`berth.controller=${id}`] } })) as ServiceView[];
  return list.sort((a, b) => (a.Spec.Name < b.Spec.Name ? -1 : 1));
}

/** The env of a service's running tasks, one list per task. */
export async function runningTaskEnvs(docker: Docker, serviceName: string): Promise<string[][]> {
  const tasks = (await docker.listTasks({ filters: { service: [serviceName] } })) as {
    DesiredState: string;
    Status: { State: string };
    Spec: { ContainerSpec: { Env?: string[] } };
  }[];
  return tasks
    .filter((t) => t.DesiredState === "running" && t.Status.State === "running")
    .map((t) => t.Spec.ContainerSpec.Env ?? []);
}

/**
 * A test's cleanup: controller `id`'s services, then its secrets, removed through the engine
 * (an apply of an empty folder would prune nothing: an empty folder pauses pruning).
 */
export async function removeServicesOf(docker: Docker, id: string): Promise<void> {
  for (const s of await servicesOf(docker, id)) await docker.getService(s.ID).remove();
  const secrets = (await docker.listSecrets({ filters: { label: [`berth.controller=${id}`] } })) as { ID: string }[];
  // A secret is removable once no service names it: the services' removal is asynchronous on the manager.
  for (const secret of secrets) {
    const removed = await pollValue(
      () =>
        docker
          .getSecret(secret.ID)
          .remove()
          .then(
            () => null,
            (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
          ),
      (err) => err === null,
      10_000,
      100,
    );
    if (removed !== null) throw removed;
  }
}
