/**
 * The write fence of high availability (docs/reliability.md): the Docker port, the Swarm port and
 * container I/O as a standby or a leader whose lease may have lapsed sees them. Every call that
 * changes the engine asks the fence first, in the same event-loop turn as the request leaves;
 * reads pass through. A refused write throws BERTH_NOT_LEADER and never reaches the engine.
 */
import { BerthError } from "../core/errors.js";
import type { ContainerIO, DockerPort } from "./port.js";
import type { SwarmPort } from "./swarm-adapter.js";

export interface WriteFence {
  /** Throws BERTH_NOT_LEADER unless this process may write now; else the term to log the write with. */
  admit(operation: string, target: string): number;
  /** The term this process leads in, or null. */
  currentTerm(): number | null;
}

/** The engine-changing methods of the port, by the operation name the call metrics use. */
const PORT_WRITES = {
  pullImage: "pull",
  buildImage: "build",
  removeImage: "image-remove",
  createContainer: "create",
  startContainer: "start",
  stopContainer: "stop",
  removeContainer: "remove",
  renameContainer: "rename",
  createVolume: "volume-create",
  removeVolume: "volume-remove",
  createNetwork: "network-create",
  removeNetwork: "network-remove",
} as const satisfies Partial<Record<keyof DockerPort, string>>;

/**
 * The swarm-changing methods of the Swarm port (`--target swarm`). A scale and a forced update
 * read the service and then update it: the fence is asked before the read, so that write leaves
 * one read call later.
 */
const SWARM_WRITES = {
  createService: "service-create",
  updateService: "service-update",
  scaleService: "service-update",
  forceUpdate: "service-update",
  removeService: "service-remove",
  createSecret: "secret-create",
  removeSecret: "secret-remove",
} as const satisfies Partial<Record<keyof SwarmPort, string>>;

type Method = (...args: unknown[]) => Promise<unknown>;

function fenceMethod<T extends object>(target: T, name: keyof T, operation: string, fence: WriteFence): void {
  const original = target[name] as unknown as Method;
  const fenced: Method = (...args) => {
    try {
      fence.admit(operation, typeof args[0] === "string" ? args[0] : "");
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return original(...args);
  };
  (target as Record<keyof T, unknown>)[name] = fenced;
}

/** `port` with the methods named in `writes` behind the fence; every other method is the port's own. */
function fenceWrites<T extends object>(port: T, writes: Partial<Record<keyof T, string>>, fence: WriteFence): T {
  const wrapped = Object.create(port) as T;
  const methods = port as unknown as Record<string, Method | undefined>;
  for (const [name, operation] of Object.entries(writes) as [string, string][]) {
    (wrapped as unknown as Record<string, Method>)[name] = (...args) =>
      methods[name]?.(...args) ?? Promise.reject(new Error(`the port has no ${name}`));
    fenceMethod(wrapped, name as keyof T, operation, fence);
  }
  return wrapped;
}

/** The engine port with its writes behind the fence. */
export function fencedPort(port: DockerPort, fence: WriteFence): DockerPort {
  return fenceWrites(port, PORT_WRITES, fence);
}

/** The Swarm port with its writes (services, secrets) behind the fence. */
export function fencedSwarm(swarm: SwarmPort, fence: WriteFence): SwarmPort {
  return fenceWrites(swarm, SWARM_WRITES, fence);
}

/** Container I/O with exec and terminals behind the fence (they run commands in containers); logs pass. */
export function fencedIO(io: ContainerIO, fence: WriteFence): ContainerIO {
  const wrapped: ContainerIO = Object.create(io) as ContainerIO;
  wrapped.exec = (id, request) => io.exec(id, request);
  fenceMethod(wrapped, "exec", "exec", fence);
  const terminal = io.terminal?.bind(io);
  if (terminal) {
    wrapped.terminal = terminal;
    fenceMethod(wrapped, "terminal", "exec", fence);
  }
  return wrapped;
}

export function notLeader(reason: string): BerthError {
  return new BerthError("BERTH_NOT_LEADER", `this berth is not the leader (${reason}): it makes no Docker write`, {
    retriable: true,
  });
}
