/**
 * `berth logs --target swarm NAME`: a service's logs from all its tasks, each line prefixed with
 * the task it came from as `NAME.SLOT@NODE |` (a global service's: `NAME@NODE |`), as `docker
 * service logs` does. A spec with canaries (updatePartition) has its canaries' service's lines
 * too, named `NAME_canary.SLOT@NODE`. Only this controller's services (--id) are reachable.
 */
import type { Config } from "../config.js";
import { BerthError } from "../core/errors.js";
import { labelKeys } from "../core/labels.js";
import { ownership } from "../core/ownership.js";
import type { ObservedTask } from "../core/swarm-status.js";
import { connectSwarm } from "../docker/connect.js";
import type { LogHandlers, LogLine, LogOptions } from "../docker/port.js";
import { specServices } from "../core/swarm-canary.js";
import { readLogs } from "./read-logs.js";

/** Where a task's line came from, as people read it. */
export function taskLabel(service: string, task: ObservedTask | undefined, id: string | undefined): string {
  if (!task) return id ? `${service}.${id.slice(0, 12)}` : service;
  const where = task.node !== "" ? `@${task.node}` : "";
  return task.slot !== null ? `${service}.${task.slot}${where}` : `${service}${where}`;
}

/** Streams the service's lines to `onLine` (with their prefix) until the logs end or `stop`. */
export async function swarmLogs(
  config: Config,
  name: string,
  options: LogOptions,
  onLine: (prefix: string, line: LogLine) => void,
  stop: Promise<void>,
): Promise<void> {
  const { swarm } = connectSwarm(config.dockerTimeoutMs);
  const owner = ownership(labelKeys(config.labelPrefix), config.controllerId);
  const mine = await swarm.listServices({ labels: [owner.filter] });
  const service = mine.find((s) => s.name === name || s.id === name);
  if (!service)
    throw BerthError.usage(
      `no service ${name} managed by berth --id ${config.controllerId} (under --target swarm, NAME is a spec's name or its service's ID)`,
    );
  // A spec's logs are its canaries' too (core/swarm-canary.ts), each line named by its service's task.
  const { canary } = specServices(service.name, mine, owner);
  const services = canary ? [service, canary] : [service];
  const names = new Map(services.map((s) => [s.id, s.name]));
  const tasks = new Map((await swarm.listTasks(services.map((s) => s.id))).map((t) => [t.id, t]));
  await readLogs(
    (handlers) =>
      mergedLogs(
        services.map((s) => (h: LogHandlers) => swarm.serviceLogs(s.id, options, h)),
        handlers,
      ),
    (line) => {
      const task = line.task === undefined ? undefined : tasks.get(line.task);
      onLine(taskLabel(names.get(task?.serviceId ?? "") ?? service.name, task, line.task), line);
    },
    stop,
  );
}

/** Several log streams as one: it ends when all have (with the first error); closing it closes all. */
export async function mergedLogs(
  opens: readonly ((handlers: LogHandlers) => Promise<{ close(): void }>)[],
  handlers: LogHandlers,
): Promise<{ close(): void }> {
  let left = opens.length;
  let failure: Error | undefined;
  const onEnd = (err?: Error): void => {
    failure ??= err;
    if (--left === 0) handlers.onEnd(failure);
  };
  const opened = await Promise.allSettled(
    opens.map((open) =>
      open({
        onLine: (line) => {
          handlers.onLine(line);
        },
        onEnd,
      }),
    ),
  );
  const handles = opened.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
  const close = (): void => {
    for (const h of handles) h.close();
  };
  const refused = opened.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (refused) {
    close();
    throw refused.reason;
  }
  return { close };
}
