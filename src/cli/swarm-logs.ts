/**
 * `berth logs --target swarm NAME`: a service's logs from all its tasks, each line prefixed with
 * the task it came from as `NAME.SLOT@NODE |` (a global service's: `NAME@NODE |`), as `docker
 * service logs` does. Only this controller's services (--id) are reachable.
 */
import type { Config } from "../config.js";
import { BerthError } from "../core/errors.js";
import { labelKeys } from "../core/labels.js";
import { ownership } from "../core/ownership.js";
import type { ObservedTask } from "../core/swarm-status.js";
import { connectSwarm } from "../docker/connect.js";
import type { LogLine, LogOptions } from "../docker/port.js";
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
  const tasks = new Map((await swarm.listTasks([service.id])).map((t) => [t.id, t]));
  await readLogs(
    (handlers) => swarm.serviceLogs(service.id, options, handlers),
    (line) => {
      onLine(taskLabel(service.name, line.task === undefined ? undefined : tasks.get(line.task), line.task), line);
    },
    stop,
  );
}
