/**
 * The Docker port: what berth needs from a Docker engine, in berth's own types. The adapter
 * (adapter.ts, the only module that imports dockerode) implements it against a real engine; the
 * tests' in-memory fake implements it for loop and fault-injection tests.
 */
import type { EngineCreateBody } from "../core/create-request.js";
import type { ObservedContainer } from "../core/observed.js";

export type { ObservedContainer };

/** A container as inspected: what a listing shows, and its networks. */
export interface ContainerDetails extends ObservedContainer {
  /** Names of the networks the container is attached to. */
  readonly networks: readonly string[];
}

export interface DockerEvent {
  readonly type: string;
  readonly action: string;
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface EventHandlers {
  /** The stream is open: events from here on arrive. */
  onOpen?(): void;
  onEvent(event: DockerEvent): void;
  /** The stream ended or failed; the subscriber reconnects. */
  onClose(err?: Error): void;
}

export interface EventSubscription {
  close(): void;
}

export interface ListFilter {
  /** Label filters, Docker syntax: "key" or "key=value"; all must match. */
  readonly labels: readonly string[];
}

export interface DockerPort {
  ping(): Promise<void>;
  listContainers(filter: ListFilter): Promise<ObservedContainer[]>;
  /** Every local image: normalized reference → image ID. */
  listImages(): Promise<Map<string, string>>;
  /** The local image ID of a reference, or null when the image is not present. */
  inspectImage(ref: string): Promise<string | null>;
  pullImage(ref: string): Promise<void>;
  /** Returns the new container's ID. */
  createContainer(name: string, body: EngineCreateBody): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Without a timeout, the container's own stop timeout applies. */
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  removeContainer(id: string, options: { readonly force: boolean }): Promise<void>;
  renameContainer(id: string, name: string): Promise<void>;
  /** null when there is no such container. */
  inspectContainer(idOrName: string): Promise<ContainerDetails | null>;
  subscribeEvents(filter: ListFilter, handlers: EventHandlers): EventSubscription;
}

/** Which Docker API calls write (for counting no-op passes). */
export const WRITE_OPERATIONS = new Set(["create", "start", "stop", "remove", "rename", "pull"]);
